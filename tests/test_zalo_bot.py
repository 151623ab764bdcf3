"""End to end: the Zalo Bot Platform channel (our aiohttp client) against the fake Zalo server."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.channels.zalo import build
from bot.channels.zalo.channel import SECRET_HEADER
from bot.channels.zalo.client import ZaloBotClient
from bot.channels.zalo.updates import TEXT_PLEASE
from core.context import AppContext
from core.messages import Incoming, Reply
from core.settings import Settings
from handlers import router
from knowledge import focal_points
from knowledge.agencies import Registry
from knowledge.db import Database
from knowledge.models import ChannelSeen, FocalPoint
from tests.fakes.zalo_api import OA_APP_ID, OA_SECRET_KEY, FakeZalo
from tests.zalo_fixtures import ADMIN, channel_for, make_ctx, polling, web_app, with_plan

USER = "zu0001"
QUESTION = "Sở Nội vụ có việc gì?"
ANSWER_PART = "Cập nhật cơ sở dữ liệu cán bộ, công chức"


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    async with FakeZalo(max_poll_timeout=1.0) as fake:
        yield fake


async def test_question_answered_by_polling(db: Database, zalo: FakeZalo) -> None:
    ctx = await with_plan(db)
    async with polling(channel_for(ctx, zalo)):
        zalo.queue_message(USER, QUESTION)
        [reply] = await zalo.wait_for_messages(1, USER)
    assert ANSWER_PART in reply and "hạn 30/09/2025" in reply
    assert zalo.requests[0][0] == "deleteWebhook"  # polling and the webhook exclude each other
    assert all("offset" not in p for m, p in zalo.requests if m == "getUpdates")


async def test_empty_polls_answer_408_and_polling_goes_on(sqlite_db: Database, zalo: FakeZalo) -> None:
    client = ZaloBotClient(zalo.token, zalo.url)
    assert await client.get_updates(1) == []  # 408 is "nothing new", not an error
    await client.close()
    channel = channel_for(make_ctx(sqlite_db), zalo)
    async with polling(channel):
        while zalo.stats["error_408"] < 2:
            await asyncio.sleep(0.1)
        zalo.queue_message(USER, "/start")
        [reply] = await zalo.wait_for_messages(1, USER)
    assert "Xin chào" in reply and channel.polls >= 2


async def test_one_update_per_poll(sqlite_db: Database, zalo: FakeZalo) -> None:
    for i in range(3):
        zalo.queue_message(f"zu10{i}", "/start")
    async with polling(channel_for(make_ctx(sqlite_db), zalo)):
        await zalo.wait_for_messages(3)
    assert zalo.stats["getUpdates"] >= 3


async def test_redelivered_message_answered_once_even_after_a_restart(db: Database, zalo: FakeZalo) -> None:
    ctx = await with_plan(db)
    update = zalo.update(USER, QUESTION)
    async with polling(channel_for(ctx, zalo)):
        zalo.queue(update, times=2)  # Zalo delivers the same message twice
        await zalo.wait_for_messages(1, USER)
        while zalo.updates:
            await asyncio.sleep(0.05)
    async with polling(channel_for(ctx, zalo)):  # a new process: only the store remembers
        zalo.queue(update)
        zalo.queue_message(USER, "/start")  # answered after the redelivery: same chat, in order
        texts = await zalo.wait_for_messages(2, USER)
    assert len(texts) == 2 and ANSWER_PART in texts[0] and "Xin chào" in texts[1]
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(ChannelSeen)) == 2


async def test_webhook_bare_wrapped_duplicate_and_forged(sqlite_db: Database, zalo: FakeZalo) -> None:
    channel = channel_for(make_ctx(sqlite_db), zalo)
    secret = "s3cret-for-zalo-hook"
    async with web_app(lambda app: app.router.add_post("/zalo/webhook", channel.webhook_handler(secret))) as base:
        await channel.client.set_webhook(f"{base}/zalo/webhook", secret)
        bare = zalo.update(USER, "/start")
        assert await zalo.push(bare) == 200
        assert await zalo.push(bare) == 200  # a redelivery: acknowledged, not answered again
        assert await zalo.push(zalo.update("zu0002", "/start"), wrapped=True) == 200
        assert await zalo.push(zalo.update("zu0003", "/start"), secret="wrong-secret-123") == 403
        assert await zalo.push(zalo.update("zu0003", "/start"), secret="") == 403
        await channel.drain()
        async with aiohttp.ClientSession() as s, s.post(f"{base}/zalo/webhook", data=b"not json",
                                                         headers={SECRET_HEADER: secret}) as r:
            assert r.status == 400
    await channel.client.close()
    assert len(zalo.sent_to(USER)) == 1 and len(zalo.sent_to("zu0002")) == 1 and zalo.sent_to("zu0003") == []


async def test_webhook_answers_200_before_the_work_is_done(sqlite_db: Database, zalo: FakeZalo) -> None:
    release = asyncio.Event()

    async def slow(msg: Incoming) -> list[Reply]:
        await release.wait()
        return [Reply("xong")]

    channel = channel_for(make_ctx(sqlite_db), zalo, on_message=slow)
    secret = "another-secret"
    async with web_app(lambda app: app.router.add_post("/hook", channel.webhook_handler(secret))) as base:
        await channel.client.set_webhook(f"{base}/hook", secret)
        assert await asyncio.wait_for(zalo.push(zalo.update(USER, "câu hỏi chậm")), 2) == 200
        assert zalo.sent == []
        release.set()
        assert await zalo.wait_for_messages(1, USER) == ["xong"]
        await channel.drain()
    await channel.client.close()


async def test_images_and_stickers_get_a_polite_note(sqlite_db: Database, zalo: FakeZalo) -> None:
    async with polling(channel_for(make_ctx(sqlite_db), zalo)):
        zalo.queue(zalo.update(USER, event="message.image.received"))
        zalo.queue(zalo.update(USER, event="message.sticker.received"))
        zalo.queue(zalo.update("zgroup1", event="message.image.received", group=True))  # groups: silence
        zalo.queue(zalo.update("zgroup1", "mọi người ơi họp lúc 9h", group=True))  # not for the bot
        zalo.queue(zalo.update("zgroup1", "/start", group=True))  # for the bot
        zalo.queue(zalo.update("zgroup1", "@Nhắc việc Sở Nội vụ có việc gì?", group=True))  # for the bot
        await zalo.wait_for_messages(2, USER)
        group_replies = await zalo.wait_for_messages(2, "zgroup1")
        await asyncio.sleep(0.2)
    assert zalo.sent_to(USER) == [TEXT_PLEASE, TEXT_PLEASE]
    assert len(zalo.sent_to("zgroup1")) == 2
    assert "Xin chào" in group_replies[0] and "Sở Nội vụ" in group_replies[1]


async def test_blocked_chat_marked_unreachable_and_admins_told(db: Database, zalo: FakeZalo) -> None:
    ctx = make_ctx(db)
    async with db.session() as s:
        agency = (await Registry.load(s)).lookup("Sở Y tế")
        assert agency
        row = await focal_points.add(s, agency.id, "zalo", USER, user_id=USER, name="Lê Văn C",
                                     approved_by=f"zalo:{ADMIN}")
        await s.commit()
    zalo.fail(USER, 403, times=None)
    async with polling(channel_for(ctx, zalo)):
        zalo.queue_message(USER, "/start")
        [notice] = await zalo.wait_for_messages(1, ADMIN)
    assert "Lê Văn C" in notice and "Sở Y tế" in notice
    async with db.session() as s:
        assert (await s.get(FocalPoint, row.id)).status == "unreachable"  # type: ignore[union-attr]
    assert zalo.sent_to(USER) == []


async def test_long_answer_split_under_2000_at_lines(sqlite_db: Database, zalo: FakeZalo) -> None:
    lines = [f"{i}. Sở Tài chính chủ trì rà soát quy định tài chính — KH 3021, mục II.{i}" for i in range(1, 101)]

    async def long(msg: Incoming) -> list[Reply]:
        return [Reply("\n".join(lines))]

    async with polling(channel_for(make_ctx(sqlite_db), zalo, on_message=long)):
        zalo.queue_message(USER, "danh sách")
        await zalo.wait_for_messages(4, USER)
        await asyncio.sleep(0.2)
    pieces = zalo.sent_to(USER)
    assert all(len(p) < 2000 for p in pieces)
    assert "\n".join(pieces).split("\n") == lines  # whole lines, in order, nothing lost


async def test_unexpected_handler_error_answered_politely(sqlite_db: Database, zalo: FakeZalo) -> None:
    async def broken(msg: Incoming) -> list[Reply]:
        raise RuntimeError("bug")

    async with polling(channel_for(make_ctx(sqlite_db), zalo, on_message=broken)):
        zalo.queue_message(USER, "a")
        zalo.queue_message(USER, "b")
        texts = await zalo.wait_for_messages(2, USER)
    assert all(t.startswith("Xin lỗi") for t in texts)


async def test_reply_waits_out_a_429_and_is_delivered(sqlite_db: Database, zalo: FakeZalo) -> None:
    zalo.fail(USER, 429, times=1, retry_after=1)
    async with polling(channel_for(make_ctx(sqlite_db), zalo)):
        zalo.queue_message(USER, "/start")
        [reply] = await zalo.wait_for_messages(1, USER, timeout=8)
    assert "Xin chào" in reply and zalo.stats["error_429"] == 1


async def test_the_router_sees_zalo_incoming(sqlite_db: Database, zalo: FakeZalo) -> None:
    seen: list[Incoming] = []
    ctx: AppContext = make_ctx(sqlite_db)

    async def spy(msg: Incoming) -> list[Reply]:
        seen.append(msg)
        return await router.handle(ctx, msg)

    async with polling(channel_for(ctx, zalo, on_message=functools.partial(spy))):
        zalo.queue_message(USER, "  Sở Y tế có việc gì?  ", name="Nguyễn Văn A")
        await zalo.wait_for_messages(1, USER)
    [msg] = seen
    assert (msg.channel, msg.chat_id, msg.user_id, msg.text, msg.user_name, msg.is_group) == (
        "zalo", USER, USER, "Sở Y tế có việc gì?", "Nguyễn Văn A", False)


async def test_channels_built_from_the_settings(sqlite_db: Database, zalo: FakeZalo, tmp_path: Path) -> None:
    ctx = make_ctx(sqlite_db)
    assert build.bot_channel(Settings(), sqlite_db, functools.partial(router.handle, ctx)) is None
    assert await build.oa_channel(Settings(), sqlite_db, functools.partial(router.handle, ctx)) is None
    access, refresh = zalo.issue_tokens()
    settings = Settings(zalo_bot_token=zalo.token, zalo_base_url=zalo.url, zalo_oa_app_id=OA_APP_ID,
                        zalo_oa_secret_key=OA_SECRET_KEY, zalo_oa_base_url=zalo.url, zalo_oa_oauth_url=zalo.url,
                        zalo_oa_access_token=access, zalo_oa_refresh_token=refresh, data_dir=tmp_path)
    channel = build.bot_channel(settings, sqlite_db, functools.partial(router.handle, ctx),
                                links=build.file_links(settings))
    assert channel is not None and channel.zalo_sender.max_per_second == settings.zalo_max_per_second
    async with polling(channel):
        zalo.queue_message(USER, "/start")
        [reply] = await zalo.wait_for_messages(1, USER)
    assert "Xin chào" in reply
    oa = await build.oa_channel(settings, sqlite_db, functools.partial(router.handle, ctx))
    assert oa is not None
    await oa.sender.send(USER, "chào")  # the settings' first tokens went into the store
    assert zalo.oa_sent[0]["text"] == "chào"
    await oa.stop()


async def test_registration_from_zalo_reaches_the_admin_with_numbered_choices(db: Database, zalo: FakeZalo) -> None:
    async with polling(channel_for(make_ctx(db), zalo)):
        zalo.queue_message(USER, "/dangky so tai chinh", name="Trần Thị B")
        [request] = await zalo.wait_for_messages(1, ADMIN)
        [ack] = await zalo.wait_for_messages(1, USER)
    assert "Đã gửi yêu cầu" in ack and "Trần Thị B" in request
    assert "\n1. Duyệt" in request and "Trả lời bằng một số" in request  # no buttons on Zalo
    async with db.session() as s:
        [row] = (await s.scalars(select(FocalPoint))).all()
    assert (row.channel, row.chat_id, row.status, row.name) == ("zalo", USER, "pending", "Trần Thị B")
