"""Storing plans, on SQLite and PostgreSQL: one transaction per file, re-import, stable task ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from knowledge.db import Database
from knowledge.models import Agency, AuditEntry, Base, Plan, Task, TaskAgency
from knowledge.plans import Importer, import_file
from tests.import_helpers import DATA

V1 = """ỦY BAN NHÂN DÂN
TỈNH PHÚ YÊN

Số: 90/KH-UBND

Phú Yên, ngày 10 tháng 3 năm 2025

KẾ HOẠCH

Phát triển khoa học và công nghệ năm 2025

I. MỤC ĐÍCH, YÊU CẦU

1. Cụ thể hóa nhiệm vụ.

II. NHIỆM VỤ

1. Sở Khoa học và Công nghệ chủ trì, phối hợp với Sở Tài chính xây dựng chương trình hỗ trợ \
doanh nghiệp đổi mới công nghệ trong quý II/2025.

2. Sở Nội vụ rà soát tổ chức bộ máy các đơn vị sự nghiệp khoa học và công nghệ công lập trước ngày 30/9/2025.

3. Báo Phú Yên phối hợp với Đài Phát thanh và Truyền hình tỉnh mở chuyên mục khoa học và công nghệ; \
thực hiện thường xuyên.

4. Các Sở, ban, ngành thuộc tỉnh định kỳ, trước ngày 15 tháng 11 hằng năm báo cáo kết quả về Sở Khoa học và Công nghệ.

Nơi nhận:
- Lưu: VT.

KT. CHỦ TỊCH
PHÓ CHỦ TỊCH

Trần Văn B
"""
# v2: task 2 reworded slightly, task 3 removed, a new task 5; tasks 1 and 4 unchanged.
V2 = (V1.replace("rà soát tổ chức bộ máy các đơn vị", "rà soát, sắp xếp tổ chức bộ máy các đơn vị")
      .replace("3. Báo Phú Yên phối hợp với Đài Phát thanh và Truyền hình tỉnh mở chuyên mục khoa học và công nghệ; "
               "thực hiện thường xuyên.\n\n", "")
      .replace("Nơi nhận:", "5. Sở Tư pháp thẩm định các văn bản quy phạm pháp luật về khoa học và công nghệ "
               "trong tháng 12/2025.\n\nNơi nhận:"))


async def snapshot(db: Database) -> dict[str, list[Any]]:
    """Every row of every table: the store's whole state, to compare before and after."""
    out = {}
    async with db.session() as s:
        for table in Base.metadata.sorted_tables:
            rows = (await s.execute(select(table).order_by(*table.primary_key.columns))).all()
            out[table.name] = [tuple(r) for r in rows]
    return out


async def count(db: Database, model: Any) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)



@asynccontextmanager
async def refusing_link(db: Database, written: str) -> AsyncIterator[None]:
    """The store refuses (a constraint error, not a lost race) to link a task to an agency written so."""
    async with db.engine.begin() as conn:
        if db.is_postgres:
            await conn.execute(text(
                "CREATE FUNCTION nv_refuse_link() RETURNS trigger AS $$ BEGIN IF NEW.written = "
                f"'{written}' THEN RAISE EXCEPTION 'refused' USING ERRCODE = 'check_violation'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"))
            await conn.execute(text("CREATE TRIGGER nv_refuse_link BEFORE INSERT ON task_agencies "
                                    "FOR EACH ROW EXECUTE FUNCTION nv_refuse_link()"))
        else:
            await conn.execute(text(f"CREATE TRIGGER nv_refuse_link BEFORE INSERT ON task_agencies WHEN "
                                    f"NEW.written = '{written}' BEGIN SELECT RAISE(ABORT, 'refused'); END"))
    try:
        yield
    finally:
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP TRIGGER nv_refuse_link" + (" ON task_agencies" if db.is_postgres else "")))
            if db.is_postgres:
                await conn.execute(text("DROP FUNCTION nv_refuse_link()"))

async def test_import_stores_plan_tasks_and_agencies(db: Database) -> None:
    result = await import_file(db, V1.encode(), "v1.txt", actor="tester")
    assert (result.status, result.added, len(result.task_ids)) == ("new", 4, 4)
    async with db.session() as s:
        plan = await s.scalar(select(Plan))
        assert plan is not None
        assert (plan.identity, plan.number) == ("so:90 kh ubnd|uy ban nhan dan tinh phu yen", "90/KH-UBND")
        assert plan.issuer == "Ủy ban nhân dân tỉnh Phú Yên"
        tasks = (await s.scalars(select(Task).order_by(Task.position))).all()
        assert [t.deadline_kind for t in tasks] == ["quarter", "date", "ongoing", "yearly"]
        assert (tasks[3].deadline_month, tasks[3].deadline_day, tasks[3].deadline_due) == (11, 15, None)
        links = (await s.execute(select(TaskAgency.role, TaskAgency.written, Agency.name)
                                 .join(Agency, Agency.id == TaskAgency.agency_id)
                                 .where(TaskAgency.task_id == tasks[0].id).order_by(TaskAgency.position))).all()
        assert [tuple(r) for r in links] == [("lead", "Sở Khoa học và Công nghệ", "Sở Khoa học và Công nghệ"),
                                             ("coordinator", "Sở Tài chính", "Sở Tài chính")]
        newspaper = await s.scalar(select(Agency).where(Agency.name == "Báo Phú Yên"))
        assert newspaper is not None and not newspaper.seeded  # an unknown body became an agency
        audit = (await s.scalars(select(AuditEntry))).all()
        assert [(a.actor, a.action, a.details["status"]) for a in audit] == [("tester", "import", "new")]


