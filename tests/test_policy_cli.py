"""`nhacviec policy` and `nhacviec calendar` as an admin runs them, on SQLite and on PostgreSQL:
the settings change which reminders go out, and bad input changes nothing."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bot.cli import main
from core.settings import async_url
from knowledge.agencies import seed
from knowledge.db import Database
from tests.conftest import _truncate, run_sync
from tests.reminder_fixtures import TaskSpec, make_plan

# Due Tuesday 15/12/2026: 3 working days before is Thu 10/12, 5 before is Tue 08/12.
REPORT = TaskSpec(
    "Sở Khoa học và Công nghệ tổng hợp báo cáo kết quả thực hiện gửi UBND tỉnh trước ngày 15/12/2026.",
    ["Sở Khoa học và Công nghệ"], kind="date", due=date(2026, 12, 15), deadline_text="trước ngày 15/12/2026",
    ref="III.2")


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = async_url(f"sqlite:///{tmp_path / 'cli.db'}") if request.param == "sqlite" \
        else request.getfixturevalue("pg_database")
    monkeypatch.setenv("NHACVIEC_DATABASE_URL", url)
    monkeypatch.delenv("NHACVIEC_TELEGRAM_TOKEN", raising=False)

    async def prepare() -> None:
        db = Database(url)
        await db.start()
        if db.is_postgres:
            await _truncate(db)
        async with db.session() as s:
            await seed(s)
            await s.commit()
        await make_plan(db, [REPORT])
        await db.close()

    run_sync(prepare())
    assert main(["focal", "add", "--agency", "Sở KH&CN", "--chat", "501"]) == 0
    return url


def _days(capsys: pytest.CaptureFixture[str], day: str) -> int:
    capsys.readouterr()
    assert main(["remind", "--dry-run", "--json", "--today", day]) == 0
    return len(json.loads(capsys.readouterr().out)["reminders"])


def test_policy_offsets_change_the_reminder_days(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _days(capsys, "2026-12-10") == 1 and _days(capsys, "2026-12-08") == 0
    assert main(["policy", "set", "--offsets", "5,0", "--hour", "7"]) == 0
    assert "nhắc trước 5 ngày, ngày hạn, lúc 07:00" in capsys.readouterr().out
    assert _days(capsys, "2026-12-10") == 0 and _days(capsys, "2026-12-08") == 1
    assert main(["policy", "show"]) == 0 and "Toàn bộ: nhắc trước 5 ngày" in capsys.readouterr().out
    assert main(["policy", "clear"]) == 0
    assert _days(capsys, "2026-12-10") == 1


def test_policy_bad_input_changes_nothing(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "set", "--hour", "25"]) == 2
    assert "Giờ nhắc phải từ 0 đến 23" in capsys.readouterr().out
    assert main(["policy", "set", "--offsets", "7,a"]) == 2
    assert "số nguyên" in capsys.readouterr().out
    assert main(["policy", "set", "--plan", "999", "--hour", "9"]) == 2
    assert "Không có kế hoạch #999" in capsys.readouterr().out
    assert main(["policy", "show"]) == 0 and "Đang dùng mặc định" in capsys.readouterr().out


def test_calendar_day_off_moves_the_due_day(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calendar", "off", "15/12/2026", "--note", "nghỉ đột xuất"]) == 0
    assert "Đã đặt 15/12/2026 là ngày nghỉ" in capsys.readouterr().out
    # The due day moves to Wed 16/12 (Civil Code art. 148): its reminder leaves 15/12 for 16/12.
    assert _days(capsys, "2026-12-15") == 0 and _days(capsys, "2026-12-16") == 1
    assert main(["calendar", "list"]) == 0 and "15/12/2026: nghỉ — nghỉ đột xuất" in capsys.readouterr().out
    assert main(["calendar", "off", "31/02/2026"]) == 2 and "không hợp lệ" in capsys.readouterr().out
    assert main(["calendar", "clear", "15/12/2026"]) == 0
    assert _days(capsys, "2026-12-15") == 1 and _days(capsys, "2026-12-16") == 0
