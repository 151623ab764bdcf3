"""The inbox (issue 14 item 1): an update is stored before it is confirmed, answered from there, marked
answered once its reply is confirmed; a retry is recognised; what a dead process left is answered on start."""

from __future__ import annotations

import asyncio
import os
import socket
from datetime import UTC, datetime, timedelta

import aiohttp
from sqlalchemy import func, select, update

from bot.channels.telegram.channel import SECRET_HEADER, TelegramChannel
from bot.edge import SORRY_LATE, Edge
from bot.web import WebServer
from core.context import AppContext
from core.messages import Incoming
from knowledge import inbox
from knowledge.db import Database
from knowledge.inbox import Received
from knowledge.models import InboxEntry
from tests.fakes.telegram_api import FakeTelegram

USER = 11
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def dead_owner() -> str:
    """A worker id of this host whose process does not run."""
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return f"{socket.gethostname()}:{pid}:dead"
        except PermissionError:
            pass
        pid += 1


async def test_accept_recognises_what_it_has_seen(db: Database) -> None:
    items = [Received("1", "11", {"update_id": 1}), Received("2", "12", {"update_id": 2})]
    assert await inbox.accept(db, "telegram", items, "me", NOW) == [True, True]
    assert await inbox.accept(db, "telegram", [items[1], Received("3", "11", {})], "me", NOW) == [False, True]
    assert await inbox.accept(db, "zalo", [items[0]], "me", NOW) == [True]  # ids are per channel
    await inbox.answered(db, "telegram", "1", NOW)
    assert await inbox.open_count(db) == (3, NOW)


async def test_leftovers_only_of_dead_or_silent_owners(db: Database) -> None:
    dead = dead_owner()
    live = f"{socket.gethostname()}:{os.getpid()}:alive"
    await inbox.accept(db, "telegram", [Received("1", "11", {"n": 1})], dead, NOW)
    await inbox.accept(db, "telegram", [Received("2", "11", {"n": 2})], live, NOW)
    await inbox.accept(db, "telegram", [Received("3", "11", {"n": 3})], "other-host:1:x", NOW)
    await inbox.accept(db, "telegram", [Received("4", "11", {"n": 4})], dead, NOW)
    await inbox.answered(db, "telegram", "4", NOW)
    taken = await inbox.take_leftovers(db, "me", ["telegram"], NOW + timedelta(seconds=1))
    assert [t.update_id for t in taken] == ["1"] and taken[0].payload == {"n": 1}
    assert await inbox.take_leftovers(db, "someone", ["telegram"], NOW + timedelta(seconds=2)) == []
    later = NOW + inbox.STALE_AFTER + timedelta(seconds=5)  # the other host went silent
    assert {t.update_id for t in await inbox.take_leftovers(db, "me2", ["telegram"], later)} == {"3", "1"}


async def _bot(ctx: AppContext, tg: FakeTelegram, **kw: object) -> TelegramChannel:
    bot = TelegramChannel(Edge(ctx), tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url,
                          poll_timeout=1, **kw)  # type: ignore[arg-type]
    await bot.start()
    return bot


async def test_webhook_retry_answered_once(db: Database) -> None:
    ctx = AppContext(db=db)
    async with FakeTelegram() as tg:
        url, secret = "https://nhacviec.example.gov.vn/hook", "0123456789abcdef"
        bot = await _bot(ctx, tg, webhook_url=url, webhook_secret=secret)
        web = WebServer(db, "127.0.0.1", 0)
        bot.add_routes(web)
        await web.start()
        try:
            update = {"update_id": 77, "message": tg.user_message(USER, "/huydangky")}
            async with aiohttp.ClientSession() as http:
                for _ in range(3):  # Telegram sends again when it did not see our 200 in time
                    async with http.post(f"http://127.0.0.1:{web.port}/hook", json=update,
                                         headers={SECRET_HEADER: secret}) as r:
                        assert r.status == 200
            await tg.wait_for_messages(1, chat_id=USER)
            await asyncio.sleep(0.5)
            assert len(tg.sent_to(USER)) == 1
            async with db.session() as s:
                [row] = (await s.scalars(select(InboxEntry))).all()
            assert row.update_id == "77" and row.answered_at is not None
        finally:
            await web.stop()
            await bot.stop()


