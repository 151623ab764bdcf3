"""The planner: turns open tasks, focal points and policies into outbox rows.

`plan_window` is pure: given a snapshot of the store it says which reminders should go out
between two days. `sync` writes that into the outbox idempotently (one row per task, focal point,
occurrence and offset; the unique key makes a second planner harmless), moves rows whose time
changed and cancels rows nobody needs any more (task done, focal point gone, policy changed).

Occurrences are keyed by the day the plan names (`nominal`); the day that counts comes from
knowledge.due (art. 148, extensions, done), the same answer questions and the digest get.
Offset keys: "b7" = 7 working days before, "d0" = the due day, "o1".."o5" = overdue, "s<n>" =
snoozed by the user (knowledge.changes.snooze adds the row, the planner words it for its day);
after the k-th extension every key gets an "e<k>" prefix, so reminders already sent for the old
day do not block the new series.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import VN
from knowledge.agencies import Registry
from knowledge.calendar import WorkCalendar, load_calendar
from knowledge.deadlines import INVALID, ONE_OFF, RECURRING, Deadline
from knowledge.due import Progress, load_progress, occurrence_due, occurrences, task_deadline
from knowledge.focal_points import one_per_person
from knowledge.labels import plan_label
from knowledge.models import FocalPoint, Outbox, Plan, Task, TaskAgency
from knowledge.policy import Policy, PolicyBook, load_policies
from scheduler.texts import ReminderFacts, reminder_text, who_label

STALE_AFTER = timedelta(days=1)  # a reminder later than this is replaced by the next one
HORIZON_DAYS = 14  # rows are created this many days ahead
OPEN = "open"


@dataclass
class TaskInfo:
    id: int
    plan_id: int
    ref: str
    text: str
    status: str
    deadline: Deadline | None
    plan_label: str
    agencies: list[tuple[int, str, str]] = field(default_factory=list)  # (agency_id, role, written)


@dataclass(frozen=True)
class Recipient:
    focal_point_id: int
    agency_id: int
    channel: str
    chat_id: str


@dataclass(frozen=True)
class Planned:
    """One reminder that should exist in the outbox."""

    task_id: int
    focal_point_id: int
    agency_id: int
    agency: str
    channel: str
    chat_id: str
    occurrence: date
    offset_key: str
    kind: str
    send_at: datetime
    due: date
    text: str

    @property
    def key(self) -> tuple[int, int, date, str]:
        return (self.task_id, self.focal_point_id, self.occurrence, self.offset_key)


@dataclass
class Snapshot:
    """What the planner needs from the store, loaded in a few bulk queries."""

    tasks: list[TaskInfo]
    focal: dict[int, list[Recipient]]  # agency id -> approved focal points
    progress: Progress  # done and extended occurrences, per agency
    registry: Registry
    calendar: WorkCalendar
    policies: PolicyBook


async def load_snapshot(
    session: AsyncSession, default_hour: int, task_ids: Iterable[int] | None = None
) -> Snapshot:
    """`default_hour`: the reminder hour where no policy names one (settings.reminder_hour)."""
    plans = {p.id: p for p in (await session.scalars(select(Plan))).all()}
    q = select(Task).where(Task.deadline_kind.in_(ONE_OFF + RECURRING), Task.status == OPEN)
    q = q.where(Task.plan_id.not_in(select(Plan.id).where(Plan.archived_at.is_not(None))))  # archived: not reminded
    ids = list(task_ids) if task_ids is not None else None
    if ids is not None:
        q = q.where(Task.id.in_(ids))
    tasks: dict[int, TaskInfo] = {}
    for t in (await session.scalars(q)).all():
        p = plans[t.plan_id]
        tasks[t.id] = TaskInfo(t.id, t.plan_id, t.ref, t.text, t.status, task_deadline(t),
                               plan_label(p.kind, p.number, p.issued_on, p.title))
    qa = select(TaskAgency.task_id, TaskAgency.agency_id, TaskAgency.role, TaskAgency.written).order_by(
        TaskAgency.task_id, TaskAgency.position, TaskAgency.id)
    if ids is not None:
        qa = qa.where(TaskAgency.task_id.in_(ids))
    for task_id, agency_id, role, written in (await session.execute(qa)).all():
        if task_id in tasks:
            tasks[task_id].agencies.append((agency_id, role, written))
    focal: dict[int, list[Recipient]] = defaultdict(list)
    approved = (await session.scalars(select(FocalPoint).where(FocalPoint.status == "approved"))).all()
    for f in one_per_person(approved):  # one person linked on several channels is reminded once
        focal[f.agency_id].append(Recipient(f.id, f.agency_id, f.channel, f.chat_id))
    return Snapshot(list(tasks.values()), dict(focal), await load_progress(session, ids), await Registry.load(session),
                    await load_calendar(session), await load_policies(session, default_hour))


def following(deadline: Deadline, nominal: date) -> date | None:
    """The next occurrence after one (None for one-off kinds): overdue reminders stop there."""
    if deadline.kind in ONE_OFF:
        return None
    return deadline.next_due(nominal + timedelta(days=1))


def as_utc(at: datetime) -> datetime:
    """SQLite hands timestamps back without a zone; they were stored in UTC."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def at_hour(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=VN).astimezone(UTC)


