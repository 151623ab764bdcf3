"""When a task is due, for an agency, as of one day: the one answer every part of nhacviec uses.

A plan names a day (one-off kinds) or a rule (yearly, quarterly, monthly occurrences). The day that
counts is that day, or the day an admin extended the occurrence to for the agency, moved to the
next working day when it is a day off (Civil Code 2015 art. 148). An occurrence marked done, or a
task done or cancelled, is not due at all. Answers (the deadline, windows, overdue lists), the
reminder planner and snooze, and the weekly digest all ask here, so they never disagree.

`Progress` holds the per-agency rows (done, extended) the rules need; `Dues` bundles it with the
working-day calendar and the day asked about. The list helpers at the bottom answer "what falls due
between two days" and "what is overdue" over the search index without looking at every task.
"""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from itertools import chain, repeat
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from knowledge.calendar import WorkCalendar, load_calendar
from knowledge.deadlines import ONE_OFF, RECURRING, Deadline
from knowledge.models import CalendarDay, TaskProgress

if TYPE_CHECKING:
    from knowledge.queries import TaskDoc
    from knowledge.search import Index

SLOT_MAX = 2**31  # above every index slot (knowledge.search: slots are 32-bit)
OPEN = "open"
DONE = "done"
EXTENDED = "extended"
# Art. 148 never moves a day further than this (the longest run of days off is Tết).
SHIFT_MAX = timedelta(days=14)
# How far back a recurring task's occurrence may still count today (an extension of last year's report).
RECURRING_LOOKBACK = timedelta(days=400)

class DeadlineRow(Protocol):
    """A stored task's deadline columns (an ORM Task or a TaskDoc)."""

    deadline_kind: str | None
    deadline_due: date | None
    deadline_month: int | None
    deadline_day: int | None
    deadline_text: str | None


def task_deadline(row: DeadlineRow) -> Deadline | None:
    """The stored deadline as a Deadline; None when the plan gives no time."""
    if not row.deadline_kind or row.deadline_kind == "none":
        return None
    return Deadline(row.deadline_kind, row.deadline_due, row.deadline_month, row.deadline_day,
                    row.deadline_text or "")


def occurrence_key(kind: str | None, nominal: date) -> date | None:
    """How progress rows name an occurrence: None for one-off tasks, the plan's day for recurring ones."""
    return nominal if kind in RECURRING else None


def occurrences(deadline: Deadline, start: date, end: date) -> list[date]:
    """The days a deadline names between two days: one for one-off kinds, a series for recurring ones."""
    if deadline.kind in ONE_OFF:
        return [deadline.due] if deadline.due and start <= deadline.due <= end else []
    out: list[date] = []
    day = deadline.next_due(start)
    while day is not None and day <= end:
        out.append(day)
        day = deadline.next_due(day + timedelta(days=1))
    return out


@dataclass
class Progress:
    """Who finished or was given more time, per (task, occurrence) and agency."""

    done: dict[tuple[int, date | None], set[int]] = field(default_factory=dict)
    # new days per agency, in the order granted
    extended: dict[tuple[int, date | None], dict[int, list[date]]] = field(default_factory=dict)
    version: tuple[Any, ...] = ()

    @property
    def tasks(self) -> set[int]:
        """Tasks with any progress row: list helpers look at these one by one."""
        return {t for t, _ in self.done} | {t for t, _ in self.extended}

    def is_done(self, task_id: int, occurrence: date | None, agencies: Collection[int] | None = None) -> bool:
        """Done by one of `agencies` (None: by anyone, as answers about the task see it)."""
        by = self.done.get((task_id, occurrence))
        if not by:
            return False
        return agencies is None or any(a in by for a in agencies)

    def extensions(self, task_id: int, occurrence: date | None,
                   agencies: Collection[int] | None = None) -> list[date]:
        """The days granted to `agencies` (None: to anyone), oldest first; the last one counts."""
        by = self.extended.get((task_id, occurrence), {})
        out: list[date] = []
        for a in by if agencies is None else agencies:
            days = by.get(a, [])
            if len(days) > len(out):
                out = days
        return out


async def load_progress(session: AsyncSession, task_ids: Iterable[int] | None = None) -> Progress:
    """The progress rows (all, or of some tasks) in the order they were written."""
    q = select(TaskProgress).order_by(TaskProgress.id)
    if task_ids is not None:
        q = q.where(TaskProgress.task_id.in_(list(task_ids)))
    progress = Progress()
    last = 0
    rows = (await session.scalars(q)).all()
    for pr in rows:
        last = max(last, pr.id)
        key = (pr.task_id, pr.occurrence)
        if pr.status == DONE:
            progress.done.setdefault(key, set()).add(pr.agency_id)
        elif pr.status == EXTENDED and pr.new_due:
            progress.extended.setdefault(key, {}).setdefault(pr.agency_id, []).append(pr.new_due)
    progress.version = (len(rows), last)
    return progress


