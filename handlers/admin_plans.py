"""/kehoach: the plans in the store; show one, archive it (kept, no more reminders), bring it back, delete
it (after a confirmation).

One-line: /kehoach · /kehoach 3021 · /kehoach luutru 3021 · /kehoach boluutru 3021 · /kehoach xoa 3021
Guided: /kehoach lists the plans as numbered buttons; picking one shows it with its action buttons.
Buttons: "kh:show:<id>", "kh:arch:<id>", "kh:unarch:<id>", "kh:del:<id>" (asks), "kh:delok:<id>".
"""

from __future__ import annotations

from sqlalchemy import func, select

from core.context import AppContext
from core.messages import Choice, Incoming, Reply
from handlers.admin_common import NOT_ADMIN, Refused, actor, confirm, dmy, find_plan, plan_line, plan_name
from knowledge import plan_changes, status
from knowledge.models import Plan, Task
from knowledge.text import fold

PREFIX = "kh:"
USAGE = ("Cách dùng /kehoach:\n"
         "/kehoach — danh sách kế hoạch (bấm để chọn)\n"
         "/kehoach 3021 — xem một kế hoạch\n"
         "/kehoach luutru 3021 — lưu trữ (thôi nhắc việc)\n"
         "/kehoach boluutru 3021 — nhắc việc trở lại\n"
         "/kehoach xoa 3021 — xóa kế hoạch (có xác nhận)")
ACTIONS = {"luutru": "arch", "luu tru": "arch", "boluutru": "unarch", "bo luu tru": "unarch", "xoa": "del",
           "xem": "show"}
MAX_LISTED = 30


async def cmd_plans(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    if not arg:
        return await _list(ctx)
    head, _, rest = arg.partition(" ")
    action = ACTIONS.get(fold(head, expand=False))
    if action is None:
        action, rest = "show", arg
    elif not rest.strip():
        return [Reply(USAGE)]
    try:
        async with ctx.db.session() as s:
            plan = await find_plan(s, rest)
    except Refused as e:
        return [Reply(str(e))]
    return await _act(ctx, msg, action, plan.id)


async def _list(ctx: AppContext) -> list[Reply]:
    async with ctx.db.session() as s:
        plans = await plan_changes.list_plans(s)
    if not plans:
        return [Reply("Chưa có kế hoạch nào trong kho. Gửi tệp kế hoạch (.docx, .pdf, .txt) để nhập.")]
    shown = plans[:MAX_LISTED]
    lines = [f"Có {len(plans)} kế hoạch trong kho:"]
    lines += [f"{n}. {plan_line(p, count)}" for n, (p, count) in enumerate(shown, 1)]
    lines.append("Bấm hoặc gõ số để xem và thao tác.")
    return [Reply("\n".join(lines), [Choice(f"{n}. {plan_name(p)}", f"{PREFIX}show:{p.id}")
                                     for n, (p, _c) in enumerate(shown, 1)])]


async def on_choice(ctx: AppContext, msg: Incoming) -> list[Reply]:
    parts = (msg.choice or "").split(":")
    if len(parts) != 3 or not parts[2].isdigit():
        return [Reply("Lựa chọn không hợp lệ.")]
    return await _act(ctx, msg, parts[1], int(parts[2]))


async def _act(ctx: AppContext, msg: Incoming, action: str, plan_id: int) -> list[Reply]:
    if not ctx.is_admin(msg.channel, msg.user_id):
        return [Reply(NOT_ADMIN)]
    async with ctx.db.session() as s:
        plan = await s.get(Plan, plan_id)
        if plan is None:
            return [Reply("Kế hoạch này không còn trong kho.")]
        name = plan_name(plan)
        if action == "show":
            return [await _card(ctx, plan)]
        if action == "arch":
            if plan.archived_at is not None:
                return [Reply(f"{name} đã được lưu trữ từ trước.")]
            stopped = await plan_changes.archive(s, plan, actor(msg), ctx.clock.now())
            await s.commit()
            return [Reply(f"Đã lưu trữ {name}: không nhắc việc của kế hoạch này nữa "
                          f"(dừng {stopped} lượt nhắc đang chờ). Vẫn tra cứu được.")]
        if action == "unarch":
            if plan.archived_at is None:
                return [Reply(f"{name} đang được theo dõi, không ở trạng thái lưu trữ.")]
            await plan_changes.unarchive(s, plan, actor(msg))
            await s.commit()
            return [Reply(f"{name} được theo dõi và nhắc việc trở lại.")]
        if action == "del":
            count = int(await s.scalar(select(func.count(Task.id)).where(Task.plan_id == plan.id)) or 0)
            return await confirm(ctx, msg, f"Xóa {name} cùng {count} nhiệm vụ, tiến độ và lịch nhắc của nó? "
                                 "(/hoantac đưa lại được.)", "Xóa kế hoạch", f"{PREFIX}delok:{plan.id}")
        if action == "delok":
            n = await plan_changes.delete_plan(s, plan, actor(msg))
            await s.commit()
            return [Reply(f"Đã xóa {name} và {n} nhiệm vụ của nó.")]
    return [Reply("Lựa chọn không hợp lệ.")]


async def _card(ctx: AppContext, plan: Plan) -> Reply:
    async with ctx.db.session() as s:
        sts = await status.task_statuses(s, ctx.clock.today(), plan_ids=[plan.id])
    counts = status.total(sts)
    lines = [f"📄 {plan_name(plan)}", f"Ban hành: {plan.issuer or 'không rõ'}"
             + (f", ngày {dmy(plan.issued_on)}" if plan.issued_on else ""),
             f"Trích yếu: {' '.join(plan.title.split())[:200]}",
             f"Số nhiệm vụ: {counts.total}" + (" — ĐÃ LƯU TRỮ (không nhắc việc)" if plan.archived_at else ""),
             counts.line()]
    choices = [Choice("Bỏ lưu trữ" if plan.archived_at else "Lưu trữ",
                      f"{PREFIX}{'unarch' if plan.archived_at else 'arch'}:{plan.id}"),
               Choice("Xóa", f"{PREFIX}del:{plan.id}")]
    return Reply("\n".join(lines), choices)
