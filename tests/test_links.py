"""One person on Telegram and Zalo: /lienket gives a one-use code on one channel, typed on the other it
joins the same agencies, approved alike; reminders go once, and to the other channel when one is out of reach."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core.clock import FixedClock
from core.context import AppContext
from core.messages import Incoming
from handlers import router
from knowledge import focal_points
from knowledge.db import Database
from knowledge.models import Agency, AuditEntry, FocalPoint, Outbox
from scheduler import planner
from tests.reminder_fixtures import HOUR, due_batch

ADMIN = "900"


@pytest.fixture
def ctx(db: Database) -> AppContext:
    return AppContext(db=db, clock=FixedClock.on(date(2026, 11, 23)), admins=frozenset({f"telegram:{ADMIN}"}))


def said(channel: str, user: str, text: str) -> Incoming:
    return Incoming(channel=channel, chat_id=user, user_id=user, text=text, user_name="Trần Thị B")


async def rows(db: Database) -> list[FocalPoint]:
    async with db.session() as s:
        return list((await s.scalars(select(FocalPoint).order_by(FocalPoint.id))).all())


async def registered(ctx: AppContext, channel: str, user: str) -> None:
    """An approved focal point of Sở Tài chính, by an admin's code."""
    code = (await router.handle(ctx, said("telegram", ADMIN, "/taoma So Tai chinh")))[0].text.split(": ")[1].split()[0]
    assert "Đã đăng ký" in (await router.handle(ctx, said(channel, user, f"/dangky {code}")))[0].text


def code_in(text: str) -> str:
    return text.split("/lienket ")[1].split()[0]


async def test_a_code_from_telegram_typed_on_zalo_links_the_same_registration(ctx: AppContext, db: Database) -> None:
    await registered(ctx, "telegram", "11")
    await router.handle(ctx, said("telegram", "11", "/dangky Sở Xây dựng"))  # pending: not linked
    replies = await router.handle(ctx, said("telegram", "11", "/lienket"))
    code = code_in(replies[0].text)
    assert "một lần" in replies[0].text

    joined = await router.handle(ctx, said("zalo", "z11", f"/LIENKET {code.lower()}"))
    assert "Đã liên kết" in joined[0].text and "Sở Tài chính" in joined[0].text
    first, pending, zalo = await rows(db)
    assert (zalo.channel, zalo.chat_id, zalo.agency_id, zalo.status) == ("zalo", "z11", first.agency_id, "approved")
    assert zalo.linked_to == first.id and pending.status == "pending"
    async with db.session() as s:
        audit = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "focal.link"))).all()
    assert [a.target for a in audit] == [f"focal:{zalo.id}"] and audit[0].details["from"] == first.id
    # The Zalo chat is registered now: its commands work there.
    assert "Bạn chưa đăng ký" not in (await router.handle(ctx, said("zalo", "z11", "/huydangky x")))[0].text

    # One use only; /dangky <mã> takes link codes too, and says so.
    again = await router.handle(ctx, said("zalo", "z12", f"/dangky {code}"))
    assert "đã được dùng" in again[0].text and len(await rows(db)) == 3


async def test_link_codes_refused_clearly(ctx: AppContext, db: Database) -> None:
    nothing = await router.handle(ctx, said("zalo", "z20", "/lienket"))
    assert "chưa là cán bộ đầu mối" in nothing[0].text
    await registered(ctx, "telegram", "20")
    code = code_in((await router.handle(ctx, said("telegram", "20", "/lienket")))[0].text)
    same = await router.handle(ctx, said("telegram", "21", f"/lienket {code}"))
    assert "kênh khác" in same[0].text
    assert "không đúng" in (await router.handle(ctx, said("zalo", "z20", "/lienket ABCDEFGH")))[0].text
    assert isinstance(ctx.clock, FixedClock)
    ctx.clock.advance(timedelta(hours=25))
    assert "hết hạn" in (await router.handle(ctx, said("zalo", "z20", f"/lienket {code}")))[0].text
    assert [r.channel for r in await rows(db)] == ["telegram"]


async def test_linked_person_is_reminded_once_then_through_the_other_channel(db: Database) -> None:
    """The planner sends one person's reminders once (the first approved row); when that chat is out
    of reach, its pending reminders move to the linked row, never duplicated, never lost."""
    day = date(2026, 12, 10)
    clock = await due_batch(db, day, 2, 0, 0, plan=False)
    async with db.session() as s:
        agency = (await s.scalars(select(Agency.id).where(Agency.name == "Sở Tài chính"))).one()
        oa = await focal_points.add(s, agency, "zalo_oa", "u1", approved_by="test")
        tg = await focal_points.add(s, agency, "telegram", "t1", approved_by="test")
        tg.linked_to = oa.id
        await planner.run_planner(s, clock.now(), HOUR)
        await s.commit()
        planned = (await s.scalars(select(Outbox))).all()
        assert {o.focal_point_id for o in planned} == {oa.id} and len(planned) == 2
        assert [f.id for f in await focal_points.approved_for(s, [agency])] == [oa.id]  # told once, too
        notice = await focal_points.mark_unreachable(s, "zalo_oa", "u1", "không tương tác 7 ngày")
        await s.commit()
    assert notice is not None and "telegram" in notice
    async with db.session() as s:
        after = (await s.scalars(select(Outbox).order_by(Outbox.id))).all()
        assert [o.status for o in after] == ["moved", "moved", "pending", "pending"]
        assert {o.focal_point_id for o in after if o.status == "pending"} == {tg.id}
        assert [o.text for o in after[2:]] == [o.text for o in after[:2]]
        assert [f.id for f in await focal_points.approved_for(s, [agency])] == [tg.id]
        again = await planner.run_planner(s, clock.now(), HOUR)  # the planner agrees: nothing new
        await s.commit()
    assert (again.created, again.cancelled) == (0, 0)
    # The Zalo OA user writes again: the reminders not yet sent come back to that chat, once.
    async with db.session() as s:
        assert await focal_points.revive(s, "zalo_oa", "u1") == 1
        await s.commit()
    async with db.session() as s:
        back = (await s.scalars(select(Outbox).order_by(Outbox.id))).all()
        assert [o.status for o in back] == ["pending", "pending", "cancelled", "cancelled"]
        again = await planner.run_planner(s, clock.now(), HOUR)
        await s.commit()
    assert (again.created, again.cancelled, again.revived) == (0, 0, 0)
