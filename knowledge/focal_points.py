"""Focal points (cán bộ đầu mối): who answers for an agency in which chat.

Registration (/dangky) adds them pending or approved; admins approve or remove them; the
reminder planner sends to the approved ones; the dispatcher marks a chat unreachable when the
platform says the user blocked the bot. Functions take a session and flush, never commit:
the caller decides the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.models import AuditEntry, FocalPoint, Outbox
from knowledge.text import nfc

PENDING = "pending"
APPROVED = "approved"
UNREACHABLE = "unreachable"
REMOVED = "removed"


async def add(
    session: AsyncSession,
    agency_id: int,
    channel: str,
    chat_id: str | int,
    *,
    user_id: str | int | None = None,
    name: str | None = None,
    approved_by: str | None = None,
) -> FocalPoint:
    """Register a chat for an agency: approved at once when `approved_by` is given, else pending.

    Registering the same chat again for the same agency revives the existing row (a removed or
    unreachable focal point who writes again) instead of failing on the unique key.
    """
    chat = str(chat_id)
    row = await session.scalar(
        select(FocalPoint).where(
            FocalPoint.agency_id == agency_id, FocalPoint.channel == channel, FocalPoint.chat_id == chat
        )
    )
    if row is None:
        row = FocalPoint(agency_id=agency_id, channel=channel, chat_id=chat)
        session.add(row)
    if user_id is not None:
        row.user_id = str(user_id)
    if name:
        row.name = nfc(name).strip()
    if approved_by:
        row.status = APPROVED
        row.approved_by = approved_by
    elif row.status != APPROVED:
        row.status = PENDING
    await session.flush()
    session.add(AuditEntry(actor=approved_by or f"{channel}:{user_id or chat}", action="focal.add",
                           target=f"focal:{row.id}",
                           details={"agency_id": agency_id, "channel": channel, "chat_id": chat,
                                    "status": row.status}))
    return row


async def get(session: AsyncSession, focal_id: int) -> FocalPoint | None:
    return await session.get(FocalPoint, focal_id)


async def approve(session: AsyncSession, focal_id: int, by: str) -> FocalPoint | None:
    """Approve a pending (or revive an unreachable) focal point; None when it does not exist."""
    row = await session.get(FocalPoint, focal_id)
    if row is None:
        return None
    row.status = APPROVED
    row.approved_by = by
    session.add(AuditEntry(actor=by, action="focal.approve", target=f"focal:{row.id}"))
    await session.flush()
    return row


async def remove(session: AsyncSession, focal_id: int, by: str, action: str = "focal.remove") -> FocalPoint | None:
    """Reject a pending request or remove an approved focal point (kept for history, status removed)."""
    row = await session.get(FocalPoint, focal_id)
    if row is None:
        return None
    row.status = REMOVED
    session.add(AuditEntry(actor=by, action=action, target=f"focal:{row.id}"))
    await session.flush()
    return row


async def reject(session: AsyncSession, focal_id: int, by: str) -> FocalPoint | None:
    """Refuse a pending registration (same effect as remove, recorded as a rejection)."""
    return await remove(session, focal_id, by, action="focal.reject")


async def mark_unreachable(session: AsyncSession, channel: str, chat_id: str | int,
                           reason: str = "") -> list[FocalPoint]:
    """The platform said a chat is gone (the user blocked the bot, 403): every focal point of that chat
    is marked unreachable and its pending reminders are cancelled, until the chat writes again.

    The one place this fact is written (the dispatcher and every channel call it). Returns the rows
    newly marked: empty when the chat was no focal point or was marked already.
    """
    rows = [r for r in await get_by_chat(session, channel, chat_id) if r.status != UNREACHABLE]
    for row in rows:
        row.status = UNREACHABLE
        session.add(AuditEntry(actor="system", action="focal.unreachable", target=f"focal:{row.id}",
                               details={"reason": reason[:500]}))
    ids = [r.id for r in await get_by_chat(session, channel, chat_id)]
    if ids:
        await session.execute(
            update(Outbox).where(Outbox.focal_point_id.in_(ids), Outbox.status == "pending")
            .values(status="cancelled", last_error="đầu mối không nhận được tin nhắn"))
    await session.flush()
    return rows


async def list_focal_points(
    session: AsyncSession,
    *,
    agency_ids: Iterable[int] | None = None,
    statuses: Iterable[str] | None = None,
) -> list[FocalPoint]:
    """Focal points, optionally of some agencies and in some statuses, in a stable order."""
    q = select(FocalPoint).order_by(FocalPoint.agency_id, FocalPoint.id)
    if agency_ids is not None:
        q = q.where(FocalPoint.agency_id.in_(list(agency_ids)))
    if statuses is not None:
        q = q.where(FocalPoint.status.in_(list(statuses)))
    return list((await session.scalars(q)).all())


async def approved_for(session: AsyncSession, agency_ids: Iterable[int]) -> list[FocalPoint]:
    """The reminder recipients of some agencies: their approved focal points."""
    return await list_focal_points(session, agency_ids=agency_ids, statuses=[APPROVED])


async def pending(session: AsyncSession) -> list[FocalPoint]:
    """Registrations waiting for an admin."""
    return await list_focal_points(session, statuses=[PENDING])


async def get_by_chat(session: AsyncSession, channel: str, chat_id: str | int) -> list[FocalPoint]:
    """Every focal-point row of one chat (one chat may answer for several agencies), not removed."""
    q = (
        select(FocalPoint)
        .where(FocalPoint.channel == channel, FocalPoint.chat_id == str(chat_id), FocalPoint.status != REMOVED)
        .order_by(FocalPoint.id)
    )
    return list((await session.scalars(q)).all())
