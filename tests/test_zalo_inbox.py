"""Zalo messages go through the same inbox as Telegram's (issue 14 item 1): stored before they are
acknowledged, answered from there, so a message a killed process took in but did not answer is answered
on the next start — and a redelivery of it afterwards is not answered again. (Before, a table of seen
message ids was written before the answer: a crash in between lost that message.)"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.channels.zalo.oa import CHANNEL as OA_CHANNEL
from bot.channels.zalo.oa import DEFAULT_WEBHOOK_PATH, ZaloOaChannel
from bot.channels.zalo.updates import CHANNEL
from bot.edge import Edge
from knowledge import inbox
from knowledge.db import Database
from knowledge.inbox import Received
from knowledge.models import InboxEntry
from tests.fakes.zalo_api import FakeZalo
from tests.test_inbox import dead_owner
from tests.test_zalo_oa import oa_client
from tests.zalo_fixtures import make_ctx, running, web_server, zalo_channel

USER = "zu0042"


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    async with FakeZalo(max_poll_timeout=1.0) as fake:
        yield fake


async def _all_answered(db: Database) -> bool:
    async with db.session() as s:
        return all(at is not None for at in (await s.scalars(select(InboxEntry.answered_at))).all())


async def test_bot_platform_message_taken_by_a_killed_process_is_answered_once(db: Database, zalo: FakeZalo) -> None:
    ctx = make_ctx(db)
    update = zalo.update(USER, "/start")
    # A process polled it (the platform counts it delivered), stored it, and was killed before answering.
    await inbox.accept(db, CHANNEL, [Received(update["message"]["message_id"], USER, update)], dead_owner(),
                       ctx.clock.now())
    channel = zalo_channel(ctx, zalo)
    async with running(channel):
        assert await channel.edge.recover() == 1
        [reply] = await zalo.wait_for_messages(1, USER)
        zalo.queue(update)  # delivered again: stored before, not answered twice
        zalo.queue_message(USER, "/huydangky")  # answered after the redelivery was looked at
        texts = await zalo.wait_for_messages(2, USER)
        await channel.intake.drain()
    assert "Xin chào" in reply and len(texts) == 2 and "chưa đăng ký" in texts[1], texts
    assert await _all_answered(db) and await channel.edge.recover() == 0


async def test_oa_message_taken_by_a_killed_process_is_answered_once(db: Database, zalo: FakeZalo) -> None:
    ctx = make_ctx(db)
    event = zalo.oa_event(USER, "/start")
    await inbox.accept(db, OA_CHANNEL, [Received(event["message"]["msg_id"], USER, event)], dead_owner(),
                       ctx.clock.now())
    channel = ZaloOaChannel(Edge(ctx), await oa_client(db, zalo), max_per_second=100, per_chat_interval=0)
    async with web_server(db, channel.add_routes) as base:
        assert await channel.edge.recover() == 1
        await channel.intake.drain()
        assert await zalo.push_oa(f"{base}{DEFAULT_WEBHOOK_PATH}", event) == 200  # Zalo sends it again
        await channel.stop()
    [sent] = zalo.oa_sent
    assert sent["user_id"] == USER and "Xin chào" in sent["text"]
    assert await _all_answered(db)
