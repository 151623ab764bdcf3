"""End to end: the Zalo Bot Platform channel (our aiohttp client) on the Edge, against the fake Zalo
server on 127.0.0.1; the real router answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.app import App
from bot.channels.zalo.channel import SECRET_HEADER, ZaloChannel
from bot.channels.zalo.oa import ZaloOaChannel
from bot.channels.zalo.updates import TEXT_PLEASE, to_incoming, unwrap
from bot.edge import Edge
from core.messages import Incoming
from core.settings import Settings
from knowledge import focal_points
from knowledge.agencies import Registry
from knowledge.db import Database
from knowledge.models import FocalPoint, InboxEntry, TaskProgress
from scheduler.dispatcher import Dispatcher
from tests.fakes.zalo_api import OA_APP_ID, OA_SECRET_KEY, FakeZalo
from tests.zalo_fixtures import ADMIN, make_ctx, running, with_plan, zalo_channel, zalo_reminders

USER = "zu0001"
QUESTION = "Sở Nội vụ có việc gì?"
ANSWER_PART = "Cập nhật cơ sở dữ liệu cán bộ, công chức"
SECRET = "s3cret-for-zalo-hook"


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    async with FakeZalo(max_poll_timeout=1.0) as fake:
        yield fake


def test_updates_become_incoming() -> None:
    update = {"event_name": "message.text.received", "message": {
        "message_id": "m1", "date": 1, "text": "  Sở Y tế có việc gì?  ",
        "chat": {"id": "c9", "chat_type": "PRIVATE"}, "from": {"id": "u9", "display_name": "Nguyễn Văn A"}}}
    assert to_incoming(update) == Incoming(channel="zalo", chat_id="c9", user_id="u9", text="Sở Y tế có việc gì?",
                                           user_name="Nguyễn Văn A", is_group=False)
    assert unwrap({"ok": True, "result": update}) == unwrap(update) == update
    assert unwrap({"ok": True, "result": {}}) is None and unwrap([update]) is None
    assert to_incoming({**update, "message": {**update["message"], "from": {"id": "b", "is_bot": True}}}) is None


async def test_question_answered_by_polling(db: Database, zalo: FakeZalo) -> None:
    ctx = await with_plan(db)
    async with running(zalo_channel(ctx, zalo)):
        zalo.queue_message(USER, QUESTION)
        [reply] = await zalo.wait_for_messages(1, USER)
    assert f"30/09 · {ANSWER_PART}" in reply  # a list line opens with its deadline
    methods = [m for m, _ in zalo.requests]
    assert methods.index("deleteWebhook") < methods.index("getUpdates")  # polling and webhook exclude each other
    assert all("offset" not in p for m, p in zalo.requests if m == "getUpdates")


async def test_a_typed_number_follows_the_numbered_list(db: Database, zalo: FakeZalo) -> None:
    ctx = await with_plan(db)
    async with running(zalo_channel(ctx, zalo)):
        zalo.queue_message(USER, QUESTION)
        [listing] = await zalo.wait_for_messages(1, USER)
        [n] = [line.split(".", 1)[0] for line in listing.splitlines() if ANSWER_PART in line]
        zalo.queue_message(USER, n)
        details = (await zalo.wait_for_messages(2, USER))[1]
    assert "Gõ số" in listing
    assert ANSWER_PART in details and "Văn phòng UBND tỉnh" in details  # the task itself, its coordinator


async def test_empty_polls_answer_408_and_polling_goes_on(sqlite_db: Database, zalo: FakeZalo) -> None:
    channel = zalo_channel(make_ctx(sqlite_db), zalo)
    assert await channel.client.get_updates(1) == []  # 408 is "nothing new", not an error
    async with running(channel):
        while zalo.stats["error_408"] < 3:
            await asyncio.sleep(0.1)
        zalo.queue_message(USER, "/start")
        [reply] = await zalo.wait_for_messages(1, USER)
    assert "Xin chào" in reply and channel.polls >= 2


async def test_one_update_per_poll(sqlite_db: Database, zalo: FakeZalo) -> None:
    for i in range(3):
        zalo.queue_message(f"zu10{i}", "/start")
    async with running(zalo_channel(make_ctx(sqlite_db), zalo)):
        await zalo.wait_for_messages(3)
    assert zalo.stats["getUpdates"] >= 3


async def test_redelivered_message_answered_once_even_after_a_restart(db: Database, zalo: FakeZalo) -> None:
    ctx = await with_plan(db)
    update = zalo.update(USER, QUESTION)
    async with running(zalo_channel(ctx, zalo)):
        zalo.queue(update, times=2)  # Zalo delivers the same message twice
        await zalo.wait_for_messages(1, USER)
        while zalo.updates:
            await asyncio.sleep(0.05)
    async with running(zalo_channel(ctx, zalo)):  # a new process: only the store remembers
        zalo.queue(update)
        zalo.queue_message(USER, "/start")  # answered after the redelivery: same chat, in order
        texts = await zalo.wait_for_messages(2, USER)
    assert len(texts) == 2 and ANSWER_PART in texts[0] and "Xin chào" in texts[1]
    async with db.session() as s:
        rows = (await s.execute(select(InboxEntry.answered_at))).all()
    assert len(rows) == 2 and all(at is not None for (at,) in rows)  # stored once each, answered


async def _post(url: str, body: bytes, secret: str) -> int:
    async with aiohttp.ClientSession() as s, s.post(url, data=body, headers={SECRET_HEADER: secret}) as r:
        return r.status


async def test_webhook_bare_wrapped_duplicate_and_forged(tmp_path: Path, zalo: FakeZalo) -> None:
    cfg = Settings(data_dir=tmp_path, web_host="127.0.0.1", web_port=0, zalo_bot_token=zalo.token,  # type: ignore[arg-type]
                   zalo_base_url=zalo.url, zalo_webhook_url="https://nhacviec.example.gov.vn/zl/hook",
                   zalo_webhook_secret=SECRET)
    app = await App.create(cfg)
    await app.start()
    try:
        assert zalo.webhook == {"url": "https://nhacviec.example.gov.vn/zl/hook", "secret_token": SECRET}
        url = f"http://127.0.0.1:{app.web.port}/zl/hook"
        bare = zalo.update(USER, "/start")
        assert await zalo.push(bare, url=url) == 200
        assert await zalo.push(bare, url=url) == 200  # a redelivery: acknowledged, not answered again
        assert await zalo.push(zalo.update("zu0002", "/start"), wrapped=True, url=url) == 200
        assert await zalo.push(zalo.update("zu0003", "/start"), secret="wrong-secret-123", url=url) == 403
        assert await zalo.push(zalo.update("zu0003", "/start"), secret="", url=url) == 403
        assert await _post(url, b"not json", SECRET) == 400
        assert await _post(url, b'{"ok": true, "result": {}}', SECRET) == 400
        await zalo.wait_for_messages(1, "zu0002")
        await zalo.wait_for_messages(1, USER)
        async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{app.web.port}/healthz") as r:
            assert (await r.json())["zalo"] == "webhook"
    finally:
        await app.stop()
    assert len(zalo.sent_to(USER)) == 1 and zalo.sent_to("zu0003") == []
    assert not any(m == "getUpdates" for m, _ in zalo.requests)


async def test_webhook_answers_200_before_the_work_is_done(tmp_path: Path, zalo: FakeZalo) -> None:
    cfg = Settings(data_dir=tmp_path, web_host="127.0.0.1", web_port=0, zalo_bot_token=zalo.token,  # type: ignore[arg-type]
                   zalo_base_url=zalo.url, zalo_webhook_url="https://x.example/zalo/webhook",
                   zalo_webhook_secret=SECRET)
    app = await App.create(cfg)
    await app.start()
    try:
        zalo.send_delay = 2.0  # the answer takes long to go out
        started = asyncio.get_running_loop().time()
        assert await zalo.push(zalo.update(USER, "/start"), url=f"http://127.0.0.1:{app.web.port}/zalo/webhook") == 200
        assert asyncio.get_running_loop().time() - started < 1.0 and zalo.sent == []
        [reply] = await zalo.wait_for_messages(1, USER)
        assert "Xin chào" in reply
    finally:
        await app.stop()


async def test_images_stickers_and_groups(sqlite_db: Database, zalo: FakeZalo) -> None:
    async with running(zalo_channel(await with_plan(sqlite_db), zalo)):  # a plan: the agency question is looked up
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
    async with running(zalo_channel(ctx, zalo)):
        zalo.queue_message(USER, "/start")
        [notice] = await zalo.wait_for_messages(1, ADMIN)
    assert "Lê Văn C" in notice and "Sở Y tế" in notice
    async with db.session() as s:
        assert (await s.get(FocalPoint, row.id)).status == "unreachable"  # type: ignore[union-attr]
    assert zalo.sent_to(USER) == []


async def test_reply_waits_out_a_429_and_is_delivered(sqlite_db: Database, zalo: FakeZalo) -> None:
    zalo.fail(USER, 429, times=1, retry_after=1)
    async with running(zalo_channel(make_ctx(sqlite_db), zalo)):
        zalo.queue_message(USER, "/start")
        [reply] = await zalo.wait_for_messages(1, USER, timeout=8)
    assert "Xin chào" in reply and zalo.stats["error_429"] == 1


async def test_registration_approved_by_typing_a_number(db: Database, zalo: FakeZalo) -> None:
    async with running(zalo_channel(make_ctx(db), zalo)):
        zalo.queue_message(USER, "/dangky so tai chinh", name="Trần Thị B")
        [request] = await zalo.wait_for_messages(1, ADMIN)
        [ack] = await zalo.wait_for_messages(1, USER)
        assert "Đã gửi yêu cầu" in ack and "Trần Thị B" in request
        assert "\n1. Duyệt" in request and "Trả lời bằng một số" in request  # no buttons on Zalo
        zalo.queue_message(ADMIN, "1")  # the admin types the number of "Duyệt"
        done = await zalo.wait_for_messages(2, ADMIN)
        told = await zalo.wait_for_messages(2, USER)
    assert done[1].startswith("Đã duyệt") and "đã được duyệt" in told[1]
    async with db.session() as s:
        [row] = (await s.scalars(select(FocalPoint))).all()
    assert (row.channel, row.chat_id, row.status, row.name) == ("zalo", USER, "approved", "Trần Thị B")


async def test_reminder_delivered_and_marked_done_by_typing_its_number(db: Database, zalo: FakeZalo) -> None:
    clock = await zalo_reminders(db, date(2026, 12, 10), tasks=1, chats=1, first_chat=900)
    ctx = make_ctx(db)
    ctx.clock = clock
    channel = zalo_channel(ctx, zalo)
    async with running(channel):
        stats = await Dispatcher(db, channel.edge.senders(), clock).run_once()
        assert stats.sent == 1
        [reminder] = await zalo.wait_for_messages(1, "z900")
        assert "Nhiệm vụ thử số 1" in reminder and "\n1. Đã hoàn thành" in reminder
        clock.advance(timedelta(hours=3))  # read and answered later in the day
        zalo.queue_message("z900", "1")
        answer = (await zalo.wait_for_messages(2, "z900"))[1]
    assert "hoàn thành" in answer
    async with db.session() as s:
        [done] = (await s.scalars(select(TaskProgress))).all()
    assert done.status == "done"


async def test_channels_start_from_their_settings(sqlite_db: Database, tmp_path: Path, zalo: FakeZalo) -> None:
    edge = Edge(make_ctx(sqlite_db))
    assert ZaloChannel.from_settings(edge, Settings()) is None
    assert ZaloOaChannel.from_settings(edge, Settings()) is None
    with pytest.raises(SystemExit):
        ZaloChannel.from_settings(edge, Settings(zalo_bot_token="1:x", zalo_webhook_url="https://x.example/h"))
    access, refresh = zalo.issue_tokens()
    cfg = Settings(data_dir=tmp_path, web_host="127.0.0.1", web_port=0, zalo_bot_token=zalo.token,  # type: ignore[arg-type]
                   zalo_base_url=zalo.url, zalo_oa_app_id=OA_APP_ID, zalo_oa_secret_key=OA_SECRET_KEY,
                   zalo_oa_base_url=zalo.url, zalo_oa_oauth_url=zalo.url, zalo_oa_access_token=access,
                   zalo_oa_refresh_token=refresh)
    app = await App.create(cfg)
    await app.start()
    try:
        assert {"zalo", "zalo_oa"} <= set(app.edge.senders())
        zalo.queue_message(USER, "/start")
        [reply] = await zalo.wait_for_messages(1, USER)
        assert "Xin chào" in reply
        await app.edge.senders()["zalo_oa"].send(USER, "chào")  # the settings' first tokens went into the store
        assert zalo.oa_sent[0]["text"] == "chào"
        async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{app.web.port}/healthz") as r:
            health = await r.json()
        assert (health["zalo"], health["zalo_oa"]) == ("polling", "webhook")
    finally:
        await app.stop()
