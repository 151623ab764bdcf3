"""Changes to whole plans by an admin: archive (kept, no more reminders), bring back, delete.

Each writes one audit row. Functions take a session and flush; the caller commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge import snapshot
from knowledge.changes import CannotUndo, later_changes, restore_tasks, tasks_snapshot, undone_ids
from knowledge.models import Agency, AuditEntry, Outbox, Plan, Task

STOPPED_ARCHIVED = "kế hoạch đã lưu trữ"


async def list_plans(session: AsyncSession) -> list[tuple[Plan, int]]:
    """Every plan with its number of tasks, newest issue first (undated last)."""
    counts = {r[0]: int(r[1]) for r in await session.execute(select(Task.plan_id, func.count(Task.id))
                                                               .group_by(Task.plan_id))}
    plans = (await session.scalars(select(Plan).order_by(Plan.issued_on.desc().nulls_last(), Plan.id))).all()
    return [(p, counts.get(p.id, 0)) for p in plans]


async def archive(session: AsyncSession, plan: Plan, by: str, now: datetime) -> int:
    """Stop reminding a plan's tasks (its pending reminders are cancelled); returns how many stopped."""
    before = plan.archived_at.isoformat() if plan.archived_at else None
    plan.archived_at = now
    task_ids = select(Task.id).where(Task.plan_id == plan.id)
    result = await session.execute(update(Outbox).where(Outbox.task_id.in_(task_ids), Outbox.status == "pending")
                                   .values(status="cancelled", last_error=STOPPED_ARCHIVED))
    stopped = int(result.rowcount or 0)  # type: ignore[attr-defined]
    session.add(AuditEntry(actor=by, action="plan.archive", target=f"plan:{plan.id}",
                           before={"archived_at": before}, after={"archived_at": now.isoformat()},
                           details={"cancelled": stopped}))
    await session.flush()
    return stopped


async def unarchive(session: AsyncSession, plan: Plan, by: str) -> None:
    """Remind a plan's tasks again (the planner's next tick plans them)."""
    before = plan.archived_at.isoformat() if plan.archived_at else None
    plan.archived_at = None
    session.add(AuditEntry(actor=by, action="plan.unarchive", target=f"plan:{plan.id}",
                           before={"archived_at": before}, after={"archived_at": None}))
    await session.flush()


async def delete_plan(session: AsyncSession, plan: Plan, by: str) -> int:
    """Delete a plan with its tasks, their progress and reminders; returns how many tasks went. All of it is
    kept in the audit row, so /hoantac brings the plan back with the same ids."""
    task_ids = list((await session.scalars(select(Task.id).where(Task.plan_id == plan.id))).all())
    kept = {"plan": snapshot.dump(plan), **await tasks_snapshot(session, task_ids)}
    session.add(AuditEntry(actor=by, action="plan.delete", target=f"plan:{plan.id}",
                           before={"plan_id": plan.id, "identity": plan.identity, "number": plan.number,
                                   "title": plan.title[:300], "tasks": len(task_ids), "snapshot": kept},
                           after=None))
    await session.delete(plan)
    await session.flush()
    return len(task_ids)


UNDOABLE = ("plan.archive", "plan.unarchive", "plan.delete")


async def _undo_delete(session: AsyncSession, entry: AuditEntry) -> None:
    kept = (entry.before or {}).get("snapshot")
    if not kept:
        raise CannotUndo("Kế hoạch này bị xóa trước khi nhật ký giữ bản sao; hãy gửi lại tệp kế hoạch.")
    row = kept["plan"]
    again = await session.scalar(select(Plan.id).where(Plan.identity == row["identity"]))
    if again is not None or await session.get(Plan, row["id"]) is not None:
        raise CannotUndo("Kế hoạch này đã được nhập lại sau khi xóa; không khôi phục bản cũ.")
    if row.get("monitor_agency_id") and not await snapshot.existing(session, Agency.id, [row["monitor_agency_id"]]):
        row = {**row, "monitor_agency_id": None}
    await snapshot.restore(session, Plan, [row])
    await restore_tasks(session, kept)


async def undo(session: AsyncSession, entry: AuditEntry, by: str) -> str:
    """Put a plan's archive state back as it was before `entry`, or bring a deleted plan back whole; returns
    the plan's id as text. CannotUndo when the plan is gone, stored again, or changed again since."""
    if await later_changes(session, entry, UNDOABLE):
        raise CannotUndo("Sau thay đổi này kế hoạch đã được thay đổi tiếp; hãy hoàn tác thay đổi sau trước.")
    plan_id = int(entry.target.split(":", 1)[1])
    if entry.action == "plan.delete":
        await _undo_delete(session, entry)
    else:
        plan = await session.get(Plan, plan_id)
        if plan is None:
            raise CannotUndo("Kế hoạch này đã bị xóa.")
        before = (entry.before or {}).get("archived_at")
        plan.archived_at = datetime.fromisoformat(before) if before else None
    session.add(AuditEntry(actor=by, action="plan.undo", target=entry.target, before=entry.after,
                           after=None if entry.action == "plan.delete" else entry.before,
                           details={"undid": entry.id, "action_undone": entry.action}))
    await session.flush()
    return str(plan_id)


async def undo_import(session: AsyncSession, entry: AuditEntry, by: str) -> None:
    """Take back a plan stored from chat: a new plan goes out again, when nothing of it changed since. A new
    version of a stored plan is not taken back (the older file is sent again instead)."""
    details = entry.details or {}
    plan_id = details.get("plan_id")
    if details.get("status") != "new" or not plan_id:
        raise CannotUndo("Việc nhập bản mới của một kế hoạch đã có không hoàn tác được; hãy gửi lại tệp bản trước.")
    plan = await session.get(Plan, plan_id)
    if plan is None:
        raise CannotUndo("Kế hoạch này đã bị xóa.")
    task_ids = list((await session.scalars(select(Task.id).where(Task.plan_id == plan_id))).all())
    targets = {f"plan:{plan_id}", plan.identity[:200], *(f"task:{i}" for i in task_ids)}
    later = (await session.execute(select(AuditEntry.id, AuditEntry.target).where(AuditEntry.id > entry.id))).all()
    undone = await undone_ids(session)
    if any(target in targets and i not in undone and i != entry.id for i, target in later):
        raise CannotUndo("Kế hoạch đã được thay đổi sau khi nhập (việc, hạn, lưu trữ...); hãy hoàn tác các thay đổi "
                         "đó trước, hoặc xóa kế hoạch bằng /kehoach.")
    await session.delete(plan)
    session.add(AuditEntry(actor=by, action="import.undo", target=entry.target, before={"plan_id": plan_id},
                           after=None, details={"undid": entry.id, "action_undone": entry.action}))
    await session.flush()
