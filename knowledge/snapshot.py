"""Rows kept in an audit row as JSON and written back with the same ids: what lets /hoantac bring back a
deleted task or plan (its roles, progress and reminders) and split a merged agency again.

Only plain columns (numbers, text, booleans, dates, times, JSON) are kept; the ids are kept too, so
whatever still refers to them (audit rows, conversation state, another instance's cache) finds them again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

CHUNK = 500  # rows per INSERT when writing back a large plan


def dump(row: DeclarativeBase) -> dict[str, Any]:
    """One row's columns as JSON-able values (dates and times as ISO text)."""
    out: dict[str, Any] = {}
    for column in row.__table__.columns:
        value = getattr(row, column.key)
        out[column.key] = value.isoformat() if isinstance(value, date | datetime) else value
    return out


def dump_all(rows: Iterable[DeclarativeBase]) -> list[dict[str, Any]]:
    return [dump(r) for r in rows]


def _load(model: type[DeclarativeBase], data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in model.__table__.columns:
        if column.key not in data:
            continue
        value = data[column.key]
        if isinstance(value, str) and isinstance(column.type, DateTime):
            value = datetime.fromisoformat(value)
        elif isinstance(value, str) and isinstance(column.type, Date):
            value = date.fromisoformat(value)
        out[column.key] = value
    return out


async def restore(session: AsyncSession, model: type[DeclarativeBase], rows: Sequence[dict[str, Any]]) -> int:
    """Write rows back with their ids (Core INSERT: no ORM cascade, the caller orders parents first)."""
    values = [_load(model, r) for r in rows]
    for i in range(0, len(values), CHUNK):
        await session.execute(insert(model), values[i:i + CHUNK])
    return len(values)


async def existing(session: AsyncSession, column: Any, ids: Iterable[int]) -> set[int]:
    """Which of `ids` are still rows of `column`'s table (a row restored must not point to one gone)."""
    wanted = set(ids)
    if not wanted:
        return set()
    return set((await session.scalars(select(column).where(column.in_(wanted)))).all())
