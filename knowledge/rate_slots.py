"""Send slots: one channel's rate limit kept across every instance that shares the store.

Each send takes the next free slot (`interval` seconds after the one before) and waits for it. On
PostgreSQL the next free slot is one row, moved forward by a single atomic UPDATE on the database's
clock, so any number of processes on any number of hosts together keep the limit; elsewhere (the
embedded SQLite store, one process) the slots are kept in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from knowledge.db import Database
from knowledge.models import RateSlot

# The slot taken, as seconds since the epoch on the database's clock (hosts keep their clocks in step).
_TAKE = text(
    "UPDATE rate_slots SET next_at = GREATEST(next_at, extract(epoch from clock_timestamp())) + :interval "
    "WHERE key = :key RETURNING next_at - :interval"
)


class Slots(Protocol):
    async def wait(self, key: str, interval: float) -> float:
        """Take the next slot of `key` and sleep until it; how late this process woke up for it (seconds)."""
        ...

    async def close(self) -> None: ...


class LocalSlots:
    """Slots of this process only (one instance on SQLite)."""

    def __init__(self) -> None:
        self.next_at: dict[str, float] = {}

    async def close(self) -> None:
        pass

    async def wait(self, key: str, interval: float) -> float:
        now = time.monotonic()
        slot = max(self.next_at.get(key, 0.0), now)
        self.next_at[key] = slot + interval
        if slot > now:
            await asyncio.sleep(slot - now)
        return max(0.0, time.monotonic() - slot)


class SharedSlots:
    """Slots in PostgreSQL, shared by every instance: one UPDATE per send, on a connection of its own in
    autocommit (one round trip, no pool checkout), then a sleep until the slot's wall-clock time, so that
    the time the answer took to come back is not added to the wait."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.known: set[str] = set()
        self._conn: AsyncConnection | None = None
        self._lock = asyncio.Lock()

    async def _take(self, key: str, interval: float) -> float:
        async with self._lock:  # one statement at a time on the connection
            try:
                if self._conn is None:
                    conn = await self.db.engine.connect()
                    self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                    # A slot lost to a database crash costs nothing: no need to wait for the disk.
                    await self._conn.execute(text("SET synchronous_commit TO off"))
                if key not in self.known:
                    await self._conn.execute(postgresql.insert(RateSlot).values(key=key, next_at=0.0)
                                             .on_conflict_do_nothing(index_elements=["key"]))
                    self.known.add(key)
                return float((await self._conn.execute(_TAKE, {"key": key, "interval": interval})).scalar_one())
            except Exception:
                if self._conn is not None:
                    with contextlib.suppress(Exception):
                        await self._conn.close()
                    self._conn = None
                raise

    async def wait(self, key: str, interval: float) -> float:
        slot = await self._take(key, interval)
        wait = slot - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        return max(0.0, time.time() - slot)

    async def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None


def slots_for(db: Database) -> Slots:
    """Shared slots when several instances can share the store (PostgreSQL), else this process's."""
    return SharedSlots(db) if db.is_postgres else LocalSlots()
