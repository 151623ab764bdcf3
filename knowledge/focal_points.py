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
from knowledge.changes import CannotUndo, later_changes
from knowledge.models import AuditEntry, FocalPoint, Outbox, RegistrationCode
from knowledge.text import nfc

PENDING = "pending"
APPROVED = "approved"
UNREACHABLE = "unreachable"
REMOVED = "removed"
MOVED = "moved"  # an outbox row handed over to the same person on another channel
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
    before = row.status
    row.status = APPROVED
    row.approved_by = by
    session.add(AuditEntry(actor=by, action="focal.approve", target=f"focal:{row.id}", before={"status": before},
                           after={"status": APPROVED}))
    await session.flush()
    return row


async def remove(session: AsyncSession, focal_id: int, by: str, action: str = "focal.remove") -> FocalPoint | None:
    """Reject a pending request or remove an approved focal point (kept for history, status removed)."""
    row = await session.get(FocalPoint, focal_id)
    if row is None:
        return None
    before = row.status
    row.status = REMOVED
    session.add(AuditEntry(actor=by, action=action, target=f"focal:{row.id}", before={"status": before},
                           after={"status": REMOVED}))
    await session.flush()
    return row


async def reject(session: AsyncSession, focal_id: int, by: str) -> FocalPoint | None:
    """Refuse a pending registration (same effect as remove, recorded as a rejection)."""
    return await remove(session, focal_id, by, action="focal.reject")


async def mark_unreachable(session: AsyncSession, channel: str, chat_id: str | int, reason: str = "",
                           *, in_flight: int | None = None) -> str | None:
    """The platform says a chat is gone (the user blocked the bot, left the group, or on Zalo OA no
    longer follows or has not written for 7 days): every focal point of the chat stops receiving
    reminders until it writes again; one audit row per focal point. Its pending outbox rows (and
    `in_flight`, the row whose send just failed) go to the same person's other linked channel when
    there is one (`hand_over`), else are cancelled. Returns what the admins must be told, or None when
    the chat was no focal point or was already marked (nothing new to say)."""
    chat = str(chat_id)
    every = await get_by_chat(session, channel, chat)
    rows = [r for r in every if r.status != UNREACHABLE]
    if not rows:  # already marked: a reminder claimed before that still goes to the other channel
        box = await session.get(Outbox, in_flight) if in_flight else None
        for owner in every:
            sibling = await fallback_for(session, owner) if box and box.focal_point_id == owner.id else None
            if sibling is not None:
                await hand_over(session, owner, sibling, in_flight)
        return None
    elsewhere: list[str] = []
    for row in rows:
        row.status = UNREACHABLE
        await session.flush()
        sibling = await fallback_for(session, row)
        moved = await hand_over(session, row, sibling, in_flight) if sibling is not None else 0
        if sibling is not None:
            elsewhere.append(sibling.channel)
        result = await session.execute(
            update(Outbox).where(Outbox.focal_point_id == row.id, Outbox.status == "pending")
            .values(status="cancelled", last_error=UNREACHABLE_NOTE))
        session.add(AuditEntry(actor="system", action="focal.unreachable", target=f"focal:{row.id}",
                               details={"reason": reason[:500], "moved": moved,
                                        "cancelled": int(result.rowcount or 0)}))  # type: ignore[attr-defined]
    await session.flush()
    registry = await Registry.load(session)
    names = ", ".join(dict.fromkeys(registry.by_id[r.agency_id].name for r in rows))
    person = rows[0].name or chat
    why = f" ({reason})" if reason else ""
    notice = (f"Không gửi được tin cho {person} ({channel}, chat {chat}), cán bộ đầu mối của {names}{why}: người "
              "dùng đã chặn, rời bot hoặc ngoài tầm gửi. Đã đánh dấu không liên lạc được trên kênh này")
    if elsewhere:
        return notice + f"; nhắc việc chuyển sang kênh {', '.join(dict.fromkeys(elsewhere))} của người này."
    return notice + "; cần chỉ định người khác hoặc liên hệ trực tiếp."


# ---- one person on several channels ---------------------------------------------------------

def person_of(row: FocalPoint) -> int:
    """The key shared by one person's rows on every channel: the first row's id."""
    return row.linked_to or row.id


