"""Status at a glance and the files made from it: /thongke (counts in chat), /bieudo (a chart photo),
/xuat (an Excel workbook), /lich (an agency's deadlines as an .ics calendar).

One-line: /thongke · /thongke Sở Tài chính · /thongke KH 3021 · /bieudo [KH 3021]
          /xuat · /xuat KH 3021 · /xuat Sở Nội vụ · /lich Sở Tài chính
Guided: each command typed alone asks what it is about (buttons; a typed name or plan number).
"""

from __future__ import annotations

from datetime import date

from core.context import AppContext
from core.messages import Attachment, Incoming, Reply
from handlers import forms
from handlers.admin_common import NOT_ADMIN, Refused, check_agency, find_plan, plan_name, resolve_agency
from knowledge import plan_changes, reports, status
from knowledge.agencies import Registry
from knowledge.text import fold

ALL = "tatca"
MAX_LINES = 15
PLANS_OFFERED = 8  # plans offered as buttons in the guided forms  # agencies listed in chat; the workbook has them all
_PLAN_WORDS = ("kh ", "ke hoach ", "#")


def _is_plan(arg: str) -> bool:
    key = fold(arg, expand=False)
    return key[:1].isdigit() or key.startswith(_PLAN_WORDS)


async def _scope(ctx: AppContext, arg: str) -> tuple[str, list[int] | None, list[int] | None]:
    """(what the numbers are about, plan ids, agency ids) for "", "KH 3021" or an agency name."""
    if not arg or fold(arg, expand=False).replace(" ", "") == ALL:
        return "tất cả kế hoạch", None, None
    async with ctx.db.session() as s:
        if _is_plan(arg):
            plan = await find_plan(s, arg)
            return plan_name(plan), [plan.id], None
        registry = await Registry.load(s)
    info = resolve_agency(registry, arg)
    ids = [info.id] + [p.id for p in registry.predecessors(info.id)]
    return info.name, None, ids


async def _scope_options(ctx: AppContext, _values: dict[str, str]) -> list[tuple[str, str]]:
    """All plans, then each of the newest plans (a typed agency name or plan number works too)."""
    async with ctx.db.session() as s:
        plans = await plan_changes.list_plans(s)
    return [("Tất cả kế hoạch", ALL)] + [(plan_name(p), f"#{p.id}") for p, _n in plans[:PLANS_OFFERED]]


def _form(name: str, prompt: str, finish: forms.Finish) -> None:
    forms.register(forms.Form(name, (forms.Step("scope", prompt, _scope_options),), finish))


Scoped = tuple[str, list[int] | None, list[int] | None, date, list[status.TaskStatus]]


async def _scoped(ctx: AppContext, msg: Incoming, arg: str) -> Scoped | list[Reply]:
    """What /thongke, /bieudo and /xuat share: an admin's scope ("tatca", a plan, an agency) read and the
    statuses of its tasks today, or the reply that refuses (not an admin, a scope that names nothing)."""
    if not ctx.is_admin(msg.channel, msg.user_id):
        return [Reply(NOT_ADMIN)]
    try:
        about, plan_ids, agency_ids = await _scope(ctx, "" if arg == ALL else arg)
    except Refused as e:
        return [Reply(str(e))]
    today = ctx.clock.today()
    async with ctx.db.session() as s:
        sts = await status.task_statuses(s, today, plan_ids=plan_ids, agency_ids=agency_ids)
    return about, plan_ids, agency_ids, today, sts


