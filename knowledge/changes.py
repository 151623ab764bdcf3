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

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import VN
from knowledge import snapshot
from knowledge.calendar import load_calendar
from knowledge.deadlines import Deadline
from knowledge.due import DONE, EXTENDED, OPEN, load_progress, occurrence_due, task_deadline
from knowledge.models import Agency, AuditEntry, FocalPoint, Outbox, Plan, Task, TaskAgency, TaskProgress
from knowledge.policy import load_policies

CANCELLED = "cancelled"
STOPPED_DONE = "đã hoàn thành"
STOPPED_EXTENDED = "đã gia hạn, thay bằng lịch nhắc mới"
STOPPED_CLOSED = "nhiệm vụ đã đóng"
UNDONE = "đã hoàn tác"
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


# ---- admins' changes from chat (handlers.admin_tasks): one audit row each, undone by `undo` ----------

TASK_ROLES = ("lead", "coordinator", "report_to")
NOON = 12  # a completion dated by an admin is recorded at noon that day (Asia/Ho_Chi_Minh)


class Stale(Exception):
    """The task changed since it was shown (another admin): nothing was written."""


class CannotUndo(Exception):
    """The change cannot be taken back (the message says why, in Vietnamese)."""


async def claim(session: AsyncSession, task_id: int, seen_version: int | None) -> int:
    """Raise the task's version inside the caller's transaction, checking it is still the one the
    admin saw (None: whatever it is now). Stale when another change came first; the row stays locked
    until the caller commits, so two admins never interleave on one task."""
    task = await _task(session, task_id)
    version = task.version if seen_version is None else seen_version
    result = await session.execute(update(Task).where(Task.id == task_id, Task.version == version)
                                   .values(version=version + 1))
    if not result.rowcount:  # type: ignore[attr-defined]
        raise Stale(task_id)
    await session.refresh(task)
    return version + 1


async def _agency_ids(session: AsyncSession, task_id: int, roles: tuple[str, ...]) -> list[int]:
    rows = await session.scalars(select(TaskAgency.agency_id).where(TaskAgency.task_id == task_id,
                                                                    TaskAgency.role.in_(roles))
                                 .order_by(TaskAgency.position, TaskAgency.id))
    return list(dict.fromkeys(rows.all()))


async def complete(session: AsyncSession, task_id: int, occurrence: date | None, on: date, by: str) -> list[int]:
    """An admin records a task (one occurrence of a recurring one) as done on a day, for each lead;
    its reminders stop. One audit row; returns the progress rows written."""
    leads = await _agency_ids(session, task_id, ("lead",)) or await _agency_ids(session, task_id, REASSIGNABLE)
    at = datetime(on.year, on.month, on.day, NOON, tzinfo=VN).astimezone(UTC)
    rows = [TaskProgress(task_id=task_id, agency_id=a, occurrence=occurrence, status=DONE, by=by, at=at,
                         note="quản trị viên ghi nhận") for a in leads]
    session.add_all(rows)
    await session.flush()
    stopped = await cancel_pending(session, task_id, occurrence=occurrence)
    _audit(session, by, "task.done", f"task:{task_id}", {"done": False},
           {"done": True, "on": on.isoformat(), "progress_ids": [r.id for r in rows]},
           occurrence=_iso(occurrence), cancelled=stopped)
    await session.flush()
    return [r.id for r in rows]


async def extend_task(session: AsyncSession, task_id: int, occurrence: date | None, new_due: date, by: str,
                      reason: str, old_due: date | None) -> list[int]:
    """An admin gives a task more time, for every agency it is reminded to: the plan's day stays as
    written, the new day is recorded with the reason. One audit row."""
    agencies = await _agency_ids(session, task_id, REASSIGNABLE)
    rows = [TaskProgress(task_id=task_id, agency_id=a, occurrence=occurrence, status=EXTENDED, new_due=new_due,
                         by=by, note=reason[:1000]) for a in agencies]
    session.add_all(rows)
    await session.flush()
    stopped = await cancel_pending(session, task_id, occurrence=occurrence, reason=STOPPED_EXTENDED)
    _audit(session, by, "task.extend", f"task:{task_id}", {"due": _iso(old_due)},
           {"due": new_due.isoformat(), "progress_ids": [r.id for r in rows]},
           occurrence=_iso(occurrence), reason=reason[:500], cancelled=stopped)
    await session.flush()
    return [r.id for r in rows]


async def _all_roles_json(session: AsyncSession, task_id: int) -> dict[str, list[dict[str, Any]]]:
    rows = (await session.scalars(select(TaskAgency).where(TaskAgency.task_id == task_id)
                                  .order_by(TaskAgency.position, TaskAgency.id))).all()
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(r.role, []).append({"agency_id": r.agency_id, "written": r.written, "position": r.position})
    return out


