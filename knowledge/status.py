"""Status at a glance: each task in one of the Government Office's four states, counted per agency
and per plan. The chat (/thongke), the chart, the Excel export and the .ics calendar read it here.

The four states: done on time, done late, open within term, open overdue. A task's day that counts
is the plan's day (the current occurrence of a recurring task), or the last day an admin extended
it to; a task without a day has no term to miss (open within term until done). Cancelled tasks
are not counted; tasks of archived plans are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import VN
from knowledge.calendar import load_calendar
from knowledge.deadlines import ONE_OFF, RECURRING, Deadline
from knowledge.due import DONE, load_progress, occurrence_due, task_deadline
from knowledge.models import Agency, Plan, Task, TaskAgency, TaskProgress

DONE_ON_TIME, DONE_LATE, OPEN_IN_TERM, OPEN_OVERDUE = "done_on_time", "done_late", "open_in_term", "open_overdue"
STATES = (DONE_ON_TIME, DONE_LATE, OPEN_IN_TERM, OPEN_OVERDUE)
LABELS = {
    DONE_ON_TIME: "Hoàn thành đúng hạn",
    DONE_LATE: "Hoàn thành quá hạn",
    OPEN_IN_TERM: "Đang thực hiện trong hạn",
    OPEN_OVERDUE: "Quá hạn chưa hoàn thành",
}
SHORT = {DONE_ON_TIME: "✅ đúng hạn", DONE_LATE: "☑️ trễ hạn", OPEN_IN_TERM: "⏳ trong hạn", OPEN_OVERDUE: "⚠️ quá hạn"}
CANCELLED = "cancelled"
ROLE_NAMES = {"lead": "Chủ trì", "coordinator": "Phối hợp", "report_to": "Báo cáo về", "via": "Thông qua"}
LOOKBACK = timedelta(days=400)  # a recurring task's current occurrence: the last one this far back at most


@dataclass
class TaskStatus:
    """One task as the status views show it."""

    task_id: int
    plan_id: int
    plan: str  # how the plan is cited ("KH 3021/KH-UBND")
    ref: str
    text: str
    roles: dict[str, list[tuple[int, str]]]  # role -> [(agency id, name)]
    deadline_text: str
    due: date | None  # the day that counts (extension applied)
    nominal: date | None  # the plan's day for this occurrence
    recurring: str | None  # "yearly" / "quarterly" / "monthly" when it repeats
    done_on: date | None
    state: str

    def agency_ids(self, *roles: str) -> set[int]:
        return {a for r in roles or tuple(self.roles) for a, _ in self.roles.get(r, [])}

    def names(self, role: str) -> str:
        return ", ".join(n for _, n in self.roles.get(role, []))


@dataclass
class Counts:
    by_state: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATES, 0))

    def add(self, state: str) -> None:
        self.by_state[state] += 1

    @property
    def total(self) -> int:
        return sum(self.by_state.values())

    def line(self) -> str:
        return " · ".join(f"{SHORT[s]} {self.by_state[s]}" for s in STATES)


def plan_short(plan: Plan) -> str:
    """'KH 3021/KH-UBND', or the title's start when the plan has no number."""
    if plan.number:
        return f"KH {plan.number}"
    title = " ".join(plan.title.split())
    return title[:40] + ("…" if len(title) > 40 else "")


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def current_occurrence(deadline: Deadline, today: date) -> date | None:
    """The occurrence a recurring task is judged by: the last one on or before today, else the next."""
    last = None
    day = deadline.next_due(today - LOOKBACK)
    while day is not None and day <= today:
        last = day
        day = deadline.next_due(day + timedelta(days=1))
    return last or deadline.next_due(today)


def _state(due: date | None, done_on: date | None, today: date) -> str:
    if done_on is not None:
        return DONE_LATE if due is not None and done_on > due else DONE_ON_TIME
    return OPEN_OVERDUE if due is not None and today > due else OPEN_IN_TERM


