"""Building blocks for the reminder tests: plans and tasks written straight into the store,
focal points, and a small in-test channel that records what it was asked to send."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

from core.clock import FixedClock
from core.messages import Choice, RetryLater, Unreachable
from knowledge import focal_points
from knowledge.agencies import Registry, ensure_agency
from knowledge.db import Database
from knowledge.models import Plan, Task, TaskAgency
from knowledge.policy import set_policy
from scheduler import planner

HOUR = 8  # NHACVIEC_REMINDER_HOUR's default: reminders at 08:00 where no policy names an hour


@dataclass
class TaskSpec:
    text: str
    leads: list[str]
    kind: str | None = None
    due: date | None = None
    month: int | None = None
    day: int | None = None
    deadline_text: str = ""
    ref: str = ""
    coordinators: list[str] = field(default_factory=list)


async def make_plan(db: Database, tasks: list[TaskSpec], number: str | None = "3021/KH-UBND",
                    issued_on: date | None = date(2020, 8, 25), title: str = "Kế hoạch thử") -> list[int]:
    """A plan with tasks and their agencies; returns the task ids in order."""
    ids = []
    async with db.session() as s:
        reg = await Registry.load(s)
        plan = Plan(identity=number or title, number=number, kind="Kế hoạch", issued_on=issued_on, title=title,
                    content_hash=hashlib.sha256((number or title).encode()).hexdigest())
        s.add(plan)
        await s.flush()
        for i, t in enumerate(tasks):
            task = Task(plan_id=plan.id, position=i, ref=t.ref, text=t.text,
                        fingerprint=hashlib.sha256(f"{i}{t.text}".encode()).hexdigest(),
                        deadline_kind=t.kind, deadline_due=t.due, deadline_month=t.month, deadline_day=t.day,
                        deadline_text=t.deadline_text or None)
            s.add(task)
            await s.flush()
            for pos, (role, names) in enumerate((("lead", t.leads), ("coordinator", t.coordinators))):
                for j, name in enumerate(names):
                    info = await ensure_agency(s, reg, name)
                    s.add(TaskAgency(task_id=task.id, agency_id=info.id, role=role, written=name,
                                     position=pos * 100 + j))
            ids.append(task.id)
        await s.commit()
    return ids


async def agency_id(db: Database, name: str) -> int:
    async with db.session() as s:
        info = (await Registry.load(s)).lookup(name)
    assert info is not None, name
    return info.id


async def add_focal(db: Database, agency: str, chat_id: str | int, channel: str = "telegram") -> int:
    aid = await agency_id(db, agency)
    async with db.session() as s:
        row = await focal_points.add(s, aid, channel, chat_id, approved_by="test")
        await s.commit()
        return row.id


class RecordingChannel:
    """A channel for tests that do not need a platform: records sends, can be told to fail."""

    channel = "console"
    max_per_second = None
    per_chat_interval = None

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, list[Choice]]] = []
        self.blocked: set[str] = set()
        self.busy: int = 0  # how many next sends answer RetryLater

    async def send(self, chat_id: str, text: str, choices: list[Choice] | None = None) -> str:
        if chat_id in self.blocked:
            raise Unreachable("blocked")
        if self.busy:
            self.busy -= 1
            raise RetryLater(0.01, "busy")
        self.sent.append((chat_id, text, list(choices or [])))
        return str(len(self.sent))


async def due_batch(db: Database, day: date, tasks: int, chats: int, first_chat: int, *, plan: bool = True,
                    by: str = "test") -> FixedClock:
    """A delivery load: `tasks` tasks of Sở Tài chính due `day`, `chats` approved focal points, reminded only
    on the due day; with `plan`, the outbox is filled (tasks × chats rows). Returns a clock at 09:00 that day."""
    await make_plan(db, [TaskSpec(f"Nhiệm vụ thử số {i + 1}.", ["Sở Tài chính"], kind="date", due=day,
                                  deadline_text=f"trước ngày {day:%d/%m/%Y}") for i in range(tasks)])
    tc = await agency_id(db, "Sở Tài chính")
    clock = FixedClock.on(day, 9)
    async with db.session() as s:
        await set_policy(s, "store", offsets=[0], overdue_max=0)
        for i in range(chats):
            await focal_points.add(s, tc, "telegram", first_chat + i, approved_by=by)
        if plan:
            await planner.run_planner(s, clock.now(), HOUR)
        await s.commit()
    return clock