async def set_report_to(session: AsyncSession, task_id: int, agencies: list[tuple[int, str]], by: str) -> None:
    """Who the task reports to (report-to is not reminded, so no reminder changes)."""
    before = {"report_to": (await _all_roles_json(session, task_id)).get("report_to", [])}
    await session.execute(delete(TaskAgency).where(TaskAgency.task_id == task_id, TaskAgency.role == "report_to"))
    for pos, (agency_id, written) in enumerate(agencies):
        session.add(TaskAgency(task_id=task_id, agency_id=agency_id, role="report_to", written=written,
                               position=200 + pos))
    await session.flush()
    after = {"report_to": (await _all_roles_json(session, task_id)).get("report_to", [])}
    _audit(session, by, "task.report_to", f"task:{task_id}", before, after)
    await session.flush()


async def edit_text(session: AsyncSession, task_id: int, text: str, by: str) -> None:
    task = await _task(session, task_id)
    before = {"text": task.text}
    task.text = text
    _audit(session, by, "task.edit", f"task:{task_id}", before, {"text": text})
    await session.flush()


async def add_task(session: AsyncSession, plan_id: int, ref: str, text: str, roles: dict[str, list[tuple[int, str]]],
                   deadline: Deadline | None, by: str, fingerprint: str) -> Task:
    """A task an admin adds to a plan by hand (the planner reminds it from its next tick)."""
    position = int(await session.scalar(select(func.coalesce(func.max(Task.position), -1))
                                        .where(Task.plan_id == plan_id)) or 0) + 1
    task = Task(plan_id=plan_id, position=position, ref=ref[:50], text=text, fingerprint=fingerprint, status=OPEN,
                deadline_kind=deadline.kind if deadline else None, deadline_due=deadline.due if deadline else None,
                deadline_month=deadline.month if deadline else None, deadline_day=deadline.day if deadline else None,
                deadline_text=deadline.text if deadline else None)
    session.add(task)
    await session.flush()
    base = {"lead": 0, "coordinator": 100, "report_to": 200}
    for role, agencies in roles.items():
        for pos, (agency_id, written) in enumerate(agencies):
            session.add(TaskAgency(task_id=task.id, agency_id=agency_id, role=role, written=written,
                                   position=base.get(role, 300) + pos))
    _audit(session, by, "task.add", f"task:{task.id}", None, {"task_id": task.id, "plan_id": plan_id, "ref": ref})
    await session.flush()
    return task


async def tasks_snapshot(session: AsyncSession, task_ids: list[int]) -> dict[str, list[dict[str, Any]]]:
    """Tasks with their roles, progress and reminders as JSON (knowledge.snapshot), to write back on undo."""
    if not task_ids:
        return {"tasks": [], "task_agencies": [], "task_progress": [], "outbox": []}
    out: dict[str, list[dict[str, Any]]] = {}
    for key, model, column in (("tasks", Task, Task.id), ("task_agencies", TaskAgency, TaskAgency.task_id),
                               ("task_progress", TaskProgress, TaskProgress.task_id),
                               ("outbox", Outbox, Outbox.task_id)):
        rows = (await session.scalars(select(model).where(column.in_(task_ids)).order_by(model.id))).all()
        out[key] = snapshot.dump_all(rows)
    return out


async def restore_tasks(session: AsyncSession, snap: dict[str, list[dict[str, Any]]]) -> None:
    """Write back tasks kept by tasks_snapshot, with their ids. Links to an agency or focal point gone since
    (merged, removed) are left out; reminders that were waiting come back cancelled, so the planner's next
    tick plans them for today's state, and those already sent are not sent again."""
    await snapshot.restore(session, Task, snap["tasks"])
    agencies = await snapshot.existing(session, Agency.id, {r["agency_id"] for k in ("task_agencies", "task_progress",
                                                                                    "outbox") for r in snap[k]})
    focal = await snapshot.existing(session, FocalPoint.id, {r["focal_point_id"] for r in snap["outbox"]})
    await snapshot.restore(session, TaskAgency, [r for r in snap["task_agencies"] if r["agency_id"] in agencies])
    await snapshot.restore(session, TaskProgress, [r for r in snap["task_progress"] if r["agency_id"] in agencies])
    await snapshot.restore(session, Outbox, [
        {**r, "status": CANCELLED, "last_error": UNDONE} if r["status"] in ("pending", "claimed") else r
        for r in snap["outbox"] if r["agency_id"] in agencies and r["focal_point_id"] in focal])
    await session.flush()


