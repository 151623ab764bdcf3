"""An agency's list dates each distinct deadline once (render.by_urgency, kept across answers in the index's
cache) and must still order every task as dating it alone would: a task given more time or marked done moves,
the tasks sharing its plan day stay."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from core.clock import FixedClock
from core.context import AppContext
from handlers import render
from handlers.questions import Answer, agency_tasks, answer
from knowledge.calendar import set_day
from knowledge.changes import complete, extend_task
from knowledge.db import Database
from knowledge.due import load_dues
from knowledge.models import Task
from knowledge.search import get_index
from tests.questions_fixtures import TODAY, T, add_plan, load_sample

AGENCY = "Sở Xây dựng"
QUESTION = f"{AGENCY} có những nhiệm vụ gì?"
SHARED_DAY = date(2026, 12, 20)  # a Sunday: art. 148 moves it to Monday 21/12 for all three tasks sharing it
PLAN = {
    "identity": "88/KH-UBND", "number": "88/KH-UBND", "issued_on": date(2026, 1, 5),
    "title": "Phát triển nhà ở xã hội giai đoạn 2026-2030",
    "tasks": [
        T("X1", "Rà soát quỹ đất xây dựng nhà ở xã hội.", [AGENCY], kind="date", due=SHARED_DAY,
          when="trước ngày 20/12/2026"),
        T("X2", "Lập danh mục dự án nhà ở xã hội.", [AGENCY], kind="date", due=SHARED_DAY,
          when="trước ngày 20/12/2026"),
        T("X3", "Công bố thông tin dự án nhà ở xã hội.", [AGENCY], kind="date", due=SHARED_DAY,
          when="trước ngày 20/12/2026"),
        T("X4", "Báo cáo tình hình cấp phép xây dựng.", [AGENCY], kind="date", due=date(2026, 11, 10),
          when="trước ngày 10/11/2026"),
        T("X5", "Tổng hợp kết quả phát triển nhà ở.", [AGENCY], kind="yearly", month=12, day=15,
          when="trước ngày 15 tháng 12 hằng năm"),
        T("X6", "Kiểm tra chất lượng công trình nhà ở.", [AGENCY], kind="ongoing", when="thường xuyên"),
        T("X7", "Nghiên cứu mô hình nhà ở cho công nhân.", [AGENCY]),
    ],
}


@pytest.fixture
async def ctx(db: Database) -> AppContext:
    await load_sample(db)
    await add_plan(db, PLAN, tag="r")
    return AppContext(db=db, clock=FixedClock.on(TODAY))


async def one_at_a_time(ctx: AppContext, ans: Answer) -> list[int]:
    """The agency's list ordered by `urgency` task by task (no sharing, no cache), as the ids of the answer:
    its own tasks (led, coordinated) first, then those given to a group it belongs to."""
    idx = await get_index(ctx)
    aid = next(a.id for a in idx.registry.by_id.values() if a.name == AGENCY)
    async with ctx.db.session() as s:
        dues = await load_dues(s, TODAY)
    led, coord, grouped = agency_tasks(idx, aid, TODAY)
    return [d.id for part in ([*led, *coord], grouped) for d in sorted(part, key=lambda d: render.urgency(d, dues))]


async def ours(ctx: AppContext) -> tuple[list[str], Answer]:
    ans = await answer(ctx, QUESTION)
    assert ans.intent == "agency", ans.text
    assert [d.id for d in ans.tasks] == await one_at_a_time(ctx, ans)
    return [d.ref for d in ans.tasks if d.ref.startswith("X")], ans


async def task_id(ctx: AppContext, ref: str) -> int:
    async with ctx.db.session() as s:
        return (await s.scalars(select(Task.id).where(Task.ref == ref))).one()


async def test_a_list_moves_the_task_given_time_or_done_and_keeps_the_ones_sharing_its_day(ctx: AppContext) -> None:
    refs, ans = await ours(ctx)
    # overdue, then by the day that counts (15/12 before the Sunday 20/12 moved to 21/12), then ongoing, undated
    assert refs == ["X4", "X5", "X1", "X2", "X3", "X6", "X7"], ans.text
    assert "21/12" in ans.text, ans.text
    async with ctx.db.session() as s:  # X2 is given until 01/12: it comes before the yearly 15/12
        await extend_task(s, await task_id(ctx, "X2"), None, date(2026, 12, 1), by="test", reason="thêm thời gian",
                          old_due=SHARED_DAY)
        await s.commit()
    refs, ans = await ours(ctx)
    assert refs == ["X4", "X2", "X5", "X1", "X3", "X6", "X7"], ans.text
    async with ctx.db.session() as s:  # X3 is done: last, after the undated; X1 keeps the shared day
        await complete(s, await task_id(ctx, "X3"), None, TODAY, by="test")
        await s.commit()
    refs, ans = await ours(ctx)
    assert refs == ["X4", "X2", "X5", "X1", "X6", "X7", "X3"], ans.text


async def test_a_calendar_change_redates_the_shared_deadlines(ctx: AppContext) -> None:
    refs, _ = await ours(ctx)  # dated once for this day and calendar, kept in the index's cache
    assert refs.index("X5") < refs.index("X1")
    async with ctx.db.session() as s:  # 15-18/12 off: the yearly 15/12 moves to Monday 21/12, the day X1-X3 count
        for n in range(15, 19):
            await set_day(s, date(2026, 12, n), working=False, note="nghỉ", by="test")
        await s.commit()
    refs, ans = await ours(ctx)
    assert refs == ["X4", "X1", "X2", "X3", "X5", "X6", "X7"], ans.text  # one day: the plan's order
