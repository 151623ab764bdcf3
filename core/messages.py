"""The shapes every channel speaks: one incoming message in, replies out; delivery outcomes.

Channels (bot/) turn platform updates into `Incoming` and send `Reply`; handlers never see a
platform object. The scheduler sends reminders through a `Sender` and learns what happened from
the exceptions below, whatever the channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Choice:
    """A numbered option: a button where the channel has them, "1. ..." text where it does not."""

    label: str
    data: str  # opaque payload handed back in Incoming.choice when picked


@dataclass(frozen=True)
class Incoming:
    channel: str  # telegram | zalo | console
    chat_id: str
    user_id: str
    text: str = ""
    user_name: str = ""
    is_group: bool = False
    choice: str | None = None  # the data of a picked Choice (button press or a typed number)
    file_name: str | None = None  # a document sent to the bot (admins import plans this way)
    file_bytes: bytes | None = None


@dataclass(frozen=True)
class Attachment:
    """A file sent with a reply (a chart, an export): a photo where the channel shows them, else a document."""

    name: str  # the file name the user sees ("thongke.png", "nhiemvu.xlsx")
    data: bytes
    photo: bool = False  # an image to show inline (Telegram sendPhoto), not a file to save


@dataclass
class Reply:
    text: str
    choices: list[Choice] = field(default_factory=list)
    chat_id: str | None = None  # None: the chat the message came from
    channel: str | None = None  # None: the channel the message came from
    attachment: Attachment | None = None  # sent after the text, with a short caption


class FileSender(Protocol):
    """What a channel that can send files adds to its Sender (the Edge tells users of others it cannot)."""

    async def send_file(self, chat_id: str, attachment: Attachment, caption: str = "") -> str:
        ...


class Sender(Protocol):
    """What the dispatcher needs of a channel: send one text, confirm it, or raise below."""

    channel: str

    async def send(self, chat_id: str, text: str, choices: list[Choice] | None = None) -> str:
        """Deliver and return the platform's message id once the platform confirmed it."""
        ...


class DeliveryError(Exception):
    """Base of the outcomes a Sender reports instead of a message id."""


class Unreachable(DeliveryError):
    """The user blocked the bot or left (HTTP 403): stop sending to this chat."""


class RetryLater(DeliveryError):
    """Flood control or a passing failure (429, 5xx, timeout): try again after `seconds`."""

    def __init__(self, seconds: float, reason: str = "") -> None:
        super().__init__(reason or f"retry after {seconds}s")
        self.seconds = seconds