async def linked(session: AsyncSession, row: FocalPoint) -> list[FocalPoint]:
    """The same person's other rows for the same agency (other channels), in the order they were made."""
    key = person_of(row)
    q = (select(FocalPoint)
         .where(FocalPoint.agency_id == row.agency_id, FocalPoint.id != row.id,
                (FocalPoint.id == key) | (FocalPoint.linked_to == key))
         .order_by(FocalPoint.id))
    return list((await session.scalars(q)).all())


async def fallback_for(session: AsyncSession, row: FocalPoint) -> FocalPoint | None:
    """Where this row's reminders go when its chat is out of reach: the person's approved row on
    another channel, if any."""
    for other in await linked(session, row):
        if other.status == APPROVED and other.channel != row.channel:
            return other
    return None


async def hand_over(session: AsyncSession, row: FocalPoint, to: FocalPoint, in_flight: int | None = None) -> int:
    """Move `row`'s pending reminders (and the one `in_flight`) to the same person's row `to`: each
    becomes a row of `to` with the same text, due now as before, and the old one is marked "moved"
    (never revived, so the reminder is sent once). A reminder `to` already has is not added again
    (a cancelled one is brought back). Returns how many were handed over."""
    q = select(Outbox).where(Outbox.focal_point_id == row.id,
                             (Outbox.status == "pending") | (Outbox.id == (in_flight or 0)))
    moved = 0
    for old in (await session.scalars(q)).all():
        twin = await session.scalar(select(Outbox).where(
            Outbox.task_id == old.task_id, Outbox.focal_point_id == to.id, Outbox.occurrence == old.occurrence,
            Outbox.offset_key == old.offset_key))
        if twin is None:
            session.add(Outbox(task_id=old.task_id, focal_point_id=to.id, agency_id=old.agency_id,
                               occurrence=old.occurrence, offset_key=old.offset_key, kind=old.kind,
                               send_at=old.send_at, status="pending", attempts=0, text=old.text))
        elif twin.status == "cancelled":
            twin.status, twin.last_error, twin.attempts, twin.next_attempt_at = "pending", None, 0, None
            twin.send_at, twin.text = old.send_at, old.text
        old.status, old.claimed_by = MOVED, None
        old.last_error = f"{UNREACHABLE_NOTE}; chuyển sang {to.channel} (đầu mối {to.id})"
        moved += 1
    session.add(AuditEntry(actor="system", action="outbox.handover", target=f"focal:{row.id}",
                           details={"to": to.id, "channel": to.channel, "rows": moved}))
    await session.flush()
    return moved


async def issue_link_code(session: AsyncSession, channel: str, chat_id: str | int, by: str,
                          expires_at: datetime) -> str | None:
    """A one-use code that joins this chat's approved focal-point rows from another channel; None
    when the chat answers for no agency yet."""
    rows = [r for r in await get_by_chat(session, channel, chat_id) if r.status == APPROVED]
    if not rows:
        return None
    value = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    session.add(RegistrationCode(code=value, agency_id=rows[0].agency_id, created_by=by, expires_at=expires_at,
                                 link_chat=f"{channel}:{chat_id}"[:100]))
    session.add(AuditEntry(actor=by, action="code.link", target=f"focal:{rows[0].id}",
                           details={"code": value, "rows": [r.id for r in rows]}))
    await session.flush()
    return value


async def link(session: AsyncSession, code: RegistrationCode, channel: str, chat_id: str | int, *,
               user_id: str | int | None = None, name: str | None = None) -> list[FocalPoint]:
    """Use a link code: for each approved row of the code's chat, a row for the same agency and person
    on this chat, approved like it (one audit row each). Caller checks the code is valid and unused."""
    assert code.link_chat is not None
    src_channel, _, src_chat = code.link_chat.partition(":")
    sources = [r for r in await get_by_chat(session, src_channel, src_chat) if r.status == APPROVED]
    made: list[FocalPoint] = []
    for src in sources:
        row = await add(session, src.agency_id, channel, chat_id, user_id=user_id, name=name or src.name,
                        approved_by=f"link:{code.code}:focal:{src.id}"[:100])
        if row.id != src.id:
            row.linked_to = person_of(src)
            session.add(AuditEntry(actor=f"{channel}:{user_id or chat_id}", action="focal.link",
                                   target=f"focal:{row.id}",
                                   details={"from": src.id, "channel": src.channel, "code": code.code}))
        made.append(row)
    await session.flush()
    return made


