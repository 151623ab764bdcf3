"""Answers to questions worded otherwise than the plans (issue 10): a clear best task answers without the
topic words; list questions keep to a named plan; a plan number no plan bears; group-only tasks; the sender
of a report. Over the small sample store of tests/questions_fixtures.py, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from core.clock import FixedClock
from core.context import AppContext
from handlers.questions import answer
from knowledge.db import Database
from tests.questions_fixtures import TODAY, load_sample


@pytest.fixture
async def ctx(db: Database) -> AppContext:
    await load_sample(db)
    return AppContext(db=db, clock=FixedClock.on(TODAY))


async def test_named_plan_overdue_list_ignores_list_words(ctx: AppContext) -> None:
    # "còn", "rồi", "mốc", "trễ" say which list; the plan named says whose tasks.
    for q in ("Kế hoạch tổng kết NQ 20 còn những việc nào đã trễ hạn", "Kế hoạch tổng kết NQ 20: mốc nào đã trễ rồi?"):
        ans = await answer(ctx, q)
        assert ans.intent == "overdue", (q, ans.text)
        assert sorted(t.ref for t in ans.tasks) == ["III.1", "III.3", "III.3"], (q, ans.text)


async def test_from_now_until_a_month_next_year(ctx: AppContext) -> None:
    ans = await answer(ctx, "tu nay den het thang 11 nam sau co nhung han BC dinh ky nao")
    assert ans.intent == "window"
    assert {t.ref for t in ans.tasks} == {"III.1", "III.2"}, ans.text  # 15/12/2026 and 15/11/2027
    assert "từ nay đến 30/11/2027" in ans.text


async def test_plan_number_no_plan_bears_answers_nothing(ctx: AppContext) -> None:
    ans = await answer(ctx, "Ke hoach 45/KH-UBND ve ra soat quy dinh tai chinh giao ai chu tri")
    assert ans.tasks == [] and ans.text.startswith("Không thấy Kế hoạch số 45"), ans.text
    ans = await answer(ctx, "Kế hoạch 3021 giao ai chủ trì rà soát quy định tài chính?")  # a plan we hold
    assert [t.ref for t in ans.tasks][:1] == ["II.3.a"], ans.text


async def test_report_of_the_subject_is_not_a_report_sent_to_it(ctx: AppContext) -> None:
    ans = await answer(ctx, "bao cao hang nam cua so khcn ve ket qua KH 3021 gui len dau?")
    assert ans.intent == "report" and [t.ref for t in ans.tasks][:1] == ["III.2"], ans.text
    assert ans.text.startswith("Báo cáo gửi Ủy ban nhân dân tỉnh"), ans.text


async def test_next_occurrence_words_are_not_topic(ctx: AppContext) -> None:
    ans = await answer(ctx, "Đợt tới Sở KHCN phải nộp UBND tỉnh bản tổng hợp tình hình làm KH 3021 vào ngày nào?")
    assert ans.intent == "due" and [t.ref for t in ans.tasks][:1] == ["III.2"], ans.text


async def test_group_tasks_are_not_an_agencys_own(ctx: AppContext) -> None:
    # Sở Công Thương leads and coordinates nothing: the tasks of "Các Sở, ban, ngành" are shown as shared.
    ans = await answer(ctx, "Sở Công Thương có nhiệm vụ gì?")
    assert ans.tasks == [] and ans.suggestions, ans.text
    assert ans.text.startswith("Sở Công Thương không được giao riêng việc nào; có"), ans.text
    assert ans.as_json()["tasks"] == [] and ans.as_json()["suggestions"]
