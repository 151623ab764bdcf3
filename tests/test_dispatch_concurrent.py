"""Two dispatchers on one store (two bot instances sharing PostgreSQL, or SQLite): no duplicate."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date

from sqlalchemy import func, select
from telegram import Bot

from bot.channels.telegram.sender import TelegramSender
from knowledge.db import Database
from knowledge.models import Outbox
from scheduler.dispatcher import Dispatcher
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram
from tests.reminder_fixtures import due_batch

DAY = date(2026, 12, 10)
CHATS, TASKS = 200, 3


async def test_two_dispatchers_send_one_batch_without_duplicates(db: Database) -> None:
    clock = await due_batch(db, DAY, TASKS, CHATS, 300001)
    other = Database(db.url)  # a second instance: its own engine and connections
    try:
        async with FakeTelegram() as tg:
            bots = [Bot(DEFAULT_TOKEN, base_url=tg.base_url) for _ in range(2)]
            for b in bots:
                await b.initialize()
            a = Dispatcher(db, {"telegram": TelegramSender(bots[0])}, clock, max_per_second=5000, pool_size=50)
            b = Dispatcher(other, {"telegram": TelegramSender(bots[1])}, clock, max_per_second=5000, pool_size=50)
            sa, sb = await asyncio.gather(a.run_once(), b.run_once())
            for bot in bots:
                await bot.shutdown()
            ids = Counter(m["reply_markup"]["inline_keyboard"][0][0]["callback_data"] for m in tg.sent)
    finally:
        await other.close()
    assert len(ids) == CHATS * TASKS and max(ids.values()) == 1, "each reminder exactly once"
    assert sa.sent + sb.sent == CHATS * TASKS and sa.sent > 0 and sb.sent > 0
    async with db.session() as s:
        assert await s.scalar(select(func.count()).where(Outbox.status == "sent")) == CHATS * TASKS
