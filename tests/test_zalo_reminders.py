"""Reminders reach Zalo focal points through the same outbox and dispatcher as Telegram's."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import func, select

from bot.channels.zalo.client import ZaloBotClient
from bot.channels.zalo.sender import ZaloSender
from knowledge.db import Database
from knowledge.models import FocalPoint, Outbox
from scheduler.dispatcher import Dispatcher
from tests.fakes.zalo_api import FakeZalo
from tests.zalo_fixtures import zalo_reminders

DAY = date(2026, 12, 10)


async def test_reminders_delivered_once_with_numbered_choices(db: Database) -> None:
    clock = await zalo_reminders(db, DAY, tasks=3, chats=4, first_chat=700)
    async with FakeZalo() as zalo:
        zalo.fail("z701", 403, times=None)  # this one blocked the bot
        zalo.fail("z702", 429, times=1, retry_after=1)  # quota, once
        client = ZaloBotClient(zalo.token, zalo.url)
        dispatcher = Dispatcher(db, {"zalo": ZaloSender(client, max_per_second=50, per_chat_interval=0.05)}, clock)
        stats = await dispatcher.run_once()
        assert stats.unreachable >= 1 and stats.retried == 1
        for _ in range(5):  # the 429'd one comes back after its backoff
            clock.advance(timedelta(minutes=1))
            stats.sent += (await dispatcher.run_once()).sent
        await client.close()
    assert stats.sent == 9  # 3 reachable chats × 3 tasks
    texts = Counter((m["chat_id"], m["text"]) for m in zalo.sent)
    assert len(texts) == 9 and set(texts.values()) == {1}  # each reminder once
    assert {c for c, _ in texts} == {"z700", "z702", "z703"}
    assert all("1. Đã hoàn thành" in t and "3. Xin gia hạn" in t for _, t in texts)
    async with db.session() as s:
        blocked = await s.scalar(select(FocalPoint).where(FocalPoint.chat_id == "z701"))
        assert blocked is not None and blocked.status == "unreachable"
        assert await s.scalar(select(func.count()).where(Outbox.status == "sent")) == 9