async def test_left_unanswered_by_a_dead_process_answered_on_start_late_with_an_apology(db: Database) -> None:
    ctx = AppContext(db=db)
    async with FakeTelegram() as tg:
        fresh = {"update_id": 5, "message": tg.user_message(USER, "/huydangky")}
        old = {"update_id": 6, "message": tg.user_message(USER + 1, "/huydangky")}
        now = ctx.clock.now()
        await inbox.accept(db, "telegram", [Received("5", str(USER), fresh)], dead_owner(), now)
        await inbox.accept(db, "telegram", [Received("6", str(USER + 1), old)], dead_owner(),
                           now - timedelta(minutes=10))
        bot = await _bot(ctx, tg)
        try:
            assert await bot.edge.recover() == 2
            [answer] = await tg.wait_for_messages(1, chat_id=USER)
            assert "chưa đăng ký" in answer["text"]
            sorry, late = await tg.wait_for_messages(2, chat_id=USER + 1)
            assert sorry["text"] == SORRY_LATE and "chưa đăng ký" in late["text"]
            await asyncio.sleep(0.3)
            assert await inbox.open_count(db) == (0, None)
            assert await bot.edge.recover() == 0
        finally:
            await bot.stop()


async def test_a_message_that_keeps_killing_its_process_is_given_up(db: Database) -> None:
    """A poison message (its answering crashed the process each time) must not crash every restart."""
    await inbox.accept(db, "telegram", [Received("9", "11", {"n": 9})], dead_owner(), NOW)
    for attempt in range(inbox.MAX_TAKEOVERS):
        [row] = await inbox.take_leftovers(db, dead_owner() + str(attempt), ["telegram"], NOW)
        assert not row.given_up
        async with db.session() as s:  # the process that took it died too
            await s.execute(update(InboxEntry).values(owner=dead_owner()))
            await s.commit()
    [row] = await inbox.take_leftovers(db, "me", ["telegram"], NOW)
    assert row.given_up
    assert await inbox.open_count(db) == (0, None)


SEND_TAKES = 0.2  # seconds one message takes to reach the platform (longer than working out an answer)


class _SlowPlatform:
    """A channel whose platform takes a while per message, noting how many messages were on their way
    at once, and how many questions the store had marked answered as each message set off."""

    name = "slowchat"
    max_text = 4096
    status = "test"
    connected = True

    def __init__(self, db: Database) -> None:
        self.db = db
        self.sender = self
        self.answered_at_send: list[int] = []
        self.in_flight = self.most_in_flight = 0

    def health(self) -> dict[str, object]:
        return {}

    async def send(self, chat_id: str, text: str, choices: object = None) -> str:
        async with self.db.session() as s:
            self.answered_at_send.append(int(await s.scalar(
                select(func.count(InboxEntry.id)).where(InboxEntry.answered_at.is_not(None))) or 0))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(SEND_TAKES)
        self.in_flight -= 1
        return "1"


async def test_one_answer_on_its_way_at_a_time_each_marked_before_the_next(db: Database) -> None:
    """Answers are worked out together but sent one by one, each marked answered before the next goes
    out: a SIGKILL at any instant leaves at most one answer sent but unmarked (sent again on restart)."""
    edge = Edge(AppContext(db=db))
    platform = _SlowPlatform(db)
    edge.add(platform)  # type: ignore[arg-type]
    users = 12
    questions = [Incoming(channel=platform.name, chat_id=str(USER + i), user_id=str(USER + i), text="/huydangky")
                 for i in range(users)]
    await edge.accept(platform.name, [Received(str(i), q.chat_id, {}) for i, q in enumerate(questions)])
    await asyncio.gather(*(edge.answer_update(platform.name, str(i), edge.receive(q))
                           for i, q in enumerate(questions)))
    # Sent as soon as worked out, all twelve were on their way together on PostgreSQL (the in-process SQLite
    # store of the tests happens to space the answers out by itself).
    assert platform.most_in_flight == 1
    # Message n went out with n answers marked before it: a crash then repeats at most that one.
    assert platform.answered_at_send == list(range(users)), platform.answered_at_send
    assert await inbox.open_count(db) == (0, None)
