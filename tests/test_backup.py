"""`nhacviec backup` / `restore`: the whole store round-trips exactly, SQLite → PostgreSQL → SQLite."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from core.settings import async_url
from knowledge.agencies import Registry, ensure_agency
from knowledge.backup import BackupError, backup, restore
from knowledge.db import Database
from knowledge.demo import DEMO_DIR
from knowledge.models import (
    Agency,
    AuditEntry,
    CalendarDay,
    FocalPoint,
    Outbox,
    Plan,
    RegistrationCode,
    ReminderPolicy,
    Task,
    TaskProgress,
)
from knowledge.plans import import_file
from tests.conftest import _truncate, run_sync

MOMENT = datetime(2026, 11, 30, 1, 2, 3, 456789, tzinfo=UTC)


async def fill(db: Database) -> None:
    """Every table holds rows, with the awkward values: microseconds, JSON, text keys in mixed case,
    accents, a self-reference (merged agencies, seeded), NULLs."""
    for path in sorted(DEMO_DIR.glob("*.txt")):
        await import_file(db, path)
    async with db.session() as s:
        task_ids = (await s.scalars(select(Task.id).order_by(Task.id))).all()
        agency = await ensure_agency(s, await Registry.load(s), "Trung tâm Dữ liệu tỉnh")
        focal = [FocalPoint(agency_id=agency.id, channel="telegram", chat_id=str(100 + i), user_id=None,
                            name="Nguyễn Thị Ánh", status="approved", created_at=MOMENT, approved_by="cli")
                 for i in range(3)]
        s.add_all(focal)
        await s.flush()
        for code in ("abc", "Zed", "éclair", "ABD"):  # byte order differs from a collation's
            s.add(RegistrationCode(code=code, agency_id=agency.id, created_by="telegram:1",
                                   expires_at=MOMENT + timedelta(days=1),
                                   used_by=focal[0].id if code == "Zed" else None))
        s.add(ReminderPolicy(scope="plan", scope_id=1, offsets=[5, 1, 0], hour=7, overdue_every=2, overdue_max=4,
                             include_coordinators=True))
        s.add(CalendarDay(day=date(2027, 1, 2), working=False, note="nghỉ bù"))
        s.add(TaskProgress(task_id=task_ids[0], agency_id=agency.id, occurrence=None, status="extended",
                           new_due=date(2027, 3, 1), by="telegram:9", at=MOMENT, note="xin gia hạn"))
        for i, task_id in enumerate(task_ids[:5]):
            s.add(Outbox(task_id=task_id, focal_point_id=focal[i % 3].id, agency_id=agency.id,
                         occurrence=date(2026, 12, 15), offset_key="b3", kind="before",
                         send_at=MOMENT + timedelta(hours=i), status="sent" if i else "pending",
                         attempts=i, sent_at=MOMENT if i else None, text=f"Nhắc việc {i} — “hạn” ✓"))
        s.add(AuditEntry(at=MOMENT, actor="cli", action="test", target="x",
                         details={"nested": {"list": [1, 2.5, None, True]}, "vi": "Sở Nội vụ"}))
        await s.commit()


def content(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return f.read().splitlines()


async def fresh_sqlite(tmp_path: Path, name: str) -> Database:
    db = Database(async_url(f"sqlite:///{tmp_path / name}"))
    await db.start()
    return db


async def test_sqlite_to_postgres_and_back_is_exact(sqlite_db: Database, pg_database: str, tmp_path: Path) -> None:
    await fill(sqlite_db)
    first = (await backup(sqlite_db, tmp_path / "a.jsonl.gz")).file
    lines = content(first)
    assert len(lines) > 250 and any(line.startswith('["Zed",') for line in lines)

    pg = Database(pg_database)
    await _truncate(pg)
    await pg.start()
    try:
        restored = await restore(pg, first)
        assert restored.rows["plans"] == 3 and restored.rows["registration_codes"] == 4
        second = (await backup(pg, tmp_path / "b.jsonl.gz")).file
        assert content(second) == lines
        assert second.read_bytes() == first.read_bytes()  # byte for byte: no time or name in the file
        # The id sequences moved past the restored ids: new rows insert.
        await import_file(pg, DEMO_DIR / "ubnd_lam_dong_bang_ca_phe.md")  # unchanged: nothing
        async with pg.session() as s:
            reg = await Registry.load(s)
            new = await ensure_agency(s, reg, "Trung tâm Lưu trữ lịch sử tỉnh")
            s.add(AuditEntry(actor="t", action="after-restore"))
            await s.commit()
            assert new.id > max(a for a in reg.by_id if a != new.id)
            successors = await s.scalar(select(func.count()).select_from(Agency).where(Agency.successor_id.isnot(None)))
            assert successors and successors > 0
    finally:
        await pg.close()

    back = await fresh_sqlite(tmp_path, "back.db")
    try:
        await restore(back, second)
        assert content((await backup(back, tmp_path / "c.jsonl.gz")).file) == lines
    finally:
        await back.close()


async def test_restore_refuses_a_store_in_use_unless_forced(db: Database, tmp_path: Path) -> None:
    await import_file(db, DEMO_DIR / "so_y_te_tiem_chung.txt")
    saved = (await backup(db, tmp_path / "one.jsonl.gz")).file
    await import_file(db, DEMO_DIR / "ubnd_lam_dong_cds_2026.txt")
    before = content((await backup(db, tmp_path / "before.jsonl.gz")).file)
    with pytest.raises(BackupError, match=r"Kho không trống .*2 kế hoạch.*--force"):
        await restore(db, saved)
    assert content((await backup(db, tmp_path / "still.jsonl.gz")).file) == before
    await restore(db, saved, force=True)
    async with db.session() as s:
        assert (await s.scalars(select(Plan.number))).all() == ["1502/KH-SYT"]


@pytest.mark.parametrize("damage", ["truncated", "not gzip", "not a backup", "row count"])
async def test_a_damaged_backup_changes_nothing(db: Database, tmp_path: Path, damage: str) -> None:
    await import_file(db, DEMO_DIR / "so_y_te_tiem_chung.txt")
    good = (await backup(db, tmp_path / "good.jsonl.gz")).file
    before = content(good)
    bad = tmp_path / "bad.jsonl.gz"
    if damage == "truncated":
        bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif damage == "not gzip":
        bad.write_bytes(b"KE HOACH\n")
    elif damage == "not a backup":
        bad.write_bytes(gzip.compress(b'{"hello": 1}\n'))
    else:
        bad.write_bytes(gzip.compress(("\n".join(before[:-3] + before[-2:]) + "\n").encode()))
    with pytest.raises(BackupError, match="kho không thay đổi"):
        await restore(db, bad, force=True)  # forced: the old rows are deleted first, then rolled back
    assert content((await backup(db, tmp_path / "after.jsonl.gz")).file) == before


def test_cli_backup_and_restore_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "source.db"
    monkeypatch.setenv("NHACVIEC_DATABASE_URL", f"sqlite:///{source}")

    async def prepare() -> None:
        db = await fresh_sqlite(tmp_path, "source.db")
        await import_file(db, DEMO_DIR / "so_y_te_tiem_chung.txt")
        await db.close()

    run_sync(prepare())
    file = tmp_path / "sao_luu.jsonl.gz"
    assert main(["backup", str(file)]) == 0
    assert "Đã sao lưu kho vào" in capsys.readouterr().out
    assert main(["restore", str(file)]) == 1
    assert "Kho không trống" in capsys.readouterr().err
    assert main(["restore", str(tmp_path / "khong_co.gz")]) == 2
    assert "Không tìm thấy tệp" in capsys.readouterr().err
    monkeypatch.setenv("NHACVIEC_DATABASE_URL", f"sqlite:///{tmp_path / 'target.db'}")
    assert main(["restore", str(file)]) == 0
    out = capsys.readouterr().out
    assert "Đã khôi phục kho từ" in out and "1 kế hoạch" in out
