"""knowledge.changes: every change to a task writes exactly one audit row with the value before and
after, stops the reminders it makes pointless, and is what every reader sees next (knowledge.due)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from core.clock import FixedClock
from knowledge import changes
from knowledge.db import Database
from knowledge.deadlines import Deadline
from knowledge.due import due_on, load_dues, task_deadline
from knowledge.models import AuditEntry, Outbox, Task, TaskAgency
from scheduler import planner
from tests.reminder_fixtures import HOUR, TaskSpec, add_focal, agency_id, make_plan

SPEC = TaskSpec("Hoàn thiện đề án chuyển đổi số.", ["Sở Tài chính"], kind="date", due=date(2026, 12, 15),
                deadline_text="trước ngày 15/12/2026")
NOW = FixedClock.on(date(2026, 12, 10), 7).now()


async def _setup(db: Database) -> tuple[int, int]:
    [tid] = await make_plan(db, [SPEC])
    await add_focal(db, "Sở Tài chính", 21)
    async with db.session() as s:
        await planner.run_planner(s, NOW, HOUR)
        await s.commit()
    return tid, await agency_id(db, "Sở Tài chính")


async def _audit(db: Database, action: str) -> AuditEntry:
    async with db.session() as s:
        rows = (await s.scalars(select(AuditEntry).where(AuditEntry.action == action))).all()
    assert len(rows) == 1, action
    return rows[0]


async def _pending(db: Database) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(Outbox).where(Outbox.status == "pending")) or 0)


async def test_done_then_reopen_each_leave_one_audit_row_and_the_task_is_due_again(db: Database) -> None:
    tid, tc = await _setup(db)
    assert await _pending(db) > 0
    async with db.session() as s:
        await changes.mark_done(s, tid, tc, None, "telegram:21")
        await s.commit()
        assert (await load_dues(s, date(2026, 12, 20))).progress.is_done(tid, None)
    done = await _audit(db, "task.done")
    assert (done.actor, done.before, done.after["done"]) == ("telegram:21", {"done": False}, True)
    assert await _pending(db) == 0
    async with db.session() as s:
        assert await changes.reopen(s, tid, tc, None, "telegram:900") == 1
        await s.commit()
        dues = await load_dues(s, date(2026, 12, 20))
    again = await _audit(db, "task.reopen")
    assert again.before["done"][0]["by"] == "telegram:21" and again.after["done"] == []
    assert not dues.progress.is_done(tid, None)
    async with db.session() as s:
        await planner.run_planner(s, NOW, HOUR)  # reminders come back with the next tick
        await s.commit()
    assert await _pending(db) > 0


async def test_set_deadline_keeps_the_old_columns_for_undo(db: Database) -> None:
    tid, _ = await _setup(db)
    async with db.session() as s:
        await changes.set_deadline(s, tid, Deadline("date", date(2027, 1, 29), None, None, "trước ngày 29/01/2027"),
                                   "telegram:900")
        await s.commit()
        task = await s.get(Task, tid)
        assert task is not None and task_deadline(task) == Deadline("date", date(2027, 1, 29), None, None,
                                                                      "trước ngày 29/01/2027")
    entry = await _audit(db, "task.set_deadline")
    assert entry.before == {"deadline_kind": "date", "deadline_due": "2026-12-15", "deadline_month": None,
                            "deadline_day": None, "deadline_text": "trước ngày 15/12/2026"}
    assert entry.after["deadline_due"] == "2027-01-29" and entry.details["cancelled"] > 0
    assert await _pending(db) == 0


async def test_reassign_and_cancel(db: Database) -> None:
    tid, tc = await _setup(db)
    khcn = await agency_id(db, "Sở KH&CN")
    async with db.session() as s:
        await changes.reassign(s, tid, {"lead": [(khcn, "Sở Khoa học và Công nghệ")],
                                        "coordinator": [(tc, "Sở Tài chính")]}, "telegram:900")
        await s.commit()
        roles = (await s.execute(select(TaskAgency.role, TaskAgency.agency_id).where(TaskAgency.task_id == tid)
                                 .order_by(TaskAgency.position))).all()
    assert [tuple(r) for r in roles] == [("lead", khcn), ("coordinator", tc)]
    entry = await _audit(db, "task.reassign")
    assert entry.before["lead"] == [{"agency_id": tc, "written": "Sở Tài chính", "position": 0}]
    assert entry.after["lead"][0]["agency_id"] == khcn
    async with db.session() as s:
        await changes.cancel(s, tid, "telegram:900", "bỏ khỏi kế hoạch")
        await s.commit()
        dues = await load_dues(s, date(2026, 12, 20))
        task = await s.get(Task, tid)
    assert task is not None and task.status == "cancelled"
    assert (await _audit(db, "task.cancel")).before == {"status": "open"}
    assert due_on(tid, task.status, task_deadline(task), dues.today, dues.calendar, dues.progress) is None
    assert await _pending(db) == 0
