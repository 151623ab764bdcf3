"""Send slots: one channel's rate limit kept across every instance that shares the store.

Each send takes the next free slot (`interval` seconds after the one before) and waits for it. On
PostgreSQL the next free slot is one row, moved forward by a single atomic UPDATE on the database's
clock, so any number of processes on any number of hosts together keep the limit; elsewhere (the
embedded SQLite store, one process) the slots are kept in memory.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from knowledge.db import Database
from knowledge.models import RateSlot

_TAKE = text(
    "UPDATE rate_slots SET next_at = GREATEST(next_at, extract(epoch from clock_timestamp())) + :interval "
    "WHERE key = :key RETURNING next_at - :interval - extract(epoch from clock_timestamp())"
)


class Slots(Protocol):
    async def wait(self, key: str, interval: float) -> float:
        """Take the next slot of `key` and sleep until it; the seconds waited."""
        ...


class LocalSlots:
    """Slots of this process only (one instance on SQLite)."""

    def __init__(self) -> None:
        self.next_at: dict[str, float] = {}

    async def wait(self, key: str, interval: float) -> float:
        now = time.monotonic()
        slot = max(self.next_at.get(key, 0.0), now)
        self.next_at[key] = slot + interval
        if slot > now:
            await asyncio.sleep(slot - now)
        return max(0.0, slot - now)


class SharedSlots:
    """Slots in PostgreSQL, shared by every instance: one UPDATE per send."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.known: set[str] = set()

    async def wait(self, key: str, interval: float) -> float:
        async with self.db.engine.begin() as conn:
            if key not in self.known:
                await conn.execute(postgresql.insert(RateSlot).values(key=key, next_at=0.0)
                                   .on_conflict_do_nothing(index_elements=["key"]))
                self.known.add(key)
            wait = float((await conn.execute(_TAKE, {"key": key, "interval": interval})).scalar_one())
        if wait > 0:
            await asyncio.sleep(wait)
        return max(0.0, wait)


def slots_for(db: Database) -> Slots:
    """Shared slots when several instances can share the store (PostgreSQL), else this process's."""
    return SharedSlots(db) if db.is_postgres else LocalSlots()
