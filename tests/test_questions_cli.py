"""`nhacviec ask --json` and the console chat, end to end on a SQLite store."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from bot import cli
from bot.channels.console.channel import format_reply, run_console
from core.clock import FixedClock
from core.context import AppContext
from core.settings import async_url
from knowledge.agencies import seed
from knowledge.db import Database
from tests.conftest import run_sync
from tests.questions_fixtures import TODAY, load_sample


async def _fill(url: str) -> None:
    db = Database(url)
    await db.start()
    async with db.session() as s:
        await seed(s)
        await s.commit()
    await load_sample(db)
    await db.close()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "ask.db"
    run_sync(_fill(async_url(f"sqlite:///{path}")))
    monkeypatch.setenv("NHACVIEC_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("NHACVIEC_DATA_DIR", str(tmp_path))
    return path


def test_ask_json_reads_one_question_per_line(store: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    questions = ("Ai chủ trì rà soát quy định tài chính?\n\nhan bao cao cua so khcn len ubnd tinh\n"
                 "xây dựng cảng Cà Ná ai lo\n")
    monkeypatch.setattr(sys, "stdin", io.StringIO(questions))
    assert cli.main(["ask", "--json", "--today", "2026-11-23"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.strip()]
    assert [x["question"] for x in lines] == ["Ai chủ trì rà soát quy định tài chính?", "",
                                              "han bao cao cua so khcn len ubnd tinh", "xây dựng cảng Cà Ná ai lo"]
    first, blank, second, third = lines
    assert blank["intent"] == "greeting" and blank["tasks"] == []
    assert first["intent"] == "lead" and first["answer"].startswith("Sở Tài chính chủ trì")
    top = first["tasks"][0]
    assert set(top) == {"id", "plan", "ref", "text", "lead", "coordinators", "report_to", "via", "deadline"}
    assert top["plan"]["number"] == "3021/KH-UBND" and top["ref"] == "II.3.a"
    assert top["lead"] == ["Sở Tài chính"] and top["coordinators"] == ["Sở Khoa học và Công nghệ"]
    assert top["deadline"] is None
    assert second["tasks"][0]["deadline"] == {"kind": "yearly", "due": "2026-12-15", "month": 12, "day": 15,
                                              "text": "định kỳ trước ngày 15 tháng 12 hằng năm"}
    assert third["tasks"] == [] and third["answer"].startswith("Không tìm thấy")


def test_ask_one_question_as_text(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ask", "--today", "2026-11-23", "Sở", "TT&TT", "có", "việc", "gì?"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Sở Thông tin và Truyền thông (nay là Sở Khoa học và Công nghệ) có 2 việc")


def test_ask_rejects_a_bad_date(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["ask", "--today", "23/11/2026", "xin chào"])
    assert "Ngày \"23/11/2026\" không hợp lệ; dùng dạng YYYY-MM-DD" in capsys.readouterr().err


async def test_console_conversation_with_a_numbered_pick(sqlite_db: Database) -> None:
    await load_sample(sqlite_db)
    ctx = AppContext(db=sqlite_db, clock=FixedClock.on(TODAY))
    reader = io.StringIO("xin chao\nai quan triet\n1\nthoát\nkhông đọc tới đây\n")
    writer = io.StringIO()
    await run_console(ctx, reader, writer)
    out = writer.getvalue()
    assert "Xin chào!" in out
    assert "việc gần giống" in out and "\n1. " in out  # the choices as numbered lines
    assert out.rstrip().endswith("Tạm biệt!") and "không đọc tới đây" not in out
    after_pick = out.split("Bạn hỏi việc nào?", 1)[1]
    assert "chủ trì" in after_pick and "📄 Kế hoạch" in after_pick


def test_console_prints_choices_a_reply_does_not_list() -> None:
    from core.messages import Choice, Reply

    text = format_reply(Reply("Chọn một:", [Choice("Có", "a"), Choice("Không", "b")]))
    assert text == "Chọn một:\n  1. Có\n  2. Không"
    listed = Reply("Có 2 việc:\n1. A\n2. B", [Choice("1. A", "a"), Choice("2. B", "b")])
    assert format_reply(listed) == listed.text
