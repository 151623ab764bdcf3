"""Issue 10: a question that describes its plan by the plan's title ("hội nghị bàn đề án du lịch cộng đồng ...")
names that plan; the title's words say which plan, the rest which of its steps (a step rarely repeats the
title: "thông qua Đề án"). On a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest

from core.clock import FixedClock
from core.context import AppContext
from handlers.questions import answer
from knowledge.db import Database
from tests.questions_fixtures import TODAY, T, add_plan, load_sample

# A plan of our own: its first step repeats the title's subject, the dated step does not.
TITLED_PLAN = {
    "identity": "88/KH-UBND", "number": "88/KH-UBND", "issued_on": date(2026, 5, 4),
    "title": "Xây dựng Đề án phát triển du lịch cộng đồng gắn với bảo tồn văn hóa các dân tộc giai đoạn 2026 - 2030",
    "tasks": [
        T("II.1", "Sở Văn hóa, Thể thao và Du lịch chủ trì khảo sát, đánh giá thực trạng du lịch cộng đồng và bảo tồn "
          "văn hóa các dân tộc trên địa bàn; xây dựng dự thảo Đề án.", ["Sở Văn hóa, Thể thao và Du lịch"]),
        T("III.1", "Văn phòng Ủy ban nhân dân tỉnh chuẩn bị nội dung, tổ chức hội nghị thông qua Đề án trong tháng "
          "9/2026.", ["Văn phòng Ủy ban nhân dân tỉnh"], kind="month", due=date(2026, 9, 30),
          when="trong tháng 9/2026"),
        T("III.2", "Sở Tài chính bố trí kinh phí thực hiện Kế hoạch này.", ["Sở Tài chính"]),
        T("III.3", "Giao Ban cán sự đảng Ủy ban nhân dân tỉnh chủ trì, phối hợp với các cơ quan liên quan giúp Ban "
          "Thường vụ Tỉnh ủy theo dõi, đôn đốc, kiểm tra việc thực hiện Kế hoạch này; định kỳ báo cáo kết quả.",
          ["Ban cán sự đảng Ủy ban nhân dân tỉnh"], report=["Ban Thường vụ Tỉnh ủy"]),
    ],
}

# Another plan on the same subject where the same body leads: a list kept to plan 88 must leave it out.
OTHER_PLAN = {
    "identity": "12/KH-UBND", "number": "12/KH-UBND", "issued_on": date(2026, 1, 9),
    "title": "Phát triển du lịch năm 2026",
    "tasks": [
        T("II.1", "Ban cán sự đảng Ủy ban nhân dân tỉnh lãnh đạo phát triển du lịch cộng đồng gắn với bảo tồn văn hóa "
          "các dân tộc ở các huyện miền núi.", ["Ban cán sự đảng Ủy ban nhân dân tỉnh"]),
    ],
}


@pytest.fixture
async def ctx(db: Database) -> AppContext:
    await load_sample(db)
    await add_plan(db, TITLED_PLAN, tag="t")
    await add_plan(db, OTHER_PLAN, tag="u")
    return AppContext(db=db, clock=FixedClock.on(TODAY))


async def test_a_step_of_a_plan_named_by_its_title(ctx: AppContext) -> None:
    for q in ("Văn phòng Ủy ban nhân dân tỉnh phải chuẩn bị xong hội nghị bàn đề án du lịch cộng đồng, bảo tồn văn hóa "
              "dân tộc trong tháng mấy?",
              "Hội nghị thông qua đề án du lịch cộng đồng, bảo tồn văn hóa các dân tộc họp trong khoảng nào?"):
        ans = await answer(ctx, q)
        assert ans.intent == "due", (q, ans.intent)
        assert [t.ref for t in ans.tasks][:1] == ["III.1"], (q, ans.text)
        assert "30/09/2026" in ans.text, ans.text
    # the title's words alone still find the step that holds them
    ans = await answer(ctx, "Ai khảo sát thực trạng du lịch cộng đồng và bảo tồn văn hóa các dân tộc?")
    assert [t.ref for t in ans.tasks][:1] == ["II.1"], ans.text


async def test_the_plan_set_first_then_the_doer(ctx: AppContext) -> None:
    # "KH triển khai" names plans by title words (3021 "Triển khai thực hiện ..."); "KH 88" by number: the number
    # is the plan meant. The agency right after the plan the question is set in is its doer.
    for q in ("Theo KH triển khai KH 88, BCSĐ UBND tỉnh theo dõi, đôn đốc xong thì báo cáo ai?",
              "Theo KH 88, Ban cán sự đảng UBND tỉnh theo dõi, đôn đốc thì báo cáo ai?"):
        ans = await answer(ctx, q)
        assert ans.intent == "report", (q, ans.intent)
        assert [t.ref for t in ans.tasks][:1] == ["III.3"], (q, ans.text)
        assert "Ban Thường vụ Tỉnh ủy" in ans.text, ans.text


async def test_an_agency_list_kept_to_the_plan_its_title_describes(ctx: AppContext) -> None:
    # Ban cán sự đảng also leads tasks of the sample plans; the question sets itself in plan 88 by its title's
    # words (with a word of its own, "soạn", that the title does not hold).
    ans = await answer(ctx, "Trong KH soạn đề án du lịch cộng đồng gắn với bảo tồn văn hóa các dân tộc, Ban cán sự "
                            "đảng UBND tỉnh phải làm gì?")
    assert ans.intent == "agency", ans.intent
    assert [t.ref for t in ans.tasks] == ["III.3"], ans.text