@dataclass(frozen=True)
class Due:
    """The day that counts for one occurrence, and why it is not the plan's day."""

    nominal: date  # the day the plan names for this occurrence
    day: date  # the day that counts: art. 148 applied, or the extension's day
    occurrence: date | None  # how progress rows key it (None for one-off tasks)
    extensions: int = 0  # how many times this occurrence was extended
    extended_from: date | None = None  # the day that counted before any extension
    off_reason: str | None = None  # why the plan's day is not a working day, when it is not

    @property
    def moved(self) -> bool:
        """The plan's day is a day off and no extension applies: art. 148 moved it."""
        return not self.extensions and self.day != self.nominal


def occurrence_due(task_id: int, kind: str, nominal: date, calendar: WorkCalendar, progress: Progress,
                   agencies: Collection[int] | None = None) -> Due | None:
    """One occurrence's day that counts for `agencies` (None: anyone); None when it was done."""
    occ = occurrence_key(kind, nominal)
    if progress.is_done(task_id, occ, agencies):
        return None
    exts = progress.extensions(task_id, occ, agencies)
    if exts:
        return Due(nominal, calendar.due_day(exts[-1]), occ, len(exts), calendar.due_day(nominal),
                   calendar.holiday_name(nominal))
    return Due(nominal, calendar.due_day(nominal), occ, 0, None, calendar.holiday_name(nominal))


def due_on(task_id: int, status: str, deadline: Deadline | None, today: date, calendar: WorkCalendar,
           progress: Progress, agencies: Collection[int] | None = None) -> Due | None:
    """When a task is due for `agencies` (None: the task as answers show it) as of `today`.

    One-off tasks: their occurrence, overdue or not, unless done. Recurring tasks: the earliest
    occurrence not done whose day that counts is today or later (past ones roll over). None for a
    task done or cancelled, one without a day (ongoing, periodic, none), or an occurrence done."""
    if status != OPEN or deadline is None:
        return None
    if deadline.kind in ONE_OFF:
        if deadline.due is None:
            return None
        return occurrence_due(task_id, deadline.kind, deadline.due, calendar, progress, agencies)
    if deadline.kind not in RECURRING:
        return None
    nominal = deadline.next_due(today - RECURRING_LOOKBACK)
    while nominal is not None:
        due = occurrence_due(task_id, deadline.kind, nominal, calendar, progress, agencies)
        if due is not None and due.day >= today:
            return due
        nominal = deadline.next_due(nominal + timedelta(days=1))
    return None


# The columns `Dues.sharing` keys an untouched task by (a C getter: lists of thousands read it in one pass).
SHARED_COLUMNS = attrgetter("status", "deadline_kind", "deadline_due", "deadline_month", "deadline_day")


@dataclass
class Dues:
    """What answers need to date tasks on one day: the calendar and the progress rows."""

    today: date
    calendar: WorkCalendar
    progress: Progress

    def of(self, doc: TaskDoc, agencies: Collection[int] | None = None) -> Due | None:
        """`due_on` for an indexed task."""
        return due_on(doc.id, doc.status, doc.deadline(), self.today, self.calendar, self.progress, agencies)

    @cached_property
    def touched(self) -> frozenset[int]:
        """Tasks with any progress row (read once per Dues: `sharing` asks for every task of a list)."""
        return frozenset(self.progress.tasks)

    def sharing(self, doc: TaskDoc) -> Hashable:
        """A key tasks share only when `of` and `finished` say the same of them: the status and deadline
        columns of a task no progress row names (`due_on` reads nothing else of it), else the task's own id
        (an int). A list of thousands (an agency's tasks) then dates each distinct deadline once, by `due_on`."""
        if doc.id in self.touched:
            return doc.id
        return SHARED_COLUMNS(doc)

    @property
    def shared_version(self) -> tuple[Any, ...]:
        """All `of` and `finished` read besides a task's `sharing` key when it is not a task id: the day and the
        calendar. Answers keyed by such keys stay right while this stays the same."""
        return (self.today, self.calendar.version)

    def finished(self, doc: TaskDoc) -> bool:
        """Done as answers see it: the task closed, or its one-off occurrence marked done by anyone."""
        if doc.status == DONE:
            return True
        dl = doc.deadline()
        return bool(dl and dl.kind in ONE_OFF and self.progress.is_done(doc.id, None))

    @property
    def version(self) -> tuple[Any, ...]:
        return (self.today, self.progress.version, self.calendar.version)


