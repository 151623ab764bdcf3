"""Zalo Bot Platform updates as the one `Incoming` shape handlers understand.

An update is `{event_name, message: {message_id, date, text, chat: {id, chat_type}, from: {id,
display_name, is_bot}}}`; webhooks may wrap it in `{ok, result}`. Only text is read. In a group
the bot answers only what is addressed to it (a /command or a message starting with @name):
people talk among themselves there. Images, stickers and other kinds sent in a private chat get
a short polite note asking for text.
"""

from __future__ import annotations

from typing import Any

from core.messages import Incoming
from knowledge.text import nfc

CHANNEL = "zalo"
TEXT_EVENT = "message.text.received"
MEDIA_EVENTS = ("message.image.received", "message.sticker.received", "message.unsupported.received")
TEXT_PLEASE = ("Cảm ơn anh/chị. Trợ lý hiện chỉ đọc được tin nhắn chữ: anh/chị vui lòng gõ câu hỏi, "
               "ví dụ \"Sở Tài chính có việc gì sắp đến hạn?\"")


def unwrap(body: Any) -> dict[str, Any] | None:
    """The update in a webhook body, bare or wrapped in {ok, result}; None when it is not one."""
    if isinstance(body, dict) and "result" in body and "message" not in body:
        body = body["result"]
    if isinstance(body, dict) and isinstance(body.get("message"), dict):
        return body
    return None


def _message(update: dict[str, Any]) -> dict[str, Any]:
    message = update.get("message")
    return message if isinstance(message, dict) else {}


def message_id(update: dict[str, Any]) -> str | None:
    value = _message(update).get("message_id")
    return str(value) if value not in (None, "") else None


def chat_id(update: dict[str, Any]) -> str | None:
    chat = _message(update).get("chat")
    value = chat.get("id") if isinstance(chat, dict) else None
    return str(value) if value not in (None, "") else None


def is_group(update: dict[str, Any]) -> bool:
    chat = _message(update).get("chat")
    return isinstance(chat, dict) and str(chat.get("chat_type", "PRIVATE")).upper() != "PRIVATE"


def _sender(update: dict[str, Any]) -> dict[str, Any]:
    sender = _message(update).get("from")
    return sender if isinstance(sender, dict) else {}


def _addressed(text: str, bot_name: str) -> str | None:
    """A group message meant for the bot, without the @name; None when it is not for the bot."""
    if text.startswith("/"):
        return text
    if bot_name and text.casefold().startswith(f"@{bot_name}".casefold()):
        return text[len(bot_name) + 1:].strip(" ,:")
    return None


def to_incoming(update: dict[str, Any], bot_name: str = "") -> Incoming | None:
    """The Incoming for a text update addressed to the bot, or None."""
    if update.get("event_name", TEXT_EVENT) != TEXT_EVENT:
        return None
    sender, chat = _sender(update), chat_id(update)
    if chat is None or sender.get("is_bot"):
        return None
    text: str | None = nfc(str(_message(update).get("text") or "")).strip()
    group = is_group(update)
    if group:
        text = _addressed(text or "", bot_name)
    if not text:
        return None
    return Incoming(channel=CHANNEL, chat_id=chat, user_id=str(sender.get("id") or chat), text=text,
                    user_name=nfc(str(sender.get("display_name") or "")), is_group=group)


def wants_text_please(update: dict[str, Any]) -> bool:
    """An image, sticker or unsupported message in a private chat: answered with TEXT_PLEASE."""
    return update.get("event_name") in MEDIA_EVENTS and not is_group(update) and not _sender(update).get("is_bot")