async def revive(session: AsyncSession, channel: str, chat_id: str | int) -> int:
    """A chat marked unreachable wrote again: its focal points get back the state they had.

    mark_unreachable keeps approved_by, so a row that had been approved is approved again and a
    request that was still waiting goes back to the admins' list. Returns how many rows changed."""
    rows = [r for r in await get_by_chat(session, channel, chat_id) if r.status == UNREACHABLE]
    for r in rows:
        r.status = APPROVED if r.approved_by else PENDING
        session.add(AuditEntry(actor=f"{channel}:{chat_id}", action="focal.reachable", target=f"focal:{r.id}"))
        if r.status == APPROVED:
            await take_back(session, r)
    await session.flush()
    return len(rows)


async def take_back(session: AsyncSession, row: FocalPoint) -> int:
    """A chat back in reach takes back the reminders handed to the linked chat that are not sent yet
    (the planner sends a linked person's reminders through their first row again): each such row on
    the other chat is cancelled and this chat's own row is pending again, so nothing is lost or doubled."""
    others = [o.id for o in await linked(session, row)]
    if not others:
        return 0
    n = 0
    for old in (await session.scalars(select(Outbox).where(Outbox.focal_point_id == row.id,
                                                           Outbox.status == MOVED))).all():
        twin = await session.scalar(select(Outbox).where(
            Outbox.task_id == old.task_id, Outbox.focal_point_id.in_(others), Outbox.occurrence == old.occurrence,
            Outbox.offset_key == old.offset_key, Outbox.status == "pending"))
        if twin is not None:
            twin.status, twin.last_error = "cancelled", "đầu mối nhận lại trên kênh đầu"
            old.status, old.last_error, old.attempts, old.next_attempt_at = "pending", None, 0, None
            n += 1
    return n


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
    """The reminder recipients of some agencies: their approved focal points, a linked person once."""
    return one_per_person(await list_focal_points(session, agency_ids=agency_ids, statuses=[APPROVED]))


def one_per_person(rows: Iterable[FocalPoint]) -> list[FocalPoint]:
    """Approved rows, one per person and agency: the first made (by id) of a person linked on several
    channels is where their messages go; the others are its fallback (`fallback_for`)."""
    seen: set[tuple[int, int]] = set()
    out = []
    for row in sorted(rows, key=lambda r: r.id):
        if (row.agency_id, person_of(row)) not in seen:
            seen.add((row.agency_id, person_of(row)))
            out.append(row)
    return out


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


UNDOABLE = ("focal.approve", "focal.remove", "focal.reject")
LATER = (*UNDOABLE, "focal.add", "focal.unreachable", "focal.reachable", "focal.link")


async def undo(session: AsyncSession, entry: AuditEntry, by: str) -> None:
    """Put a focal point back in the state before an admin approved, rejected or removed it (its reminders
    come back with the planner's next tick). CannotUndo when its state changed again since."""
    if await later_changes(session, entry, LATER):
        raise CannotUndo("Sau thay đổi này trạng thái của cán bộ đầu mối đã thay đổi tiếp (đăng ký lại, chặn bot...); "
                         "hãy xem /daumoi và sửa trực tiếp.")
    before = (entry.before or {}).get("status")
    row = await session.get(FocalPoint, int(entry.target.split(":", 1)[1]))
    if row is None or before is None:
        raise CannotUndo("Thay đổi này được ghi trước khi nhật ký giữ trạng thái cũ; hãy sửa trực tiếp bằng /daumoi.")
    row.status = before
    session.add(AuditEntry(actor=by, action="focal.undo", target=entry.target, before=entry.after,
                           after=entry.before, details={"undid": entry.id, "action_undone": entry.action}))
    await session.flush()


async def undo_code(session: AsyncSession, entry: AuditEntry, by: str) -> None:
    """Take back a registration code not used yet (nobody can register with it any more)."""
    code = (entry.details or {}).get("code", "")
    row = await session.get(RegistrationCode, code)
    if row is None:
        raise CannotUndo("Mã này không còn trong kho.")
    if row.used_by is not None:
        raise CannotUndo(f"Mã {code} đã được dùng để đăng ký; muốn bỏ người đăng ký thì gỡ bằng /daumoi.")
    await session.delete(row)
    session.add(AuditEntry(actor=by, action="code.undo", target=entry.target, details={
        "undid": entry.id, "action_undone": entry.action, "code": code}))
    await session.flush()
