"""Guided, step-by-step forms: every admin command typed without its arguments asks for them one at a
time (buttons, a typed number, or free text), then runs the same code as its one-line form.

A form is a name, its steps and what to do with the values. Where the chat is in a form lives in the
conversation state in the store (an awaited reply named "form"), so a restart or another instance
carries on. Choice data: "f:<n>" picks option n of the current step. "hủy" leaves the form.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from core.context import AppContext
from core.messages import Choice, Incoming, Reply
from knowledge import conversation
from knowledge.text import fold

AWAITED_KIND = "form"
PREFIX = "f:"
WAIT = timedelta(minutes=30)
CANCEL_WORDS = frozenset({"huy", "thoi", "dung", "bo qua", "/huy"})
CANCELLED = "Đã hủy, không thay đổi gì."

Options = Callable[[AppContext, dict[str, str]], Awaitable[list[tuple[str, str]]]]  # (label, value)
Check = Callable[[AppContext, str, dict[str, str]], Awaitable[str | None]]  # an error message, or None
Finish = Callable[[AppContext, Incoming, dict[str, str]], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Step:
    key: str
    prompt: str
    options: Options | None = None  # buttons; typed text is taken too unless `typed` is False
    typed: bool = True
    check: Check | None = None


@dataclass(frozen=True)
class Form:
    name: str
    steps: tuple[Step, ...]
    finish: Finish
    admin_only: bool = True


@dataclass
class _Forms:
    by_name: dict[str, Form] = field(default_factory=dict)


FORMS = _Forms()


def register(form: Form) -> Form:
    FORMS.by_name[form.name] = form
    return form


async def start(ctx: AppContext, msg: Incoming, name: str, values: dict[str, str] | None = None) -> list[Reply]:
    """Begin (or continue with some values known) the form `name`: ask its first missing step."""
    return await _ask(ctx, msg, FORMS.by_name[name], dict(values or {}))


async def _ask(ctx: AppContext, msg: Incoming, form: Form, values: dict[str, str],
               error: str = "") -> list[Reply]:
    step = next((s for s in form.steps if s.key not in values), None)
    if step is None:
        await conversation.clear(ctx.db, msg.channel, msg.chat_id, conversation.REPLY)
        return await form.finish(ctx, msg, values)
    options = await step.options(ctx, values) if step.options else []
    await conversation.await_reply(ctx.db, msg.channel, msg.chat_id, AWAITED_KIND,
                                   {"form": form.name, "values": values, "options": [v for _, v in options]},
                                   ctx.clock.now() + WAIT)
    text = f"{error}\n{step.prompt}" if error else step.prompt
    if options and step.typed:
        text += "\n(bấm một nút, gõ số, hoặc gõ trực tiếp; “hủy” để thôi)"
    elif options:
        text += "\n(bấm một nút hoặc gõ số; “hủy” để thôi)"
    else:
        text += "\n(gõ “hủy” để thôi)"
    choices = [Choice(f"{n}. {label}", f"{PREFIX}{n}") for n, (label, _v) in enumerate(options, 1)]
    return [Reply(text, choices)]


async def _take(ctx: AppContext, msg: Incoming, data: dict[str, Any], value: str | None,
                typed: str | None) -> list[Reply]:
    form = FORMS.by_name.get(str(data.get("form")))
    if form is None:
        return [Reply("Biểu mẫu này không còn dùng được. Xin gõ lại lệnh.")]
    if form.admin_only and not ctx.is_admin(msg.channel, msg.user_id):
        return [Reply("Chỉ quản trị viên mới dùng được chức năng này.")]
    values = {str(k): str(v) for k, v in dict(data.get("values") or {}).items()}
    step = next((s for s in form.steps if s.key not in values), None)
    if step is None:
        return await _ask(ctx, msg, form, values)
    options: list[str] = [str(o) for o in data.get("options") or []]
    if value is None and typed is not None:
        if typed.isdigit() and options and 1 <= int(typed) <= len(options):
            value = options[int(typed) - 1]
        elif typed.isdigit() and options and not step.typed:
            return await _ask(ctx, msg, form, values, f"Xin chọn một số từ 1 đến {len(options)}.")
        elif step.typed or not options:  # a number out of range is typed text (a plan number, say)
            value = typed
        else:
            return await _ask(ctx, msg, form, values, "Xin chọn một trong các lựa chọn dưới đây.")
    assert value is not None
    if step.check is not None:
        error = await step.check(ctx, value, values)
        if error:
            return await _ask(ctx, msg, form, values, error)
    values[step.key] = value
    return await _ask(ctx, msg, form, values)


async def on_text(ctx: AppContext, msg: Incoming, data: dict[str, Any]) -> list[Reply]:
    """The text typed while a form waits (the router cleared the wait; asking again sets it)."""
    if fold(msg.text).strip(" .!") in CANCEL_WORDS:
        return [Reply(CANCELLED)]
    return await _take(ctx, msg, data, None, msg.text.strip())


async def on_choice(ctx: AppContext, msg: Incoming) -> list[Reply]:
    """A pressed "f:<n>" button: option n of the step the chat is at."""
    state = await conversation.load(ctx.db, msg.channel, msg.chat_id, ctx.clock.now())
    if state.awaiting != AWAITED_KIND:
        return [Reply("Biểu mẫu này đã hết hạn. Xin gõ lại lệnh.")]
    raw = (msg.choice or "")[len(PREFIX):]
    options = [str(o) for o in state.awaiting_data.get("options") or []]
    if not raw.isdigit() or not 1 <= int(raw) <= len(options):
        return [Reply("Lựa chọn không hợp lệ.")]
    await conversation.clear(ctx.db, msg.channel, msg.chat_id, conversation.REPLY)
    return await _take(ctx, msg, state.awaiting_data, options[int(raw) - 1], None)


AWAITED = {AWAITED_KIND: on_text}
