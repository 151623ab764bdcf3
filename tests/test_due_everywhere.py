"""One truth about a task's due day: answers, reminders and the digest agree after an extension or a
completion; the snooze uses the configured hour; a chat that blocks the bot is reported to the admins."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core.clock import VN, FixedClock
from core.context import AppContext
from core.messages import Incoming
from core.settings import Settings
from handlers import router
from knowledge.db import Database
from knowledge.models import AuditEntry, FocalPoint, Outbox
from scheduler import digest, planner
from scheduler.dispatcher import Dispatcher
from tests.reminder_fixtures import HOUR, RecordingChannel, TaskSpec, add_focal, make_plan

# Thursday 10/12/2026; the focal point asks on Monday 21/12/2026, 11 days later.
SURVEY = TaskSpec("Khảo sát nhu cầu đổi mới công nghệ của doanh nghiệp trên địa bàn tỉnh.",
                  ["Sở Khoa học và Công nghệ"], kind="date", due=date(2026, 12, 10),
                  deadline_text="trước ngày 10/12/2026", ref="II.5")
ASKED_ON = date(2026, 12, 21)
ADMIN = "900"


def _press(data: str, chat: str = "501") -> Incoming:
    return Incoming("telegram", chat, chat, choice=data, user_name="Nguyễn Văn A")


def _say(text: str, chat: str = "501") -> Incoming:
    return Incoming("telegram", chat, chat, text=text, user_name="Nguyễn Văn A")


async def _overdue_survey(db: Database) -> tuple[AppContext, int]:
    """The survey task, its focal point, and the id of a reminder sent for it before the day."""
    await make_plan(db, [SURVEY])
    await add_focal(db, "Sở KH&CN", "501")
    ctx = AppContext(db, FixedClock.on(date(2026, 12, 9), 9), admins=frozenset({f"telegram:{ADMIN}"}))
    async with db.session() as s:
        await planner.run_planner(s, ctx.clock.now(), HOUR)
        await s.commit()
        b1 = await s.scalar(select(Outbox.id).where(Outbox.offset_key == "b1"))
    assert b1 is not None
    ctx.clock = FixedClock.on(ASKED_ON, 9)
    return ctx, b1


async def _grant(ctx: AppContext, outbox_id: int, new_due: date) -> None:
    done, _notice = await router.handle(ctx, _press(f"rem:grant:{outbox_id}:{new_due.isoformat()}", chat=ADMIN))
    assert done.text.startswith("Đã gia hạn đến")


async def test_before_the_extension_the_task_is_overdue_everywhere(db: Database) -> None:
    ctx, _ = await _overdue_survey(db)
    [overdue] = await router.handle(ctx, _say("Việc nào đã quá hạn?"))
    assert "Khảo sát nhu cầu đổi mới công nghệ" in overdue.text and "quá hạn 11 ngày" in overdue.text
    [mine] = await router.handle(ctx, _say("/quahan"))
    assert "Khảo sát nhu cầu" in mine.text


async def test_an_extended_task_is_not_overdue_anywhere_and_shows_its_new_date(db: Database) -> None:
    ctx, b1 = await _overdue_survey(db)
    await _grant(ctx, b1, date(2026, 12, 31))

    [overdue] = await router.handle(ctx, _say("Việc nào đã quá hạn?"))
    assert "Khảo sát nhu cầu" not in overdue.text and overdue.text.startswith("Không có việc nào")
    [mine] = await router.handle(ctx, _say("/quahan"))
    assert mine.text.startswith("Không có việc nào")

    [when] = await router.handle(ctx, _say("Hạn khảo sát nhu cầu đổi mới công nghệ của doanh nghiệp là khi nào?"))
    first = when.text.splitlines()[0]
    assert "31/12/2026" in first and "còn 10 ngày" in first and "10/12/2026 (" not in first
    assert "gia hạn" in first

    [soon] = await router.handle(ctx, _say("/saphan"))
    assert "1. 31/12 · Khảo sát nhu cầu" in soon.text  # the extended day opens its line
    [month] = await router.handle(ctx, _say("Tháng này có hạn nào?"))
    assert "1. 31/12 · Khảo sát nhu cầu" in month.text  # the extended day, in a list line

    async with db.session() as s:
        await planner.run_planner(s, ctx.clock.now(), HOUR)
        await s.commit()
        texts = (await s.scalars(select(Outbox.text).where(Outbox.status == "pending"))).all()
        assert texts and all("31/12/2026" in t and "quá hạn" not in t for t in texts)
        d = await digest.build_digest(s, ASKED_ON, await planner.load_snapshot(s, HOUR))
    assert d.overdue == []
    [line] = d.due_next_week  # the week of 28/12/2026
    assert "hạn thứ Năm 31/12/2026" in line.text


async def test_a_task_done_is_not_overdue_and_its_deadline_answer_says_so(db: Database) -> None:
    ctx, b1 = await _overdue_survey(db)
    [ok] = await router.handle(ctx, _press(f"rem:done:{b1}"))
    assert ok.text.startswith("✅ Đã ghi nhận hoàn thành")
    [overdue] = await router.handle(ctx, _say("Việc nào đã quá hạn?"))
    assert "Khảo sát nhu cầu" not in overdue.text
    [when] = await router.handle(ctx, _say("Hạn khảo sát nhu cầu đổi mới công nghệ của doanh nghiệp là khi nào?"))
    first = when.text.splitlines()[0]
    assert "đã hoàn thành" in first and "quá hạn" not in first
    async with db.session() as s:
        d = await digest.build_digest(s, ASKED_ON, await planner.load_snapshot(s, HOUR))
    assert d.overdue == [] and d.due_next_week == []


async def test_the_art_148_shift_is_the_same_in_answers_and_reminders(db: Database) -> None:
    # 12/12/2026 is a Saturday: the day that counts is Monday 14/12/2026 for answers and reminders alike.
    await make_plan(db, [TaskSpec("Báo cáo sơ kết công tác chuyển đổi số.", ["Sở Khoa học và Công nghệ"],
                                  kind="date", due=date(2026, 12, 12), deadline_text="trước ngày 12/12/2026")])
    await add_focal(db, "Sở KH&CN", "501")
    ctx = AppContext(db, FixedClock.on(date(2026, 12, 8), 9))
    [when] = await router.handle(ctx, _say("Hạn báo cáo sơ kết công tác chuyển đổi số là khi nào?"))
    assert "thứ Hai 14/12/2026 (còn 6 ngày)" in when.text.splitlines()[0]
    async with db.session() as s:
        await planner.run_planner(s, ctx.clock.now(), HOUR)
        await s.commit()
        texts = (await s.scalars(select(Outbox.text).where(Outbox.status == "pending"))).all()
    assert texts and all("thứ Hai 14/12/2026" in t for t in texts)


async def test_snooze_uses_the_configured_reminder_hour(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NHACVIEC_REMINDER_HOUR", "7")
    await make_plan(db, [SURVEY])
    await add_focal(db, "Sở KH&CN", "501")
    ctx = AppContext(db, FixedClock.on(date(2026, 12, 7), 9), settings=Settings())
    async with db.session() as s:
        await planner.run_planner(s, ctx.clock.now(), ctx.settings.reminder_hour)
        await s.commit()
        row = await s.scalar(select(Outbox).where(Outbox.status == "pending").order_by(Outbox.send_at))
    assert row is not None
    [reply] = await router.handle(ctx, _press(f"rem:later:{row.id}"))
    assert reply.text == "🔔 Sẽ nhắc lại lúc 07:00 thứ Ba 08/12/2026."
    async with db.session() as s:
        new = await s.scalar(select(Outbox).where(Outbox.offset_key == "s1"))
    assert new is not None and planner.as_utc(new.send_at).astimezone(VN).hour == 7


async def test_a_chat_that_blocks_the_bot_cancels_its_rows_and_the_admins_are_told(db: Database) -> None:
    await make_plan(db, [SURVEY, TaskSpec("Tổng kết năm.", ["Sở Khoa học và Công nghệ"], kind="date",
                                          due=date(2026, 12, 30), deadline_text="trước ngày 30/12/2026")])
    fp = await add_focal(db, "Sở KH&CN", "501", channel="console")
    clock = FixedClock.on(date(2026, 12, 9), 9)
    async with db.session() as s:
        await planner.run_planner(s, clock.now(), HOUR)
        await s.commit()
    channel = RecordingChannel()
    channel.blocked.add("501")
    stats = await Dispatcher(db, {"console": channel}, clock, admins=frozenset({"console:admin"})).run_once()
    assert stats.unreachable == 1
    [(chat, text, _)] = channel.sent
    assert chat == "admin" and "501" in text and "Sở Khoa học và Công nghệ" in text and "chặn" in text
    async with db.session() as s:
        assert (await s.get(FocalPoint, fp)).status == "unreachable"  # type: ignore[union-attr]
        left = (await s.scalars(select(Outbox.status).where(Outbox.focal_point_id == fp))).all()
        assert "pending" not in left and "cancelled" in left
        audit = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "focal.unreachable"))).all()
        assert len(audit) == 1 and audit[0].details.get("cancelled", 0) >= 1
    # Later ticks do not tell the admins again.
    clock.advance(timedelta(days=1))
    await Dispatcher(db, {"console": channel}, clock, admins=frozenset({"console:admin"})).run_once()
    assert len(channel.sent) == 1
