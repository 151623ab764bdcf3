"""Several writers on one store at once (issue 14 items 7 and 8), on SQLite and PostgreSQL.

- Processes started together on a fresh store: migrations and registry seeding are serialised
  (an advisory lock on PostgreSQL, a file lock on SQLite), so none fails and all their plans land.
- Imports adding the same new agency at the same moment: one agency, every plan stored.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.settings import async_url
from knowledge.agencies import agency_key
from knowledge.db import Database
from knowledge.models import Agency, Plan, TaskAgency
from knowledge.plans import Importer
from tests.conftest import PG_ADMIN_URL, ROOT, _admin, _pg_url, run_sync

PROCESSES = 5
SHARED_NEW = ["Trung tâm Chuyển đổi số tỉnh", "Quỹ Chuyển đổi số tỉnh", "Ban Quản lý Chuyển đổi số tỉnh"]
ROUND_WORDS = ["Dữ liệu và Đổi mới", "Chuyển đổi số", "Phát triển đất"]  # new bodies of each round


def plan_text(n: int, new_agencies: list[str]) -> str:
    """A small plan numbered n whose tasks are led by bodies the standard registry does not know."""
    tasks = "\n\n".join(f"{i}. {name} chủ trì, phối hợp với Sở Tài chính thực hiện nhiệm vụ số {i} của kế hoạch {n}, "
                        f"hoàn thành trước ngày {10 + i}/12/2026."
                        for i, name in enumerate(new_agencies, 1))
    return (f"ỦY BAN NHÂN DÂN\nTỈNH LÂM ĐỒNG\n\nSố: {900 + n}/KH-UBND\n\nLâm Đồng, ngày 02 tháng 3 năm 2026\n\n"
            f"KẾ HOẠCH\n\nThử ghi đồng thời số {n}\n\nI. MỤC ĐÍCH\n\nBảo đảm thực hiện.\n\nII. NHIỆM VỤ\n\n{tasks}"
            "\n\nNơi nhận:\n- Lưu: VT.\n\nTM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH\n\nNguyễn Văn A\n")


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a store nobody has created yet (no tables at all)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh' / 'store.db'}"
        return
    name = f"nhacviec_race_{uuid.uuid4().hex[:10]}"
    run_sync(_admin(f'CREATE DATABASE "{name}"'))
    assert PG_ADMIN_URL
    yield _pg_url(name)
    run_sync(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def test_processes_starting_together_on_a_fresh_store(fresh_url: str, tmp_path: Path) -> None:
    files = []
    for n in range(PROCESSES):
        path = tmp_path / f"plan_{n}.txt"
        path.write_text(plan_text(n, [SHARED_NEW[n % len(SHARED_NEW)], f"Ban Quản lý dự án số {n}"]),
                        encoding="utf-8")
        files.append(path)
    env = {**os.environ, "NHACVIEC_DATABASE_URL": fresh_url, "NHACVIEC_DATA_DIR": str(tmp_path)}
    procs = [await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "import", str(f), cwd=ROOT, env=env,
                                                  stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
             for f in files]
    outcomes = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 120)
    failures = [(p.returncode, err.decode()[-600:]) for p, (_out, err) in zip(procs, outcomes, strict=True)
                if p.returncode != 0]
    assert failures == []
    db = Database(async_url(fresh_url))
    try:
        async with db.session() as s:
            numbers = sorted((await s.scalars(select(Plan.number))).all())
            keys = (await s.scalars(select(Agency.key))).all()
        assert numbers == sorted(f"{900 + n}/KH-UBND" for n in range(PROCESSES))
        assert len(keys) == len(set(keys))  # the registry was seeded once
    finally:
        await db.close()


async def test_concurrent_imports_adding_the_same_new_agencies(db: Database) -> None:
    """Writers that each add the same three new bodies, in different orders (deadlocks on PostgreSQL
    when nothing retries): every plan is stored, each body once."""
    rounds, writers = len(ROUND_WORDS), 6
    for r in range(rounds):
        importers = [await Importer.create(db, actor=f"t{w}") for w in range(writers)]
        names = [f"{head} {ROUND_WORDS[r]} tỉnh" for head in ("Trung tâm", "Quỹ", "Ban Quản lý")]
        results = await asyncio.gather(*(
            imp.import_bytes(plan_text(100 * r + w, names[w % 3:] + names[: w % 3]).encode(), f"p{w}.txt")
            for w, imp in enumerate(importers)), return_exceptions=True)
        assert [x for x in results if isinstance(x, BaseException)] == []
        async with db.session() as s:
            for name in names:
                ids = (await s.scalars(select(Agency.id).where(Agency.key == agency_key(name)))).all()
                assert len(ids) == 1, name
                leads = await s.scalar(select(func.count()).select_from(TaskAgency)
                                       .where(TaskAgency.agency_id == ids[0], TaskAgency.role == "lead"))
                assert leads == writers
            assert await s.scalar(select(func.count(Plan.id))) == writers * (r + 1)


async def test_concurrent_imports_of_the_same_new_plan(db: Database) -> None:
    """The same new plan sent by several admins at once: the plan's unique identity is taken by one
    writer, the others' transactions lost a race and are run again (the plan is then known): one plan."""
    writers = 5
    importers = [await Importer.create(db, actor=f"t{w}") for w in range(writers)]
    data = plan_text(7, SHARED_NEW).encode()
    results = await asyncio.gather(*(imp.import_bytes(data, "p.txt") for imp in importers), return_exceptions=True)
    assert [x for x in results if isinstance(x, BaseException)] == []
    assert sorted(r.status for r in results if not isinstance(r, BaseException)) == ["new"] + ["unchanged"] * 4
    async with db.session() as s:
        assert await s.scalar(select(func.count(Plan.id))) == 1
