"""A whole year of reminders on a simulated clock: the five sample plans imported as a user would,
plus a plan whose deadlines fall on and around Tết and other holidays. Every reminder sent is
checked against days computed here by hand (2026 public holidays written out, not taken from
the `holidays` package), and every reminder that should have been sent was."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from core.clock import FixedClock
from core.context import AppContext
from knowledge import focal_points
from knowledge.agencies import Registry
from knowledge.db import Database
from knowledge.due import occurrences, task_deadline
from knowledge.models import Outbox, Task
from knowledge.plans import import_file
from scheduler import planner
from scheduler.dispatcher import Dispatcher
from tests.conftest import SEEDS
from tests.reminder_fixtures import HOUR, RecordingChannel, TaskSpec, make_plan

# Days off in 2026 and early 2027 (Labour Code art. 112 and the Government's 2026 schedule),
# besides weekends; 22/08/2026 (Saturday) is worked in exchange for 31/08.
OFF = {date(2026, 1, 1), *(date(2026, 2, d) for d in range(16, 21)), date(2026, 4, 27), date(2026, 4, 30),
       date(2026, 5, 1), date(2026, 8, 31), date(2026, 9, 1), date(2026, 9, 2), date(2026, 11, 24),
       date(2027, 1, 1)}
WORKED_SATURDAYS = {date(2026, 8, 22)}
START, END = date(2026, 1, 1), date(2027, 1, 31)


def working(d: date) -> bool:
    return d in WORKED_SATURDAYS or (d.weekday() < 5 and d not in OFF)


def step(d: date, n: int) -> date:
    """n working days after (n > 0) or before (n < 0) a working day."""
    sign = 1 if n > 0 else -1
    while n:
        d += timedelta(days=sign)
        if working(d):
            n -= sign
    return d


def counted_due(d: date) -> date:
    while not working(d):
        d += timedelta(days=1)
    return d


def expected_day(nominal: date, key: str, next_nominal: date | None) -> date | None:
    """The day a reminder with this offset key must go out (None: it must not exist)."""
    due = counted_due(nominal)
    if key.startswith("b"):
        return step(due, -int(key[1:]))
    if key == "d0":
        return due
    i = int(key[1:])
    day = step(due, 3 * i)
    return None if next_nominal and day >= counted_due(next_nominal) else day


HOLIDAY_PLAN = [
    TaskSpec("Báo cáo tiến độ tháng.", ["Sở Tài chính"], kind="monthly", day=20,
             deadline_text="trước ngày 20 hằng tháng"),
    TaskSpec("Trình đề án sau Tết.", ["Sở Nội vụ"], kind="date", due=date(2026, 2, 23),
             deadline_text="trước ngày 23/02/2026"),
    TaskSpec("Tổng kết đợt thi đua.", ["Sở Nội vụ"], kind="date", due=date(2026, 4, 30),
             deadline_text="trước ngày 30/4/2026"),
    TaskSpec("Báo cáo quý.", ["Sở Y tế"], kind="quarterly", month=3, day=20,
             deadline_text="trước ngày 20 tháng cuối quý"),
    TaskSpec("Sơ kết dịp Quốc khánh.", ["Sở Y tế"], kind="date", due=date(2026, 9, 2),
             deadline_text="trước ngày 02/9/2026"),
]


async def test_a_year_of_reminders_lands_on_the_right_days(sqlite_db: Database) -> None:
    db = sqlite_db
    for path in sorted(SEEDS.glob("0*.txt")):
        await import_file(db, path)
    await make_plan(db, HOLIDAY_PLAN, number="99/KH-UBND", issued_on=date(2025, 12, 1), title="Kế hoạch ngày lễ")
    async with db.session() as s:  # one focal point per agency that leads a task with a day
        reg = await Registry.load(s)
        snap = await planner.load_snapshot(s, HOUR)
        chats: dict[int, int] = {}
        for t in snap.tasks:
            for agency_id, role, _ in t.agencies:
                if role == "lead" and agency_id in reg.by_id:
                    for cur in reg.expand(agency_id):
                        chats.setdefault(cur.id, 900000 + len(chats))
        for aid, chat in chats.items():
            await focal_points.add(s, aid, "console", chat, approved_by="test")
        await s.commit()
    channel = RecordingChannel()
    clock = FixedClock.on(START, 7)
    ctx = AppContext(db, clock)
    dispatcher = Dispatcher(db, {"console": channel}, ctx.clock)
    day = START
    while day <= END:
        clock.at = FixedClock.on(day, 7).at
        if day.weekday() == 0 or day == START:  # weekly planning with a 14-day horizon covers every day
            async with db.session() as s:
                await planner.run_planner(s, clock.now(), HOUR)
                await s.commit()
        clock.at = FixedClock.on(day, 8).at.replace(minute=30)
        await dispatcher.run_once()
        day += timedelta(days=1)

    async with db.session() as s:
        sent = (await s.execute(select(Outbox, Task).join(Task, Task.id == Outbox.task_id)
                                .where(Outbox.status == "sent"))).all()
        snap = await planner.load_snapshot(s, HOUR)
    assert len(sent) == len(channel.sent) > 100
    got: set[tuple[int, int, date, str]] = set()
    for row, task in sent:
        deadline = task_deadline(task)
        assert deadline is not None
        nxt = planner.following(deadline, row.occurrence)
        sent_day = planner.as_utc(row.sent_at).astimezone(clock.at.tzinfo).date()
        assert sent_day == expected_day(row.occurrence, row.offset_key, nxt), (task.text[:60], row.offset_key)
        assert working(sent_day)
        got.add((row.task_id, row.focal_point_id, row.occurrence, row.offset_key))

    # Completeness: every reminder whose day falls inside the simulated span went out.
    missing = []
    for t in snap.tasks:
        assert t.deadline is not None
        people = planner.recipients(snap, t, snap.policies.for_task(t.id, t.plan_id))
        for nominal in occurrences(t.deadline, START - timedelta(days=60), END + timedelta(days=60)):
            nxt = planner.following(t.deadline, nominal)
            for key in ("b7", "b3", "b1", "d0", "o1", "o2", "o3", "o4", "o5"):
                when = expected_day(nominal, key, nxt)
                if when is None or not START <= when <= END:
                    continue
                missing += [(t.text[:40], nominal, key) for fp, _ in people
                            if (t.id, fp.focal_point_id, nominal, key) not in got]
    assert missing == []

    # Spot checks a reader can verify on a calendar.
    by_task = {task.text[:30]: task.id for _, task in sent}
    days = {(row.task_id, row.occurrence, row.offset_key): planner.as_utc(row.sent_at).date() for row, _ in sent}
    tet = by_task["Trình đề án sau Tết."]
    assert days[(tet, date(2026, 2, 23), "b3")] == date(2026, 2, 11)  # across Tết: 11/02, not 18/02
    assert days[(tet, date(2026, 2, 23), "b1")] == date(2026, 2, 13)
    monthly = by_task["Báo cáo tiến độ tháng."]
    assert days[(monthly, date(2026, 2, 20), "d0")] == date(2026, 2, 23)  # 20/02 in Tết: moved (art. 148)
    assert days[(by_task["Tổng kết đợt thi đua."], date(2026, 4, 30), "d0")] == date(2026, 5, 4)
    khcn_report = next(t.id for t in snap.tasks if t.deadline and (t.deadline.month, t.deadline.day) == (12, 15))
    assert days[(khcn_report, date(2026, 12, 15), "b3")] == date(2026, 12, 10)
    assert days[(khcn_report, date(2026, 12, 15), "b7")] == date(2026, 12, 4)

