"""Read-only store queries the answerer needs, returning plain rows rather than ORM objects.

The search index holds every task in memory; loading them as light dataclasses with three bulk
SELECTs (plans, tasks, task agencies) keeps a rebuild of 100,000 tasks to seconds, not minutes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.deadlines import Deadline
from knowledge.due import task_deadline
from knowledge.labels import plan_label
from knowledge.models import Agency, AgencyAlias, FocalPoint, Plan, Task, TaskAgency, TaskProgress


@dataclass
class PlanDoc:
    id: int
    number: str | None
    kind: str
    title: str
    issuer: str | None
    issued_on: date | None
    task_ids: list[int] = field(default_factory=list)
    signer: str | None = None

    @property
    def label(self) -> str:
        """How an answer cites the plan (knowledge.labels.plan_label, as reminders do)."""
        return plan_label(self.kind, self.number, self.issued_on, self.title)

    @property
    def short(self) -> str:
        """A short citation for list lines: "KH 3021" or the first words of the title."""
        if self.number:
            return f"KH {self.number.split('/')[0]}" if self.kind == "Kế hoạch" else f"{self.kind} {self.number}"
        words = self.title.split()
        head = " ".join(words[:6])
        return f"KH “{head}…”" if len(words) > 6 else f"KH “{head}”"


LOAD_BATCH = 2000  # rows fetched at a time when loading tasks
_SHARED: dict[Any, Any] = {}  # one copy of the values tasks repeat (refs, statuses, agency names as written)


def shared(value: Any) -> Any:
    """The one stored copy of an immutable value equal to `value`."""
    return _SHARED.setdefault(value, value)


class TaskDoc:
    """One task as the answerer sees it. The search index holds one per task for the life of the
    process, so it is kept small: slots, no per-task dict, the text as UTF-8 (Vietnamese letters take
    2 bytes in a str, mostly 1 here), repeated strings and role rows shared between tasks."""

    __slots__ = (
        "_roles",
        "_text",
        "deadline_day",
        "deadline_due",
        "deadline_kind",
        "deadline_month",
        "deadline_text",
        "id",
        "plan_id",
        "position",
        "ref",
        "status",
    )

    def __init__(self, id: int, plan_id: int, position: int, ref: str, text: str, status: str,
                 deadline_kind: str | None, deadline_due: date | None, deadline_month: int | None,
                 deadline_day: int | None, deadline_text: str | None,
                 roles: dict[str, list[tuple[int, str]]] | None = None) -> None:
        self.id = id
        self.plan_id: int = shared(plan_id)
        self.position = position
        self.ref: str = shared(ref)
        self._text = text.encode("utf-8")
        self.status: str = shared(status)
        self.deadline_kind: str | None = shared(deadline_kind)
        self.deadline_due = deadline_due
        self.deadline_month = deadline_month
        self.deadline_day = deadline_day
        self.deadline_text: str | None = shared(deadline_text)
        # (role, agency id, name as the plan wrote it), in the plan's order within each role
        self._roles: tuple[tuple[str, int, str], ...] = ()
        for role, rows in (roles or {}).items():
            for aid, written in rows:
                self.add_role(role, aid, written)

    @property
    def text(self) -> str:
        return self._text.decode("utf-8")

    @property
    def roles(self) -> dict[str, list[tuple[int, str]]]:
        """role -> [(agency id, name as the plan wrote it)], in the plan's order (a new dict each time)."""
        out: dict[str, list[tuple[int, str]]] = {}
        for role, aid, written in self._roles:
            out.setdefault(role, []).append((aid, written))
        return out

    def add_role(self, role: str, agency_id: int, written: str) -> None:
        self._roles = (*self._roles, shared((shared(role), agency_id, shared(written))))

    def _fields(self) -> tuple[Any, ...]:
        return (self.id, self.plan_id, self.position, self.ref, self._text, self.status, self.deadline_kind,
                self.deadline_due, self.deadline_month, self.deadline_day, self.deadline_text, self._roles)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TaskDoc) and self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # equal by value, and not frozen

    def __repr__(self) -> str:
        return f"TaskDoc(id={self.id}, plan_id={self.plan_id}, ref={self.ref!r}, text={self.text[:40]!r}…)"

    def deadline(self) -> Deadline | None:
        """The stored deadline as the importer's Deadline (None when the plan gives no time)."""
        return task_deadline(self)

    def agency_ids(self, role: str | None = None) -> list[int]:
        return [a for r, a, _ in self._roles if role is None or r == role]

    def written(self, role: str) -> list[str]:
        return [w for r, _, w in self._roles if r == role]


