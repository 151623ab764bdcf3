"""Engine, sessions and schema upgrades. The app upgrades the database on start (Alembic).

Several processes may start together on one fresh store (instances behind one URL, imports run side
by side): set-up runs under a store-wide lock, and writers that lost a race are told apart from real
failures (`lost_race`) so their transaction can be retried.
"""

from __future__ import annotations

import asyncio
import fcntl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

MIGRATIONS = Path(__file__).parent / "migrations"
# The PostgreSQL advisory lock every nhacviec process takes while it sets the store up ("nhac" in ASCII).
SETUP_LOCK_KEY = 0x6E686163
# PostgreSQL states of a transaction that lost a race to another writer: serialization failure, deadlock.
RACE_SQLSTATES = frozenset({"40001", "40P01"})
UNIQUE_VIOLATION = "23505"
# How many times a transaction that lost a race is run again before its failure is reported, and the
# first pause before it is (doubled each time, with jitter so the losers do not meet again).
RACE_RETRIES = 5
RACE_BACKOFF_S = 0.05


def make_engine(url: str) -> AsyncEngine:
    """An engine for an async URL; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def _alembic_config(connection: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: command.upgrade(_alembic_config(c), "head"))


class Database:
    """The store's handle: an engine and a session factory, created once per process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @asynccontextmanager
    async def setup_lock(self) -> AsyncIterator[None]:
        """One process at a time among all those sharing this store: an advisory lock on PostgreSQL
        (released with its connection if the process dies), a lock file beside a SQLite file."""
        if self.is_postgres:
            async with self.engine.connect() as conn:
                await conn.execute(select(text(f"pg_advisory_lock({SETUP_LOCK_KEY})")))
                try:
                    yield
                finally:
                    await conn.execute(select(text(f"pg_advisory_unlock({SETUP_LOCK_KEY})")))
            return
        path = self.engine.url.database
        if not path or path == ":memory:":
            yield
            return
        lock_path = Path(path + ".lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with lock_path.open("a") as handle:
            await asyncio.to_thread(fcntl.flock, handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    async def start(self, seed: Callable[[AsyncSession], Awaitable[Any]] | None = None) -> None:
        """Migrate to the newest schema, then run `seed` (the standard registry) in its own committed
        transaction, both under the set-up lock: processes starting together on a fresh store would
        otherwise create the same tables and rows at once, and all but one fail."""
        async with self.setup_lock():
            await upgrade(self.engine)
            if seed is not None:
                async with self.session() as s:
                    await seed(s)
                    await s.commit()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    async def close(self) -> None:
        await self.engine.dispose()


def lost_race(exc: BaseException) -> bool:
    """Whether a failed transaction lost a race to another writer and may simply be run again:
    a unique key another writer took meanwhile, a deadlock or serialization failure (PostgreSQL),
    a busy or stale snapshot (SQLite)."""
    if not isinstance(exc, DBAPIError):
        return False
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    message = str(exc.orig).lower()
    if isinstance(exc, IntegrityError):  # a unique key only: other constraints fail the same way again
        return state == UNIQUE_VIOLATION or "unique constraint failed" in message
    if state in RACE_SQLSTATES:
        return True
    return "deadlock detected" in message or "database is locked" in message or "could not serialize" in message