async def cmd_status(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    scoped = await _scoped(ctx, msg, arg)
    if isinstance(scoped, list):
        return scoped
    about, plan_ids, agency_ids, today, sts = scoped
    if not sts:
        return [Reply(f"Chưa có nhiệm vụ nào để thống kê ({about}).")]
    total = status.total(sts)
    lines = [f"📊 Tình hình thực hiện — {about} (đến {today:%d/%m/%Y}): {total.total} nhiệm vụ"]
    lines += [f"{status.LABELS[k]}: {total.by_state[k]}" for k in status.STATES]
    if agency_ids is None:
        lines.append("Theo cơ quan chủ trì:")
        agencies = list(status.per_agency(sts).items())
        lines += [f"• {name}: {c.line()}" for (_id, name), c in agencies[:MAX_LINES]]
        if len(agencies) > MAX_LINES:
            lines.append(f"… và {len(agencies) - MAX_LINES} cơ quan khác (gõ /xuat để có đủ).")
    if plan_ids is None:
        lines.append("Theo kế hoạch:")
        lines += [f"• {name}: {c.line()}" for (_id, name), c in list(status.per_plan(sts).items())[:MAX_LINES]]
    overdue = [st for st in sts if st.state == status.OPEN_OVERDUE]
    if overdue and agency_ids is not None:
        lines.append("Quá hạn:")
        lines += [f"• {st.plan} {st.ref}: hạn {st.due:%d/%m/%Y}" for st in overdue[:MAX_LINES] if st.due]
    return [Reply("\n".join(lines))]


async def cmd_chart(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    scoped = await _scoped(ctx, msg, arg)
    if isinstance(scoped, list):
        return scoped
    about, _plans, agency_ids, today, sts = scoped
    if not sts:
        return [Reply(f"Chưa có nhiệm vụ nào để vẽ biểu đồ ({about}).")]
    counts = status.per_plan(sts) if agency_ids is not None else status.per_agency(sts)
    png = reports.chart(counts, f"{about} — {today:%d/%m/%Y}")
    return [Reply(f"📊 Biểu đồ tình hình thực hiện — {about}.",
                  attachment=Attachment(f"bieudo_{reports.file_stamp(today)}.png", png, photo=True))]


async def cmd_export(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    scoped = await _scoped(ctx, msg, arg)
    if isinstance(scoped, list):
        return scoped
    about, _plans, _agencies, today, sts = scoped
    data = reports.workbook(sts, f"Nhiệm vụ — {about}")
    return [Reply(f"📎 Bảng tính {len(sts)} nhiệm vụ — {about} (trang “Nhiệm vụ” và “Tổng hợp”).",
                  attachment=Attachment(f"nhiemvu_{reports.file_stamp(today)}.xlsx", data))]


async def cmd_calendar(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    if not ctx.is_admin(msg.channel, msg.user_id):
        return [Reply(NOT_ADMIN)]
    async with ctx.db.session() as s:
        registry = await Registry.load(s)
        try:
            info = resolve_agency(registry, arg)
        except Refused as e:
            return [Reply(str(e))]
        ids = [info.id] + [p.id for p in registry.predecessors(info.id)]
        sts = await status.task_statuses(s, ctx.clock.today(), agency_ids=ids, roles=("lead", "coordinator"))
    dated = [st for st in sts if st.due is not None]
    if not dated:
        return [Reply(f"{info.name} không có nhiệm vụ nào có hạn cụ thể để đưa vào lịch.")]
    data = reports.calendar(dated, info.name, ctx.clock.now())
    return [Reply(f"📅 Lịch {len(dated)} hạn nhiệm vụ của {info.name} (chủ trì và phối hợp). "
                  "Mở tệp .ics để thêm vào Outlook hoặc Google Calendar.",
                  attachment=Attachment(f"lich_{fold(info.name, expand=False).replace(' ', '_')[:40]}.ics", data))]


_form("thongke", "Thống kê theo cơ quan hay kế hoạch nào? Gõ tên cơ quan hoặc số kế hoạch, hoặc chọn:",
      lambda ctx, msg, v: cmd_status(ctx, msg, v["scope"]))
_form("bieudo", "Vẽ biểu đồ cho cơ quan hay kế hoạch nào? Gõ tên hoặc số kế hoạch, hoặc chọn:",
      lambda ctx, msg, v: cmd_chart(ctx, msg, v["scope"]))
_form("xuat", "Xuất bảng tính cho kế hoạch hay cơ quan nào? Gõ số kế hoạch hoặc tên cơ quan, hoặc chọn:",
      lambda ctx, msg, v: cmd_export(ctx, msg, v["scope"]))
forms.register(forms.Form("lich", (forms.Step("agency", "Lịch hạn nhiệm vụ của cơ quan nào?", check=check_agency),),
                          lambda ctx, msg, v: cmd_calendar(ctx, msg, v["agency"])))