def recipients(snap: Snapshot, task: TaskInfo, policy: Policy) -> list[tuple[Recipient, str]]:
    """Approved focal points of the lead agencies (and coordinators when the policy says so),
    groups expanded, merged agencies followed to their successors; each focal point once."""
    roles = ("lead", "coordinator") if policy.include_coordinators else ("lead",)
    seen: set[int] = set()
    out: list[tuple[Recipient, str]] = []
    for role in roles:
        for agency_id, r, written in task.agencies:
            if r != role or agency_id not in snap.registry.by_id:
                continue
            info = snap.registry.by_id[agency_id]
            for cur in snap.registry.expand(agency_id):
                who = who_label(cur.name, written, merged=not info.is_group and cur.id != agency_id,
                                group=info.is_group and cur.id != agency_id)
                for fp in snap.focal.get(cur.id, []):
                    if fp.focal_point_id not in seen:
                        seen.add(fp.focal_point_id)
                        out.append((fp, who))
    return out


@dataclass(frozen=True)
class Step:
    offset_key: str
    kind: str
    send_day: date
    working_days: int


def series(cal: WorkCalendar, policy: Policy, due: date, stop_before: date | None, prefix: str = "") -> list[Step]:
    """The reminders of one occurrence: before, on and after the day that counts."""
    steps = []
    for off in policy.offsets:
        kind = "due" if off == 0 else "before"
        steps.append(Step(f"{prefix}d0" if off == 0 else f"{prefix}b{off}", kind,
                          cal.minus_working_days(due, off), off))
    for i in range(1, policy.overdue_max + 1):
        n = policy.overdue_every * i
        day = cal.plus_working_days(due, n)
        if stop_before is not None and day >= stop_before:
            break
        steps.append(Step(f"{prefix}o{i}", "overdue", day, n))
    return steps


def _span_days(working_days: int) -> int:
    """Calendar days that surely hold this many working days (weekends and a long Tết)."""
    return math.ceil(working_days * 7 / 5) + 14


def plan_window(snap: Snapshot, start: date, end: date, now: datetime) -> list[Planned]:
    """Every reminder whose day falls in [start, end] and that is not stale at `now`."""
    out: list[Planned] = []
    oldest = now - STALE_AFTER
    cal = snap.calendar
    for task in snap.tasks:
        if task.deadline is None or task.status != OPEN:
            continue
        policy = snap.policies.for_task(task.id, task.plan_id)
        people = recipients(snap, task, policy)
        if not people:
            continue
        back = _span_days(policy.overdue_every * policy.overdue_max)
        ahead = _span_days(max(policy.offsets, default=0))
        for nominal in occurrences(task.deadline, start - timedelta(days=back), end + timedelta(days=ahead)):
            nxt = following(task.deadline, nominal)
            for fp, who in people:
                due = occurrence_due(task.id, task.deadline.kind, nominal, cal, snap.progress, [fp.agency_id])
                if due is None:
                    continue  # done
                prefix = f"e{due.extensions}" if due.extensions else ""
                stop = cal.due_day(nxt) if nxt else None
                for step in series(cal, policy, due.day, stop, prefix):
                    if not start <= step.send_day <= end:
                        continue
                    send_at = at_hour(step.send_day, policy.hour)
                    if send_at < oldest:
                        continue
                    facts = ReminderFacts(
                        kind=step.kind, send_day=step.send_day, due=due.day, nominal=nominal,
                        working_days=step.working_days, who=who, task_text=task.text,
                        plan_label=task.plan_label, section=task.ref,
                        deadline_text=task.deadline.text, off_reason=due.off_reason,
                        extended_from=due.extended_from)
                    out.append(Planned(task.id, fp.focal_point_id, fp.agency_id,
                                       snap.registry.by_id[fp.agency_id].name, fp.channel, fp.chat_id,
                                       nominal, step.offset_key, step.kind, send_at, due.day,
                                       reminder_text(facts)))
    return out


@dataclass
class SyncResult:
    created: int = 0
    moved: int = 0
    cancelled: int = 0
    revived: int = 0


