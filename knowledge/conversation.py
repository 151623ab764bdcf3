"""Conversation state in the store: what each chat (channel, chat id) is in the middle of.

Kept in the store, not in process memory, so a restart or another instance behind the webhook
continues the conversation. Three parts, each with its own expiry (the caller's clock decides):

- the numbered choices shown last, any handler's: a typed "2" picks the second;
- a reply awaited: `awaiting` names what the next text answers ("reminder.reason") with its data;
- a confirmation awaited: the choice data a "có" would pick.

Each function opens and commits its own short session: a state write must not wait on, or be
rolled back with, the handler's own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from knowledge.db import Database
from knowledge.models import ConversationState

CHOICES, REPLY, CONFIRM = "choices", "reply", "confirm"  # the parts `clear` can drop


@dataclass(frozen=True)
class State:
    """A chat's live state at one moment (expired parts read as empty)."""

    choices: list[str] = field(default_factory=list)
    awaiting: str | None = None
    awaiting_data: dict[str, Any] = field(default_factory=dict)
    confirm: str | None = None


def _live(until: datetime | None, now: datetime) -> bool:
    if until is None:
        return False
    if until.tzinfo is None:  # SQLite gives back naive datetimes: they were stored as UTC
        until = until.replace(tzinfo=UTC)
    return until > now


async def load(db: Database, channel: str, chat_id: str, now: datetime) -> State:
    """The chat's state at `now`; a chat that never had one (or whose parts expired) has an empty one."""
    async with db.session() as s:
        row = await s.get(ConversationState, (channel, str(chat_id)))
    if row is None:
        return State()
    awaiting = row.awaiting if _live(row.awaiting_until, now) else None
    return State(
        choices=list(row.choices or []) if _live(row.choices_until, now) else [],
        awaiting=awaiting,
        awaiting_data=dict(row.awaiting_data or {}) if awaiting else {},
        confirm=row.confirm if _live(row.confirm_until, now) else None,
    )


async def _write(db: Database, channel: str, chat_id: str, **values: Any) -> None:
    """Set some columns of the chat's row, creating it when missing (two instances may race: retry once)."""
    for attempt in (1, 2):
        async with db.session() as s:
            row = await s.get(ConversationState, (channel, str(chat_id)))
            if row is None:
                row = ConversationState(channel=channel, chat_id=str(chat_id), choices=[], awaiting_data={})
                s.add(row)
            for key, value in values.items():
                setattr(row, key, value)
            try:
                await s.commit()
                return
            except IntegrityError:
                if attempt == 2:
                    raise


async def offer_choices(db: Database, channel: str, chat_id: str, data: list[str], until: datetime) -> None:
    """Remember the choices just shown (their data, in the order numbered); replaces earlier ones."""
    await _write(db, channel, chat_id, choices=list(data), choices_until=until)


async def await_reply(db: Database, channel: str, chat_id: str, kind: str, data: dict[str, Any],
                      until: datetime) -> None:
    """The chat's next text answers `kind` (a handler registered under that name reads `data`)."""
    await _write(db, channel, chat_id, awaiting=kind, awaiting_data=dict(data), awaiting_until=until)


async def await_confirmation(db: Database, channel: str, chat_id: str, choice: str, until: datetime) -> None:
    """A "có" in this chat picks `choice` (choice data, as a button would carry it)."""
    await _write(db, channel, chat_id, confirm=choice, confirm_until=until)


async def clear(db: Database, channel: str, chat_id: str, *parts: str) -> None:
    """Drop some parts (CHOICES, REPLY, CONFIRM) of the chat's state, or all of it when none is named."""
    if not parts:
        async with db.session() as s:
            await s.execute(delete(ConversationState).where(ConversationState.channel == channel,
                                                            ConversationState.chat_id == str(chat_id)))
            await s.commit()
        return
    values: dict[str, Any] = {}
    if CHOICES in parts:
        values.update(choices=[], choices_until=None)
    if REPLY in parts:
        values.update(awaiting=None, awaiting_data={}, awaiting_until=None)
    if CONFIRM in parts:
        values.update(confirm=None, confirm_until=None)
    async with db.session() as s:
        row = await s.get(ConversationState, (channel, str(chat_id)))
        if row is None:
            return
        for key, value in values.items():
            setattr(row, key, value)
        await s.commit()