async def load_dues(session: AsyncSession, today: date) -> Dues:
    return Dues(today, await load_calendar(session), await load_progress(session))


# ---- the calendar and progress kept between answers ---------------------------------------------
# Reading both per answer cost two store sessions (about ten hand-offs to the database thread): most of an
# answer's wall time on a loaded machine. They are kept in ctx.cache and looked at again, as the search
# index looks at the store's change log, at most every DUES_RECHECK_S (another instance's "done" is seen
# that late), at once when this process wrote a progress or calendar row, and whenever the index changed.
DUES_KEY = "dues"
DUES_RECHECK_S = 0.2
_WATCHED = frozenset({TaskProgress.__tablename__, CalendarDay.__tablename__})
_writes = [0]  # progress or calendar writes this process flushed (read as a version)


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _flush: UOWTransaction) -> None:
    if any(isinstance(o, (TaskProgress, CalendarDay)) for o in chain(session.new, session.dirty, session.deleted)):
        _writes[0] += 1


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    table = getattr(state.statement, "table", None)
    if (state.is_delete or state.is_update or state.is_insert) and getattr(table, "name", None) in _WATCHED:
        _writes[0] += 1


@dataclass
class _DuesHolder:
    calendar: WorkCalendar
    calendar_rows: tuple[tuple[date, bool, str], ...]
    progress: Progress
    stamp: tuple[Any, ...]  # (index, its version, this process's writes) when last read
    checked: float
    by_day: dict[date, Dues] = field(default_factory=dict)


async def current_dues(ctx: Any, today: date, idx: Any = None) -> Dues:
    """`load_dues` for answers, kept in ctx.cache between them: the same Dues object (and its calendar's
    memo of due days) while the calendar and the progress rows stay as they were."""
    stamp = (id(idx), id(getattr(idx, "version", None)), getattr(idx, "updates", 0), _writes[0])
    held: _DuesHolder | None = ctx.cache.get(DUES_KEY)
    if held is not None and held.stamp == stamp and time.monotonic() - held.checked < DUES_RECHECK_S:
        return _on_day(held, today)
    async with ctx.db.session() as s:
        days = (await s.scalars(select(CalendarDay).order_by(CalendarDay.day))).all()
        rows = tuple((r.day, r.working, r.note) for r in days)
        count, last = (await s.execute(select(func.count(TaskProgress.id), func.max(TaskProgress.id)))).one()
        same_index = held is not None and held.stamp[:3] == stamp[:3]
        progress = held.progress if held is not None and same_index and held.progress.version == (
            int(count), int(last or 0)) else await load_progress(s)
    if held is None or rows != held.calendar_rows or progress is not held.progress:
        calendar = held.calendar if held is not None and rows == held.calendar_rows else WorkCalendar(
            {d: w for d, w, _ in rows}, {d: n for d, _, n in rows})
        held = ctx.cache[DUES_KEY] = _DuesHolder(calendar, rows, progress, stamp, time.monotonic())
    held.stamp, held.checked = stamp, time.monotonic()
    return _on_day(held, today)


def _on_day(held: _DuesHolder, today: date) -> Dues:
    found = held.by_day.get(today)
    if found is None:
        held.by_day.clear()  # a new day: yesterday's is not asked again
        found = held.by_day[today] = Dues(today, held.calendar, held.progress)
    return found


def forget_dues(ctx: Any) -> None:
    """Look at the calendar and progress rows again before the next answer (`search.invalidate`)."""
    held = ctx.cache.get(DUES_KEY)
    if isinstance(held, _DuesHolder):
        held.checked = 0.0


# ---- lists over the search index --------------------------------------------------------------

def in_window(due: Due, start: date, end: date) -> bool:
    """Its day that counts falls in [start, end], or the plan's own day does and only art. 148 moved
    it (asked about "ngày 05/12", a task the plan dates Saturday 05/12 is listed, due Monday 07/12)."""
    return start <= due.day <= end or (not due.extensions and start <= due.nominal <= end)


def _window_due(task_id: int, deadline: Deadline, start: date, end: date, dues: Dues) -> Due | None:
    """The occurrence of a task in [start, end] (`in_window`): from today on when one is, else one that
    already fell inside ("tháng này" on the 23rd still shows the 15th)."""
    if deadline.kind in ONE_OFF:
        due = due_on(task_id, OPEN, deadline, dues.today, dues.calendar, dues.progress)
        return due if due is not None and in_window(due, start, end) else None
    since = max(start, dues.today)
    found: Due | None = None
    for nominal in occurrences(deadline, start - RECURRING_LOOKBACK, end):
        due = occurrence_due(task_id, deadline.kind, nominal, dues.calendar, dues.progress)
        if due is None or not in_window(due, start, end):
            continue
        if due.day >= since:
            return due
        found = found or due
    return found


