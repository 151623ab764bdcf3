"""The dispatcher against the fake Telegram server, through the real TelegramSender (PTB)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update
from telegram import Bot

from bot.channels.telegram.sender import TelegramSender
from core.clock import FixedClock
from knowledge.db import Database
from knowledge.models import FocalPoint, Outbox
from scheduler import planner
from scheduler.dispatcher import Dispatcher, Pacer
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram
from tests.reminder_fixtures import HOUR, TaskSpec, add_focal, make_plan

REPORT = TaskSpec("Tổng hợp báo cáo tình hình, kết quả thực hiện gửi UBND tỉnh.", ["Sở Khoa học và Công nghệ"],
                  kind="yearly", month=12, day=15, deadline_text="định kỳ trước ngày 15 tháng 12 hằng năm",
                  ref="III.2")


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def sender(tg: FakeTelegram) -> AsyncIterator[TelegramSender]:
    bot = Bot(DEFAULT_TOKEN, base_url=tg.base_url, base_file_url=tg.base_file_url)
    async with bot:
        s = TelegramSender(bot, network_backoff=0.01)
        yield s


async def _planned(db: Database, clock: FixedClock) -> None:
    async with db.session() as s:
        await planner.run_planner(s, clock.now(), HOUR)
        await s.commit()


async def _rows(db: Database) -> list[Outbox]:
    async with db.session() as s:
        return list((await s.scalars(select(Outbox).order_by(Outbox.id))).all())


async def test_sends_due_reminder_with_buttons_and_marks_it_sent(
        db: Database, tg: FakeTelegram, sender: TelegramSender) -> None:
    await make_plan(db, [REPORT])
    await add_focal(db, "Sở KH&CN", 501)
    clock = FixedClock.on(date(2026, 12, 10), 7)
    await _planned(db, clock)
    d = Dispatcher(db, {"telegram": sender}, clock)
    assert (await d.run_once()).sent == 0  # 07:00: nothing due yet
    clock.advance(timedelta(hours=1, minutes=5))
    stats = await d.run_once()
    assert stats.sent == 1 and len(tg.sent) == 1
    msg = tg.sent[0]
    assert msg["chat"]["id"] == 501 and msg["text"].startswith("⏰ Còn 3 ngày làm việc: thứ Ba 15/12/2026")
    row = next(r for r in await _rows(db) if r.status == "sent")
    assert row.offset_key == "b3" and row.message_id == str(msg["message_id"]) and row.claimed_by is None
    buttons = [b["text"] for b in msg["reply_markup"]["inline_keyboard"][0]]
    assert buttons == ["Đã hoàn thành", "Nhắc lại sau", "Xin gia hạn"]
    assert msg["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == f"rem:done:{row.id}"
    assert (await d.run_once()).sent == 0  # sent once, never again


async def test_blocked_chat_marks_focal_point_unreachable(
        db: Database, tg: FakeTelegram, sender: TelegramSender) -> None:
    await make_plan(db, [REPORT])
    fp = await add_focal(db, "Sở KH&CN", 501)
    clock = FixedClock.on(date(2026, 12, 10), 9)
    await _planned(db, clock)
    tg.fail(501, 403, times=None)
    stats = await Dispatcher(db, {"telegram": sender}, clock).run_once()
    assert stats.unreachable == 1 and tg.sent == []
    rows = await _rows(db)
    assert [r.status for r in rows] == ["failed", "cancelled", "cancelled", "cancelled", "cancelled"]
    assert "unreachable" in (rows[0].last_error or "")
    async with db.session() as s:
        assert (await s.get(FocalPoint, fp)).status == "unreachable"  # type: ignore[union-attr]


async def test_flood_control_and_server_errors_are_retried_later(
        db: Database, tg: FakeTelegram, sender: TelegramSender) -> None:
    await make_plan(db, [REPORT])
    await add_focal(db, "Sở KH&CN", 501)
    clock = FixedClock.on(date(2026, 12, 10), 9)
    await _planned(db, clock)
    d = Dispatcher(db, {"telegram": sender}, clock)
    d.pacers["telegram"].pause = lambda seconds, now: None  # type: ignore[method-assign]  # no real waiting here
    tg.fail(501, 429, retry_after=5)
    assert (await d.run_once()).retried == 1
    [row] = [r for r in await _rows(db) if r.offset_key == "b3"]
    assert row.status == "pending" and row.attempts == 1 and "flood" in (row.last_error or "")
    assert (await d.run_once()).sent == 0  # not before retry_after
    clock.advance(timedelta(seconds=6))
    tg.fail(501, 502)
    assert (await d.run_once()).retried == 1
    clock.advance(timedelta(seconds=10))
    assert (await d.run_once()).sent == 1
    assert len(tg.sent) == 1


async def test_stale_claims_are_reclaimed_and_old_reminders_replaced(
        db: Database, tg: FakeTelegram, sender: TelegramSender) -> None:
    await make_plan(db, [REPORT])
    await add_focal(db, "Sở KH&CN", 501)
    clock = FixedClock.on(date(2026, 12, 10), 9)
    await _planned(db, clock)
    async with db.session() as s:  # a dispatcher that died holding the row
        await s.execute(update(Outbox).where(Outbox.offset_key == "b3").values(
            status="claimed", claimed_by="dead", claimed_at=datetime.now(UTC) - timedelta(minutes=10)))
        await s.commit()
    d = Dispatcher(db, {"telegram": sender}, clock, claim_timeout=60)
    assert (await d.run_once()).sent == 1
    # The bot was down from 10/12 to 15/12 10:00: b1 (14/12) is over a day late and is dropped,
    # d0 (15/12 08:00) goes out late, once.
    clock.advance(timedelta(days=5, hours=1))
    stats = await d.run_once()
    assert stats.sent == 1 and tg.sent[-1]["text"].startswith("⏰ Hôm nay là hạn")
    status = {r.offset_key: r.status for r in await _rows(db)}
    assert status == {"b3": "sent", "b1": "cancelled", "d0": "sent", "o1": "pending", "o2": "pending"}


async def test_pacer_keeps_both_limits() -> None:
    p = Pacer(per_second=30, per_chat=1.0, margin=0.0)
    t = 0.0
    times: list[tuple[str, float]] = []
    chats = [str(i % 5) for i in range(100)]
    for chat in chats:
        t = p.ready_at(chat, t)
        p.sent(chat, t)
        times.append((chat, t))
    for i in range(len(times) - 30):
        assert times[i + 30][1] - times[i][1] >= 1.0 - 1e-9
    last: dict[str, float] = {}
    for chat, at in times:
        assert chat not in last or at - last[chat] >= 1.0 - 1e-9
        last[chat] = at
    assert times[-1][1] == pytest.approx(19 + 4 / 60)  # 5 chats, 1 message/s each: per-chat bound dominates
