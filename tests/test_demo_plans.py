"""The demo plans shipped in the package: a bare clone (or an installed package) has something to ask about."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from bot.app import load_samples
from core.clock import FixedClock
from core.context import AppContext
from handlers.questions import answer
from knowledge.db import Database
from knowledge.demo import DEMO_DIR, samples_folder
from knowledge.models import Plan, Task


def test_demo_named_from_the_installed_package() -> None:
    assert samples_folder("demo") == DEMO_DIR and samples_folder("") is None
    assert len([p for p in DEMO_DIR.iterdir() if p.name != "README.md"]) >= 3


async def test_make_run_fills_an_empty_store_once_and_says_so(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = AppContext(db=db, clock=FixedClock.on(date(2026, 12, 1)))
    assert await load_samples(ctx, "demo") == 4
    line = capsys.readouterr().out.strip()
    assert line.startswith("Đã nạp 4 kế hoạch mẫu (") and "nhacviec import TỆP" in line and "\n" not in line
    assert await load_samples(ctx, "demo") == 0  # not empty any more: nothing twice, nothing said
    assert capsys.readouterr().out == ""
    async with db.session() as s:
        assert await s.scalar(select(func.count(Plan.id))) == 4
        dues = (await s.scalars(select(Task.deadline_due).where(Task.deadline_due.isnot(None)))).all()
    assert {d.year for d in dues} >= {2026, 2027} and len(dues) >= 20


async def test_questions_about_the_demo_plans(db: Database) -> None:
    ctx = AppContext(db=db, clock=FixedClock.on(date(2026, 12, 1)))
    await load_samples(ctx, "demo")
    month = await answer(ctx, "Tháng này có việc gì?")
    assert "tháng 12/2026" in month.text and len(month.as_json()["tasks"]) >= 10
    lead = await answer(ctx, "Ai chủ trì cấp mã số vùng trồng cà phê?")
    assert lead.text.startswith("Sở Nông nghiệp và Môi trường chủ trì")
    agency = await answer(ctx, "so khcn co viec gi")
    assert "Sở Khoa học và Công nghệ" in agency.text
