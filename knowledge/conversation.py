"""Conversation state in the store: what each chat (channel, chat id) is in the middle of.

Kept in the store, not in process memory, so a restart or another instance behind the webhook
continues the conversation. Three parts, each with its own expiry (the caller's clock decides):

- the numbered choices shown last, any handler's: a typed "2" picks the second;
- a reply awaited: `awaiting` names what the next text answers ("reminder.reason") with its data;
- a confirmation awaited: the choice data a "có" would pick;
- the subject: the task or list just shown ("việc này", "việc số 2", "xem tiếp" refer to it).

Each function opens and commits its own short session: a state write must not wait on, or be
rolled back with, the handler's own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from knowledge.db import Database
from knowledge.models import ConversationState

CHOICES, REPLY, CONFIRM, SUBJECT = "choices", "reply", "confirm", "subject"  # the parts `clear` can drop


@dataclass(frozen=True)
class Subject:
    """The tasks just shown, in the order numbered; `shown` of them are on screen so far (a long list
    continues with "xem tiếp"); `current` is the one task a follow-up means, when one was picked out;
    `page` is the choice data of the last page (a typed number means the list's own numbering then)."""

    ids: list[int]
    shown: int
    header: str = ""
    current: int | None = None
    page: list[str] = field(default_factory=list)
    until: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {"ids": self.ids, "shown": self.shown, "header": self.header, "current": self.current,
                "page": self.page, "until": self.until.isoformat() if self.until else None}

    @staticmethod
    def from_json(data: dict[str, Any]) -> Subject:
        until = data.get("until")
        return Subject(ids=[int(i) for i in data.get("ids", [])], shown=int(data.get("shown", 0)),
                       header=str(data.get("header", "")), current=data.get("current"),
                       page=list(data.get("page", [])), until=datetime.fromisoformat(until) if until else None)

    @property
    def one(self) -> int | None:
        """The task "việc này" means: the one picked out, or the only one shown."""
        if self.current is not None:
            return self.current
        return self.ids[0] if len(self.ids) == 1 else None


SUBJECT_TTL = timedelta(hours=8)  # a follow-up refers to what was shown within a working day, not last week's


@dataclass(frozen=True)
class State:
    """A chat's live state at one moment (expired parts read as empty)."""

    choices: list[str] = field(default_factory=list)
    awaiting: str | None = None
    awaiting_data: dict[str, Any] = field(default_factory=dict)
    confirm: str | None = None
    subject: Subject | None = None


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
        subject=_subject(row.subject, now),
    )


def _subject(data: dict[str, Any] | None, now: datetime) -> Subject | None:
    if not data:
        return None
    subject = Subject.from_json(data)
    return subject if _live(subject.until, now) else None


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


async def show_subject(db: Database, channel: str, chat_id: str, subject: Subject, now: datetime) -> None:
    """What the chat was just shown becomes what its follow-ups refer to (replaces the earlier subject)."""
    kept = Subject(subject.ids, subject.shown, subject.header, subject.current, subject.page,
                   until=now + SUBJECT_TTL)
    await _write(db, channel, chat_id, subject=kept.as_json())


async def clear(db: Database, channel: str, chat_id: str, *parts: str) -> None:
    """Drop some parts (CHOICES, REPLY, CONFIRM, SUBJECT) of the chat's state, or all of it when none is named."""
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
    if SUBJECT in parts:
        values.update(subject=None)
    async with db.session() as s:
        row = await s.get(ConversationState, (channel, str(chat_id)))
        if row is None:
            return
        for key, value in values.items():
            setattr(row, key, value)
        await s.commit()