async def delete_task(session: AsyncSession, task_id: int, by: str) -> None:
    """Delete a task with its progress and reminders, all kept in the audit row so /hoantac brings it back."""
    task = await _task(session, task_id)
    kept = await tasks_snapshot(session, [task_id])
    _audit(session, by, "task.delete", f"task:{task_id}", {"plan_id": task.plan_id, "ref": task.ref,
                                                            "text": task.text[:2000], "snapshot": kept}, None)
    await session.delete(task)
    await session.flush()


async def _undo_delete(session: AsyncSession, entry: AuditEntry) -> None:
    before = entry.before or {}
    kept = before.get("snapshot")
    if not kept or not kept.get("tasks"):
        raise CannotUndo("Việc này bị xóa trước khi nhật ký giữ bản sao; không khôi phục được.")
    row = kept["tasks"][0]
    plan = await session.get(Plan, row["plan_id"])
    if plan is None:
        raise CannotUndo("Kế hoạch của việc này đã bị xóa; hãy hoàn tác việc xóa kế hoạch trước.")
    again = await session.scalar(select(Task.id).where(Task.plan_id == row["plan_id"],
                                                       Task.fingerprint == row["fingerprint"]))
    if again is not None:
        raise CannotUndo(f"Kế hoạch đã có lại việc này (#{again}, có thể do nhập lại tệp); không khôi phục bản cũ.")
    await restore_tasks(session, kept)


# ---- what a re-import of the plan must keep (knowledge.plans.store_plan) ------------------------

# An admin's edit of a task, by what it changes; a new version of the plan file keeps it unless the file
# itself changed that part since (then the file's wins, recorded as "task.file_update").
EDIT_GROUPS = {"task.set_deadline": "deadline", "task.edit": "text", "task.reassign": "roles",
               "task.report_to": "report_to"}
FILE_UPDATE = "task.file_update"


async def hand_added(session: AsyncSession, task_ids: list[int]) -> set[int]:
    """Which of these tasks an admin added by hand (/themviec), not taken back: a new version of the plan
    file, which does not list them, keeps them."""
    if not task_ids:
        return set()
    # Admins' rows are few: all of them are read and matched here (a plan's ids may be too many for IN).
    targets = {f"task:{i}" for i in task_ids}
    rows = [r for r in (await session.execute(select(AuditEntry.id, AuditEntry.target).where(
        AuditEntry.action == "task.add"))).all() if r[1] in targets]
    undone = await undone_ids(session) if rows else set()
    return {int(target.split(":", 1)[1]) for i, target in rows if i not in undone}


async def admin_edits(session: AsyncSession, task_ids: list[int]) -> dict[int, dict[str, Any]]:
    """For each task an admin edited: per part ("deadline", "text", "roles", "report_to") the value the
    plan file had when the admin first changed it (the `before` of the earliest edit standing since the
    file last set that part). A re-import compares the new file with it: the same, the admin's value stays."""
    if not task_ids:
        return {}
    targets = {f"task:{i}" for i in task_ids}
    rows = [r for r in (await session.scalars(select(AuditEntry).where(
        AuditEntry.action.in_((*EDIT_GROUPS, FILE_UPDATE))).order_by(AuditEntry.id))).all() if r.target in targets]
    undone = await undone_ids(session) if rows else set()
    out: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row.id in undone:
            continue
        edits = out.setdefault(int(row.target.split(":", 1)[1]), {})
        if row.action == FILE_UPDATE:
            for group in (row.details or {}).get("groups", []):
                edits.pop(group, None)  # the file set it again: later edits count from here
        else:
            edits.setdefault(EDIT_GROUPS[row.action], row.before or {})
    return {k: v for k, v in out.items() if v}


def deadline_json(fields: dict[str, Any]) -> dict[str, Any]:
    """Deadline columns as an audit row keeps them (dates as ISO text)."""
    return {c: _iso(fields.get(c)) if isinstance(fields.get(c), date) else fields.get(c) for c in DEADLINE_COLUMNS}


def file_update(session: AsyncSession, by: str, task_id: int, groups: list[str], before: dict[str, Any],
                after: dict[str, Any]) -> None:
    """A new version of the plan file changed what an admin had edited: the file's value is taken, and
    recorded (an undo of the admin's edit is then refused: it would write back an outdated value)."""
    _audit(session, by, FILE_UPDATE, f"task:{task_id}", before, after, groups=groups)


UNDOABLE = ("task.done", "task.reopen", "task.extend", "task.set_deadline", "task.reassign", "task.cancel",
            "task.report_to", "task.edit", "task.add", "task.delete")


async def undone_ids(session: AsyncSession, target: str | None = None) -> set[int]:
    """The audit rows an undo ("<kind>.undo", details.undid) took back (of one target when given)."""
    q = select(AuditEntry.details).where(AuditEntry.action.like("%.undo"))
    if target is not None:
        q = q.where(AuditEntry.target == target)
    return {d["undid"] for d in (await session.scalars(q)).all() if isinstance(d, dict) and "undid" in d}