async def test_reimport_same_content_changes_nothing(db: Database) -> None:
    await import_file(db, V1.encode(), "v1.txt")
    before = await snapshot(db)
    again = await import_file(db, V1.encode(), "v1-copy.txt")
    assert again.status == "unchanged" and "không có thay đổi" in again.summary_vi()
    after = await snapshot(db)
    after.pop("audit_log"), before.pop("audit_log")
    assert after == before


async def test_new_version_keeps_task_ids(db: Database) -> None:
    first = await import_file(db, V1.encode(), "v1.txt")
    second = await import_file(db, V2.encode(), "v2.txt")
    assert second.status == "updated" and second.plan_id == first.plan_id
    assert (second.added, second.changed, second.removed) == (1, 1, 1)
    assert "thêm 1, sửa 1, xóa 1" in second.summary_vi()
    ids1, ids2 = first.task_ids, second.task_ids
    assert ids2[0] == ids1[0]  # unchanged
    assert ids2[1] == ids1[1]  # reworded: same ref, similar text
    assert ids2[2] == ids1[3]  # unchanged, moved up
    assert ids2[3] not in ids1  # new
    async with db.session() as s:
        assert await s.get(Task, ids1[2]) is None  # vanished from the plan
        reworded = await s.get(Task, ids1[1])
        assert reworded is not None and "sắp xếp" in reworded.text
    assert await count(db, Plan) == 1 and await count(db, Task) == 4


async def test_same_number_from_two_issuers_is_two_plans(db: Database) -> None:
    other = V1.replace("TỈNH PHÚ YÊN", "TỈNH GIA LAI").replace("Phú Yên, ngày", "Gia Lai, ngày")
    first = await import_file(db, V1.encode(), "phu-yen.txt")
    second = await import_file(db, other.encode(), "gia-lai.txt")
    assert (first.status, second.status) == ("new", "new") and first.plan_id != second.plan_id
    assert await count(db, Plan) == 2 and await count(db, Task) == 8
    again = await import_file(db, other.encode(), "gia-lai.txt")
    assert again.status == "unchanged" and again.plan_id == second.plan_id
    changed = await import_file(db, V2.replace("TỈNH PHÚ YÊN", "TỈNH GIA LAI").encode(), "gia-lai-2.txt")
    assert changed.status == "updated" and changed.plan_id == second.plan_id
    assert await count(db, Plan) == 2


async def test_plan_stored_under_its_number_alone_is_updated_in_place(db: Database) -> None:
    first = await import_file(db, V1.encode(), "v1.txt")
    async with db.session() as s:  # as stored before the issuer joined the identity
        plan = await s.get(Plan, first.plan_id)
        assert plan is not None
        plan.identity = "so:90 kh ubnd"
        await s.commit()
    second = await import_file(db, V2.encode(), "v2.txt")
    assert second.status == "updated" and second.plan_id == first.plan_id
    async with db.session() as s:
        assert (await s.scalars(select(Plan.identity))).all() == ["so:90 kh ubnd|uy ban nhan dan tinh phu yen"]


async def test_monitor_agency_is_stored(db: Database) -> None:
    follow_up = ("5. Giao Sở Khoa học và Công nghệ làm đầu mối giúp Ủy ban nhân dân tỉnh theo dõi, đôn đốc triển khai "
                 "thực hiện Kế hoạch này.\n\nNơi nhận:")
    result = await import_file(db, V1.replace("Nơi nhận:", follow_up).encode(), "v1.txt")
    async with db.session() as s:
        plan = await s.get(Plan, result.plan_id)
        assert plan is not None and plan.monitor_agency_id is not None
        monitor = await s.get(Agency, plan.monitor_agency_id)
        assert monitor is not None and monitor.name == "Sở Khoa học và Công nghệ"
    updated = await import_file(db, V1.encode(), "v1-without.txt")  # the new version names no monitor
    async with db.session() as s:
        plan = await s.get(Plan, updated.plan_id)
        assert plan is not None and plan.monitor_agency_id is None