async def load_docs(session: AsyncSession,
                    plan_ids: Collection[int] | None = None) -> tuple[dict[int, PlanDoc], list[TaskDoc]]:
    """Every plan and every task (with its agencies), in plan then position order; only the plans
    `plan_ids` names (those still stored) when given."""
    plans: dict[int, PlanDoc] = {}
    plan_q = select(Plan.id, Plan.number, Plan.kind, Plan.title, Plan.issuer, Plan.issued_on, Plan.signer)
    task_q = select(Task.id, Task.plan_id, Task.position, Task.ref, Task.text, Task.status, Task.deadline_kind,
                    Task.deadline_due, Task.deadline_month, Task.deadline_day, Task.deadline_text)
    link_q = select(TaskAgency.task_id, TaskAgency.agency_id, TaskAgency.role, TaskAgency.written)
    if plan_ids is not None:
        wanted = sorted(plan_ids)
        plan_q = plan_q.where(Plan.id.in_(wanted))
        task_q = task_q.where(Task.plan_id.in_(wanted))
        link_q = link_q.join(Task, Task.id == TaskAgency.task_id).where(Task.plan_id.in_(wanted))
    for row in await session.execute(plan_q.order_by(Plan.id)):
        plans[row.id] = PlanDoc(row.id, row.number, row.kind or "Kế hoạch", row.title or "", row.issuer, row.issued_on,
                                signer=row.signer)
    tasks: dict[int, TaskDoc] = {}
    # Streamed in batches: a 100,000-task store read at once leaves its row objects between the tasks
    # kept, and the process keeps that memory.
    async for r in _rows(session, task_q.order_by(Task.plan_id, Task.position, Task.id)):
        tasks[r.id] = TaskDoc(r.id, r.plan_id, r.position, r.ref or "", r.text, r.status, r.deadline_kind,
                              r.deadline_due, r.deadline_month, r.deadline_day, r.deadline_text)
    async for ta in _rows(session, link_q.order_by(TaskAgency.task_id, TaskAgency.position, TaskAgency.id)):
        doc = tasks.get(ta.task_id)
        if doc is not None:
            doc.add_role(ta.role, ta.agency_id, ta.written)
    ordered = list(tasks.values())
    for t in ordered:
        if t.plan_id in plans:
            plans[t.plan_id].task_ids.append(t.id)
    return plans, ordered


async def _rows(session: AsyncSession, query: Any) -> AsyncIterator[Any]:
    result = await session.stream(query.execution_options(yield_per=LOAD_BATCH))
    async for part in result.partitions():
        for row in part:
            yield row


async def chat_agencies(session: AsyncSession, channel: str, chat_id: str) -> list[int]:
    """The agencies a chat answers for: its approved focal-point rows (empty when not registered)."""
    q = (
        select(FocalPoint.agency_id)
        .where(FocalPoint.channel == channel, FocalPoint.chat_id == str(chat_id), FocalPoint.status == "approved")
        .order_by(FocalPoint.id)
    )
    return list((await session.scalars(q)).all())


async def agency_spellings(session: AsyncSession) -> list[tuple[int, str]]:
    """Every agency's name and aliases as written, for finding agencies named in free text."""
    rows = [(r.id, r.name) for r in await session.execute(select(Agency.id, Agency.name))]
    rows += [(r.agency_id, r.alias) for r in await session.execute(select(AgencyAlias.agency_id, AgencyAlias.alias))]
    return rows


@dataclass
class ProgressRow:
    agency_id: int
    occurrence: date | None
    status: str
    new_due: date | None
    by: str
    at: datetime


async def task_progress(session: AsyncSession, task_id: int) -> list[ProgressRow]:
    """What was recorded on one task (done, extended), oldest first: "đã hoàn thành chưa?" reads it."""
    q = (select(TaskProgress.agency_id, TaskProgress.occurrence, TaskProgress.status, TaskProgress.new_due,
                TaskProgress.by, TaskProgress.at)
         .where(TaskProgress.task_id == task_id).order_by(TaskProgress.at, TaskProgress.id))
    return [ProgressRow(r.agency_id, r.occurrence, r.status, r.new_due, r.by, r.at) for r in await session.execute(q)]
