"""Focal points (cán bộ đầu mối): who answers for an agency in which chat.

Registration (/dangky) adds them pending or approved; admins approve or remove them; the
reminder planner sends to the approved ones; a chat that blocked the bot is marked unreachable
(`mark_unreachable`, by the dispatcher and the channels alike) until it writes again (`revive`).
Functions take a session and flush, never commit: the caller decides the transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.agencies import Registry
from knowledge.models import AuditEntry, FocalPoint, Outbox, RegistrationCode
from knowledge.text import nfc

PENDING = "pending"
APPROVED = "approved"
UNREACHABLE = "unreachable"
REMOVED = "removed"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud and retyped
CODE_LENGTH = 8
UNREACHABLE_NOTE = "đầu mối không nhận được tin nhắn"


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


async def mark_unreachable(session: AsyncSession, channel: str, chat_id: str | int, reason: str = "") -> str | None:
    """The platform says a chat is gone (the user blocked the bot, or it left the group): every focal
    point of the chat stops receiving reminders (its pending outbox rows are cancelled) until it writes
    again; one audit row per focal point. Returns what the admins must be told, or None when the chat
    was no focal point or was already marked (nothing new to say)."""
    chat = str(chat_id)
    rows = [r for r in await get_by_chat(session, channel, chat) if r.status != UNREACHABLE]
    if not rows:
        return None
    for row in rows:
        row.status = UNREACHABLE
        result = await session.execute(
            update(Outbox).where(Outbox.focal_point_id == row.id, Outbox.status == "pending")
            .values(status="cancelled", last_error=UNREACHABLE_NOTE))
        session.add(AuditEntry(actor="system", action="focal.unreachable", target=f"focal:{row.id}",
                               details={"reason": reason[:500], "cancelled": int(result.rowcount or 0)}))  # type: ignore[attr-defined]
    await session.flush()
    registry = await Registry.load(session)
    names = ", ".join(dict.fromkeys(registry.by_id[r.agency_id].name for r in rows))
    person = rows[0].name or chat
    return (f"Không gửi được tin cho {person} ({channel}, chat {chat}), cán bộ đầu mối của {names}: người dùng "
            "đã chặn hoặc rời bot. Đã đánh dấu không liên lạc được; cần chỉ định người khác hoặc liên hệ trực tiếp.")


async def revive(session: AsyncSession, channel: str, chat_id: str | int) -> int:
    """A chat marked unreachable wrote again: its focal points get back the state they had.

    mark_unreachable keeps approved_by, so a row that had been approved is approved again and a
    request that was still waiting goes back to the admins' list. Returns how many rows changed."""
    rows = [r for r in await get_by_chat(session, channel, chat_id) if r.status == UNREACHABLE]
    for r in rows:
        r.status = APPROVED if r.approved_by else PENDING
        session.add(AuditEntry(actor=f"{channel}:{chat_id}", action="focal.reachable", target=f"focal:{r.id}"))
    await session.flush()
    return len(rows)


async def issue_code(session: AsyncSession, agency_id: int, by: str, expires_at: datetime) -> str:
    """A one-use registration code for an agency (an admin hands it to the person who will answer)."""
    value = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    session.add(RegistrationCode(code=value, agency_id=agency_id, created_by=by, expires_at=expires_at))
    session.add(AuditEntry(actor=by, action="code.create", target=f"agency:{agency_id}", details={"code": value}))
    await session.flush()
    return value


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
