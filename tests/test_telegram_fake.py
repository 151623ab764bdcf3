"""The fake Telegram Bot API answers the real client (PTB) the way Telegram does."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import urllib.request

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden, NetworkError, RetryAfter

from bot.channels.telegram.sender import retry_seconds
from tests.fakes.telegram_api import FakeTelegram, text_entities


def make_bot(tg: FakeTelegram) -> Bot:
    return Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url)


async def test_get_me_send_and_markup() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        me = await bot.get_me()
        assert me.is_bot and me.username == tg.bot["username"]
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Một", callback_data="x:1")]])
        msg = await bot.send_message(42, "Xin chào Sở Tài chính", reply_markup=markup)
        assert msg.text == "Xin chào Sở Tài chính" and msg.chat.id == 42
        [sent] = tg.sent_to(42)
        assert sent["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "x:1"
        await bot.send_chat_action(42, "typing")
        assert tg.chat_actions == [{"chat_id": 42, "action": "typing"}]


async def test_get_updates_long_poll_and_offset() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        started = time.monotonic()
        assert await bot.get_updates(timeout=0) == ()
        assert time.monotonic() - started < 0.5

        async def later() -> None:
            await asyncio.sleep(0.2)
            tg.queue_message(5, "/viec")

        task = asyncio.create_task(later())
        updates = await bot.get_updates(timeout=3)
        await task
        assert len(updates) == 1 and updates[0].message.text == "/viec"
        assert updates[0].message.entities[0].type == "bot_command"
        tg.queue_message(5, "hai")
        again = await bot.get_updates(offset=updates[0].update_id + 1, timeout=0)
        assert [u.message.text for u in again] == ["hai"]


async def test_waiting_get_updates_woken_while_a_test_waits_too() -> None:
    """Issue 14 item 11: a test waiting with wait_for must not swallow the wake-up of a long poll.

    The poll has just begun to wait when a message is queued and, before the poll looks again, a
    test starts waiting for the reply: the poll must still answer at once, not after its timeout."""
    async with FakeTelegram() as tg:
        poll = asyncio.create_task(tg._m_getUpdates({"timeout": "3"}))
        await asyncio.sleep(0)  # the poll found nothing and waits
        tg.queue_message(5, "/viec")
        with pytest.raises(AssertionError):
            await tg.wait_for(lambda: False, timeout=0.05)  # the test waits for a reply meanwhile
        started = time.monotonic()
        updates = await asyncio.wait_for(poll, 4)
        assert [u["message"]["text"] for u in updates] == ["/viec"]
        assert time.monotonic() - started < 0.5


async def test_injected_failures_map_to_ptb_errors() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        tg.fail(7, 403)
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(7, "a")
        tg.fail(7, 429, retry_after=3)
        with pytest.raises(RetryAfter) as e:
            await bot.send_message(7, "a")
        assert retry_seconds(e.value) == 3
        tg.fail(7, 502)
        with pytest.raises(NetworkError):
            await bot.send_message(7, "a")
        await bot.send_message(7, "b")  # each failure was for one send only
        assert tg.texts(7) == ["b"]


async def test_flood_control_overall_and_per_chat() -> None:
    async with FakeTelegram(rate=5, per_chat=1.0) as tg, make_bot(tg) as bot:
        await bot.send_message(1, "a")
        with pytest.raises(RetryAfter):
            await bot.send_message(1, "again too soon")
        for chat in range(2, 6):
            await bot.send_message(chat, "a")
        with pytest.raises(RetryAfter):  # the sixth message within one second
            await bot.send_message(6, "a")
        assert len(tg.sent) == 5
        assert tg.stats["flood_per_chat"] == 1 and tg.stats["flood_overall"] == 1


async def test_document_download_and_callback() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        tg.queue_document(9, "kehoach.txt", "KẾ HOẠCH".encode())
        [update] = await bot.get_updates(timeout=0)
        doc = update.message.document
        assert doc.file_name == "kehoach.txt"
        f = await bot.get_file(doc.file_id)
        assert bytes(await f.download_as_bytearray()) == "KẾ HOẠCH".encode()
        sent = await bot.send_message(9, "Chọn", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("A", callback_data="a")]]))
        tg.queue_callback(9, "a")
        [_, cb] = await bot.get_updates(timeout=0)
        assert cb.callback_query.data == "a" and cb.callback_query.message.message_id == sent.message_id


def test_entities_in_utf16() -> None:
    text = "😀 @nhacviec_test_bot hỏi"
    [mention] = text_entities(text)
    assert mention["offset"] == 3 and mention["length"] == len("@nhacviec_test_bot")
    assert text_entities("/start abc")[0] == {"type": "bot_command", "offset": 0, "length": 6}


async def test_standalone_process() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.telegram_api", "--port", "0", "--rate", "30", "--per-chat", "1",
        stdout=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
        port = int(line.split()[1])
        base = f"http://127.0.0.1:{port}"
        async with Bot("1:x", base_url=f"{base}/bot") as bot:
            await bot.send_message(3, "một")

        def get(path: str) -> dict:
            with urllib.request.urlopen(f"{base}{path}", timeout=5) as r:
                return json.loads(r.read())

        stats = await asyncio.to_thread(get, "/_fake/stats")
        assert stats["sent"] == 1
        sent = await asyncio.to_thread(get, "/_fake/sent?chat_id=3")
        assert [m["text"] for m in sent["messages"]] == ["một"]
    finally:
        proc.terminate()
        await proc.wait()
