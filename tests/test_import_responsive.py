"""Import does not freeze the bot (issue 14 item 4): an admin's 5 MB plan is parsed in a worker process
while the bot keeps answering; the admin is told it is being read; a parse past its time limit is refused."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from bot.channels.telegram.channel import TelegramChannel
from core.context import AppContext
from knowledge.db import Database
from knowledge.importer import ImportRefused
from knowledge.models import Plan
from knowledge.plans import Importer
from tests.big_plan import big_plan
from tests.fakes.telegram_api import FakeTelegram
from tests.test_telegram_bot import ADMIN, USER, make_ctx, running_bot


@pytest.fixture
def ctx(sqlite_db: Database) -> AppContext:
    return make_ctx(sqlite_db)


@pytest.fixture
async def tg() -> FakeTelegram:
    async with FakeTelegram() as fake:
        yield fake  # type: ignore[misc]


@pytest.mark.slow
async def test_bot_answers_within_a_second_while_a_5mb_plan_is_read(ctx: AppContext, tg: FakeTelegram) -> None:
    bot: TelegramChannel = await running_bot(ctx, tg)
    try:
        data = big_plan(5)
        assert len(data) >= 5 * 1024 * 1024
        tg.queue_document(ADMIN, "kehoach_lon.txt", data)
        [working] = await tg.wait_for_messages(1, chat_id=ADMIN, timeout=30)
        assert working["text"].startswith("Đang đọc tệp kehoach_lon.txt (5.")
        asked = time.monotonic()
        tg.queue_message(USER, "/huydangky")
        [reply] = await tg.wait_for_messages(1, chat_id=USER, timeout=10)
        latency = time.monotonic() - asked
        assert "chưa đăng ký" in reply["text"]
        assert len(tg.sent_to(ADMIN)) == 1, "the question was answered while the plan was still being read"
        done = await tg.wait_for_messages(2, chat_id=ADMIN, timeout=240)  # "Đang đọc", then the preview
        read_seconds = time.monotonic() - asked
        print(f"\nanswered in {latency:.2f} s while a 5 MB plan was read ({read_seconds:.1f} s); {done[1]['text']}")
        assert latency < 1.0
        assert "9999/KH-UBND" in done[1]["text"] and "Xem trước" in done[1]["text"]  # the preview, read in a worker
    finally:
        await bot.stop()


async def test_parse_past_its_time_limit_is_refused_and_changes_nothing(db: Database) -> None:
    importer = await Importer.create(db, actor="test")
    started = time.monotonic()
    with pytest.raises(ImportRefused, match="quá 0 giây"):
        await importer.import_bytes(big_plan(2), "lon.txt", worker_seconds=0.3)
    assert time.monotonic() - started < 5  # the worker was killed, not waited for
    async with db.session() as s:
        assert await s.scalar(select(func.count(Plan.id))) == 0
    result = await importer.import_bytes(big_plan(0.05), "nho.txt", worker_seconds=60)
    assert result.status == "new" and len(result.parsed.tasks) > 100
