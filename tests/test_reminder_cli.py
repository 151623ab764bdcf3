"""`nhacviec focal` and `nhacviec remind` as a user runs them (in-process, on a SQLite file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from core.settings import async_url
from knowledge.agencies import seed
from knowledge.db import Database
from tests.conftest import run_sync
from tests.reminder_fixtures import TaskSpec, make_plan

REPORT = TaskSpec(
    "Giao Sở Khoa học và Công nghệ làm đầu mối giúp UBND tỉnh theo dõi, đôn đốc triển khai thực hiện Kế hoạch "
    "này; định kỳ trước ngày 15 tháng 12 hằng năm tổng hợp báo cáo tình hình, kết quả thực hiện gửi UBND tỉnh.",
    ["Sở Khoa học và Công nghệ"], kind="yearly", month=12, day=15,
    deadline_text="định kỳ trước ngày 15 tháng 12 hằng năm", ref="III.2")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.db"
    monkeypatch.setenv("NHACVIEC_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.delenv("NHACVIEC_TELEGRAM_TOKEN", raising=False)

    async def prepare() -> None:
        db = Database(async_url(f"sqlite:///{path}"))
        await db.start()
        async with db.session() as s:
            await seed(s)
            await s.commit()
        await make_plan(db, [REPORT])
        await db.close()

    run_sync(prepare())
    return path


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict:  # type: ignore[type-arg]
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_focal_add_list_and_dry_run(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["focal", "add", "--agency", "so khcn", "--channel", "telegram", "--chat", "501",
                 "--name", "Nguyễn Văn A"]) == 0
    assert "Đã thêm đầu mối #1: Sở Khoa học và Công nghệ — telegram:501" in capsys.readouterr().out
    assert main(["focal", "add", "--agency", "Sở Vũ trụ", "--chat", "1"]) == 2
    assert "Không tìm thấy cơ quan \"Sở Vũ trụ\"" in capsys.readouterr().out
    assert main(["focal", "add", "--agency", "Sở Tài chính", "--chat", "abc"]) == 2
    assert "không hợp lệ" in capsys.readouterr().out
    assert main(["focal", "list"]) == 0
    assert "#1\tđã duyệt\ttelegram:501\tSở Khoa học và Công nghệ (Nguyễn Văn A)" in capsys.readouterr().out

    out = _json(capsys, ["remind", "--dry-run", "--json", "--today", "2026-12-10"])
    [r] = out["reminders"]
    assert {k: r[k] for k in ("channel", "chat", "agency", "due", "kind")} == {
        "channel": "telegram", "chat": "501", "agency": "Sở Khoa học và Công nghệ", "due": "2026-12-15",
        "kind": "before"}
    assert r["text"].startswith("⏰ Còn 3 ngày làm việc: thứ Ba 15/12/2026")
    assert _json(capsys, ["remind", "--dry-run", "--json", "--today", "2026-12-09"]) == {"reminders": []}
    assert [r["kind"] for r in _json(capsys, ["remind", "--dry-run", "--json", "--today", "2026-12-15"])
            ["reminders"]] == ["due"]
    assert main(["remind", "--today", "10/12/2026"]) == 2
    assert "không hợp lệ" in capsys.readouterr().out
    # Without a channel the outbox is planned and waits.
    assert main(["remind", "--today", "2026-12-10"]) == 0
    assert "chờ gửi" in capsys.readouterr().out