def due_between(idx: Index, dues: Dues, start: date, end: date) -> list[tuple[date, int]]:
    """Open tasks whose day that counts falls in [start, end], soonest first (recurring ones: one
    occurrence inside); as (day, index position)."""
    cal, touched = dues.calendar, dues.progress.tasks
    out: list[tuple[date, int]] = []
    days, offsets, slots = _dated_runs(idx)
    for k in range(bisect_left(days, start - SHIFT_MAX), bisect_right(days, end)):
        nominal = days[k]
        day = cal.due_day(nominal)
        if start <= day <= end or start <= nominal:  # nominal <= end: see `in_window`
            out.extend(zip(repeat(day), slots[offsets[k] : offsets[k + 1]]))
    if touched:  # tasks with progress rows are dated one by one below
        out = _without(idx, out, touched)
    # Recurring rules are few (a (kind, month, day) each): date the rule once, take its tasks whole.
    untouched = Dues(dues.today, cal, Progress())
    for (kind, month, dday), members in idx.recurring.items():
        rule = _window_due(-1, Deadline(kind, None, month, dday, ""), start, end, untouched)
        if rule is not None:
            out.extend((rule.day, i) for i in members if not touched or idx.docs[i].id not in touched)
    # Tasks someone finished or was given more time for: one by one.
    for task_id in touched:
        pos = idx.by_id.get(task_id)
        if pos is None or idx.docs[pos].status != OPEN:
            continue
        dl = idx.docs[pos].deadline()
        if dl is not None and (due := _window_due(task_id, dl, start, end, dues)) is not None:
            out.append((due.day, pos))
    out.sort()
    return out


def overdue(idx: Index, dues: Dues) -> tuple[list[tuple[date, int]], set[int]]:
    """Open one-off tasks whose day that counts has passed, most recent first (recurring ones roll
    over), and the same as a set of index positions. Shared by later calls on the same day with the
    same progress: read them, do not change them."""
    cached = idx.cache.get("overdue")
    if cached is not None and cached[0] == dues.version:
        return cached[1], cached[2]
    today, cal, touched = dues.today, dues.calendar, dues.progress.tasks
    items: list[tuple[date, int]] = []
    days, offsets, slots = _dated_runs(idx)
    for k in range(bisect_left(days, today)):  # the day that counts is never before the plan's day
        day = cal.due_day(days[k])
        if day < today:
            items.extend(zip(repeat(day), slots[offsets[k] : offsets[k + 1]]))
    if touched:
        items = _without(idx, items, touched)
    for task_id in touched:
        pos = idx.by_id.get(task_id)
        if pos is None or idx.docs[pos].status != OPEN or idx.docs[pos].deadline_kind not in ONE_OFF:
            continue
        due = dues.of(idx.docs[pos])
        if due is not None and due.day < today:
            items.append((due.day, pos))
    items.sort(reverse=True)
    positions = {i for _, i in items}
    idx.cache["overdue"] = (dues.version, items, positions)
    return items, positions


def day_by_position(idx: Index, items: list[tuple[date, int]]) -> dict[int, date]:
    """{index position: day} of a dated list (`overdue`'s, tens of thousands long), kept in the index's cache
    while the same list object is asked about again (`overdue` hands out its cached list)."""
    held = idx.cache.get("day_by_position")
    if held is not None and held[0] is items:
        return held[1]
    found = {i: d for d, i in items}
    idx.cache["day_by_position"] = (items, found)
    return found


def _dated_runs(idx: Index) -> tuple[list[date], list[int], list[int]]:
    """`idx.dated` as runs of one plan day: the distinct days, where each day's slots start, and the slots
    (kept in the index's cache, emptied on every change). A window then dates each day once and takes its
    tasks whole, instead of looking at every dated task."""
    held = idx.cache.get("dated_runs")
    if held is None:
        days: list[date] = []
        offsets: list[int] = []
        for k, (nominal, _) in enumerate(idx.dated):
            if not days or days[-1] != nominal:
                days.append(nominal)
                offsets.append(k)
        offsets.append(len(idx.dated))
        held = idx.cache["dated_runs"] = (days, offsets, [i for _, i in idx.dated])
    return held


def _without(idx: Index, items: list[tuple[date, int]], task_ids: Collection[int]) -> list[tuple[date, int]]:
    """Dated items without those of some tasks (by task id)."""
    gone = {idx.by_id[t] for t in task_ids if t in idx.by_id}
    return [item for item in items if item[1] not in gone] if gone else items
