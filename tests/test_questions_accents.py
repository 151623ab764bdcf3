"""Accents the user typed are information (issue 10): a word whose letters spell a glue word but whose accents
do not ("vệ" is not "về", the "thi" of "thi đua" is not "thì", "đề" is not "để") is a word of the question and
of the plan. Asked through the console channel over a small plan of our own, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest

from core.clock import FixedClock
from core.context import AppContext
from handlers.intents import parse
from knowledge.db import Database
from knowledge.search import analyze, get_index
from tests.questions_fixtures import TODAY, T, add_plan, ask

PLAN = {
    "identity": "77/KH-UBND", "number": "77/KH-UBND", "issued_on": date(2026, 3, 2),
    "title": "Tổ chức lễ hội văn hóa mùa xuân năm 2026",
    "tasks": [
        T("II.1", "Sở Nội vụ chủ trì phát động phong trào thi đua yêu nước chào mừng lễ hội.", ["Sở Nội vụ"]),
        T("II.2", "Sở Văn hóa, Thể thao và Du lịch chủ trì tổ chức giải đua thuyền truyền thống trên sông.",
          ["Sở Văn hóa, Thể thao và Du lịch"]),
        T("II.3", "Sở Xây dựng chủ trì xây dựng nhà văn hóa và nhà sinh hoạt cộng đồng tại khu lễ hội.",
          ["Sở Xây dựng"]),
        T("II.4", "Sở Tài chính chủ trì thẩm định đề án kinh phí tổ chức lễ hội.", ["Sở Tài chính"]),
        T("II.5", "Sở Nội vụ chủ trì bồi dưỡng cán bộ phục vụ lễ hội.", ["Sở Nội vụ"]),
    ],
}


@pytest.fixture
async def ctx(db: Database) -> AppContext:
    await add_plan(db, PLAN, tag="a")
    return AppContext(db=db, clock=FixedClock.on(TODAY))


def test_index_keeps_accented_homographs_of_glue_words() -> None:
    assert analyze("vệ sinh về môi trường") == ["ve", "sinh", "moi", "truong"]
    assert analyze("thi đua và thì") == ["thi", "dua"]
    assert analyze("đề án để làm") == ["de", "an", "lam"]
    assert analyze("ve sinh ve moi truong") == ["sinh", "moi", "truong"]  # typed without accents: glue as before


async def test_thi_dua_is_not_dua(ctx: AppContext) -> None:
    # "thi" dropped as "thì" left "tổ chức ... đua": the boat race, not the emulation movement.
    for q in ("Ai chủ trì tổ chức thi đua?", "ai chu tri to chuc thi dua"):
        text = await ask(ctx, q)
        assert text.startswith("Sở Nội vụ chủ trì"), (q, text)


async def test_nha_ve_sinh_is_not_nha_sinh_hoat(ctx: AppContext) -> None:
    # "vệ" dropped as "về" left "nhà sinh": the community hall; the plan holds no public toilet.
    text = await ask(ctx, "Ai chủ trì xây nhà vệ sinh công cộng?")
    assert text.startswith("Không tìm thấy nhiệm vụ nào về “xây nhà vệ sinh"), text


async def test_de_an_is_a_word(ctx: AppContext) -> None:
    text = await ask(ctx, "Đề án kinh phí lễ hội do ai thẩm định?")
    assert text.startswith("Sở Tài chính chủ trì"), text


async def test_accented_word_the_plans_lack_is_not_shortened_into_another(ctx: AppContext) -> None:
    # "cảng" is in no task: it is not the "cán"/"cần" of another one, so the question stays unanswered.
    text = await ask(ctx, "Ai chủ trì xây dựng cảng sông cho lễ hội?")
    assert text.startswith("Không tìm thấy nhiệm vụ nào về"), text
    idx = await get_index(ctx)
    assert "cang" in parse(idx, "Ai chủ trì xây dựng cảng sông cho lễ hội?", TODAY).distinct
    assert "can" in parse(idx, "Ai chủ trì bồi dưỡng cann bộ?", TODAY).distinct  # a typo is still corrected
