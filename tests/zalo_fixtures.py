"""Building blocks for the Zalo tests: a context with a plan, the channels on an Edge, a web server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date

from bot.channels.zalo.channel import ZaloChannel
from bot.channels.zalo.client import ZaloBotClient
from bot.edge import Edge
from bot.file_links import FileLinks
from bot.web import WebServer
from core.clock import FixedClock
from core.context import AppContext
from knowledge import focal_points
from knowledge.db import Database
from knowledge.plans import import_file
from scheduler import planner
from tests.conftest import ROOT
from tests.fakes.zalo_api import FakeZalo
from tests.reminder_fixtures import HOUR, agency_id, due_batch

ADMIN = "zadmin01"
PLAN = ROOT / "tests" / "data" / "ubnd_bang.md"
FAST = 1000.0  # a pace that never holds tests up (the throttle has tests of its own)


def make_ctx(db: Database, day: date = date(2025, 3, 3)) -> AppContext:
    return AppContext(db=db, clock=FixedClock.on(day), admins=frozenset({f"zalo:{ADMIN}"}))


async def with_plan(db: Database) -> AppContext:
    """A context over a store holding Kế hoạch 5678/KH-UBND (tests/data/ubnd_bang.md)."""
    result = await import_file(db, PLAN, actor="test")
    assert result.added > 0, result
    return make_ctx(db)


def zalo_channel(ctx: AppContext, zalo: FakeZalo, *, per_second: float = FAST, per_chat: float = 0.0,
                 links: FileLinks | None = None, webhook_url: str = "", webhook_secret: str = "") -> ZaloChannel:
    """The Zalo channel on a fresh Edge, as the app builds it (the real router behind the Edge)."""
    return ZaloChannel(Edge(ctx), ZaloBotClient(zalo.token, zalo.url), max_per_second=per_second,
                       per_chat_interval=per_chat, links=links, webhook_url=webhook_url,
                       webhook_secret=webhook_secret, poll_timeout_s=1)


@asynccontextmanager
async def running(channel: ZaloChannel) -> AsyncIterator[ZaloChannel]:
    await channel.start()
    try:
        yield channel
    finally:
        await channel.stop()


@asynccontextmanager
async def web_server(db: Database, routes: Callable[[WebServer], None]) -> AsyncIterator[str]:
    """The project's web server on a free port of 127.0.0.1 with some routes added; its base URL."""
    web = WebServer(db, "127.0.0.1", 0)
    routes(web)
    await web.start()
    try:
        yield f"http://127.0.0.1:{web.port}"
    finally:
        await web.stop()


async def zalo_reminders(db: Database, day: date, tasks: int, chats: int, first_chat: int) -> FixedClock:
    """`tasks` tasks of Sở Tài chính due `day` and `chats` approved Zalo focal points: tasks × chats
    reminders in the outbox, due at 09:00 that day (the clock returned)."""
    clock = await due_batch(db, day, tasks, 0, first_chat, plan=False)
    agency = await agency_id(db, "Sở Tài chính")
    async with db.session() as s:
        for i in range(chats):
            await focal_points.add(s, agency, "zalo", f"z{first_chat + i}", approved_by="test")
        await planner.run_planner(s, clock.now(), HOUR)
        await s.commit()
    return clock
