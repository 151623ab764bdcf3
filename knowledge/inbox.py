"""The inbox: every incoming update stored before its platform is told it arrived, answered from here.

A channel stores what it receives (`accept`) before it confirms it (the next getUpdates offset, a
webhook's 200, Zalo's acknowledgement), hands the new ones on, and marks each answered once its
reply was confirmed (`answered`). The unique (channel, update_id) key makes a webhook retry or an
update fetched again a no-op. After a crash, the rows the dead process held are taken over
(`take_leftovers`) and answered again: at least once, with at most the replies in flight at the
crash sent twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from core.workers import dead_here, on_this_host
from knowledge.db import Database
from knowledge.models import InboxEntry

STALE_AFTER = timedelta(minutes=5)  # a row held this long by a process on another host is taken over
KEEP_ANSWERED = timedelta(days=7)  # answered rows are kept this long (retries come within minutes)
MAX_TAKEOVERS = 3  # an update whose answering killed this many processes is given up (a poison message)


@dataclass(frozen=True)
class Received:
    """One update as a channel received it: its own id, the chat it is from, the raw payload."""

    update_id: str
    chat_id: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Leftover:
    id: int
    channel: str
    update_id: str
    chat_id: str
    payload: dict[str, Any]
    received_at: datetime
    given_up: bool = False  # taken over MAX_TAKEOVERS times: marked answered, not to be handled again


async def accept(db: Database, channel: str, items: list[Received], owner: str, now: datetime) -> list[bool]:
    """Store the updates in one transaction; for each, whether it is new (False: seen before)."""
    if not items:
        return []
    insert = postgresql.insert if db.is_postgres else sqlite.insert
    fresh: list[bool] = []
    async with db.session() as s:
        for item in items:
            stmt = insert(InboxEntry).values(
                channel=channel, update_id=item.update_id[:64], chat_id=item.chat_id[:64], payload=item.payload,
                received_at=now, owner=owner, claimed_at=now,
            ).on_conflict_do_nothing(index_elements=["channel", "update_id"]).returning(InboxEntry.id)
            fresh.append((await s.execute(stmt)).first() is not None)
        await s.commit()
    return fresh


async def answered(db: Database, channel: str, update_id: str, now: datetime) -> None:
    async with db.session() as s:
        await s.execute(update(InboxEntry).where(InboxEntry.channel == channel, InboxEntry.update_id == update_id)
                        .values(answered_at=now, owner=None))
        await s.commit()


async def take_leftovers(db: Database, owner: str, channels: list[str], now: datetime,
                         stale_after: timedelta = STALE_AFTER) -> list[Leftover]:
    """The unanswered rows of processes that died (on this host: at once; elsewhere: once stale),
    taken over by `owner` with a conditional update each (two instances never take the same row)."""
    async with db.session() as s:
        rows = (await s.execute(
            select(InboxEntry.id, InboxEntry.owner, InboxEntry.claimed_at)
            .where(InboxEntry.answered_at.is_(None), InboxEntry.channel.in_(channels),
                   or_(InboxEntry.owner.is_(None), InboxEntry.owner != owner))
            .order_by(InboxEntry.id)
        )).all()
        taken: list[int] = []
        for row_id, old, claimed_at in rows:
            if old is not None and not _gone(old, claimed_at, now - stale_after):
                continue  # a live process is answering it
            same_owner = InboxEntry.owner.is_(None) if old is None else InboxEntry.owner == old
            result = await s.execute(update(InboxEntry).where(
                InboxEntry.id == row_id, InboxEntry.answered_at.is_(None), same_owner,
            ).values(owner=owner, claimed_at=now, takeovers=InboxEntry.takeovers + 1))
            await s.commit()
            if result.rowcount == 1:  # type: ignore[attr-defined]
                taken.append(row_id)
        if not taken:
            return []
        found = (await s.scalars(select(InboxEntry).where(InboxEntry.id.in_(taken)).order_by(InboxEntry.id))).all()
        poison = [r.id for r in found if r.takeovers > MAX_TAKEOVERS]
        if poison:  # each try at it ended its process: stop trying
            await s.execute(update(InboxEntry).where(InboxEntry.id.in_(poison)).values(answered_at=now, owner=None))
            await s.commit()
    return [Leftover(r.id, r.channel, r.update_id, r.chat_id, r.payload, _utc(r.received_at),
                     given_up=r.id in poison) for r in found]


async def prune(db: Database, now: datetime, keep: timedelta = KEEP_ANSWERED) -> int:
    async with db.session() as s:
        result = await s.execute(delete(InboxEntry).where(InboxEntry.answered_at.is_not(None),
                                                          InboxEntry.answered_at < now - keep))
        await s.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def open_count(db: Database) -> tuple[int, datetime | None]:
    """How many updates wait for an answer, and when the oldest arrived (for /metrics)."""
    async with db.session() as s:
        n, oldest = (await s.execute(select(func.count(InboxEntry.id), func.min(InboxEntry.received_at))
                                     .where(and_(InboxEntry.answered_at.is_(None))))).one()
    return int(n or 0), (_utc(oldest) if oldest is not None else None)


def _gone(owner: str, claimed_at: datetime | None, stale_before: datetime) -> bool:
    """A process of this host is gone when it no longer runs; one elsewhere when it went silent."""
    if on_this_host(owner):
        return dead_here(owner)
    return claimed_at is None or _utc(claimed_at) < stale_before


def _utc(at: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)