async def test_refused_file_leaves_store_exactly_as_it_was(db: Database, tmp_path: Any) -> None:
    await import_file(db, V1.encode(), "v1.txt")
    before = await snapshot(db)
    importer = await Importer.create(db)
    from knowledge.importer import ImportRefused

    for data, name in [(b"", "empty.txt"), (b"\x00\x01\x02" * 100, "bin.txt"), (b"PK\x03\x04xx", "bad.docx"),
                       (("MẬT\n\n" + V2).encode(), "secret.txt")]:
        with pytest.raises(ImportRefused):
            await importer.import_bytes(data, name)
    assert await snapshot(db) == before


async def test_dry_run_writes_nothing(db: Database) -> None:
    before = await snapshot(db)
    result = await import_file(db, V1.encode(), "v1.txt", dry_run=True)
    assert result.added == 4
    assert await snapshot(db) == before


async def test_failure_inside_the_transaction_rolls_back_everything(db: Database) -> None:
    importer = await Importer.create(db)
    await importer.import_bytes(V1.encode(), "v1.txt")
    # The store refuses one agency link half-way through the next plan (plan and some tasks already
    # flushed): everything must be undone. (A unique key another writer took meanwhile is a lost race,
    # retried instead: tests/test_store_races.py.)
    before = await snapshot(db)
    async with refusing_link(db, "Vụ Pháp chế"):
        with pytest.raises(IntegrityError):
            await importer.import_bytes((DATA / "bo_khcn_2024.txt").read_bytes(), "bo.txt")
    assert await snapshot(db) == before
    again = await importer.import_bytes((DATA / "bo_khcn_2024.txt").read_bytes(), "bo.txt")
    assert again.status == "new" and again.added == 9


async def test_extra_plans_import_on_both_databases(db: Database) -> None:
    importer = await Importer.create(db)
    for name in ("bo_khcn_2024.txt", "ubnd_bang.md"):
        r = await importer.import_path(DATA / name)
        assert r.status == "new" and r.added >= 5
    assert await count(db, Plan) == 2


async def test_many_files_parse_ahead_in_another_process(sqlite_db: Database, tmp_path: Any) -> None:
    """import_many parses in worker processes and stores in order; refusals come back in their place."""
    paths = []
    for i in range(9):
        p = tmp_path / f"plan_{i}.txt"
        p.write_text(V1.replace("Số: 90/KH-UBND", f"Số: {100 + i}/KH-UBND"), encoding="utf-8")
        paths.append(p)
    bad = tmp_path / "rong.txt"
    bad.write_bytes(b"")
    paths.insert(4, bad)
    importer = await Importer.create(sqlite_db)
    out = [(p.name, r) async for p, r in importer.import_many(paths, workers=1)]
    assert [name for name, _ in out] == [p.name for p in paths]
    refused = [r for _, r in out if not hasattr(r, "status")]
    assert len(refused) == 1 and "Tệp rỗng" in str(refused[0])
    assert all(getattr(r, "added", 0) == 4 for name, r in out if name != "rong.txt")
    assert await count(sqlite_db, Plan) == 9 and await count(sqlite_db, Task) == 36


async def test_task_json_of_a_stored_task(db: Database) -> None:
    from datetime import date

    from sqlalchemy.orm import selectinload

    from knowledge.agencies import Registry
    from knowledge.export import task_json

    await import_file(db, V1.encode(), "v1.txt")
    async with db.session() as s:
        registry = await Registry.load(s)
        tasks = (await s.scalars(select(Task).order_by(Task.position)
                                 .options(selectinload(Task.agencies), selectinload(Task.plan)))).all()
    first = task_json(tasks[0], registry, date(2025, 1, 1))
    assert first["id"] == tasks[0].id and first["plan"] == {"number": "90/KH-UBND",
                                                            "title": "Phát triển khoa học và công nghệ năm 2025"}
    assert (first["lead"], first["coordinators"]) == (["Sở Khoa học và Công nghệ"], ["Sở Tài chính"])
    assert first["deadline"]["due"] == "2025-06-30"
    yearly = task_json(tasks[3], registry, date(2025, 11, 16))
    assert yearly["deadline"]["due"] == "2026-11-15" and yearly["report_to"] == ["Sở Khoa học và Công nghệ"]
    assert yearly["lead"] == ["Các Sở, ban, ngành thuộc tỉnh"]  # a group, as written


async def test_a_failed_write_is_reported_and_the_next_files_still_import(db: Database) -> None:
    importer = await Importer.create(db)
    async with refusing_link(db, "Vụ Pháp chế"):
        first = [r async for _p, r in importer.import_many([DATA / "bo_khcn_2024.txt", DATA / "ubnd_bang.md"])]
    out = first + [r async for _p, r in importer.import_many([DATA / "bo_khcn_2024.txt"])]
    assert "Không ghi được vào kho" in str(out[0])
    assert getattr(out[1], "status", None) == "new" and getattr(out[2], "status", None) == "new"
