"""TelegramSender against the fake Bot API: message ids on success, delivery outcomes on failure."""

from __future__ import annotations

import pytest
from telegram import Bot

from bot.channels.telegram.sender import TelegramSender
from bot.chunks import split_text
from core.messages import Choice, DeliveryError, RetryLater, Unreachable
from tests.fakes.telegram_api import FakeTelegram


@pytest.fixture
async def tg():
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def sender(tg: FakeTelegram):
    async with Bot(tg.token, base_url=tg.base_url) as bot:
        yield TelegramSender(bot, network_backoff=0.5)


async def test_send_returns_confirmed_id_with_buttons(tg: FakeTelegram, sender: TelegramSender) -> None:
    choices = [Choice("Đã hoàn thành", "done:1"), Choice("Nhắc lại sau", "snooze:1"), Choice("Xin gia hạn", "ext:1")]
    message_id = await sender.send("42", "⏰ Còn 3 ngày làm việc", choices)
    [sent] = tg.sent_to(42)
    assert message_id == str(sent["message_id"])
    rows = sent["reply_markup"]["inline_keyboard"]
    assert [[b["callback_data"] for b in row] for row in rows] == [["done:1", "snooze:1", "ext:1"]]


async def test_long_choices_one_per_row(tg: FakeTelegram, sender: TelegramSender) -> None:
    choices = [Choice(f"{i}. Tuyên truyền rộng rãi Nghị quyết 20 về khoa học", f"t:{i}") for i in (1, 2)]
    await sender.send("42", "Bạn hỏi việc nào?", choices)
    rows = tg.sent_to(42)[0]["reply_markup"]["inline_keyboard"]
    assert len(rows) == 2


async def test_a_long_numbered_list_gets_number_buttons(tg: FakeTelegram, sender: TelegramSender) -> None:
    choices = [Choice(f"{i}. Sở Nội vụ thực hiện cải cách số {i}", f"q:task:{i}") for i in range(1, 21)]
    await sender.send("42", "Sở Nội vụ có 20 việc", choices)
    rows = tg.sent_to(42)[0]["reply_markup"]["inline_keyboard"]
    assert [len(r) for r in rows] == [6, 6, 6, 2]
    assert [b["text"] for r in rows for b in r] == [str(i) for i in range(1, 21)]
    assert rows[1][4]["callback_data"] == "q:task:11"


async def test_oversized_button_data_dropped_not_the_message(tg: FakeTelegram, sender: TelegramSender) -> None:
    choices = [Choice("Được", "ok:1"), Choice("Quá dài", "x" * 65)]
    await sender.send("42", "Chọn", choices)
    [sent] = tg.sent_to(42)
    assert [b["callback_data"] for row in sent["reply_markup"]["inline_keyboard"] for b in row] == ["ok:1"]


async def test_blocked_user_is_unreachable(tg: FakeTelegram, sender: TelegramSender) -> None:
    tg.fail(42, 403)
    with pytest.raises(Unreachable, match="blocked"):
        await sender.send("42", "xin chào")
    tg.fail(43, 400, description="Bad Request: chat not found")
    with pytest.raises(Unreachable):
        await sender.send("43", "xin chào")
    assert tg.sent == []


async def test_flood_control_is_retry_later_with_telegram_delay(tg: FakeTelegram, sender: TelegramSender) -> None:
    tg.fail(42, 429, retry_after=7)
    with pytest.raises(RetryLater) as e:
        await sender.send("42", "xin chào")
    assert e.value.seconds == 7


@pytest.mark.parametrize("code", [500, 502, 503])
async def test_server_errors_are_retry_later(tg: FakeTelegram, sender: TelegramSender, code: int) -> None:
    tg.fail(None, code)
    with pytest.raises(RetryLater) as e:
        await sender.send("42", "xin chào")
    assert e.value.seconds == 0.5
    assert await sender.send("42", "lần hai")  # the failure was for one request only


async def test_network_down_is_retry_later() -> None:
    fake = await FakeTelegram().start()
    async with Bot(fake.token, base_url=fake.base_url) as bot:
        await fake.stop()  # Telegram unreachable after the bot started
        with pytest.raises(RetryLater):
            await TelegramSender(bot).send("1", "x")


async def test_bad_request_is_permanent(tg: FakeTelegram, sender: TelegramSender) -> None:
    tg.fail(42, 400, description="Bad Request: can't parse entities")
    with pytest.raises(DeliveryError) as e:
        await sender.send("42", "x")
    assert not isinstance(e.value, RetryLater | Unreachable)


async def test_long_text_split_in_order(tg: FakeTelegram, sender: TelegramSender) -> None:
    lines = [f"{i}. Nhiệm vụ số {i}: rà soát, đối chiếu các quy định hiện hành" for i in range(1, 121)]
    text = "\n".join(lines)
    assert len(text) > 5000
    await sender.send("42", text, [Choice("Xem thêm", "more")])
    sent = tg.sent_to(42)
    assert len(sent) == 2 and all(len(m["text"]) <= 4096 for m in sent)
    assert "\n".join(m["text"] for m in sent) == text
    assert "reply_markup" not in sent[0] and sent[1]["reply_markup"]


def test_split_text_rules() -> None:
    assert split_text("a\nb\nc", 3) == ["a\nb", "c"]
    assert split_text("một hai ba bốn", 7) == ["một hai", "ba bốn"]
    assert split_text("x" * 10, 4) == ["xxxx", "xxxx", "xx"]
    assert split_text("\n\n", 10) == []
    text = "\n".join("dòng " * 30 for _ in range(50))
    pieces = split_text(text, 500)
    assert all(len(p) <= 500 for p in pieces)
    assert " ".join(" ".join(pieces).split()) == " ".join(text.split())
