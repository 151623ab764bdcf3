"""Every change to a task, in one place: mark done, reopen, extend, snooze, set the deadline,
reassign, cancel. Each writes exactly one audit row saying who, when, what, and the value before and
after (JSON), so the last change can be undone by writing `before` back.

Functions take a session and flush, never commit: the caller decides the transaction. Pending
reminders that a change makes pointless are cancelled at once; the reminders a change calls for
(an extension's new series) are planned by the scheduler's next tick.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import VN
from knowledge.calendar import load_calendar
from knowledge.deadlines import Deadline
from knowledge.due import DONE, EXTENDED, OPEN, load_progress, occurrence_due, task_deadline
from knowledge.models import AuditEntry, Outbox, Task, TaskAgency, TaskProgress
from knowledge.policy import load_policies

CANCELLED = "cancelled"
STOPPED_DONE = "đã hoàn thành"
STOPPED_EXTENDED = "đã gia hạn, thay bằng lịch nhắc mới"
STOPPED_CLOSED = "nhiệm vụ đã đóng"
DEADLINE_COLUMNS = ("deadline_kind", "deadline_due", "deadline_month", "deadline_day", "deadline_text")
REASSIGNABLE = ("lead", "coordinator")


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _audit(session: AsyncSession, by: str, action: str, target: str, before: dict[str, Any] | None,
           after: dict[str, Any] | None, **details: Any) -> AuditEntry:
    entry = AuditEntry(actor=by, action=action, target=target, details=details, before=before, after=after)
    session.add(entry)
    return entry


async def _task(session: AsyncSession, task_id: int) -> Task:
    task = await session.get(Task, task_id)
    if task is None:
        raise LookupError(f"task {task_id}")
    return task


async def cancel_pending(session: AsyncSession, task_id: int, agency_id: int | None = None,
                         occurrence: date | None = None, reason: str = STOPPED_DONE) -> int:
    """Stop a task's pending reminders at once (for one agency and occurrence when given)."""
    q = update(Outbox).where(Outbox.task_id == task_id, Outbox.status == "pending")
    if agency_id is not None:
        q = q.where(Outbox.agency_id == agency_id)
    if occurrence is not None:
        q = q.where(Outbox.occurrence == occurrence)
    result = await session.execute(q.values(status=CANCELLED, last_error=reason))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _progress_q(task_id: int, agency_id: int, occurrence: date | None, status: str) -> Any:
    return select(TaskProgress).where(
        TaskProgress.task_id == task_id, TaskProgress.agency_id == agency_id, TaskProgress.status == status,
        TaskProgress.occurrence.is_(None) if occurrence is None else TaskProgress.occurrence == occurrence)


async def is_done(session: AsyncSession, task_id: int, agency_id: int, occurrence: date | None) -> bool:
    return await session.scalar(_progress_q(task_id, agency_id, occurrence, DONE).limit(1)) is not None


async def mark_done(session: AsyncSession, task_id: int, agency_id: int, occurrence: date | None, by: str,
                    note: str = "") -> TaskProgress:
    """An agency finished a task (one occurrence of a recurring one): record who and when, stop reminders."""
    row = TaskProgress(task_id=task_id, agency_id=agency_id, occurrence=occurrence, status=DONE, by=by, note=note)
    session.add(row)
    await session.flush()
    stopped = await cancel_pending(session, task_id, agency_id, occurrence)
    _audit(session, by, "task.done", f"task:{task_id}", {"done": False}, {"done": True, "progress_id": row.id},
           agency_id=agency_id, occurrence=_iso(occurrence), cancelled=stopped)
    await session.flush()
    return row


