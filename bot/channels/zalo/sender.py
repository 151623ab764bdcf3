"""Sending to Zalo Bot Platform chats, with the outcome in the shape every channel reports.

Zalo publishes no rate limit, so the project paces itself (NHACVIEC_ZALO_MAX_PER_SECOND overall,
NHACVIEC_ZALO_PER_CHAT_INTERVAL_S per chat) for replies and reminders alike, in this process;
the reminder dispatcher reads the same two numbers. A 429 pauses every send and is reported as
RetryLater with a backoff that doubles while 429s keep coming; 403 is Unreachable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from bot.channels.zalo.client import ZaloApiError, ZaloBotClient
from bot.channels.zalo.text import already_listed, pieces
from bot.file_links import FileLinks
from core.clock import VN
from core.messages import Attachment, Choice, DeliveryError, RetryLater, Unreachable
from scheduler.dispatcher import Pacer

log = logging.getLogger(__name__)

FIRST_429_BACKOFF_S = 5.0
MAX_429_BACKOFF_S = 300.0
NETWORK_BACKOFF_S = 2.0
BAD_TOKEN_BACKOFF_S = 60.0
MIN_PACE = 1.0  # messages/second the pace never goes under after 429s
RECOVER_AFTER_S = 30.0
LATER_PIECE_ATTEMPTS = 6  # a piece after the first is retried here: resending the first would duplicate it
NO_LINKS = "Tệp {name} chưa gửi được qua Zalo (máy chủ chưa có địa chỉ công khai). Vui lòng hỏi quản trị viên."

# Remembers the choices shown in a chat, so a typed number can be mapped back (the router's store).
RememberChoices = Callable[[str, list[Choice]], Awaitable[None]]


class Throttle:
    """The project's own pace for one platform, shared by every send of this process.

    A 429 means the platform's real quota is below our pace: the pace is halved (down to
    MIN_PACE) and creeps back up by a quarter after each quiet RECOVER_AFTER_S, never above the
    configured one, so a platform that is stricter than we guessed is not hammered with retries."""

    def __init__(self, per_second: float | None, per_chat: float | None) -> None:
        self.pacer = Pacer(per_second, per_chat)
        self.configured = per_second
        self._calm_since = 0.0

    def slow_down(self) -> None:
        now = asyncio.get_running_loop().time()
        if self.pacer.per_second:
            self.pacer.per_second = max(MIN_PACE, self.pacer.per_second / 2)
        self._calm_since = now

    def went_through(self) -> None:
        """A send was accepted: after a quiet while, give back some of the pace taken away."""
        if not self.configured or not self.pacer.per_second or self.pacer.per_second >= self.configured:
            return
        now = asyncio.get_running_loop().time()
        if now - self._calm_since >= RECOVER_AFTER_S:
            self.pacer.per_second = min(self.configured, self.pacer.per_second * 1.25)
            self._calm_since = now

    async def wait(self, chat_id: str) -> None:
        """Return when a send to this chat keeps the pace; the send is counted from now."""
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            ready = self.pacer.ready_at(chat_id, now)
            if ready <= now:
                self.pacer.sent(chat_id, now)
                return
            await asyncio.sleep(ready - now)

    def pause(self, seconds: float) -> None:
        self.pacer.pause(seconds, asyncio.get_running_loop().time())


class ZaloSender:
    """core.messages.Sender for the Zalo Bot Platform."""

    channel = "zalo"

    def __init__(self, client: ZaloBotClient, *, max_per_second: float = 5.0, per_chat_interval: float = 1.0,
                 links: FileLinks | None = None, remember: RememberChoices | None = None) -> None:
        self.client = client
        self.max_per_second = max_per_second  # read by the reminder dispatcher's pacer too
        self.per_chat_interval = per_chat_interval
        self.throttle = Throttle(max_per_second, per_chat_interval)
        self.links = links
        self.remember = remember
        self._backoff_429 = FIRST_429_BACKOFF_S

    async def send(self, chat_id: str, text: str, choices: list[Choice] | None = None) -> str:
        """Deliver text (choices as numbered lines, cut under 2,000 characters); the last message id.

        Raises Unreachable (403), RetryLater (429, network, 5xx) or DeliveryError only when nothing
        was delivered: once the first piece is out, later pieces are retried here."""
        if choices and self.remember is not None and not already_listed(text, choices):
            await self.remember(chat_id, list(choices))  # an answer listing its own choices: the router did
        parts = pieces(text, choices)
        message_id = await self.send_one(chat_id, parts[0])
        for part in parts[1:]:
            for attempt in range(1, LATER_PIECE_ATTEMPTS + 1):
                try:
                    message_id = await self.send_one(chat_id, part)
                    break
                except RetryLater as e:
                    if attempt == LATER_PIECE_ATTEMPTS:
                        raise DeliveryError(f"only part of a long message was delivered: {e}") from e
                    await asyncio.sleep(e.seconds)
        return message_id

    async def send_one(self, chat_id: str, text: str) -> str:
        """One sendMessage of at most 2,000 characters, paced, errors mapped to delivery outcomes."""
        await self.throttle.wait(chat_id)
        try:
            result = await self.client.send_message(chat_id, text)
        except ZaloApiError as e:
            raise self._outcome(e) from e
        self._backoff_429 = FIRST_429_BACKOFF_S
        self.throttle.went_through()
        return str(result.get("message_id") or "")

    def _outcome(self, e: ZaloApiError) -> DeliveryError:
        if e.code == 429:
            seconds = e.retry_after or self._backoff_429
            self._backoff_429 = min(self._backoff_429 * 2, MAX_429_BACKOFF_S)
            self.throttle.pause(seconds)
            self.throttle.slow_down()
            log.warning("Zalo answered 429 (quota): pausing sends for %.0f s, pace now %.1f/s", seconds,
                        self.throttle.pacer.per_second or 0)
            return RetryLater(seconds, f"zalo 429: {e.description}")
        if e.code == 403:
            return Unreachable(e.description or "forbidden")
        if e.code == 401:
            log.error("Zalo refused the bot token: %s", e.description)
            return RetryLater(BAD_TOKEN_BACKOFF_S, e.description)
        if e.code in (0, 408) or e.code >= 500:
            return RetryLater(NETWORK_BACKOFF_S, e.description)
        return DeliveryError(f"zalo {e.code}: {e.description}")

    async def send_file(self, chat_id: str, attachment: Attachment, caption: str = "") -> str:
        """What Telegram sends as a document or photo goes as an expiring link to the project's web
        server (core.messages.FileSender, called by the Edge for a Reply's attachment)."""
        return await self.send(chat_id, link_text(self.links, attachment, caption))


def link_text(links: FileLinks | None, attachment: Attachment, caption: str = "") -> str:
    """The file published under the data folder, as the lines a text-only channel sends: the caption
    (unless it is only the file name), the link, until when it works."""
    name = attachment.name
    if links is None or not links.enabled:
        return NO_LINKS.format(name=name)
    url = links.publish(attachment.data, name)
    until = (datetime.now(UTC) + timedelta(seconds=links.ttl_s)).astimezone(VN)
    lines = [caption.strip()] if caption.strip() and caption.strip() != name else []
    lines += [f"Tải tệp {name}: {url}", f"(Liên kết dùng được đến {until:%H:%M} ngày {until:%d/%m/%Y}.)"]
    return "\n".join(lines)
