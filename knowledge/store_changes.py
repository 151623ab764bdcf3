"""Which plans changed since an index last looked: the store's change log (migration 0010).

Database triggers write one row per changed plan, task or task agency (the plan's id), and one row
without a plan per change to the agency registry, whoever writes (importer, admin, restore, another
instance). A reader remembers the ids it applied; asking "anything new?" is one small range query.

PostgreSQL hands out ids when a row is written, not when its transaction commits, so a row may appear
below the newest id already seen: the last WINDOW ids are compared by count, not only by the maximum.
The table stays out of Base.metadata: it is a signal between instances, not data to back up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Column, Integer, MetaData, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

CHANGES = Table("store_changes", MetaData(), Column("id", Integer, primary_key=True), Column("plan_id", Integer))
WINDOW = 1000  # ids below the newest seen that may still commit late
REGISTRY = None  # a row without a plan: the agency registry changed


@dataclass
class Seen:
    """The log as far as an index has applied it."""

    top: int = 0  # highest id applied
    recent: set[int] = field(default_factory=set)  # ids applied in (top - WINDOW, top]

    @property
    def floor(self) -> int:
        return self.top - WINDOW


@dataclass
class Changes:
    seen: Seen  # the log as far as these changes reach
    plans: set[int | None]  # plan ids; None: the agency registry
    lost: bool = False  # rows the index never saw were pruned: rebuild it


async def mark(session: AsyncSession) -> Seen:
    """The log's state now: read before loading the store for a full build (a change written during
    the build is then applied again, which is harmless)."""
    top = int(await session.scalar(select(func.coalesce(func.max(CHANGES.c.id), 0))) or 0)
    ids = (await session.scalars(select(CHANGES.c.id).where(CHANGES.c.id > top - WINDOW))).all()
    return Seen(top, set(ids))


async def since(session: AsyncSession, seen: Seen) -> Changes | None:
    """The plans changed after `seen`, or None when nothing did (the common case: one query)."""
    row = (await session.execute(select(func.count(CHANGES.c.id), func.max(CHANGES.c.id))
                                 .where(CHANGES.c.id > seen.floor))).one()
    count, top = int(row[0]), int(row[1] or 0)
    if count == len(seen.recent) and top == seen.top:
        return None
    top = max(top, seen.top)
    late = [(i, p) for i, p in await session.execute(
        select(CHANGES.c.id, CHANGES.c.plan_id).where(CHANGES.c.id > seen.floor, CHANGES.c.id <= seen.top))
        if i not in seen.recent]
    plans: set[int | None] = {p for _, p in late}
    plans.update((await session.scalars(select(CHANGES.c.plan_id).distinct().where(CHANGES.c.id > seen.top,
                                                                                   CHANGES.c.id <= top))).all())
    lowest = int(await session.scalar(select(func.coalesce(func.min(CHANGES.c.id), 0))) or 0)
    recent = {i for i in seen.recent if i > top - WINDOW} | {i for i, _ in late if i > top - WINDOW}
    recent.update((await session.scalars(select(CHANGES.c.id).where(CHANGES.c.id > max(seen.top, top - WINDOW),
                                                                    CHANGES.c.id <= top))).all())
    return Changes(Seen(top, recent), plans, lost=lowest > seen.top + 1 and seen.top > 0)