async def reopen(session: AsyncSession, task_id: int, agency_id: int | None, occurrence: date | None,
                 by: str) -> int:
    """Undo "done": the agency's done marks for the occurrence go (all agencies' when None), and a task
    closed as done is open again. Its reminders come back with the planner's next tick. Returns the
    number of marks removed."""
    task = await _task(session, task_id)
    q = select(TaskProgress).where(
        TaskProgress.task_id == task_id, TaskProgress.status == DONE,
        TaskProgress.occurrence.is_(None) if occurrence is None else TaskProgress.occurrence == occurrence)
    if agency_id is not None:
        q = q.where(TaskProgress.agency_id == agency_id)
    marks = list((await session.scalars(q)).all())
    before = {"status": task.status, "done": [_progress_json(m) for m in marks]}
    for m in marks:
        await session.delete(m)
    if task.status == DONE:
        task.status = OPEN
    _audit(session, by, "task.reopen", f"task:{task_id}", before, {"status": task.status, "done": []},
           agency_id=agency_id, occurrence=_iso(occurrence))
    await session.flush()
    return len(marks)


def _progress_json(p: TaskProgress) -> dict[str, Any]:
    return {"id": p.id, "agency_id": p.agency_id, "occurrence": _iso(p.occurrence), "status": p.status,
            "new_due": _iso(p.new_due), "by": p.by, "note": p.note}


async def extend(session: AsyncSession, task_id: int, agency_id: int, occurrence: date | None, new_due: date,
                 by: str, note: str = "") -> TaskProgress:
    """An admin granted more time: the old series of reminders stops at once; the planner's next tick
    plans the new one (its keys carry "e<n>", so reminders sent for the old day do not block it)."""
    task = await _task(session, task_id)
    calendar = await load_calendar(session)
    progress = await load_progress(session, [task_id])
    dl = task_deadline(task)
    nominal = occurrence or (dl.due if dl else None)
    old = (occurrence_due(task_id, task.deadline_kind or "", nominal, calendar, progress, [agency_id])
           if nominal else None)
    row = TaskProgress(task_id=task_id, agency_id=agency_id, occurrence=occurrence, status=EXTENDED,
                       new_due=new_due, by=by, note=note)
    session.add(row)
    await session.flush()
    stopped = await cancel_pending(session, task_id, agency_id, occurrence, reason=STOPPED_EXTENDED)
    _audit(session, by, "task.extend", f"task:{task_id}", {"due": _iso(old.day if old else None)},
           {"due": new_due.isoformat(), "progress_id": row.id},
           agency_id=agency_id, occurrence=_iso(occurrence), cancelled=stopped)
    await session.flush()
    return row


async def snooze(session: AsyncSession, outbox_id: int, now: datetime, by: str, default_hour: int) -> Outbox | None:
    """"Nhắc lại sau": the same reminder again on the next working day, at the hour the task's policy
    says (`default_hour`, from settings, when no policy names one). The planner words it for that day.
    None when the row is gone or its task no longer open."""
    row = await session.get(Outbox, outbox_id)
    task = await session.get(Task, row.task_id) if row is not None else None
    if row is None or task is None or task.status != OPEN or task_deadline(task) is None:
        return None
    calendar = await load_calendar(session)
    policy = (await load_policies(session, default_hour)).for_task(task.id, task.plan_id)
    send_day = calendar.next_working(now.astimezone(VN).date())
    taken = set((await session.scalars(select(Outbox.offset_key).where(
        Outbox.task_id == row.task_id, Outbox.focal_point_id == row.focal_point_id,
        Outbox.occurrence == row.occurrence))).all())
    n = 1
    while f"s{n}" in taken:
        n += 1
    send_at = datetime(send_day.year, send_day.month, send_day.day, policy.hour, tzinfo=VN).astimezone(UTC)
    new = Outbox(task_id=row.task_id, focal_point_id=row.focal_point_id, agency_id=row.agency_id,
                 occurrence=row.occurrence, offset_key=f"s{n}", kind=row.kind, send_at=send_at,
                 status="pending", attempts=0, text=row.text)
    session.add(new)
    await session.flush()
    _audit(session, by, "reminder.snooze", f"outbox:{row.id}", {"outbox_id": None},
           {"outbox_id": new.id, "send_at": send_at.isoformat()}, task_id=task.id, new_outbox_id=new.id)
    await session.flush()
    return new


def _deadline_json(task: Task) -> dict[str, Any]:
    values = {c: getattr(task, c) for c in DEADLINE_COLUMNS}
    return {c: _iso(v) if isinstance(v, date) else v for c, v in values.items()}


