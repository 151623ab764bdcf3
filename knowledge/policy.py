"""When to remind: offsets in working days, the hour, the overdue series, per store, plan or task.

The most specific ReminderPolicy row wins (task, then plan, then store); without any row the
issue's default applies: 7, 3 and 1 working days before, on the due day, at 08:00, then every 3
working days after it, at most 5 times, lead agencies only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.models import AuditEntry, ReminderPolicy

SCOPES = ("store", "plan", "task")


@dataclass(frozen=True)
class Policy:
    offsets: tuple[int, ...] = (7, 3, 1, 0)  # working days before the due day; 0 = the due day
    hour: int = 8  # Asia/Ho_Chi_Minh; load_policies puts settings.reminder_hour in the store-wide default
    overdue_every: int = 3  # working days between overdue reminders
    overdue_max: int = 5
    include_coordinators: bool = False


DEFAULT = Policy()


def _from_row(row: ReminderPolicy) -> Policy:
    return Policy(tuple(sorted({int(o) for o in row.offsets if int(o) >= 0}, reverse=True)), row.hour,
                  row.overdue_every, row.overdue_max, row.include_coordinators)


class PolicyBook:
    """All policy rows in memory; `for_task` picks the one that applies."""

    def __init__(self, rows: list[ReminderPolicy] | None = None, default: Policy = DEFAULT) -> None:
        self.default = default
        self.by_scope: dict[tuple[str, int | None], Policy] = {}
        for r in rows or []:
            self.by_scope[(r.scope, r.scope_id if r.scope != "store" else None)] = _from_row(r)

    def for_task(self, task_id: int, plan_id: int) -> Policy:
        for key in (("task", task_id), ("plan", plan_id), ("store", None)):
            if key in self.by_scope:
                return self.by_scope[key]
        return self.default


async def load_policies(session: AsyncSession, default_hour: int) -> PolicyBook:
    """All policies; `default_hour` (settings.reminder_hour) where no row applies."""
    rows = list((await session.scalars(select(ReminderPolicy))).all())
    return PolicyBook(rows, Policy(hour=default_hour))


def validate(
    offsets: list[int] | None, hour: int | None, overdue_every: int | None, overdue_max: int | None
) -> str | None:
    """A Vietnamese explanation of what is wrong with a policy, or None when it is fine."""
    if offsets is not None and (not offsets or any(o < 0 or o > 60 for o in offsets)):
        return "Số ngày nhắc trước hạn phải là các số từ 0 đến 60 (0 là đúng ngày hạn)."
    if hour is not None and not 0 <= hour <= 23:
        return "Giờ nhắc phải từ 0 đến 23."
    if overdue_every is not None and not 1 <= overdue_every <= 30:
        return "Khoảng cách nhắc khi quá hạn phải từ 1 đến 30 ngày làm việc."
    if overdue_max is not None and not 0 <= overdue_max <= 20:
        return "Số lần nhắc khi quá hạn phải từ 0 đến 20."
    return None


async def set_policy(
    session: AsyncSession,
    scope: str,
    scope_id: int | None = None,
    *,
    offsets: list[int] | None = None,
    hour: int | None = None,
    overdue_every: int | None = None,
    overdue_max: int | None = None,
    include_coordinators: bool | None = None,
    by: str = "admin",
) -> ReminderPolicy:
    """Create or change the policy of a scope; fields left None keep their value (or the default).

    Raises ValueError with a Vietnamese message on bad input, changing nothing.
    """
    if scope not in SCOPES or (scope == "store") != (scope_id is None):
        raise ValueError("Phạm vi phải là toàn bộ (store), một kế hoạch (plan) hoặc một nhiệm vụ (task).")
    problem = validate(offsets, hour, overdue_every, overdue_max)
    if problem:
        raise ValueError(problem)
    q = select(ReminderPolicy).where(ReminderPolicy.scope == scope)
    q = q.where(ReminderPolicy.scope_id.is_(None) if scope_id is None else ReminderPolicy.scope_id == scope_id)
    row = await session.scalar(q)
    if row is None:
        row = ReminderPolicy(scope=scope, scope_id=scope_id, offsets=list(DEFAULT.offsets), hour=DEFAULT.hour,
                             overdue_every=DEFAULT.overdue_every, overdue_max=DEFAULT.overdue_max,
                             include_coordinators=DEFAULT.include_coordinators)
        session.add(row)
    if offsets is not None:
        row.offsets = sorted(set(offsets), reverse=True)
    if hour is not None:
        row.hour = hour
    if overdue_every is not None:
        row.overdue_every = overdue_every
    if overdue_max is not None:
        row.overdue_max = overdue_max
    if include_coordinators is not None:
        row.include_coordinators = include_coordinators
    session.add(AuditEntry(actor=by, action="policy.set", target=f"{scope}:{scope_id or ''}",
                           details={"offsets": row.offsets, "hour": row.hour, "overdue_every": row.overdue_every,
                                    "overdue_max": row.overdue_max,
                                    "include_coordinators": row.include_coordinators}))
    await session.flush()
    return row


async def clear_policy(session: AsyncSession, scope: str, scope_id: int | None = None, by: str = "admin") -> None:
    """Drop a scope's policy: the next wider one applies again."""
    q = delete(ReminderPolicy).where(ReminderPolicy.scope == scope)
    q = q.where(ReminderPolicy.scope_id.is_(None) if scope_id is None else ReminderPolicy.scope_id == scope_id)
    await session.execute(q)
    session.add(AuditEntry(actor=by, action="policy.clear", target=f"{scope}:{scope_id or ''}"))
    await session.flush()
