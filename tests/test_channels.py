"""The channel registry and the channel-neutral edge: the real PTB client against the fake Telegram
server, the console channel on StringIO, one Edge between them."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

from sqlalchemy import select

from bot.app import App
from bot.channels.console.channel import ConsoleChannel
from bot.edge import Edge
from core.clock import FixedClock
from core.context import AppContext
from core.settings import Settings
from knowledge.db import Database
from knowledge.models import AuditEntry, FocalPoint
from tests.fakes.telegram_api import FakeTelegram

ADMIN = 900
USER = 11


def settings(tmp_path: Path, tg: FakeTelegram, **kw: object) -> Settings:
    return Settings(data_dir=tmp_path, web_host="127.0.0.1", web_port=0, telegram_token=tg.token,  # type: ignore[arg-type]
                    telegram_base_url=tg.base_url, admins=f"telegram:{ADMIN}", **kw)


def console_on(edge: Edge, text: str, user: str) -> tuple[ConsoleChannel, io.StringIO]:
    out = io.StringIO()
    return ConsoleChannel(edge, io.StringIO(text), out, user=user), out


async def test_replies_cross_channels_both_ways(tmp_path: Path) -> None:
    """A console registration reaches the Telegram admin; the admin's approval reaches the console."""
    async with FakeTelegram() as tg:
        app = await App.create(settings(tmp_path, tg))
        await app.start()
        try:
            console, out = console_on(app.edge, "/dangky Sở Tài chính\n", user="c1")
            await console.run()
            [request] = await tg.wait_for_messages(1, chat_id=ADMIN)
            assert "Yêu cầu đăng ký cán bộ đầu mối" in request["text"] and "(console," in request["text"]
            assert "Đã gửi yêu cầu làm cán bộ đầu mối của Sở Tài chính" in out.getvalue()
            assert "Yêu cầu đăng ký" not in out.getvalue()  # the admins' request is not the registrant's
            approve = next(b for row in request["reply_markup"]["inline_keyboard"] for b in row if b["text"] == "Duyệt")
            tg.queue_callback(ADMIN, approve["callback_data"], message_id=request["message_id"])
            done = await tg.wait_for_messages(2, chat_id=ADMIN)
            assert done[1]["text"].startswith("Đã duyệt")
            await tg.wait_for(lambda: "Yêu cầu làm cán bộ đầu mối của Sở Tài chính đã được duyệt" in out.getvalue())
        finally:
            await app.stop()


async def test_console_shows_only_its_own_chat(db: Database) -> None:
    ctx = AppContext(db=db, clock=FixedClock.on(date(2026, 11, 23)), admins=frozenset({"console:admin"}))
    edge = Edge(ctx)
    console, out = console_on(edge, "/dangky Sở Tài chính\n", user="c2")
    await console.run()
    text = out.getvalue()
    assert "Đã gửi yêu cầu làm cán bộ đầu mối của Sở Tài chính" in text
    assert "Yêu cầu đăng ký" not in text and "Duyệt" not in text
    async with db.session() as s:
        [entry] = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "reply.undelivered"))).all()
    assert entry.target == "console:admin" and "Yêu cầu đăng ký" in entry.details["text"]


async def test_pending_choice_survives_a_restart(tmp_path: Path) -> None:
    async with FakeTelegram() as tg:
        cfg = settings(tmp_path, tg)
        first = await App.create(cfg)
        await first.start()
        try:
            tg.queue_message(USER, "/dangky Sở Tài chánh")
            [suggest] = await tg.wait_for_messages(1, chat_id=USER)
        finally:
            await first.stop()
        labels = [b["text"] for row in suggest["reply_markup"]["inline_keyboard"] for b in row]
        n = labels.index("Sở Tài chính") + 1
        second = await App.create(cfg)
        await second.start()
        try:
            tg.queue_message(USER, str(n))
            replies = await tg.wait_for_messages(2, chat_id=USER)
            assert replies[1]["text"].startswith("Đã gửi yêu cầu làm cán bộ đầu mối của Sở Tài chính")
            [request] = await tg.wait_for_messages(1, chat_id=ADMIN)
            assert "Sở Tài chính" in request["text"]
            async with second.ctx.db.session() as s:
                [row] = (await s.scalars(select(FocalPoint))).all()
            assert (row.chat_id, row.status) == (str(USER), "pending")
        finally:
            await second.stop()
