"""Focal-point registration through the router, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core.clock import FixedClock
from core.context import AppContext
from core.messages import Incoming
from handlers import router
from handlers.commands import parse_command
from handlers.registration import USERNAME_CACHE, mark_chat_unreachable
from knowledge.db import Database
from knowledge.models import Agency, AuditEntry, FocalPoint, RegistrationCode

ADMIN = "900"


@pytest.fixture
def ctx(db: Database) -> AppContext:
    clock = FixedClock.on(date(2026, 11, 23))
    return AppContext(db=db, clock=clock, admins=frozenset({f"telegram:{ADMIN}"}))


def said(user: str, text: str = "", choice: str | None = None, name: str = "Nguyễn Văn A") -> Incoming:
    return Incoming(channel="telegram", chat_id=user, user_id=user, text=text, user_name=name, choice=choice)


async def focal_rows(db: Database) -> list[FocalPoint]:
    async with db.session() as s:
        return list((await s.scalars(select(FocalPoint).order_by(FocalPoint.id))).all())


async def agency_id(db: Database, name: str) -> int:
    async with db.session() as s:
        return (await s.scalars(select(Agency.id).where(Agency.name == name))).one()


def test_parse_command() -> None:
    assert parse_command("/dangky@nhacviec_bot Sở Tài chính") == ("dangky", "Sở Tài chính")
    assert parse_command("/DANGKY") == ("dangky", "")
    assert parse_command("Sở Tài chính có việc gì?") is None


async def test_request_then_admin_approves(ctx: AppContext, db: Database) -> None:
    replies = await router.handle(ctx, said("11", "/dangky so tai chinh"))
    assert "Đã gửi yêu cầu" in replies[0].text and "Sở Tài chính" in replies[0].text
    [notice] = [r for r in replies if r.chat_id == ADMIN]
    assert notice.channel == "telegram" and "Nguyễn Văn A" in notice.text
    ok, no = notice.choices
    [row] = await focal_rows(db)
    assert row.status == "pending" and ok.data == f"reg:ok:{row.id}" and no.data == f"reg:no:{row.id}"

    # Someone who is not an admin cannot press the admin's button.
    refused = await router.handle(ctx, said("12", choice=ok.data))
    assert "quản trị viên" in refused[0].text
    assert (await focal_rows(db))[0].status == "pending"

    done = await router.handle(ctx, said(ADMIN, choice=ok.data))
    assert done[0].text.startswith("Đã duyệt")
    assert done[1].chat_id == "11" and "đã được duyệt" in done[1].text
    [row] = await focal_rows(db)
    assert row.status == "approved" and row.approved_by == f"telegram:{ADMIN}" and row.user_id == "11"

    again = await router.handle(ctx, said(ADMIN, choice=ok.data))
    assert "không thay đổi" in again[0].text and len(again) == 1


async def test_admin_rejects(ctx: AppContext, db: Database) -> None:
    replies = await router.handle(ctx, said("11", "/dangky Sở Nội vụ"))
    no = next(r for r in replies if r.chat_id == ADMIN).choices[1]
    out = await router.handle(ctx, said(ADMIN, choice=no.data))
    assert out[0].text.startswith("Đã từ chối") and "chưa được chấp thuận" in out[1].text
    assert (await focal_rows(db))[0].status == "removed"


async def test_merged_agency_registers_to_successor(ctx: AppContext, db: Database) -> None:
    replies = await router.handle(ctx, said("11", "/dangky So TT&TT"))
    assert "Sở Khoa học và Công nghệ" in replies[0].text
    [row] = await focal_rows(db)
    assert row.agency_id == await agency_id(db, "Sở Khoa học và Công nghệ")


async def test_unknown_agency_changes_nothing_and_suggests(ctx: AppContext, db: Database) -> None:
    replies = await router.handle(ctx, said("11", "/dangky Sở Tài chánh"))
    assert "Không tìm thấy" in replies[0].text
    assert any(c.label == "Sở Tài chính" for c in replies[0].choices)
    assert await focal_rows(db) == []
    pick = next(c for c in replies[0].choices if c.label == "Sở Tài chính")
    out = await router.handle(ctx, said("11", choice=pick.data))
    assert "Đã gửi yêu cầu" in out[0].text
    assert len(await focal_rows(db)) == 1
    assert "Không tìm thấy" in (await router.handle(ctx, said("11", "/dangky xyzxyz qwq")))[0].text


async def test_usage_and_group_refused(ctx: AppContext, db: Database) -> None:
    assert "/dangky <tên cơ quan>" in (await router.handle(ctx, said("11", "/dangky")))[0].text
    out = await router.handle(ctx, said("11", "/dangky Các Sở, ban, ngành thuộc tỉnh"))
    assert "là một nhóm cơ quan" in out[0].text
    assert await focal_rows(db) == []


async def test_admin_code_approves_at_once(ctx: AppContext, db: Database) -> None:
    ctx.cache[USERNAME_CACHE] = "nhacviec_test_bot"
    assert "Chỉ quản trị viên" in (await router.handle(ctx, said("11", "/taoma Sở Tài chính")))[0].text
    [made] = await router.handle(ctx, said(ADMIN, "/taoma Sở Tài chính"))
    async with db.session() as s:
        [code] = (await s.scalars(select(RegistrationCode))).all()
    assert code.code in made.text and f"https://t.me/nhacviec_test_bot?start={code.code}" in made.text
    assert "30/11/2026" in made.text  # seven days from 23/11/2026

    replies = await router.handle(ctx, said("11", f"/start {code.code.lower()}"))
    assert replies[0].text.startswith("Đã đăng ký bạn làm cán bộ đầu mối của Sở Tài chính")
    assert any(r.chat_id == ADMIN for r in replies)
    [row] = await focal_rows(db)
    assert row.status == "approved"
    used = await router.handle(ctx, said("12", f"/dangky {code.code}"))
    assert "đã được dùng" in used[0].text
    assert len(await focal_rows(db)) == 1


async def test_expired_and_wrong_codes_change_nothing(ctx: AppContext, db: Database) -> None:
    await router.handle(ctx, said(ADMIN, "/taoma Sở Nội vụ"))
    async with db.session() as s:
        code = (await s.scalars(select(RegistrationCode))).one().code
    assert "không đúng" in (await router.handle(ctx, said("11", "/start ZZZZ9999")))[0].text
    assert isinstance(ctx.clock, FixedClock)
    ctx.clock.advance(timedelta(days=8))
    assert "hết hạn" in (await router.handle(ctx, said("11", f"/start {code}")))[0].text
    assert await focal_rows(db) == []


async def test_plain_start_is_not_registration(ctx: AppContext, db: Database) -> None:
    [welcome] = await router.handle(ctx, said("11", "/start"))
    assert welcome.text.startswith("Xin chào!")
    await router.handle(ctx, said("11", "Sở Tài chính có việc gì?"))
    assert await focal_rows(db) == []


async def test_admin_registers_self_and_unregisters(ctx: AppContext, db: Database) -> None:
    out = await router.handle(ctx, said(ADMIN, "/dangky Sở Y tế"))
    assert out[0].text.startswith("Đã đăng ký bạn") and len(out) == 1
    assert "đã là cán bộ đầu mối" in (await router.handle(ctx, said(ADMIN, "/dangky so y te")))[0].text
    assert "không phải" in (await router.handle(ctx, said(ADMIN, "/huydangky Sở Tài chính")))[0].text
    out = await router.handle(ctx, said(ADMIN, "/huydangky"))
    assert "Đã hủy đăng ký" in out[0].text and "Sở Y tế" in out[0].text
    assert (await focal_rows(db))[0].status == "removed"
    assert "chưa đăng ký" in (await router.handle(ctx, said(ADMIN, "/huydangky")))[0].text


async def test_pending_list_for_admins(ctx: AppContext) -> None:
    await router.handle(ctx, said("11", "/dangky Sở Tài chính"))
    [item] = await router.handle(ctx, said(ADMIN, "/duyet"))
    assert "Sở Tài chính" in item.text and item.choices[0].data.startswith("reg:ok:")
    assert "Chỉ quản trị viên" in (await router.handle(ctx, said("11", "/duyet")))[0].text


async def test_blocked_chat_marked_unreachable_once(ctx: AppContext, db: Database) -> None:
    await router.handle(ctx, said(ADMIN, "/dangky Sở Tài chính"))
    notices = await mark_chat_unreachable(ctx, "telegram", ADMIN, "Forbidden: bot was blocked by the user")
    assert [n.chat_id for n in notices] == [ADMIN] and "Sở Tài chính" in notices[0].text
    assert (await focal_rows(db))[0].status == "unreachable"
    assert await mark_chat_unreachable(ctx, "telegram", ADMIN) == []
    async with db.session() as s:
        actions = (await s.scalars(select(AuditEntry.action))).all()
    assert "focal.unreachable" in actions
    # Writing again revives the row as it was (approved: the admin registered directly).
    await router.handle(ctx, said(ADMIN, "/huydangky Sở Y tế"))
    assert (await focal_rows(db))[0].status == "approved"

