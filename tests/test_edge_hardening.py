"""Webhook bodies an attacker sends with a valid secret, and flood control logged as what it is (issue 14
items 9 and 10): a clear 400 and a warning with the wait, never a 500 or an ERROR with a traceback."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest

from bot.channels.telegram.channel import SECRET_HEADER
from bot.web import WebServer
from core.context import AppContext
from knowledge.db import Database
from tests.fakes.telegram_api import FakeTelegram
from tests.test_telegram_bot import USER, make_ctx, running_bot

SECRET = "s3cret-Token_123"
DEPTH = 100_000


@pytest.fixture
def ctx(sqlite_db: Database) -> AppContext:
    return make_ctx(sqlite_db)


@pytest.fixture
async def tg() -> FakeTelegram:
    async with FakeTelegram() as fake:
        yield fake  # type: ignore[misc]


@pytest.mark.parametrize("body", [
    b'{"update_id": 1, "message": ' + b"[" * DEPTH + b"]" * DEPTH + b"}",
    b"[" * DEPTH + b"]" * DEPTH,
    b'{"update_id": 1, "x": ' + b'{"a":' * DEPTH + b"1" + b"}" * DEPTH + b"}",
], ids=["deep-list-in-update", "deep-list", "deep-object"])
async def test_deep_json_with_valid_secret_is_400(ctx: AppContext, tg: FakeTelegram, body: bytes,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    url = "https://nhacviec.example.gov.vn/tg/hook"
    bot = await running_bot(ctx, tg, webhook_url=url, webhook_secret=SECRET)
    web = WebServer(ctx.db, "127.0.0.1", 0)
    bot.add_routes(web)
    await web.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"http://127.0.0.1:{web.port}/tg/hook", data=body,
                                 headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"}) as r:
                assert r.status == 400
                assert (await r.json())["ok"] is False
            async with http.get(f"http://127.0.0.1:{web.port}/healthz") as r:
                assert r.status == 200  # and the server is still there
    finally:
        await web.stop()
        await bot.stop()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], caplog.text


async def test_flood_control_is_a_warning_with_the_wait(ctx: AppContext, tg: FakeTelegram,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    bot = await running_bot(ctx, tg)
    try:
        tg.fail(USER, 429, retry_after=1)
        tg.queue_message(USER, "/huydangky")
        [reply] = await tg.wait_for_messages(1, chat_id=USER, timeout=6)
        assert "chưa đăng ký" in reply["text"]
        await asyncio.sleep(0.1)
    finally:
        await bot.stop()
    assert tg.stats["error_429"] == 1
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, "\n".join(r.getMessage() for r in bad)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("429" in w and "1" in w for w in warnings), warnings
