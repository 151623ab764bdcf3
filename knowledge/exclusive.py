"""Held by one process at a time: a PostgreSQL advisory lock (any host), or a file lock beside the
SQLite store (one host). Either is released by the operating system or the server when its holder
dies, so a crashed process never blocks its restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from knowledge.db import Database


def _lock_id(name: str) -> int:
    """A signed 64-bit advisory lock id for a name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class Held:
    """One exclusive hold; `release()` gives it up (also done by the process's end)."""

    def __init__(self, conn: AsyncConnection | None = None, fd: int | None = None) -> None:
        self.conn, self.fd = conn, fd

    async def release(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                await self.conn.close()  # the session ends: the advisory lock goes with it
            self.conn = None
        if self.fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self.fd, fcntl.LOCK_UN)
                os.close(self.fd)
            self.fd = None


async def try_hold(db: Database, name: str, patience: float = 5.0) -> Held | None:
    """Hold `name` for this process, or None when another process still holds it after `patience`
    seconds (a holder just killed may need a moment before the server sees its session end)."""
    deadline = time.monotonic() + patience
    while True:
        held = await _try_once(db, name)
        if held is not None or time.monotonic() >= deadline:
            return held
        await asyncio.sleep(0.25)


async def _try_once(db: Database, name: str) -> Held | None:
    if db.is_postgres:
        conn = await db.engine.connect()
        got: Any = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _lock_id(name)})).scalar()
        await conn.commit()
        if not got:
            await conn.close()
            return None
        return Held(conn=conn)
    path = db.url.split(":///", 1)[-1]
    folder = Path(path).parent if path and path != ":memory:" else Path(".")
    lock = folder / f".{hashlib.sha256(name.encode()).hexdigest()[:16]}.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return Held(fd=fd)
