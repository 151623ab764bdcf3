"""Focal points: the recipients of reminders, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select

from knowledge import focal_points as fp
from knowledge.agencies import Registry
from knowledge.db import Database
from knowledge.models import AuditEntry, FocalPoint


async def _agency(db: Database, name: str) -> int:
    async with db.session() as s:
        info = (await Registry.load(s)).lookup(name)
    assert info is not None
    return info.id


async def test_add_approve_remove_and_lookup(db: Database) -> None:
    khcn = await _agency(db, "Sở KH&CN")
    tc = await _agency(db, "Sở Tài chính")
    async with db.session() as s:
        a = await fp.add(s, khcn, "telegram", 111, user_id=111, name="Nguyễn Văn A")
        b = await fp.add(s, tc, "telegram", "222", approved_by="telegram:9")
        await s.commit()
    assert a.status == "pending" and b.status == "approved"
    async with db.session() as s:
        assert [f.id for f in await fp.approved_for(s, [khcn, tc])] == [b.id]
        assert [f.id for f in await fp.pending(s)] == [a.id]
        await fp.approve(s, a.id, "telegram:9")
        await s.commit()
    async with db.session() as s:
        assert {f.id for f in await fp.approved_for(s, [khcn])} == {a.id}
        assert [f.agency_id for f in await fp.get_by_chat(s, "telegram", "111")] == [khcn]
        notice = await fp.mark_unreachable(s, "telegram", "111", "403 Forbidden")
        assert notice is not None and "Sở Khoa học và Công nghệ" in notice
        await s.commit()
    async with db.session() as s:
        assert await fp.approved_for(s, [khcn]) == []
        assert (await fp.get(s, a.id)).status == "unreachable"  # type: ignore[union-attr]
        await fp.remove(s, b.id, "telegram:9")
        await s.commit()
    async with db.session() as s:
        assert await fp.get_by_chat(s, "telegram", "222") == []
        actions = (await s.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
        assert actions == ["focal.add", "focal.add", "focal.approve", "focal.unreachable", "focal.remove"]


async def test_registering_again_revives_the_same_row(db: Database) -> None:
    khcn = await _agency(db, "Sở Khoa học và Công nghệ")
    async with db.session() as s:
        a = await fp.add(s, khcn, "zalo", "77")
        await fp.reject(s, a.id, "admin")
        again = await fp.add(s, khcn, "zalo", "77", approved_by="admin")
        await s.commit()
        assert again.id == a.id and again.status == "approved"
        assert await s.scalar(select(func.count()).select_from(FocalPoint)) == 1
        assert await fp.approve(s, 999, "x") is None
