"""Who the admins are: NHACVIEC_ADMINS to start with, then the admins added or removed in chat.

Stored rows win over the settings (an admin removed in chat stays removed after a restart); the
last admin can never be removed, so the store is never left without one.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.changes import CannotUndo, later_changes
from knowledge.models import AdminUser, AuditEntry

ADDED, REMOVED = "added", "removed"


class LastAdmin(ValueError):
    """Removing this admin would leave nobody to run the store."""


async def effective(session: AsyncSession, base: frozenset[str]) -> frozenset[str]:
    """The admins now: the settings' list, plus those added in chat, less those removed."""
    rows = (await session.scalars(select(AdminUser))).all()
    added = {r.key for r in rows if r.status == ADDED}
    removed = {r.key for r in rows if r.status == REMOVED}
    return frozenset((set(base) - removed) | added)


async def names(session: AsyncSession) -> dict[str, str]:
    """The names admins were added under (for the list)."""
    return {r.key: r.name for r in (await session.scalars(select(AdminUser))).all() if r.name}


async def _set(session: AsyncSession, key: str, status: str, by: str, name: str = "") -> None:
    row = await session.get(AdminUser, key)
    before = row.status if row is not None else None
    if row is None:
        row = AdminUser(key=key, status=status, by=by, name=name[:200])
        session.add(row)
    else:
        row.status, row.by = status, by
        if name:
            row.name = name[:200]
    session.add(AuditEntry(actor=by, action=f"admin.{'add' if status == ADDED else 'remove'}", target=key,
                           before={"status": before}, after={"status": status}))
    await session.flush()


async def add(session: AsyncSession, key: str, by: str, name: str = "") -> None:
    await _set(session, key, ADDED, by, name)


async def remove(session: AsyncSession, key: str, by: str, base: frozenset[str]) -> None:
    """Remove an admin; LastAdmin when nobody else would be left."""
    current = await effective(session, base)
    if key in current and len(current) <= 1:
        raise LastAdmin(key)
    await _set(session, key, REMOVED, by)


UNDOABLE = ("admin.add", "admin.remove")


async def undo(session: AsyncSession, entry: AuditEntry, by: str, base: frozenset[str]) -> None:
    """Put an admin back as they were before `entry` (added: no longer one; removed: one again). Never
    leaves the store without an admin."""
    if await later_changes(session, entry, UNDOABLE):
        raise CannotUndo("Sau thay đổi này quyền của người đó đã được thay đổi tiếp; hãy hoàn tác thay đổi sau trước.")
    key = entry.target
    before = (entry.before or {}).get("status")
    row = await session.get(AdminUser, key)
    if before is None:
        if row is not None:
            await session.delete(row)
    elif row is None:
        session.add(AdminUser(key=key, status=before, by=by))
    else:
        row.status, row.by = before, by
    await session.flush()
    if not await effective(session, base):
        raise CannotUndo("Hoàn tác thay đổi này sẽ không còn quản trị viên nào.")
    session.add(AuditEntry(actor=by, action="admin.undo", target=key, before=entry.after, after=entry.before,
                           details={"undid": entry.id, "action_undone": entry.action}))
    await session.flush()
