"""Building blocks for the Zalo tests: the fake server, a channel wired to it, a small web server."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date

from aiohttp import web

from bot.channels.zalo.channel import ZaloBotChannel
from bot.channels.zalo.client import ZaloBotClient
from bot.channels.zalo.sender import ZaloSender
from core.clock import FixedClock
from core.context import AppContext
from core.messages import Incoming, Reply
from handlers import router
from handlers.registration import mark_chat_unreachable
from knowledge.db import Database
from knowledge.plans import import_file
from tests.conftest import ROOT
from tests.fakes.zalo_api import FakeZalo

ADMIN = "zadmin01"
PLAN = ROOT / "tests" / "data" / "ubnd_bang.md"
FAST = 1000.0  # a pace that never holds tests up (the throttle has tests of its own)


def make_ctx(db: Database) -> AppContext:
    return AppContext(db=db, clock=FixedClock.on(date(2025, 3, 3)), admins=frozenset({f"zalo:{ADMIN}"}))


async def with_plan(db: Database) -> AppContext:
    """A context over a store holding Kế hoạch 5678/KH-UBND (tests/data/ubnd_bang.md)."""
    result = await import_file(db, PLAN, actor="test")
    assert result.added > 0, result
    return make_ctx(db)


def channel_for(ctx: AppContext, zalo: FakeZalo, *, per_second: float = FAST, per_chat: float = 0.0,
                on_message: Callable[[Incoming], Awaitable[list[Reply]]] | None = None) -> ZaloBotChannel:
    """The Zalo channel as the registry will wire it: the real router, admins told of blocked chats."""
    client = ZaloBotClient(zalo.token, zalo.url)
    sender = ZaloSender(client, max_per_second=per_second, per_chat_interval=per_chat)
    return ZaloBotChannel(ctx.db, client, sender, on_message or functools.partial(router.handle, ctx),
                          on_unreachable=functools.partial(mark_chat_unreachable, ctx, "zalo"),
                          poll_timeout_s=1)


@asynccontextmanager
async def polling(channel: ZaloBotChannel) -> AsyncIterator[ZaloBotChannel]:
    await channel.start_polling()
    try:
        yield channel
    finally:
        await channel.stop()


@asynccontextmanager
async def web_app(routes: Callable[[web.Application], None]) -> AsyncIterator[str]:
    """An aiohttp server on 127.0.0.1 (the project's web server stands in); its base URL."""
    app = web.Application()
    routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def zalo_reminders(db: Database, day: date, tasks: int, chats: int, first_chat: int) -> FixedClock:
    """`tasks` tasks of Sở Tài chính due `day` and `chats` approved Zalo focal points: tasks × chats
    reminders in the outbox, due at 09:00 that day (the clock returned)."""
    from knowledge import focal_points
    from scheduler import planner
    from tests.reminder_fixtures import agency_id, due_batch

    clock = await due_batch(db, day, tasks, 0, first_chat, plan=False)
    agency = await agency_id(db, "Sở Tài chính")
    async with db.session() as s:
        for i in range(chats):
            await focal_points.add(s, agency, "zalo", f"z{first_chat + i}", approved_by="test")
        await planner.run_planner(s, clock.now())
        await s.commit()
    return clock