def _insert(session: AsyncSession) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING in the store's dialect: a second planner is harmless."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def sync(
    session: AsyncSession,
    snap: Snapshot,
    now: datetime,
    horizon_days: int = HORIZON_DAYS,
    task_ids: set[int] | None = None,
) -> SyncResult:
    """Make the outbox match the plan for [today − 1 day, today + horizon]. Caller commits."""
    today = now.astimezone(VN).date()
    start, end = today - timedelta(days=1), today + timedelta(days=horizon_days)
    desired = {p.key: p for p in plan_window(snap, start, end, now)}
    res = SyncResult()
    valid_focal = {fp.focal_point_id for fps in snap.focal.values() for fp in fps}
    q = select(Outbox).where(Outbox.status == "pending")
    if task_ids is not None:
        q = q.where(Outbox.task_id.in_(task_ids))
    by_task = {t.id: t for t in snap.tasks}
    for row in (await session.scalars(q)).all():
        key = (row.task_id, row.focal_point_id, row.occurrence, row.offset_key)
        want = desired.pop(key, None)
        if want is not None:
            if as_utc(row.send_at) != want.send_at or row.text != want.text or row.kind != want.kind:
                row.send_at, row.text, row.kind, row.next_attempt_at = want.send_at, want.text, want.kind, None
                res.moved += 1
            continue
        send_at = as_utc(row.send_at)
        if row.offset_key.startswith("s"):
            task = by_task.get(row.task_id)
            words = snoozed(snap, task, row) if task is not None and row.focal_point_id in valid_focal else None
            if words is not None:
                if (row.kind, row.text) != words:
                    row.kind, row.text = words
                    res.moved += 1
                continue
            reason = "không còn cần nhắc"
        elif send_at < now - STALE_AFTER:
            reason = "quá hạn gửi hơn 1 ngày, thay bằng lần nhắc sau"
        elif send_at.astimezone(VN).date() > end:
            continue
        else:
            reason = "không còn cần nhắc"
        row.status, row.last_error = "cancelled", reason
        res.cancelled += 1
    if desired:
        ins = _insert(session)
        values = [dict(task_id=p.task_id, focal_point_id=p.focal_point_id, agency_id=p.agency_id,
                       occurrence=p.occurrence, offset_key=p.offset_key, kind=p.kind, send_at=p.send_at,
                       status="pending", attempts=0, text=p.text) for p in desired.values()]
        for i in range(0, len(values), 500):
            result = await session.execute(ins(Outbox).values(values[i:i + 500]).on_conflict_do_nothing())
            res.created += max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
        res.revived = await _revive(session, list(desired.values()), now)
    await session.flush()
    return res


async def _revive(session: AsyncSession, wanted: list[Planned], now: datetime) -> int:
    """Cancelled rows that are wanted again (a task reopened, a focal point back) become pending."""
    keys = {p.key: p for p in wanted}
    rows = (await session.scalars(select(Outbox).where(
        Outbox.status == "cancelled", Outbox.task_id.in_({p.task_id for p in wanted}),
        Outbox.send_at >= now - STALE_AFTER))).all()
    n = 0
    for row in rows:
        p = keys.get((row.task_id, row.focal_point_id, row.occurrence, row.offset_key))
        if p is not None:
            row.status, row.send_at, row.text, row.kind, row.last_error = "pending", p.send_at, p.text, p.kind, None
            row.attempts, row.next_attempt_at = 0, None
            n += 1
    return n


async def run_planner(session: AsyncSession, now: datetime, default_hour: int,
                      horizon_days: int = HORIZON_DAYS) -> SyncResult:
    """Load, plan and write in one go (the scheduler's tick). Caller commits."""
    snap = await load_snapshot(session, default_hour)
    return await sync(session, snap, now, horizon_days)


async def needs_day(session: AsyncSession) -> list[Task]:
    """Tasks no reminder can be planned for until an admin sets a day: periodic ones with no day ("định kỳ
    6 tháng") and impossible dates the importer kept as words ("31/4/2026": deadline kind `invalid`)."""
    q = (select(Task).where(Task.deadline_kind.in_(("periodic", INVALID)), Task.status == OPEN)
         .order_by(Task.plan_id, Task.position))
    return list((await session.scalars(q)).all())


def snoozed(snap: Snapshot, task: TaskInfo, row: Outbox) -> tuple[str, str] | None:
    """(kind, text) of a snoozed reminder, worded for the day it goes out (days left recounted);
    None when it is no longer needed (done, or the task has no day any more)."""
    if task.deadline is None:
        return None
    cal = snap.calendar
    due = occurrence_due(task.id, task.deadline.kind, row.occurrence, cal, snap.progress, [row.agency_id])
    if due is None:
        return None
    send_day = as_utc(row.send_at).astimezone(VN).date()
    left = cal.working_days_between(send_day, due.day)
    kind = "before" if left > 0 else "due" if left == 0 else "overdue"
    who = snap.registry.by_id[row.agency_id].name
    for fp, label in recipients(snap, task, snap.policies.for_task(task.id, task.plan_id)):
        if fp.focal_point_id == row.focal_point_id:
            who = label
    facts = ReminderFacts(kind=kind, send_day=send_day, due=due.day, nominal=row.occurrence, working_days=abs(left),
                          who=who, task_text=task.text, plan_label=task.plan_label, section=task.ref,
                          deadline_text=task.deadline.text, off_reason=due.off_reason,
                          extended_from=due.extended_from)
    return kind, reminder_text(facts)
