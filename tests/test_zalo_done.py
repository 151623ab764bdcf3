"""The issue's "Done when" that other Zalo test files leave out, on SQLite and PostgreSQL: an admin's
/xuat on Zalo as a link that downloads and then expires, a forged webhook refused, one person linked
on Telegram and Zalo (the real apps against both fakes), and an OA reminder that arrives on the
person's other channel when Zalo OA cannot carry it (-230)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select
from telegram import Bot

from bot.app import App
from bot.channels.telegram.sender import TelegramSender
from bot.channels.zalo.client import ZaloBotClient
from bot.channels.zalo.oa import ZaloOaClient, ZaloOaSender
from bot.channels.zalo.sender import ZaloSender
from bot.file_links import FileLinks
from core.settings import Settings
from knowledge import focal_points
from knowledge.db import Database
from knowledge.models import Agency, AuditEntry, FocalPoint, Outbox
from scheduler import planner
from scheduler.dispatcher import Dispatcher
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import OA_APP_ID, OA_SECRET_KEY, FakeZalo
from tests.reminder_fixtures import HOUR, due_batch
from tests.test_zalo_links import Now
from tests.zalo_fixtures import ADMIN, running, web_server, with_plan, zalo_channel

SECRET = "s3cret-for-zalo-hook"
XLSX_MAGIC = b"PK\x03\x04"


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    async with FakeZalo(max_poll_timeout=1.0) as fake:
        yield fake


async def _get(url: str) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as s, s.get(url) as r:
        return r.status, await r.read()


async def test_admin_export_is_a_link_that_downloads_then_expires(db: Database, zalo: FakeZalo,
                                                                  tmp_path: Path) -> None:
    ctx = await with_plan(db)
    now = Now()
    links = FileLinks(tmp_path / "links", "link-secret", 600, "", now=now)
    channel = zalo_channel(ctx, zalo, links=links)
    async with web_server(db, channel.add_routes) as base, running(channel):
        links.public_url = base
        zalo.queue_message(ADMIN, "/xuat")
        [ask] = await zalo.wait_for_messages(1, ADMIN)
        assert "\n1. Tất cả kế hoạch" in ask
        zalo.queue_message(ADMIN, "1")  # the numbered choice, typed
        texts = await zalo.wait_for_messages(3, ADMIN)
        [link_text] = [t for t in texts if "Tải tệp" in t]
        url = re.search(r"https?://\S+", link_text)
        assert url and url.group(0).startswith(f"{base}/files/") and ".xlsx" in url.group(0)
        assert "Liên kết dùng được đến" in link_text and "chưa gửi được" not in "\n".join(texts)
        status, body = await _get(url.group(0))
        assert status == 200 and body.startswith(XLSX_MAGIC)
        now.t += 601
        assert (await _get(url.group(0)))[0] == 410


async def test_forged_webhook_refused_and_genuine_answered(db: Database, zalo: FakeZalo) -> None:
    channel = zalo_channel(await with_plan(db), zalo, webhook_url="https://x.example/zalo/webhook",
                           webhook_secret=SECRET)
    async with web_server(db, channel.add_routes) as base, running(channel):
        url = f"{base}/zalo/webhook"
        assert await zalo.push(zalo.update("zf1", "/start"), secret="forged-secret-1", url=url) == 403
        assert await zalo.push(zalo.update("zf1", "/start"), secret="", url=url) == 403
        assert await zalo.push(zalo.update("zf2", "/start"), wrapped=True, url=url) == 200
        await zalo.wait_for_messages(1, "zf2")
    assert zalo.sent_to("zf1") == []


async def test_linking_end_to_end_on_telegram_and_zalo(db: Database, zalo: FakeZalo, tmp_path: Path) -> None:
    """The real app with both channels polling the fakes: a code from /lienket on Telegram, typed on Zalo."""
    async with FakeTelegram() as tg:
        cfg = Settings(data_dir=tmp_path, web_host="127.0.0.1", web_port=0,  # type: ignore[arg-type]
                       telegram_token=tg.token, telegram_base_url=tg.base_url, zalo_bot_token=zalo.token,
                       zalo_base_url=zalo.url, admins="telegram:900", database_url=db.url)
        app = await App.create(cfg)
        await app.start()
        try:
            tg.queue_message(900, "/taoma Sở Tài chính")
            [issued] = await tg.wait_for_messages(1, chat_id=900)
            code = re.search(r"/dangky (\w+)", issued["text"]).group(1)  # type: ignore[union-attr]
            tg.queue_message(11, f"/dangky {code}")
            await tg.wait_for_messages(1, chat_id=11)
            tg.queue_message(11, "/lienket")
            offer = (await tg.wait_for_messages(2, chat_id=11))[1]["text"]
            link_code = re.search(r"/lienket (\w+)", offer).group(1)  # type: ignore[union-attr]
            zalo.queue_message("zl11", f"/lienket {link_code}", name="Trần Thị B")
            [joined] = await zalo.wait_for_messages(1, "zl11")
        finally:
            await app.stop()
    assert "Đã liên kết" in joined and "Sở Tài chính" in joined
    async with db.session() as s:
        tg_row, zalo_row = (await s.scalars(select(FocalPoint).order_by(FocalPoint.id))).all()
        audit = await s.scalar(select(AuditEntry).where(AuditEntry.action == "focal.link"))
    assert (tg_row.channel, zalo_row.channel, zalo_row.status) == ("telegram", "zalo", "approved")
    assert zalo_row.agency_id == tg_row.agency_id and zalo_row.linked_to == tg_row.id and audit is not None


async def test_oa_out_of_reach_reminder_arrives_on_telegram_once(db: Database, zalo: FakeZalo) -> None:
    """-230 on Zalo OA: the focal point is marked unreachable there, admins told, and the reminder goes
    through the person's linked Telegram chat (the real Dispatcher, both fakes), once, worded as usual."""
    day = date(2026, 12, 10)
    clock = await due_batch(db, day, 2, 0, 0, plan=False)
    async with db.session() as s:
        agency = (await s.scalars(select(Agency.id).where(Agency.name == "Sở Tài chính"))).one()
        oa = await focal_points.add(s, agency, "zalo_oa", "u-quiet", name="Lê Văn C", approved_by="test")
        tg_row = await focal_points.add(s, agency, "telegram", "77", approved_by="test")
        tg_row.linked_to = oa.id
        await planner.run_planner(s, clock.now(), HOUR)
        await s.commit()
    zalo.inactive.add("u-quiet")
    oa_client = ZaloOaClient(db, OA_APP_ID, OA_SECRET_KEY, base_url=zalo.url, oauth_url=zalo.url)
    assert await oa_client.seed(*zalo.issue_tokens())
    bot_client = ZaloBotClient(zalo.token, zalo.url)
    async with FakeTelegram() as tg, Bot(tg.token, base_url=tg.base_url) as bot:
        senders = {"zalo_oa": ZaloOaSender(oa_client, max_per_second=100, per_chat_interval=0),
                   "telegram": TelegramSender(bot),
                   "zalo": ZaloSender(bot_client, max_per_second=100, per_chat_interval=0)}
        dispatcher = Dispatcher(db, senders, clock, admins=frozenset({f"zalo:{ADMIN}"}))
        first = await dispatcher.run_once()
        second = await dispatcher.run_once()
        third = await dispatcher.run_once()
        reminders = tg.texts(77)
    await bot_client.close()
    await oa_client.close()
    assert first.unreachable == 2 and first.sent + second.sent == 2 and third.sent == 0
    assert zalo.oa_sent == [] and len(reminders) == 2 and len(set(reminders)) == 2
    async with db.session() as s:
        rows = (await s.scalars(select(Outbox).order_by(Outbox.id))).all()
        marked = await s.get(FocalPoint, oa.id)
    moved = [o for o in rows if o.focal_point_id == oa.id]
    sent = [o for o in rows if o.focal_point_id == tg_row.id]
    assert {o.status for o in moved} == {"moved"} and {o.status for o in sent} == {"sent"}
    assert sorted(o.text for o in sent) == sorted(o.text for o in moved)
    assert all(r.startswith(o.text[:40]) for r, o in zip(sorted(reminders), sorted(sent, key=lambda o: o.text),
                                                           strict=True))
    assert not any(w in r for r in reminders for w in ("Zalo", "không gửi được", "liên lạc"))  # says nothing wrong
    assert marked is not None and marked.status == "unreachable"
    [notice] = zalo.sent_to(ADMIN)
    assert "Lê Văn C" in notice and "7 ngày" in notice and "telegram" in notice
