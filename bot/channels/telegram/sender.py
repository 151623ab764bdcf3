"""Sending one text to one Telegram chat, with the outcome in the shape every channel reports.

The reminder dispatcher and the bot's own replies both send through `TelegramSender`: it turns
Telegram's answers into core.messages outcomes (a message id, Unreachable, RetryLater) so the
callers never look at a Telegram exception.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Awaitable
from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError

from bot.chunks import split_text
from core.messages import Attachment, Choice, DeliveryError, RetryLater, Unreachable

log = logging.getLogger(__name__)

MAX_TEXT = 4096  # Telegram's limit on one message
MAX_BUTTON_DATA = 64  # bytes of callback_data Telegram accepts; a longer one fails the whole message
MAX_CAPTION = 1024  # Telegram's limit on a photo's or document's caption
MAX_ROWS = 12  # more full-width buttons than this do not fit a phone screen
NUMBERS_PER_ROW = 6  # a long numbered list's buttons: just the numbers, six to a row
# BadRequest descriptions that mean the chat is gone for good, like a block.
GONE = ("chat not found", "user is deactivated", "bot was kicked", "have no rights to send", "peer_id_invalid")


def keyboard(choices: list[Choice] | None) -> InlineKeyboardMarkup | None:
    """Inline buttons for choices: short ones side by side (reminder actions), long ones one per row."""
    fitting = [c for c in choices or [] if 0 < len(c.data.encode()) <= MAX_BUTTON_DATA]
    if len(fitting) < len(choices or []):
        log.error("choice data over %d bytes dropped from the keyboard: %s", MAX_BUTTON_DATA, choices)
    if not fitting:
        return None
    choices = fitting
    if len(choices) > MAX_ROWS and all(_number(c) for c in choices):
        # A long numbered list (the text shows every line): one small button per number, in rows.
        numbers = [InlineKeyboardButton(_number(c), callback_data=c.data) for c in choices]
        return InlineKeyboardMarkup([numbers[i:i + NUMBERS_PER_ROW] for i in range(0, len(numbers), NUMBERS_PER_ROW)])
    buttons = [InlineKeyboardButton(c.label[:64] or "…", callback_data=c.data) for c in choices]
    if len(buttons) <= 3 and sum(len(c.label) for c in choices) <= 45:
        return InlineKeyboardMarkup([buttons])
    return InlineKeyboardMarkup([[b] for b in buttons])


def _number(choice: Choice) -> str:
    """"11" for a choice labelled "11. Sở Nội vụ …"; "" when the label is not numbered."""
    head = choice.label.split(".", 1)[0]
    return head if head.isdigit() and choice.label.startswith(f"{head}. ") else ""


def retry_seconds(exc: RetryAfter) -> float:
    """RetryAfter.retry_after as seconds (PTB 22 is moving it from int to timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramSender:
    """core.messages.Sender over a PTB Bot (its base_url decides which server it talks to)."""

    channel = "telegram"
    max_per_second = 30  # Telegram: about 30 messages/second overall
    per_chat_interval = 1.0  # and about one message/second to one chat

    def __init__(self, bot: Bot, *, network_backoff: float = 2.0) -> None:
        self.bot = bot
        self.network_backoff = network_backoff

    async def send(self, chat_id: str, text: str, choices: list[Choice] | None = None) -> str:
        """Deliver text (split at 4096 characters, buttons under the last piece); the last message id.

        Returns only after Telegram confirmed every piece. Raises Unreachable (blocked, chat gone),
        RetryLater (flood control, network, 5xx) or DeliveryError (a request Telegram will never take).
        """
        pieces = split_text(text, MAX_TEXT) or ["…"]
        message_id = ""
        for i, piece in enumerate(pieces):
            markup = keyboard(choices) if i == len(pieces) - 1 else None
            message_id = await self.send_one(chat_id, piece, markup)
        return message_id

    async def send_one(self, chat_id: str, text: str, markup: InlineKeyboardMarkup | None = None) -> str:
        """One sendMessage of at most 4096 characters, Telegram errors mapped to delivery outcomes."""
        return await self._call(self.bot.send_message(chat_id=int(chat_id), text=text, reply_markup=markup))

    async def send_file(self, chat_id: str, attachment: Attachment, caption: str = "") -> str:
        """A chart as a photo (sendPhoto), an export as a document (sendDocument); the message id."""
        cap = caption[:MAX_CAPTION] or None
        if attachment.photo:
            call = self.bot.send_photo(chat_id=int(chat_id), photo=attachment.data, caption=cap,
                                       filename=attachment.name)
        else:
            call = self.bot.send_document(chat_id=int(chat_id), document=attachment.data, caption=cap,
                                          filename=attachment.name)
        return await self._call(call)

    async def _call(self, call: Awaitable[Message]) -> str:
        """Await one sending call, Telegram errors mapped to delivery outcomes."""
        try:
            message = await call
        except Forbidden as e:
            raise Unreachable(e.message) from e
        except RetryAfter as e:
            raise RetryLater(retry_seconds(e), "flood control (429)") from e
        except BadRequest as e:  # before NetworkError: BadRequest is one of its subclasses
            if any(g in e.message.lower() for g in GONE):
                raise Unreachable(e.message) from e
            raise DeliveryError(e.message) from e
        except NetworkError as e:  # TimedOut, 5xx, connection refused
            raise RetryLater(self.network_backoff, e.message) from e
        except InvalidToken as e:  # a configuration error: keep the message, an admin must fix the token
            log.error("Telegram refused the bot token: %s", e.message)
            raise RetryLater(60.0, e.message) from e
        except ChatMigrated as e:
            raise DeliveryError(f"group moved to chat {e.new_chat_id}") from e
        except TelegramError as e:
            raise DeliveryError(e.message) from e
        return str(message.message_id)