async def task_statuses(session: AsyncSession, today: date, *, plan_ids: Iterable[int] | None = None,
                        agency_ids: Iterable[int] | None = None, roles: tuple[str, ...] = ("lead",),
                        with_cancelled: bool = False) -> list[TaskStatus]:
    """Every counted task (of some plans; of some agencies in some roles), in plan order; cancelled
    ones only when asked (a task's own card shows it)."""
    q = select(Task, Plan).join(Plan, Task.plan_id == Plan.id)
    if not with_cancelled:
        q = q.where(Task.status != CANCELLED)
    if plan_ids is not None:
        q = q.where(Task.plan_id.in_(list(plan_ids)))
    if agency_ids is not None:
        wanted = select(TaskAgency.task_id).where(TaskAgency.agency_id.in_(list(agency_ids)),
                                                  TaskAgency.role.in_(roles))
        q = q.where(Task.id.in_(wanted))
    rows = (await session.execute(q.order_by(Plan.id, Task.position, Task.id))).all()
    ids = [t.id for t, _ in rows]
    roles_of: dict[int, dict[str, list[tuple[int, str]]]] = defaultdict(dict)
    names = {r[0]: r[1] for r in await session.execute(select(Agency.id, Agency.name))}
    progress: list[TaskProgress] = []
    for chunk in range(0, len(ids), 500):
        part = ids[chunk:chunk + 500]
        for ta in (await session.scalars(select(TaskAgency).where(TaskAgency.task_id.in_(part))
                                         .order_by(TaskAgency.task_id, TaskAgency.position, TaskAgency.id))).all():
            roles_of[ta.task_id].setdefault(ta.role, []).append((ta.agency_id, names.get(ta.agency_id, ta.written)))
        progress += list((await session.scalars(select(TaskProgress).where(TaskProgress.task_id.in_(part))
                                                .order_by(TaskProgress.id))).all())
    done: dict[tuple[int, date | None], date] = {}
    for p in progress:
        if p.status == DONE:
            done.setdefault((p.task_id, p.occurrence), _aware(p.at).astimezone(VN).date())
    # The day that counts comes from knowledge.due (extension, art. 148); done or not is judged here.
    calendar = await load_calendar(session)
    extended = await load_progress(session, ids if plan_ids is not None or agency_ids is not None else None)
    extended.done = {}
    out = []
    for task, plan in rows:
        deadline = task_deadline(task)
        nominal, occurrence, recurring = None, None, None
        if deadline is not None and deadline.kind in ONE_OFF:
            nominal = deadline.due
        elif deadline is not None and deadline.kind in RECURRING:
            nominal = occurrence = current_occurrence(deadline, today)
            recurring = deadline.kind
        counted = (occurrence_due(task.id, task.deadline_kind or "", nominal, calendar, extended)
                   if nominal is not None else None)
        due = counted.day if counted is not None else None
        done_on = done.get((task.id, occurrence))
        if done_on is None and task.status == "done":
            done_on = _aware(task.updated_at).astimezone(VN).date()
        out.append(TaskStatus(task.id, plan.id, plan_short(plan), task.ref, task.text, roles_of.get(task.id, {}),
                              task.deadline_text or "", due, nominal, recurring, done_on,
                              _state(due, done_on, today)))
    return out


def per_agency(statuses: Iterable[TaskStatus], role: str = "lead",
               only: set[int] | None = None) -> dict[tuple[int, str], Counts]:
    """Counts per agency (id, name) in one role (a task with two leads counts for each)."""
    out: dict[tuple[int, str], Counts] = {}
    for st in statuses:
        for agency_id, name in st.roles.get(role, []):
            if only is None or agency_id in only:
                out.setdefault((agency_id, name), Counts()).add(st.state)
    return dict(sorted(out.items(), key=lambda kv: (-kv[1].total, kv[0][1])))


def per_plan(statuses: Iterable[TaskStatus]) -> dict[tuple[int, str], Counts]:
    out: dict[tuple[int, str], Counts] = {}
    for st in statuses:
        out.setdefault((st.plan_id, st.plan), Counts()).add(st.state)
    return out


def total(statuses: Iterable[TaskStatus]) -> Counts:
    c = Counts()
    for st in statuses:
        c.add(st.state)
    return c
