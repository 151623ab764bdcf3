"""A plan file sent by an admin, with or without a caption: read as a dry run and shown; "Lưu" stores
it, "Hủy" drops it. The caption is never answered as a question.

The file waits in the store (knowledge.pending) between the preview and the answer, so the answer
may come after a restart. When a plan is stored, each lead agency's approved focal points get one
message listing their new tasks. Buttons: "imp:save:<id>", "imp:drop:<id>".
"""

from __future__ import annotations

import logging
from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from core.context import AppContext
from core.messages import Choice, Incoming, Reply
from handlers.admin_common import NOT_ADMIN, actor, plan_name
from knowledge import focal_points, pending
from knowledge.file_kinds import not_a_plan, refusal
from knowledge.importer import ImportRefused, NotAPlan
from knowledge.models import Agency, Plan, Task, TaskAgency
from knowledge.plans import import_file
from knowledge.preview import dry_run

log = logging.getLogger(__name__)

PREFIX = "imp:"
MAX_LISTED = 10  # tasks listed in one focal point's message; the rest are counted


async def on_file(ctx: AppContext, msg: Incoming) -> list[Reply]:
    """A document sent to the bot (the Edge lets only admins' through, and fetched the bytes)."""
    name = msg.file_name or "tep"
    if not ctx.is_admin(msg.channel, msg.user_id):
        return [Reply("Xin lỗi, chỉ quản trị viên mới gửi được tệp kế hoạch.")]
    kind = not_a_plan(name, msg.file_bytes[:4096] if msg.file_bytes else b"")
    if kind is None and msg.file_bytes is not None and msg.file_bytes[:2] == b"PK":
        kind = not_a_plan(name, msg.file_bytes)
    if kind is not None:
        return [Reply(refusal(name, kind))]
    if msg.file_bytes is None:
        return [Reply(f"Không tải được tệp {name}. Xin gửi lại.")]
    max_bytes = ctx.settings.max_upload_mb * 1024 * 1024
    try:
        preview = await dry_run(ctx.db, msg.file_bytes, name, actor(msg), max_bytes,
                                worker_seconds=ctx.settings.import_timeout_s)
    except NotAPlan as e:
        return [Reply(f"Tệp {name} không phải kế hoạch giao nhiệm vụ: {e.message_vi}")]
    except ImportRefused as e:
        return [Reply(f"Không nhập được tệp {name}: {e.message_vi}")]
    if preview.result.status == "unchanged":
        return [Reply(preview.text(name).rsplit("\n", 1)[0] + "\nKhông cần lưu lại.")]
    pid = await pending.keep(ctx.db, msg.channel, msg.chat_id, actor(msg), name, msg.file_bytes, ctx.clock.now())
    return [Reply(preview.text(name), [Choice("Lưu", f"{PREFIX}save:{pid}"), Choice("Hủy", f"{PREFIX}drop:{pid}")])]


async def on_choice(ctx: AppContext, msg: Incoming) -> list[Reply]:
    if not ctx.is_admin(msg.channel, msg.user_id):
        return [Reply(NOT_ADMIN)]
    parts = (msg.choice or "").split(":")
    if len(parts) != 3 or not parts[2].isdigit() or parts[1] not in ("save", "drop"):
        return [Reply("Lựa chọn không hợp lệ.")]
    pid = int(parts[2])
    if parts[1] == "drop":
        gone = await pending.drop(ctx.db, pid)
        return [Reply("Đã hủy, không nhập tệp này." if gone else "Tệp này đã được xử lý hoặc đã quá hạn.")]
    row = await pending.get(ctx.db, pid)
    if row is None:
        return [Reply("Tệp này đã được xử lý hoặc đã quá hạn (quá 1 ngày). Xin gửi lại tệp.")]
    async with ctx.db.session() as s:
        last_id = int(await s.scalar(select(func.max(Task.id))) or 0)
    try:
        result = await import_file(ctx.db, row.data, row.file_name, actor=actor(msg),
                                   max_bytes=ctx.settings.max_upload_mb * 1024 * 1024,
                                   worker_seconds=ctx.settings.import_timeout_s)
    except ImportRefused as e:
        return [Reply(f"Không nhập được tệp {row.file_name}: {e.message_vi}")]
    except SQLAlchemyError:
        log.exception("storing %s failed", row.file_name)
        return [Reply("Không ghi được vào kho (không có gì thay đổi); xin bấm Lưu lại sau ít phút.")]
    await pending.drop(ctx.db, pid)
    told: list[Reply] = []
    if result.plan_id is not None and result.added:
        told = await announce_new_tasks(ctx, result.plan_id, {t for t in result.task_ids if t > last_id})
    note = f" Đã báo việc mới cho {len(told)} cán bộ đầu mối của cơ quan chủ trì." if told else ""
    return [Reply(f"Đã lưu. Tệp {row.file_name}: {result.summary_vi()}{note}"), *told]


async def announce_new_tasks(ctx: AppContext, plan_id: int, task_ids: set[int]) -> list[Reply]:
    """One message per lead agency's approved focal point, listing the new tasks (of one plan) it leads."""
    async with ctx.db.session() as s:
        plan = await s.get(Plan, plan_id)
        if plan is None:
            return []
        q = select(Task).where(Task.plan_id == plan_id).order_by(Task.position)
        tasks = list((await s.scalars(q)).all())
        chosen = [t for t in tasks if t.id in task_ids]
        leads = (await s.execute(select(TaskAgency.task_id, TaskAgency.agency_id).where(
            TaskAgency.task_id.in_([t.id for t in chosen]), TaskAgency.role == "lead"))).all()
        by_agency: dict[int, list[Task]] = defaultdict(list)
        text_of = {t.id: t for t in chosen}
        for task_id, agency_id in leads:
            if text_of[task_id] not in by_agency[agency_id]:
                by_agency[agency_id].append(text_of[task_id])
        names = {r[0]: r[1] for r in await s.execute(select(Agency.id, Agency.name)
                                                      .where(Agency.id.in_(list(by_agency))))}
        recipients = await focal_points.approved_for(s, list(by_agency))
    replies = []
    for fp in recipients:
        mine = by_agency.get(fp.agency_id, [])
        if not mine:
            continue
        lines = [f"📌 {names.get(fp.agency_id, '')} có {len(mine)} nhiệm vụ mới (chủ trì) trong {plan_name(plan)}:"]
        for n, t in enumerate(mine[:MAX_LISTED], 1):
            due = f" — hạn: {t.deadline_text}" if t.deadline_text else ""
            text = " ".join(t.text.split())
            lines.append(f"{n}. {t.ref} {text[:140]}{'…' if len(text) > 140 else ''}{due}")
        if len(mine) > MAX_LISTED:
            lines.append(f"… và {len(mine) - MAX_LISTED} việc khác. Gõ /viec để xem tất cả.")
        replies.append(Reply("\n".join(lines), chat_id=fp.chat_id, channel=fp.channel))
    return replies
