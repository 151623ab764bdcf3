"""The buttons under a reminder: "Đã hoàn thành", "Nhắc lại sau", "Xin gia hạn", and the admins'
answer to an extension request (the protocol: knowledge.buttons). Anything else returns None.
Every change goes through knowledge.changes, which keeps the audit trail.

An extension request takes two messages: the button, then the reason the user types. The reason
awaited is conversation state in the store (knowledge.conversation, "reminder.reason", 30 minutes),
so a restart or another instance still takes it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from core.clock import VN
from core.context import AppContext
from core.messages import Incoming, Reply
from handlers import admin_tasks
from handlers.admin_common import Refused, parse_day, plan_name
from knowledge import buttons, changes, conversation
from knowledge.due import occurrence_key
from knowledge.labels import day_label, shorten
from knowledge.models import Agency, FocalPoint, Outbox, Plan, Task
from knowledge.text import fold

REASON = "reminder.reason"  # the awaited reply's name in the conversation state
REASON_WAIT = timedelta(minutes=30)
ASK_WAIT = timedelta(days=2)  # a focal point asked for more has two days to answer
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


GRANT_DAY = "reminder.grant_day"  # an admin types the day granted
ASK_MORE = "reminder.ask_more"  # an admin types a question for the focal point who asked


async def on_grant_day(ctx: AppContext, msg: Incoming, data: dict[str, Any]) -> list[Reply]:
    """The day an admin typed after "Đồng ý, chọn ngày khác"."""
    if fold(msg.text) in ("huy", "thoi", "khong"):
        return [Reply("Đã hủy, chưa trả lời đề nghị gia hạn.")]
    try:
        day = parse_day(msg.text)
    except Refused as e:
        await conversation.await_reply(ctx.db, msg.channel, msg.chat_id, GRANT_DAY, data,
                                       ctx.clock.now() + REASON_WAIT)
        return [Reply(f"{e}\nGõ lại ngày gia hạn (dd/mm/yyyy), hoặc “hủy”.")]
    return await on_choice(ctx, replace(msg, text="", choice=f"{buttons.PREFIX}{buttons.GRANT}:"
                                        f"{data.get('outbox_id')}:{day.isoformat()}"))


async def on_ask_more(ctx: AppContext, msg: Incoming, data: dict[str, Any]) -> list[Reply]:
    """An admin's question about an extension request, sent to the focal point who asked; their next
    message is taken as the request again (with the reason and the day)."""
    if fold(msg.text) in ("huy", "thoi", "khong"):
        return [Reply("Đã hủy, chưa trả lời đề nghị gia hạn.")]
    async with ctx.db.session() as s:
        row = await s.get(Outbox, int(data.get("outbox_id") or 0))
        fp = await s.get(FocalPoint, row.focal_point_id) if row else None
        task = await s.get(Task, row.task_id) if row else None
    if row is None or fp is None or task is None:
        return [Reply(GONE)]
    await conversation.await_reply(ctx.db, fp.channel, fp.chat_id, REASON, {"outbox_id": row.id},
                                   ctx.clock.now() + ASK_WAIT)
    return [Reply("Đã gửi câu hỏi tới cán bộ đầu mối; câu trả lời sẽ đến như một đề nghị gia hạn mới."),
            Reply(f"❓ Quản trị viên hỏi thêm về đề nghị gia hạn việc “{shorten(task.text, 120)}”:\n{msg.text}\n"
                  "Xin trả lời bằng một tin nhắn (lý do, kèm ngày đề nghị dd/mm/yyyy).",
                  chat_id=fp.chat_id, channel=fp.channel)]


# the router reads this: awaited replies this module answers
AWAITED = {REASON: on_reason, GRANT_DAY: on_grant_day, ASK_MORE: on_ask_more}


async def on_choice(ctx: AppContext, msg: Incoming) -> list[Reply]:
    """The reminder buttons (knowledge.buttons), pressed or picked by a typed number."""
    return await _on_choice(ctx, msg, buttons.parse(msg.choice or ""))


async def _on_choice(ctx: AppContext, msg: Incoming, pressed: buttons.Pressed | None) -> list[Reply]:
    if pressed is None:
        return [Reply("Lựa chọn không hợp lệ.")]
    action, outbox_id = pressed.action, pressed.outbox_id
    async with ctx.db.session() as s:
        row = await s.get(Outbox, outbox_id)
        fp = await s.get(FocalPoint, row.focal_point_id) if row else None
        task = await s.get(Task, row.task_id) if row else None
        if row is None or fp is None or task is None:
            return [Reply(GONE)]
        admin = ctx.is_admin(msg.channel, msg.user_id)
        if action in (buttons.GRANT, buttons.DENY, buttons.PICK, buttons.ASK):
            if not admin:
                return [Reply("Chỉ quản trị viên mới duyệt được đề nghị gia hạn.")]
            return await _admin_answer(ctx, msg, pressed, row, fp, task)
        if not admin and (fp.channel, fp.chat_id) != (msg.channel, msg.chat_id):
            return [Reply(NOT_YOURS)]
        who = f"{msg.channel}:{msg.user_id}"
        occ = occurrence_key(task.deadline_kind, row.occurrence)
        if action == buttons.DONE:
            if await changes.is_done(s, task.id, row.agency_id, occ):
                return [Reply("Việc này đã được ghi nhận hoàn thành trước đó. "
                              "Bạn sẽ không nhận thêm nhắc cho lần này.")]
            await changes.mark_done(s, task.id, row.agency_id, occ, who, note=msg.user_name)
            await s.commit()
            now = ctx.clock.now().astimezone(VN)
            name = f" ({msg.user_name})" if msg.user_name else ""
            others = await admin_tasks.announce(ctx, msg, task.id, f"✅ {await _agency_name(ctx, row.agency_id)} "
                                                f"báo đã hoàn thành ngày {now:%d/%m/%Y}: {shorten(task.text, 160)}")
            return [Reply(f"✅ Đã ghi nhận hoàn thành: {shorten(task.text, 160)}\n"
                          f"Xác nhận bởi{name} lúc {now:%H:%M} {now:%d/%m/%Y}. "
                          "Các lần nhắc tiếp theo cho việc này đã dừng."), *others]
        if action == buttons.LATER:
            new = await changes.snooze(s, row.id, ctx.clock.now(), who, ctx.settings.reminder_hour)
            if new is None:
                return [Reply("Việc này không còn cần nhắc nữa.")]
            await s.commit()
            at = new.send_at.astimezone(VN) if new.send_at.tzinfo else new.send_at
            return [Reply(f"🔔 Sẽ nhắc lại lúc {at:%H:%M} {day_label(at.date())}.")]
        if action == buttons.EXTEND:
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
        plan = await s.get(Plan, task.plan_id)
        agency = await s.get(Agency, row.agency_id)
        proposed = _proposed_day(reason)
        await changes.request_extension(s, task.id, row.id, reason, proposed, f"{msg.channel}:{msg.user_id}")
        await s.commit()
    admins = sorted(ctx.admins)
    if not admins:
        return [Reply("Đã ghi nhận lý do, nhưng hệ thống chưa có quản trị viên để duyệt. "
                      "Vui lòng liên hệ trực tiếp cơ quan theo dõi kế hoạch.")]
    who = msg.user_name or msg.user_id
    where = f"{plan_name(plan)}, mục {task.ref or '(không số)'}" if plan else ""
    # The admin decides from this message alone: who asks for which agency, and which task of which plan.
    text = (f"📝 Đề nghị gia hạn từ {who} ({agency.name if agency else 'cơ quan không rõ'}):\n"
            f"{where}\n{shorten(task.text, 200)}\n"
            f"Hạn hiện tại: {day_label(row.occurrence)}\nLý do: {reason}")
    choices = [buttons.pick_choice(row.id), buttons.deny_choice(row.id), buttons.ask_choice(row.id)]
    if proposed:
        text += f"\nĐề nghị gia hạn đến: {day_label(proposed)}"
        choices.insert(0, buttons.grant_choice(row.id, proposed))
    replies = [Reply("Đã gửi đề nghị gia hạn tới quản trị viên. Bạn sẽ nhận được trả lời tại đây.")]
    for a in admins:
        channel, _, user = a.partition(":")
        replies.append(Reply(text, choices=list(choices), chat_id=user, channel=channel))
    return replies


async def _agency_name(ctx: AppContext, agency_id: int) -> str:
    async with ctx.db.session() as s:
        agency = await s.get(Agency, agency_id)
    return agency.name if agency else "Cơ quan"


async def _admin_answer(ctx: AppContext, msg: Incoming, pressed: buttons.Pressed, row: Outbox, fp: FocalPoint,
                        task: Task) -> list[Reply]:
    """Grant (the day proposed, or one typed), refuse, or ask for more. The task's focal points (the one
    who asked among them) and the plan's monitoring agency hear the outcome."""
    by = f"{msg.channel}:{msg.user_id}"
    if pressed.action == buttons.PICK:
        await conversation.await_reply(ctx.db, msg.channel, msg.chat_id, GRANT_DAY, {"outbox_id": row.id},
                                       ctx.clock.now() + REASON_WAIT)
        return [Reply(f"Gia hạn việc “{shorten(task.text, 80)}” đến ngày nào? Gõ ngày dd/mm/yyyy (hoặc “hủy”).")]
    if pressed.action == buttons.ASK:
        await conversation.await_reply(ctx.db, msg.channel, msg.chat_id, ASK_MORE, {"outbox_id": row.id},
                                       ctx.clock.now() + REASON_WAIT)
        return [Reply("Bạn muốn hỏi thêm gì? Gõ câu hỏi; nó sẽ được gửi tới cán bộ đầu mối đã đề nghị.")]
    asker = Reply("", chat_id=fp.chat_id, channel=fp.channel)
    if pressed.action == buttons.DENY:
        async with ctx.db.session() as s:
            await changes.deny_extension(s, task.id, by)
            await s.commit()
        text = f"Đề nghị gia hạn cho việc \"{shorten(task.text, 120)}\" chưa được đồng ý; hạn giữ nguyên."
        return [Reply("Đã từ chối đề nghị gia hạn."), replace(asker, text=text),
                *await admin_tasks.announce(ctx, replace(msg, channel=fp.channel, chat_id=fp.chat_id), task.id,
                                            f"ℹ️ {text}")]
    new_due = pressed.day
    if new_due is None:
        return [Reply("Ngày gia hạn không hợp lệ.")]
    if new_due < ctx.clock.today():
        return [Reply("Ngày gia hạn đã qua; không thể gia hạn đến ngày này.")]
    async with ctx.db.session() as s:
        plan = await s.get(Plan, task.plan_id)
        if plan is not None and plan.issued_on and new_due < plan.issued_on:
            return [Reply(f"Ngày gia hạn trước ngày ban hành kế hoạch ({plan.issued_on:%d/%m/%Y}); không gia hạn.")]
        await changes.extend(s, task.id, row.agency_id, occurrence_key(task.deadline_kind, row.occurrence),
                             new_due, by)
        await s.commit()
    text = f"✅ Việc \"{shorten(task.text, 120)}\" được gia hạn đến {day_label(new_due)}."
    return [Reply(f"Đã gia hạn đến {day_label(new_due)}."), replace(asker, text=text),
            *await admin_tasks.announce(ctx, replace(msg, channel=fp.channel, chat_id=fp.chat_id), task.id,
                                        f"📅 {await _agency_name(ctx, row.agency_id)}: {text[2:]}")]
