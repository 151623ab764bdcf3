"""A short name asked of the plans that hold its namesake (issue 10): "Công an TP Hà Nội" is the city's police
("TP" is "thành phố", the place inside the name is part of it), and "Công an" asked of a Hà Nội plan is the body
of that plan, not the "Công an tỉnh" the bare name resolves to. Through the console channel, on SQLite and
PostgreSQL, over two small plans of our own."""

from __future__ import annotations

from datetime import date

import pytest

from core.clock import FixedClock
from core.context import AppContext
from knowledge.db import Database
from tests.questions_fixtures import TODAY, T, add_plan, ask

CITY = {
    "identity": "91/KH-UBND", "number": "91/KH-UBND", "issued_on": date(2026, 5, 4),
    "issuer": "Ủy ban nhân dân thành phố Hà Nội",
    "title": "Tổ chức Lễ hội mùa thu Hà Nội năm 2026",
    "tasks": [
        T("V.1", "Công an thành phố Hà Nội chủ trì phân luồng giao thông, bảo đảm trật tự tại khu vực lễ hội.",
          ["Công an thành phố Hà Nội"]),
        T("V.2", "Sở Văn hóa và Thể thao chủ trì tổ chức chương trình nghệ thuật khai mạc lễ hội.",
          ["Sở Văn hóa và Thể thao"]),
    ],
}
PROVINCE = {
    "identity": "12/KH-UBND", "number": "12/KH-UBND", "issued_on": date(2026, 2, 9),
    "issuer": "Ủy ban nhân dân tỉnh Lâm Đồng",
    "title": "Phòng cháy, chữa cháy rừng tỉnh Lâm Đồng mùa khô năm 2026",
    "tasks": [
        T("III.1", "Công an tỉnh chủ trì điều tra, xử lý các vụ vi phạm gây cháy rừng.", ["Công an tỉnh"]),
    ],
}


@pytest.fixture
async def ctx(db: Database) -> AppContext:
    await add_plan(db, CITY, tag="c")
    await add_plan(db, PROVINCE, tag="p")
    return AppContext(db=db, clock=FixedClock.on(TODAY))


async def test_tp_and_the_place_inside_the_name(ctx: AppContext) -> None:
    for q in ("Công an TP Hà Nội có việc gì trong kế hoạch lễ hội mùa thu?", "cong an tp ha noi co viec gi"):
        text = await ask(ctx, q)
        assert text.startswith("Công an thành phố Hà Nội chủ trì") or text.startswith(
            "Công an thành phố Hà Nội có 1 việc"), (q, text)
        assert "phân luồng giao thông" in text, (q, text)


async def test_bare_name_asked_of_a_plan_is_the_plans_body(ctx: AppContext) -> None:
    text = await ask(ctx, "Công an có việc gì trong kế hoạch lễ hội mùa thu?")
    assert text.startswith("Công an thành phố Hà Nội"), text
    assert "phân luồng giao thông" in text and "cháy rừng" not in text, text
    text = await ask(ctx, "Công an có việc gì trong kế hoạch phòng cháy chữa cháy rừng?")  # the province's own
    assert text.startswith("Công an tỉnh") and "cháy rừng" in text, text
