"""Shared fixtures: a store on SQLite and on the real PostgreSQL (127.0.0.1:5432), per test.

PostgreSQL tests use a database of their own, created for this test session and dropped after,
so parallel runs and developers never see each other's rows. Set NHACVIEC_TEST_PG_URL to point
elsewhere (default: postgresql://postgres@127.0.0.1:5432/test as the admin connection).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.settings import async_url
from knowledge.agencies import seed
from knowledge.db import Database, make_engine, upgrade
from knowledge.models import Base

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")

ROOT = Path(__file__).resolve().parent.parent
# The shared samples: beside the main checkout (../shared), or two levels up from a helper's worktree
# (/work/wt/<name> -> /work/shared); the project's own plans when neither is there.
SEEDS = next((p for p in (ROOT.parent / "shared" / "seeds", ROOT.parent.parent / "shared" / "seeds") if p.exists()),
             ROOT / "tests" / "data")
PG_ADMIN_URL = os.environ.get("NHACVIEC_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def run_sync(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine to completion from sync code, even when a loop is already running here."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _pg_url(dbname: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{dbname}"


async def _admin(sql: str) -> None:
    engine = make_engine(async_url(PG_ADMIN_URL))
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(sql))
    await engine.dispose()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A migrated PostgreSQL database for this test session; its async URL."""
    name = f"nhacviec_t_{uuid.uuid4().hex[:10]}"
    run_sync(_admin(f'CREATE DATABASE "{name}"'))
    url = async_url(_pg_url(name))

    async def migrate() -> None:
        engine = make_engine(url)
        await upgrade(engine)
        await engine.dispose()

    run_sync(migrate())
    yield url
    run_sync(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating each time would be slow)."""
    path = tmp_path_factory.mktemp("tpl") / "template.db"

    async def migrate() -> None:
        engine = make_engine(async_url(f"sqlite:///{path}"))
        await upgrade(engine)
        await engine.dispose()

    run_sync(migrate())
    return path


async def _truncate(db: Database) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty, migrated, seeded store: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "store.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        database = Database(async_url(f"sqlite:///{path}"))
    else:
        database = Database(request.getfixturevalue("pg_database"))
        await _truncate(database)
    await database.start()
    async with database.session() as s:
        await seed(s)
        await s.commit()
    yield database
    await database.close()


@pytest.fixture
async def sqlite_db(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[Database]:
    """A store on SQLite only, for tests about something other than the database."""
    path = tmp_path / "store.db"
    shutil.copy(sqlite_template, path)
    database = Database(async_url(f"sqlite:///{path}"))
    await database.start()
    async with database.session() as s:
        await seed(s)
        await s.commit()
    yield database
    await database.close()
