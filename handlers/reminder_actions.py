"""The buttons under a reminder: "Đã hoàn thành", "Nhắc lại sau", "Xin gia hạn", and the admins'
answer to an extension request. Choice data: "rem:done:<outbox id>", "rem:later:<id>",
"rem:ext:<id>", "rem:grant:<id>:<yyyy-mm-dd>", "rem:deny:<id>". Anything else returns None.

An extension request takes two messages: the button, then the reason the user types. The reason
awaited is conversation state in the store (knowledge.conversation, "reminder.reason", 30 minutes),
so a restart or another instance still takes it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from core.clock import VN
from core.context import AppContext
from core.messages import Choice, Incoming, Reply
from knowledge import conversation
from knowledge.models import AuditEntry, FocalPoint, Outbox, Task, TaskProgress
from knowledge.text import fold
from scheduler import planner
from scheduler.texts import day_label, shorten

REASON = "reminder.reason"  # the awaited reply's name in the conversation state
REASON_WAIT = timedelta(minutes=30)
_DATE = re.compile(r"\b(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})\b")
NOT_YOURS = "Nhắc việc này không gửi cho bạn nên bạn không thao tác được. Nếu bạn là đầu mối mới, hãy gõ /dangky."
GONE = "Không tìm thấy nhắc việc này (có thể nhiệm vụ đã bị xóa khỏi kế hoạch)."


async def on_reason(ctx: AppContext, msg: Incoming, data: dict[str, Any]) -> list[Reply]:
    """The text typed after "Xin gia hạn": the reason, sent on to the admins ("hủy" gives up)."""
    if fold(msg.text) in ("huy", "thoi", "khong"):
        return [Reply("Đã hủy đề nghị gia hạn.")]
    outbox_id = data.get("outbox_id")
    if not isinstance(outbox_id, int):
        return [Reply(GONE)]
    return await _extension_request(ctx, msg, outbox_id, msg.text)


AWAITED = {REASON: on_reason}  # the router reads this: awaited replies this module answers


async def on_choice(ctx: AppContext, msg: Incoming) -> list[Reply]:
    """The buttons "rem:...:<outbox id>" (or a typed number that picks one)."""
    return await _on_choice(ctx, msg, (msg.choice or "").split(":"))


async def _on_choice(ctx: AppContext, msg: Incoming, parts: list[str]) -> list[Reply]:
    if len(parts) < 3 or not parts[2].isdigit():
        return [Reply("Lựa chọn không hợp lệ.")]
    action, outbox_id = parts[1], int(parts[2])
    async with ctx.db.session() as s:
        row = await s.get(Outbox, outbox_id)
        fp = await s.get(FocalPoint, row.focal_point_id) if row else None
        task = await s.get(Task, row.task_id) if row else None
        if row is None or fp is None or task is None:
            return [Reply(GONE)]
        admin = ctx.is_admin(msg.channel, msg.user_id)
        if action in ("grant", "deny"):
            if not admin:
                return [Reply("Chỉ quản trị viên mới duyệt được đề nghị gia hạn.")]
            return await _admin_answer(ctx, msg, parts, row, fp, task)
        if not admin and (fp.channel, fp.chat_id) != (msg.channel, msg.chat_id):
            return [Reply(NOT_YOURS)]
        who = f"{msg.channel}:{msg.user_id}"
        occ = planner.occurrence_key(task, row.occurrence)
        if action == "done":
            already = await s.scalar(
                select(TaskProgress.id).where(
                    TaskProgress.task_id == task.id, TaskProgress.agency_id == row.agency_id,
                    TaskProgress.status == "done",
                    TaskProgress.occurrence.is_(None) if occ is None else TaskProgress.occurrence == occ))
            if already is not None:
                return [Reply("Việc này đã được ghi nhận hoàn thành trước đó. "
                              "Bạn sẽ không nhận thêm nhắc cho lần này.")]
            await planner.mark_done(s, task.id, row.agency_id, occ, who, note=msg.user_name)
            await s.commit()
            now = ctx.clock.now().astimezone(VN)
            name = f" ({msg.user_name})" if msg.user_name else ""
            return [Reply(f"✅ Đã ghi nhận hoàn thành: {shorten(task.text, 160)}\n"
                          f"Xác nhận bởi{name} lúc {now:%H:%M} {now:%d/%m/%Y}. "
                          "Các lần nhắc tiếp theo cho việc này đã dừng.")]
        if action == "later":
            new = await planner.snooze(s, row.id, ctx.clock.now())
            if new is None:
                return [Reply("Việc này không còn cần nhắc nữa.")]
            s.add(AuditEntry(actor=who, action="reminder.snooze", target=f"outbox:{row.id}",
                             details={"new_outbox_id": new.id}))
            await s.commit()
            at = new.send_at.astimezone(VN) if new.send_at.tzinfo else new.send_at
            return [Reply(f"🔔 Sẽ nhắc lại lúc {at:%H:%M} {day_label(at.date())}.")]
        if action == "ext":
            await conversation.await_reply(ctx.db, msg.channel, msg.chat_id, REASON, {"outbox_id": row.id},
                                           ctx.clock.now() + REASON_WAIT)
            return [Reply("Vui lòng gõ lý do xin gia hạn, kèm ngày đề nghị gia hạn đến (dd/mm/yyyy) nếu có.\n"
                          "Gõ \"hủy\" để thôi.")]
    return [Reply("Lựa chọn không hợp lệ.")]


def _proposed_day(text: str) -> date | None:
    m = _DATE.search(text)
    if not m:
        return None
    try:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        return None


async def _extension_request(ctx: AppContext, msg: Incoming, outbox_id: int, reason: str) -> list[Reply]:
    async with ctx.db.session() as s:
        row = await s.get(Outbox, outbox_id)
        task = await s.get(Task, row.task_id) if row else None
        if row is None or task is None:
            return [Reply(GONE)]
        proposed = _proposed_day(reason)
        s.add(AuditEntry(actor=f"{msg.channel}:{msg.user_id}", action="task.extension_request",
                         target=f"task:{task.id}",
                         details={"outbox_id": row.id, "reason": reason[:1000],
                                  "proposed": proposed.isoformat() if proposed else None}))
        await s.commit()
    admins = sorted(ctx.admins)
    if not admins:
        return [Reply("Đã ghi nhận lý do, nhưng hệ thống chưa có quản trị viên để duyệt. "
                      "Vui lòng liên hệ trực tiếp cơ quan theo dõi kế hoạch.")]
    who = msg.user_name or msg.user_id
    text = (f"📝 Đề nghị gia hạn từ {who}:\n{shorten(task.text, 200)}\n"
            f"Hạn hiện tại: {day_label(row.occurrence)}\nLý do: {reason}")
    choices = [Choice("Từ chối", f"rem:deny:{row.id}")]
    if proposed:
        text += f"\nĐề nghị gia hạn đến: {day_label(proposed)}"
        choices.insert(0, Choice(f"Đồng ý đến {proposed:%d/%m/%Y}", f"rem:grant:{row.id}:{proposed.isoformat()}"))
    replies = [Reply("Đã gửi đề nghị gia hạn tới quản trị viên. Bạn sẽ nhận được trả lời tại đây.")]
    for a in admins:
        channel, _, user = a.partition(":")
        replies.append(Reply(text, choices=list(choices), chat_id=user, channel=channel))
    return replies


async def _admin_answer(ctx: AppContext, msg: Incoming, parts: list[str], row: Outbox, fp: FocalPoint,
                        task: Task) -> list[Reply]:
    by = f"{msg.channel}:{msg.user_id}"
    if parts[1] == "deny":
        async with ctx.db.session() as s:
            s.add(AuditEntry(actor=by, action="task.extension_denied", target=f"task:{task.id}"))
            await s.commit()
        return [Reply("Đã từ chối đề nghị gia hạn."),
                Reply(f"Đề nghị gia hạn cho việc \"{shorten(task.text, 120)}\" chưa được đồng ý; hạn giữ nguyên.",
                      chat_id=fp.chat_id, channel=fp.channel)]
    try:
        new_due = date.fromisoformat(parts[3])
    except (IndexError, ValueError):
        return [Reply("Ngày gia hạn không hợp lệ.")]
    if new_due < ctx.clock.today():
        return [Reply("Ngày gia hạn đã qua; không thể gia hạn đến ngày này.")]
    async with ctx.db.session() as s:
        await planner.extend(s, task.id, row.agency_id, planner.occurrence_key(task, row.occurrence), new_due, by,
                             ctx.clock.now())
        await s.commit()
    return [Reply(f"Đã gia hạn đến {day_label(new_due)}."),
            Reply(f"✅ Việc \"{shorten(task.text, 120)}\" được gia hạn đến {day_label(new_due)}.",
                  chat_id=fp.chat_id, channel=fp.channel)]
