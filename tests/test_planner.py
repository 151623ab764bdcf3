"""The planner: which reminders exist for which day, to whom, saying what."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from sqlalchemy import select

from core.clock import FixedClock
from knowledge import changes, focal_points
from knowledge.calendar import WorkCalendar, set_day
from knowledge.db import Database
from knowledge.models import Outbox, Task
from knowledge.policy import set_policy
from scheduler import planner
from tests.reminder_fixtures import HOUR, TaskSpec, add_focal, agency_id, make_plan

REPORT = TaskSpec(
    "Giao Sở Khoa học và Công nghệ làm đầu mối giúp UBND tỉnh theo dõi, đôn đốc triển khai thực hiện Kế hoạch "
    "này; định kỳ trước ngày 15 tháng 12 hằng năm tổng hợp báo cáo tình hình, kết quả thực hiện gửi UBND tỉnh.",
    ["Sở Khoa học và Công nghệ"], kind="yearly", month=12, day=15,
    deadline_text="định kỳ trước ngày 15 tháng 12 hằng năm", ref="III.2")


async def _day(db: Database, day: date) -> list[planner.Planned]:
    async with db.session() as s:
        snap = await planner.load_snapshot(s, HOUR)
    return planner.plan_window(snap, day, day, FixedClock.on(day, 0).now())


async def test_yearly_report_reminded_3_and_7_working_days_before(db: Database) -> None:
    await make_plan(db, [REPORT])
    await add_focal(db, "Sở KH&CN", 501)
    [b3] = await _day(db, date(2026, 12, 10))
    assert (b3.offset_key, b3.kind, b3.due, b3.chat_id) == ("b3", "before", date(2026, 12, 15), "501")
    assert b3.text.splitlines()[0] == "⏰ Còn 3 ngày làm việc: thứ Ba 15/12/2026"
    assert "Sở Khoa học và Công nghệ — Giao Sở Khoa học" in b3.text
    assert 'Kế hoạch 3021/KH-UBND (25/08/2020), mục III.2: "định kỳ trước ngày 15 tháng 12 hằng năm"' in b3.text
    assert await _day(db, date(2026, 12, 9)) == []
    [b7] = await _day(db, date(2026, 12, 4))
    assert b7.offset_key == "b7"
    [b1] = await _day(db, date(2026, 12, 14))
    [d0] = await _day(db, date(2026, 12, 15))
    assert (b1.offset_key, d0.offset_key, d0.kind) == ("b1", "d0", "due")
    assert d0.text.startswith("⏰ Hôm nay là hạn: thứ Ba 15/12/2026")
    # Overdue every 3 working days, 5 times: 18/12, 23/12, 28/12, 31/12/2026, 06/01/2027 (01/01 is a holiday).
    async with db.session() as s:
        snap = await planner.load_snapshot(s, HOUR)
    rows = planner.plan_window(snap, date(2026, 12, 16), date(2027, 1, 31), FixedClock.on(date(2026, 12, 16), 0).now())
    overdue = [(p.offset_key, p.send_at.date()) for p in rows if p.kind == "overdue"]
    assert [k for k, _ in overdue] == ["o1", "o2", "o3", "o4", "o5"]
    assert [p.send_at.astimezone(FixedClock.on(date(2026, 1, 1)).at.tzinfo).date() for p in rows
            if p.kind == "overdue"] == [date(2026, 12, 18), date(2026, 12, 23), date(2026, 12, 28),
                                        date(2026, 12, 31), date(2027, 1, 6)]
    assert "Đã quá hạn 3 ngày làm việc (hạn thứ Ba 15/12/2026)" in rows[0].text
    assert all(p.send_at.hour == 1 for p in rows)  # 08:00 in Ha Noi is 01:00 UTC


async def test_due_day_on_a_weekend_moves_to_monday_and_says_why(db: Database) -> None:
    # 15/11/2026 is a Sunday: the period ends on Monday 16/11 (Civil Code art. 148).
    await make_plan(db, [TaskSpec("Báo cáo kết quả thực hiện về Sở Khoa học và Công nghệ.", ["Sở Tài chính"],
                                  kind="yearly", month=11, day=15,
                                  deadline_text="Định kỳ, trước ngày 15 tháng 11 hằng năm", ref="III.1")])
    await add_focal(db, "Sở Tài chính", 7)
    [d0] = await _day(db, date(2026, 11, 16))
    assert d0.kind == "due" and d0.due == date(2026, 11, 16) and d0.occurrence == date(2026, 11, 15)
    assert "Hạn ghi trong kế hoạch là Chủ nhật 15/11/2026 (Chủ nhật), nên được tính đến hết ngày làm việc " \
           "tiếp theo: thứ Hai 16/11/2026 (Điều 148 Bộ luật Dân sự 2015)." in d0.text
    [b1] = await _day(db, date(2026, 11, 13))
    assert b1.offset_key == "b1"


async def test_tet_is_not_a_working_day() -> None:
    cal = WorkCalendar()
    # Tết Bính Ngọ: 16–20/02/2026 off, with the weekends around it.
    assert [cal.is_working(date(2026, 2, d)) for d in range(13, 24)] == [
        True, False, False, False, False, False, False, False, False, False, True]
    assert cal.minus_working_days(date(2026, 2, 23), 3) == date(2026, 2, 11)
    assert cal.due_day(date(2026, 2, 17)) == date(2026, 2, 23)
    assert cal.is_working(date(2026, 8, 22))  # a Saturday swapped into a working day
    assert not cal.is_working(date(2026, 8, 31))
    assert cal.working_days_between(date(2026, 12, 10), date(2026, 12, 15)) == 3


async def test_admin_calendar_days_override_the_public_calendar(db: Database) -> None:
    await make_plan(db, [REPORT])
    await add_focal(db, "Sở KH&CN", 501)
    async with db.session() as s:
        await set_day(s, date(2026, 12, 11), working=False, note="nghỉ bù của tỉnh")
        await s.commit()
    # 11/12 is off now: 3 working days before 15/12 is Wednesday 09/12.
    [b3] = await _day(db, date(2026, 12, 9))
    assert b3.offset_key == "b3"
    assert await _day(db, date(2026, 12, 10)) == []


async def test_recurring_ongoing_and_periodic(db: Database) -> None:
    ids = await make_plan(db, [
        TaskSpec("Báo cáo tiến độ hằng tháng.", ["Sở Tài chính"], kind="monthly", day=20,
                 deadline_text="trước ngày 20 hằng tháng"),
        TaskSpec("Tuyên truyền thường xuyên.", ["Sở Tài chính"], kind="ongoing", deadline_text="thường xuyên"),
        TaskSpec("Sơ kết định kỳ 6 tháng.", ["Sở Tài chính"], kind="periodic", deadline_text="định kỳ 6 tháng"),
    ])
    await add_focal(db, "Sở Tài chính", 9)
    async with db.session() as s:
        snap = await planner.load_snapshot(s, HOUR)
        needs = await planner.needs_day(s)
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    rows = planner.plan_window(snap, start, end, FixedClock.on(start, 0).now())
    assert {p.task_id for p in rows} == {ids[0]}
    dues = sorted({p.due for p in rows if p.offset_key == "d0"})
    assert len(dues) == 12 and dues[0] == date(2026, 1, 20) and dues[1] == date(2026, 2, 23)  # 20/02 is Tết
    # Overdue reminders of one month stop before the next month's due day.
    jan = [p for p in rows if p.occurrence == date(2026, 1, 20)]
    assert max(p.send_at for p in jan).date() < date(2026, 2, 23)
    assert [t.id for t in needs] == [ids[2]]


async def test_groups_and_merged_agencies_reach_current_focal_points(db: Database) -> None:
    ids = await make_plan(db, [
        TaskSpec("Xây dựng hạ tầng thông tin.", ["Sở Thông tin và Truyền thông"], kind="date",
                 due=date(2026, 12, 15), deadline_text="trước ngày 15/12/2026"),
        TaskSpec("Xây dựng kế hoạch thực hiện.", ["Các Sở, ban, ngành thuộc tỉnh"], kind="date",
                 due=date(2026, 12, 15), deadline_text="trước ngày 15/12/2026"),
        TaskSpec("Phối hợp thẩm định.", ["Sở Nội vụ"], coordinators=["Sở Tư pháp"], kind="date",
                 due=date(2026, 12, 15), deadline_text="trước ngày 15/12/2026"),
    ])
    await add_focal(db, "Sở Khoa học và Công nghệ", 11)
    await add_focal(db, "Sở Y tế", 12)
    await add_focal(db, "Sở Tư pháp", 13)
    rows = await _day(db, date(2026, 12, 10))
    got = {(p.task_id, p.chat_id) for p in rows}
    assert got == {(ids[0], "11"), (ids[1], "11"), (ids[1], "12"), (ids[1], "13")}  # Tư pháp: a department too
    merged = next(p for p in rows if p.task_id == ids[0])
    assert "Sở Thông tin và Truyền thông (nay là Sở Khoa học và Công nghệ) — " in merged.text
    member = next(p for p in rows if p.task_id == ids[1] and p.chat_id == "12")
    assert "Sở Y tế (thuộc Các Sở, ban, ngành thuộc tỉnh)" in member.text
    async with db.session() as s:
        await set_policy(s, "task", ids[2], include_coordinators=True)
        await s.commit()
    assert (ids[2], "13") in {(p.task_id, p.chat_id) for p in await _day(db, date(2026, 12, 10))}


async def test_sync_is_idempotent_and_follows_changes(db: Database) -> None:
    [tid] = await make_plan(db, [REPORT])
    fp_id = await add_focal(db, "Sở KH&CN", 501)
    clock = FixedClock.on(date(2026, 12, 3), 7)
    async with db.session() as s:
        first = await planner.run_planner(s, clock.now(), HOUR)
        await s.commit()
        again = await planner.run_planner(s, clock.now(), HOUR)
        await s.commit()
    assert (first.created, again.created, again.moved, again.cancelled) == (4, 0, 0, 0)  # b7, b3, b1, d0
    async with db.session() as s:  # the admin moves reminders to 14:00 for this plan
        plan_id = (await s.get(Task, tid)).plan_id  # type: ignore[union-attr]
        await set_policy(s, "plan", plan_id, hour=14, offsets=[3, 0])
        res = await planner.run_planner(s, clock.now(), HOUR)
        await s.commit()
        rows = (await s.scalars(select(Outbox).order_by(Outbox.send_at))).all()
    assert (res.moved, res.cancelled) == (2, 2)
    assert [(r.offset_key, r.status) for r in rows] == [
        ("b7", "cancelled"), ("b3", "pending"), ("b1", "cancelled"), ("d0", "pending")]
    assert {r.send_at.astimezone(clock.at.tzinfo).hour for r in rows if r.status == "pending"} == {14}
    async with db.session() as s:  # the focal point leaves: its reminders stop
        await focal_points.remove(s, fp_id, "admin")
        res = await planner.run_planner(s, clock.now(), HOUR)
        await s.commit()
    assert res.cancelled == 2
    async with db.session() as s:  # and comes back: the same rows are planned again
        await focal_points.approve(s, fp_id, "admin")
        res = await planner.run_planner(s, clock.now(), HOUR)
        await s.commit()
    assert res.revived == 2


async def test_done_stops_and_extension_moves_the_series(db: Database) -> None:
    [tid] = await make_plan(db, [TaskSpec("Hoàn thiện đề án.", ["Sở Tài chính"], kind="date",
                                          due=date(2026, 12, 15), deadline_text="trước ngày 15/12/2026")])
    await add_focal(db, "Sở Tài chính", 21)
    tc = await agency_id(db, "Sở Tài chính")
    clock = FixedClock.on(date(2026, 12, 10), 7)
    async with db.session() as s:
        first = await planner.run_planner(s, clock.now(), HOUR)
        assert first.created == 5  # b3, b1, d0, o1 18/12, o2 23/12 (b7 on 04/12 is past)
        await changes.extend(s, tid, tc, None, date(2026, 12, 31), "telegram:1", "chờ số liệu")
        await planner.run_planner(s, clock.now(), HOUR)  # the next tick plans the new series
        await s.commit()
        rows = (await s.scalars(select(Outbox).where(Outbox.status == "pending").order_by(Outbox.send_at))).all()
    assert [r.offset_key for r in rows] == ["e1b7"]  # 22/12: 7 working days before 31/12
    assert "Đã được gia hạn từ thứ Ba 15/12/2026 đến thứ Năm 31/12/2026." in rows[0].text
    async with db.session() as s:
        await changes.mark_done(s, tid, tc, None, "telegram:21")
        await s.commit()
        clock.advance(timedelta(days=10))
        res = await planner.run_planner(s, clock.now(), HOUR)
        await s.commit()
        pending = (await s.scalars(select(Outbox).where(Outbox.status == "pending"))).all()
    assert res.created == 0 and pending == []


async def test_two_planners_at_once_create_each_row_once(db: Database) -> None:
    await make_plan(db, [REPORT])
    await add_focal(db, "Sở KH&CN", 501)
    now = FixedClock.on(date(2026, 12, 3), 7).now()
    other = Database(db.url)

    async def plan(store: Database) -> planner.SyncResult:
        async with store.session() as s:
            res = await planner.run_planner(s, now, HOUR)
            await s.commit()
            return res

    try:
        a, b = await asyncio.gather(plan(db), plan(other))
    finally:
        await other.close()
    assert a.created + b.created == 4
    async with db.session() as s:
        assert len((await s.scalars(select(Outbox))).all()) == 4
