"""The one entry point channels call: a normalised message in, replies out.

The order is explicit, not a tuple's:
  0. a file (an admin's plan, handlers.admin_import: previewed, its caption not read as a question);
  1. a command (handlers.commands: the one table);
  2. what the chat's conversation state waits for (knowledge.conversation): a reply a handler
     asked for ("Xin gia hạn" → the reason), a confirmation ("có"/"không"), or a typed number
     that picks one of the choices shown last, whichever handler showed them;
  3. a pressed button (or the choice a typed number picked), by the prefix of its data;
  4. an admin's change typed as a sentence ("Đổi hạn việc II.1 KH 125 thành 25/12/2026");
  5. anything else is a question.
After answering, the choices of the reply to this chat (when exactly one reply carries choices)
become what a typed number picks next; a reply without choices ends the list.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from core.context import AppContext
from core.messages import Incoming, Reply
from handlers import (
    admin_focal,
    admin_import,
    admin_phrases,
    admin_plans,
    admin_tasks,
    admin_users,
    commands,
    forms,
    questions,
    registration,
    reminder_actions,
)
from knowledge import buttons, conversation
from knowledge.text import fold, nfc

log = logging.getLogger(__name__)

SORRY = "Xin lỗi, đã có lỗi khi xử lý tin nhắn của bạn. Vui lòng thử lại sau ít phút."
CHOICES_TTL = timedelta(minutes=30)  # a typed number picks from choices shown in the last half hour only
YES = frozenset({"co", "dong y", "ok", "xac nhan", "yes", "u", "uh"})
NO = frozenset({"khong", "huy", "thoi", "no"})

ChoiceHandler = Callable[[AppContext, Incoming], Awaitable[list[Reply]]]
ReplyHandler = Callable[[AppContext, Incoming, dict[str, Any]], Awaitable[list[Reply]]]

# Buttons by the prefix of their data: "reg:ok:12" belongs to registration.
BUTTONS: dict[str, ChoiceHandler] = {
    "reg:": registration.on_choice,
    buttons.PREFIX: reminder_actions.on_choice,
    "q:": questions.on_choice,
    forms.PREFIX: forms.on_choice,
    admin_import.PREFIX: admin_import.on_choice,
    admin_plans.PREFIX: admin_plans.on_choice,
    admin_focal.PREFIX: admin_focal.on_choice,
    admin_users.PREFIX: admin_users.on_choice,
    admin_tasks.PREFIX: admin_tasks.on_choice,
    "adm:no": lambda ctx, msg: _cancelled(ctx, msg),
}
# Awaited replies by the name a handler gave (knowledge.conversation.await_reply).
AWAITED: dict[str, ReplyHandler] = {**reminder_actions.AWAITED, **forms.AWAITED}


async def _cancelled(ctx: AppContext, msg: Incoming) -> list[Reply]:
    """"Không" under a confirmation: nothing changes."""
    await conversation.clear(ctx.db, msg.channel, msg.chat_id, conversation.CONFIRM)
    return [Reply("Đã hủy, không thay đổi gì.")]


async def refresh_admins(ctx: AppContext) -> None:
    """The admins as the store has them now (added or removed in chat, maybe on another instance)."""
    await admin_users.refresh(ctx)


async def handle(ctx: AppContext, msg: Incoming) -> list[Reply]:
    """Answer one message; never raises (an unexpected error becomes a polite reply)."""
    msg = replace(msg, text=nfc(msg.text or "").strip())
    try:
        await registration.revive_chat(ctx, msg.channel, msg.chat_id)
        await refresh_admins(ctx)
        replies, keep_choices = await _route(ctx, msg)
        if not keep_choices:
            await _remember_choices(ctx, msg, replies)
        return replies
    except Exception:
        log.exception("handler failed on %s", msg)
        return [Reply(SORRY)]


async def _route(ctx: AppContext, msg: Incoming) -> tuple[list[Reply], bool]:
    """The replies, and whether the choices shown before stay pickable (a number out of range)."""
    if msg.file_name is not None:
        # A file is a plan to preview, whatever its caption says: the caption is not a question.
        return await admin_import.on_file(ctx, msg), False
    if msg.choice is None:
        replies = await commands.run(ctx, msg)
        if replies is not None:
            return replies, False
        state = await conversation.load(ctx.db, msg.channel, msg.chat_id, ctx.clock.now())
        if state.awaiting and msg.text:
            await conversation.clear(ctx.db, msg.channel, msg.chat_id, conversation.REPLY)
            handler = AWAITED.get(state.awaiting)
            if handler is not None:
                return await handler(ctx, msg, state.awaiting_data), False
        if state.confirm and msg.text:
            await conversation.clear(ctx.db, msg.channel, msg.chat_id, conversation.CONFIRM)
            said = fold(msg.text).strip(" .!")
            if said in YES:
                msg = replace(msg, choice=state.confirm)
            elif said in NO:
                return [Reply("Đã hủy, không thay đổi gì.")], False
        if msg.choice is None and msg.text.isdigit():
            # a page of a long list keeps the list's own numbering ("11" on the second page)
            return await _typed_number(ctx, msg, questions.typed_choices(state.subject, state.choices))
    if msg.choice is not None:
        for prefix, on_choice in BUTTONS.items():
            if msg.choice.startswith(prefix):
                return await on_choice(ctx, msg), False
        log.warning("choice nobody handles: %r", msg.choice)
        return [Reply("Lựa chọn không hợp lệ.")], False
    phrased = await admin_phrases.run(ctx, msg)
    if phrased is not None:
        return phrased, False
    return (await questions.on_text(ctx, msg) or []), False


async def _typed_number(ctx: AppContext, msg: Incoming, choices: list[str]) -> tuple[list[Reply], bool]:
    """"3" picks the third choice shown last, as if its button were pressed."""
    if not choices:
        return [Reply("Chưa có danh sách nào để chọn theo số. Xin đặt câu hỏi, hoặc gõ /help để xem cách hỏi.")], True
    n = int(msg.text)
    if not 1 <= n <= len(choices):
        return [Reply(f"Xin gõ một số từ 1 đến {len(choices)}, hoặc đặt câu hỏi mới.")], True
    return await _route(ctx, replace(msg, choice=choices[n - 1]))


async def _remember_choices(ctx: AppContext, msg: Incoming, replies: list[Reply]) -> None:
    """The choices of this chat's reply are what a typed number picks next (none when several replies
    carry choices: a number would not say which list it means)."""
    here = [r for r in replies if r.choices and (r.channel or msg.channel) == msg.channel
            and (r.chat_id or msg.chat_id) == msg.chat_id]
    if len(here) == 1:
        until = ctx.clock.now() + CHOICES_TTL
        await conversation.offer_choices(ctx.db, msg.channel, msg.chat_id, [c.data for c in here[0].choices], until)
    else:
        await conversation.clear(ctx.db, msg.channel, msg.chat_id, conversation.CHOICES)
