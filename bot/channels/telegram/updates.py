"""Telegram updates as the one `Incoming` shape handlers understand, and which ones are for us.

In private chats every message is for the bot. In groups the bot speaks only when spoken to:
a command (to us, or to no bot in particular), a mention of @ourname, or a reply to one of its
messages. Everything else in a group is people talking among themselves.
"""

from __future__ import annotations

import re

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatType

from core.messages import Incoming
from knowledge.text import nfc

CHANNEL = "telegram"
PHOTO_NAME = "anh.jpg"
_COMMAND = re.compile(r"^/(\w+)(@\w+)?")


def _is_group(message: Message) -> bool:
    return message.chat.type != ChatType.PRIVATE


def _strip_command_target(text: str, username: str) -> str | None:
    """'/viec@ourbot x' -> '/viec x'; None when the command names another bot."""
    m = _COMMAND.match(text)
    if not m or not m.group(2):
        return text
    if m.group(2)[1:].lower() != username.lower():
        return None
    return f"/{m.group(1)}{text[m.end():]}"


def _mentions_us(message: Message, username: str) -> bool:
    entities = message.parse_entities([MessageEntity.MENTION]) or message.parse_caption_entities(
        [MessageEntity.MENTION])
    return any(value.lower() == f"@{username.lower()}" for value in entities.values())


def _without_mention(text: str, username: str) -> str:
    return re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.I).strip(" ,:")


def addressed_text(message: Message, username: str, bot_id: int) -> str | None:
    """The text meant for the bot (mention removed), or None when the message is not for it."""
    text = nfc(message.text or message.caption or "").strip()
    if text.startswith("/"):
        return _strip_command_target(text, username)
    if not _is_group(message):
        return text
    if _mentions_us(message, username):
        return _without_mention(text, username)
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return text
    return None


def to_incoming(update: Update, username: str, bot_id: int) -> Incoming | None:
    """The Incoming for an update, or None when it is not for the bot (or not something it reads).

    Documents come without their bytes: downloading is the channel's job, and only for admins.
    """
    query = update.callback_query
    if query is not None:
        chat = query.message.chat if query.message is not None else None
        return Incoming(
            channel=CHANNEL,
            chat_id=str(chat.id if chat else query.from_user.id),
            user_id=str(query.from_user.id),
            user_name=nfc(query.from_user.full_name),
            is_group=chat is not None and chat.type != ChatType.PRIVATE,
            choice=query.data or "",
        )
    message = update.message
    if message is None or message.from_user is None or message.from_user.is_bot:
        return None
    text = addressed_text(message, username, bot_id)
    if text is None:
        return None
    document = message.document
    file_name = nfc(document.file_name or "tep") if document is not None else None
    if document is None and message.photo:
        file_name = PHOTO_NAME  # an admin is told a photo is not a plan; its caption is no question
    if not text and file_name is None:
        return None  # stickers, joins: nothing to answer
    return Incoming(
        channel=CHANNEL,
        chat_id=str(message.chat.id),
        user_id=str(message.from_user.id),
        text=text,
        user_name=nfc(message.from_user.full_name),
        is_group=_is_group(message),
        file_name=file_name,
    )