async def set_deadline(session: AsyncSession, task_id: int, deadline: Deadline | None, by: str) -> Task:
    """An admin sets (or clears) a task's deadline, e.g. a day for "định kỳ 6 tháng". Pending reminders
    for the old day stop; the planner's next tick plans the new ones."""
    task = await _task(session, task_id)
    before = _deadline_json(task)
    task.deadline_kind = deadline.kind if deadline else None
    task.deadline_due = deadline.due if deadline else None
    task.deadline_month = deadline.month if deadline else None
    task.deadline_day = deadline.day if deadline else None
    task.deadline_text = deadline.text if deadline else None
    stopped = await cancel_pending(session, task_id, reason="hạn đã được sửa")
    _audit(session, by, "task.set_deadline", f"task:{task_id}", before, _deadline_json(task), cancelled=stopped)
    await session.flush()
    return task


async def _roles_json(session: AsyncSession, task_id: int) -> dict[str, list[dict[str, Any]]]:
    rows = (await session.scalars(select(TaskAgency).where(TaskAgency.task_id == task_id,
                                                          TaskAgency.role.in_(REASSIGNABLE))
                                  .order_by(TaskAgency.position, TaskAgency.id))).all()
    out: dict[str, list[dict[str, Any]]] = {r: [] for r in REASSIGNABLE}
    for r in rows:
        out[r.role].append({"agency_id": r.agency_id, "written": r.written, "position": r.position})
    return out


async def reassign(session: AsyncSession, task_id: int, roles: dict[str, list[tuple[int, str]]], by: str) -> Task:
    """An admin changes who leads or coordinates: `roles` maps "lead"/"coordinator" to (agency id, name
    as written); a role left out keeps its agencies. Reminders to the old agencies stop; the planner
    plans for the new ones."""
    task = await _task(session, task_id)
    unknown = set(roles) - set(REASSIGNABLE)
    if unknown:
        raise ValueError(f"Chỉ đổi được cơ quan chủ trì hoặc phối hợp, không đổi được: {', '.join(sorted(unknown))}.")
    before = await _roles_json(session, task_id)
    for role, agencies in roles.items():
        await session.execute(delete(TaskAgency).where(TaskAgency.task_id == task_id, TaskAgency.role == role))
        base = 0 if role == "lead" else 100
        for pos, (agency_id, written) in enumerate(agencies):
            session.add(TaskAgency(task_id=task_id, agency_id=agency_id, role=role, written=written,
                                   position=base + pos))
    await session.flush()
    stopped = await cancel_pending(session, task_id, reason="cơ quan thực hiện đã thay đổi")
    task.updated_at = datetime.now(UTC)  # answers re-read the task's agencies
    _audit(session, by, "task.reassign", f"task:{task_id}", before, await _roles_json(session, task_id),
           cancelled=stopped)
    await session.flush()
    return task


async def cancel(session: AsyncSession, task_id: int, by: str, reason: str = "") -> Task:
    """An admin cancels a task (dropped from the plan): never due, never reminded again."""
    task = await _task(session, task_id)
    before = {"status": task.status}
    task.status = CANCELLED
    stopped = await cancel_pending(session, task_id, reason=STOPPED_CLOSED)
    _audit(session, by, "task.cancel", f"task:{task_id}", before, {"status": CANCELLED},
           reason=reason[:500], cancelled=stopped)
    await session.flush()
    return task


async def request_extension(session: AsyncSession, task_id: int, outbox_id: int, reason: str,
                            proposed: date | None, by: str) -> None:
    """A focal point asks for more time: recorded for the admins (nothing changes until one grants it)."""
    _audit(session, by, "task.extension_request", f"task:{task_id}", None, None,
           outbox_id=outbox_id, reason=reason[:1000], proposed=_iso(proposed))
    await session.flush()


async def deny_extension(session: AsyncSession, task_id: int, by: str) -> None:
    """An admin refused an extension request: the deadline stays; recorded."""
    _audit(session, by, "task.extension_denied", f"task:{task_id}", None, None)
    await session.flush()