async def last_undoable(session: AsyncSession, by: str, actions: tuple[str, ...] = UNDOABLE) -> AuditEntry | None:
    """The admin's last change (of these kinds) that has not been undone yet."""
    done_ids = await undone_ids(session)
    rows = (await session.scalars(select(AuditEntry).where(AuditEntry.actor == by, AuditEntry.action.in_(actions))
                                  .order_by(AuditEntry.id.desc()).limit(50))).all()
    return next((r for r in rows if r.id not in done_ids and not _no_change(r)), None)


def _no_change(row: AuditEntry) -> bool:
    """A file sent again unchanged is recorded, but changed nothing to take back."""
    return row.action == "import" and (row.details or {}).get("status") == "unchanged"


async def later_changes(session: AsyncSession, entry: AuditEntry, actions: tuple[str, ...]) -> bool:
    """Whether a change after `entry` to the same thing (not itself undone) depends on it."""
    later = set((await session.scalars(select(AuditEntry.id).where(
        AuditEntry.target == entry.target, AuditEntry.id > entry.id, AuditEntry.action.in_(actions)))).all())
    return bool(later - await undone_ids(session, entry.target))


async def undo(session: AsyncSession, entry: AuditEntry, by: str) -> None:
    """Write back the value before `entry`'s change (one audit row "task.undo"). CannotUndo when a
    later change to the same task depends on it, or the task is gone."""
    if await later_changes(session, entry, (FILE_UPDATE,)):
        raise CannotUndo("Sau thay đổi này, bản mới của tệp kế hoạch đã đặt lại phần đó; hoàn tác sẽ ghi lại giá trị "
                         "cũ nên không làm. Hãy sửa trực tiếp nếu cần.")
    if await later_changes(session, entry, UNDOABLE):
        raise CannotUndo("Sau thay đổi này đã có thay đổi khác trên cùng nhiệm vụ; hãy hoàn tác thay đổi sau trước, "
                         "hoặc sửa trực tiếp.")
    task_id = int(entry.target.split(":", 1)[1])
    if entry.action == "task.delete":
        await _undo_delete(session, entry)
        _audit(session, by, "task.undo", entry.target, None, {"task_id": task_id}, undid=entry.id,
               action_undone=entry.action)
        await session.flush()
        return
    task = await session.get(Task, task_id)
    if task is None:
        raise CannotUndo("Nhiệm vụ này đã bị xóa.")
    before, after = entry.before or {}, entry.after or {}
    action = entry.action
    if action in ("task.done", "task.extend"):
        ids = after.get("progress_ids") or ([after["progress_id"]] if after.get("progress_id") else [])
        await session.execute(delete(TaskProgress).where(TaskProgress.id.in_(ids)))
        await cancel_pending(session, task_id, reason=UNDONE)
    elif action == "task.reopen":
        task.status = before.get("status", task.status)
        for p in before.get("done", []):
            session.add(TaskProgress(task_id=task_id, agency_id=p["agency_id"], status=p["status"], by=p["by"],
                                     occurrence=date.fromisoformat(p["occurrence"]) if p.get("occurrence") else None,
                                     new_due=date.fromisoformat(p["new_due"]) if p.get("new_due") else None,
                                     note=p.get("note") or ""))
        await cancel_pending(session, task_id, reason=UNDONE)
    elif action == "task.set_deadline":
        for c in DEADLINE_COLUMNS:
            value = before.get(c)
            setattr(task, c, date.fromisoformat(value) if c == "deadline_due" and value else value)
        await cancel_pending(session, task_id, reason=UNDONE)
    elif action in ("task.reassign", "task.report_to"):
        base = {"lead": 0, "coordinator": 100, "report_to": 200}
        for role, agencies in before.items():
            await session.execute(delete(TaskAgency).where(TaskAgency.task_id == task_id, TaskAgency.role == role))
            for n, a in enumerate(agencies):
                session.add(TaskAgency(task_id=task_id, agency_id=a["agency_id"], role=role, written=a["written"],
                                       position=a.get("position", base.get(role, 0) + n)))
        await cancel_pending(session, task_id, reason=UNDONE)
    elif action == "task.cancel":
        task.status = before.get("status", OPEN)
    elif action == "task.edit":
        task.text = before.get("text", task.text)
    elif action == "task.add":
        _audit(session, by, "task.undo", entry.target, after, None, undid=entry.id, action_undone=action)
        await session.delete(task)
        await session.flush()
        return
    else:
        raise CannotUndo("Loại thay đổi này không hoàn tác được.")
    task.updated_at = datetime.now(UTC)
    _audit(session, by, "task.undo", entry.target, after, before, undid=entry.id, action_undone=action)
    await session.flush()
