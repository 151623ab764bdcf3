"""Zalo OA v3 against the fake: signed webhooks, consultation sends, rotating tokens in the store."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest

from bot.channels.zalo.oa import (
    DEFAULT_WEBHOOK_PATH,
    SignatureRefused,
    ZaloOaChannel,
    ZaloOaClient,
    ZaloOaSender,
    signature,
    verify,
)
from bot.edge import Edge
from core.messages import RetryLater, Unreachable
from knowledge import oa_tokens
from knowledge.db import Database
from tests.fakes.zalo_api import OA_APP_ID, OA_SECRET_KEY, FakeZalo
from tests.zalo_fixtures import make_ctx, web_server

USER = "8100000000000000001"


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    async with FakeZalo() as fake:
        yield fake


async def oa_client(db: Database, zalo: FakeZalo, *, seed: bool = True) -> ZaloOaClient:
    client = ZaloOaClient(db, OA_APP_ID, OA_SECRET_KEY, base_url=zalo.url, oauth_url=zalo.url)
    if seed:
        assert await client.seed(*zalo.issue_tokens())
    return client


def test_signature_checks() -> None:
    now = time.time() * 1000
    event = {"app_id": OA_APP_ID, "event_name": "user_send_text", "timestamp": str(int(now))}
    raw = json.dumps(event).encode()
    good = signature(OA_APP_ID, raw, event["timestamp"], OA_SECRET_KEY)
    assert verify(OA_APP_ID, OA_SECRET_KEY, raw, f"mac={good}", 300, now) == event
    assert verify(OA_APP_ID, OA_SECRET_KEY, raw, good, 300, now) == event
    refused = {
        "forged": (raw, "mac=" + "0" * 64, now),
        "other secret": (raw, signature(OA_APP_ID, raw, event["timestamp"], "guess"), now),
        "body changed": (raw.replace(b"user_send_text", b"user_send_link"), good, now),
        "no signature": (raw, "", now),
        "stale": (raw, good, now + 301_000),
        "from the future": (raw, good, now - 301_000),
    }
    for why, (body, header, at) in refused.items():
        with pytest.raises(SignatureRefused):
            verify(OA_APP_ID, OA_SECRET_KEY, body, header, 300, at)
            pytest.fail(why)
    other_app = json.dumps({**event, "app_id": "999"}).encode()
    with pytest.raises(SignatureRefused):
        verify(OA_APP_ID, OA_SECRET_KEY, other_app, signature(OA_APP_ID, other_app, event["timestamp"], OA_SECRET_KEY),
               300, now)


async def test_webhook_answers_user_text_once_and_refuses_forgeries(db: Database, zalo: FakeZalo) -> None:
    client = await oa_client(db, zalo)
    channel = ZaloOaChannel(Edge(make_ctx(db)), client, max_per_second=100, per_chat_interval=0)
    async with web_server(db, channel.add_routes) as base:
        url = f"{base}{DEFAULT_WEBHOOK_PATH}"
        event = zalo.oa_event(USER, "/start")
        assert await zalo.push_oa(url, event) == 200
        assert await zalo.push_oa(url, event) == 200  # delivered twice: answered once
        assert await zalo.push_oa(url, zalo.oa_event(USER, "/start"), signature="mac=" + "f" * 64) == 403
        stale = zalo.oa_event(USER, "/start", timestamp_ms=int(time.time() * 1000) - 10 * 60_000)
        assert await zalo.push_oa(url, stale) == 403
        assert await zalo.push_oa(url, zalo.oa_event(USER, "", event="follow")) == 200  # ignored safely
        assert await zalo.push_oa(url, zalo.oa_event(USER, "x", event="user_send_image")) == 200
        await channel.stop()
    [sent] = zalo.oa_sent
    assert sent["user_id"] == USER and "Xin chào" in sent["text"]


async def test_webhook_answers_before_the_work_is_done(sqlite_db: Database, zalo: FakeZalo) -> None:
    client = await oa_client(sqlite_db, zalo)
    channel = ZaloOaChannel(Edge(make_ctx(sqlite_db)), client, max_per_second=100)
    async with web_server(sqlite_db, channel.add_routes) as base:
        zalo.send_delay = 2.0  # the answer takes long to go out; Zalo wants its 200 within 2 s
        started = time.monotonic()
        assert await zalo.push_oa(f"{base}{DEFAULT_WEBHOOK_PATH}", zalo.oa_event(USER, "/start")) == 200
        assert time.monotonic() - started < 1.0 and zalo.oa_sent == []
        await channel.stop()
    assert "Xin chào" in zalo.oa_sent[0]["text"]


async def test_expired_token_refreshed_once_and_rotated(db: Database, zalo: FakeZalo) -> None:
    client = await oa_client(db, zalo)
    sender = ZaloOaSender(client, max_per_second=100, per_chat_interval=0)
    await sender.send(USER, "trước")
    first = await oa_tokens.current(db, OA_APP_ID)
    zalo.expire_access_tokens()
    await sender.send(USER, "sau khi hết hạn")  # -220: refresh, retry once
    rotated = await oa_tokens.current(db, OA_APP_ID)
    assert first and rotated and zalo.refreshes == 1
    assert rotated.refresh_token != first.refresh_token and rotated.refresh_token in zalo.refresh_tokens
    assert first.refresh_token not in zalo.refresh_tokens  # spent at Zalo: only the store's new one works
    # A restart reads the rotated tokens from the store; the settings' first ones are not used again.
    again = ZaloOaClient(db, OA_APP_ID, OA_SECRET_KEY, base_url=zalo.url, oauth_url=zalo.url)
    assert not await again.seed(*zalo.issue_tokens())
    zalo.access_tokens.pop(rotated.access_token)  # now -216: invalid
    await ZaloOaSender(again, max_per_second=100).send(USER, "sau khi khởi động lại")
    assert zalo.refreshes == 2 and [m["text"] for m in zalo.oa_sent][-1] == "sau khi khởi động lại"
    await client.close()
    await again.close()


async def test_two_refreshers_at_once_refresh_once(db: Database, zalo: FakeZalo) -> None:
    a = await oa_client(db, zalo)
    elsewhere = Database(db.url)  # another instance: its own engine and connections on the same store
    b = ZaloOaClient(elsewhere, OA_APP_ID, OA_SECRET_KEY, base_url=zalo.url, oauth_url=zalo.url)
    stale = (await oa_tokens.current(db, OA_APP_ID)).access_token  # type: ignore[union-attr]
    zalo.expire_access_tokens()
    zalo.refresh_delay = 0.3  # the OAuth call is slow: the second refresher arrives while it runs
    got = await asyncio.gather(a.access_token(failed=stale), b.access_token(failed=stale))
    assert zalo.refreshes == 1 and zalo.stats["refresh_refused"] == 0
    assert got[0] == got[1] != stale
    assert (await oa_tokens.current(db, OA_APP_ID)).access_token == got[0]  # type: ignore[union-attr]
    await a.close()
    await b.close()
    await elsewhere.close()


async def test_refresh_refused_keeps_the_message_for_later(sqlite_db: Database, zalo: FakeZalo) -> None:
    client = await oa_client(sqlite_db, zalo)
    zalo.refresh_tokens.clear()  # the stored refresh token no longer works
    zalo.expire_access_tokens()
    with pytest.raises(RetryLater):
        await ZaloOaSender(client, max_per_second=100).send(USER, "x")
    tokens = await oa_tokens.current(sqlite_db, OA_APP_ID)
    assert tokens and tokens.refresh_token  # nothing lost: an admin can still see and replace it
    await client.close()


async def test_out_of_reach_users_and_rate_limit(sqlite_db: Database, zalo: FakeZalo) -> None:
    client = await oa_client(sqlite_db, zalo)
    sender = ZaloOaSender(client, max_per_second=100, per_chat_interval=0)
    zalo.inactive.add("u-quiet")
    zalo.not_following.add("u-left")
    with pytest.raises(Unreachable, match="7 ngày"):
        await sender.send("u-quiet", "nhắc việc")
    with pytest.raises(Unreachable):
        await sender.send("u-left", "nhắc việc")
    zalo.oa_rate_limited = 1
    with pytest.raises(RetryLater):
        await sender.send(USER, "nhắc việc")
    assert zalo.oa_sent == []
    await client.close()


async def test_no_tokens_stored_is_retry_later(sqlite_db: Database, zalo: FakeZalo) -> None:
    client = await oa_client(sqlite_db, zalo, seed=False)
    with pytest.raises(RetryLater):
        await ZaloOaSender(client, max_per_second=100).send(USER, "x")
    await client.close()
