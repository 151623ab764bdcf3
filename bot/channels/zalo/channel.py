"""The Zalo Bot Platform channel: updates in (long polling or webhook), replies out.

Whatever the mode, an update goes through `process`: the message id is recorded in the store
first (`knowledge.seen_messages`; Zalo resends and has no offset, so a message seen before, even
by an instance that has since restarted, is not answered again), then the text becomes an
`Incoming` for the handler callback and its replies are sent. Messages of one chat are answered
in order; different chats do not wait for each other. The webhook answers 200 at once and the
work runs after.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from bot.channels.zalo import updates
from bot.channels.zalo.client import ZaloApiError, ZaloBotClient
from bot.channels.zalo.sender import ZaloSender
from bot.web import secret_matches
from core.messages import DeliveryError, Incoming, Reply, RetryLater, Unreachable
from knowledge import seen_messages
from knowledge.db import Database

log = logging.getLogger(__name__)

CHANNEL = updates.CHANNEL
SECRET_HEADER = "X-Bot-Api-Secret-Token"
POLL_TIMEOUT_S = 30
POLL_ERROR_BACKOFF_S = (1.0, 30.0)  # first and largest wait after a failed poll
REPLY_ATTEMPTS = 5
REPLY_MAX_WAIT_S = 30.0
SEEN_KEPT = timedelta(days=7)  # redeliveries come within minutes; a week is plenty
PRUNE_EVERY = timedelta(hours=1)
SORRY = "Xin lỗi, đã có lỗi khi xử lý tin nhắn của bạn. Vui lòng thử lại sau ít phút."

OnMessage = Callable[[Incoming], Awaitable[list[Reply]]]  # handlers.router.handle bound to a context
OnUnreachable = Callable[[str, str], Awaitable[list[Reply]]]  # (chat_id, reason) -> notices for admins
Elsewhere = Callable[[Reply], Awaitable[None]]  # a reply addressed to another channel


class ZaloBotChannel:
    """Receives and answers on the Zalo Bot Platform. Entry points: `start_polling`/`stop`,
    `webhook_handler` (for the project's aiohttp server), `sender` (for the reminder dispatcher)."""

    name = CHANNEL

    def __init__(self, db: Database, client: ZaloBotClient, sender: ZaloSender, on_message: OnMessage, *,
                 on_unreachable: OnUnreachable | None = None, elsewhere: Elsewhere | None = None,
                 bot_name: str = "", poll_timeout_s: int = POLL_TIMEOUT_S) -> None:
        self.db = db
        self.client = client
        self.sender = sender
        self.on_message = on_message
        self.on_unreachable = on_unreachable
        self.elsewhere = elsewhere
        self.bot_name = bot_name
        self.poll_timeout_s = poll_timeout_s
        self.polls = 0  # answered polls (with or without an update): /healthz can show the channel lives
        self._poller: asyncio.Task[None] | None = None
        self._work: set[asyncio.Task[Any]] = set()
        self._chat_locks: dict[str, asyncio.Lock] = {}
        self._lock_users: dict[str, int] = {}
        self._pruned_at = datetime.min.replace(tzinfo=UTC)

    # ---- receiving -----------------------------------------------------------------------------

    async def process(self, update: dict[str, Any]) -> None:
        """Take one update in: once per message id, in order per chat; never raises."""
        chat = updates.chat_id(update)
        if chat is None:
            log.info("zalo update without a chat ignored: %s", str(update)[:300])
            return
        lock = self._chat_locks.setdefault(chat, asyncio.Lock())
        self._lock_users[chat] = self._lock_users.get(chat, 0) + 1
        try:
            async with lock:  # queued before any await: arrival order is answer order
                if not await self._first_sighting(update):
                    return
                await self._answer(chat, update)
        except Exception:
            log.exception("zalo update failed: %s", str(update)[:300])
        finally:
            self._lock_users[chat] -= 1
            if not self._lock_users[chat]:  # nobody waits: forget the chat's lock
                del self._lock_users[chat], self._chat_locks[chat]

    async def _first_sighting(self, update: dict[str, Any]) -> bool:
        message_id = updates.message_id(update)
        if message_id is None:
            return True  # nothing to tell it apart by: answer it
        now = datetime.now(UTC)
        async with self.db.session() as s:
            first = await seen_messages.first_sighting(s, CHANNEL, message_id, now)
            if now - self._pruned_at > PRUNE_EVERY:
                self._pruned_at = now
                await seen_messages.forget_before(s, now - SEEN_KEPT)
            await s.commit()
        if not first:
            log.info("zalo message %s delivered again: not answered twice", message_id)
        return first

    async def _answer(self, chat: str, update: dict[str, Any]) -> None:
        incoming = updates.to_incoming(update, self.bot_name)
        if incoming is None:
            if updates.wants_text_please(update):
                await self.reply(chat, Reply(updates.TEXT_PLEASE))
            return
        try:
            replies = await self.on_message(incoming)
        except Exception:
            log.exception("handler failed on %s", incoming)
            replies = [Reply(SORRY)]
        await self.deliver(chat, replies)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run work after the caller returned (the webhook's 200), keeping a reference until done."""
        task = asyncio.create_task(work)
        self._work.add(task)
        task.add_done_callback(self._work.discard)

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for the work in flight (tests; shutdown)."""
        if self._work:
            await asyncio.wait(set(self._work), timeout=timeout)

    # ---- long polling --------------------------------------------------------------------------

    async def start_polling(self) -> None:
        """deleteWebhook, then poll in the background until `stop`."""
        await self.client.start()
        await self.client.delete_webhook()
        self._poller = asyncio.create_task(self._poll(), name="zalo-poll")

    async def _poll(self) -> None:
        wait = POLL_ERROR_BACKOFF_S[0]
        while True:
            try:
                got = await self.client.get_updates(self.poll_timeout_s)
            except ZaloApiError as e:
                if e.code == 401:
                    log.error("Zalo refused the bot token while polling: %s", e.description)
                else:
                    log.warning("zalo poll failed: %s", e)
                await asyncio.sleep(e.retry_after or wait)
                wait = min(wait * 2, POLL_ERROR_BACKOFF_S[1])
                continue
            wait = POLL_ERROR_BACKOFF_S[0]
            self.polls += 1
            for update in got:
                self.spawn(self.process(update))

    async def stop(self) -> None:
        """Stop polling (the poll in flight is abandoned), finish the answers under way."""
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        await self.drain()
        await self.client.close()

    # ---- webhook -------------------------------------------------------------------------------

    def webhook_handler(self, secret: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        """An aiohttp handler for POST webhooks: secret checked in constant time, 200 at once."""

        async def receive(request: web.Request) -> web.Response:
            if not secret_matches(request.headers.get(SECRET_HEADER), secret):
                return web.json_response({"ok": False, "description": "Forbidden"}, status=403)
            try:
                update = updates.unwrap(await request.json())
            except (ValueError, UnicodeDecodeError):
                update = None
            if update is None:
                return web.json_response({"ok": False, "description": "Bad Request: not an update"}, status=400)
            self.spawn(self.process(update))
            return web.json_response({"ok": True})

        return receive

    # ---- replies -------------------------------------------------------------------------------

    async def deliver(self, chat: str, replies: list[Reply]) -> None:
        """Send replies in order, each to its own chat; replies for another channel go `elsewhere`."""
        for r in replies:
            channel = r.channel or CHANNEL
            if channel == CHANNEL:
                await self.reply(r.chat_id or chat, r)
            elif self.elsewhere is not None:
                await self.elsewhere(replace(r, chat_id=r.chat_id or chat))
            else:
                log.info("no way to reach channel %s; reply to %s dropped", channel, r.chat_id)

    async def reply(self, chat: str, r: Reply) -> bool:
        """One reply to one Zalo chat, passing failures retried; True if delivered."""
        for attempt in range(1, REPLY_ATTEMPTS + 1):
            try:
                await self.sender.send(chat, r.text, r.choices)
                return True
            except Unreachable as e:
                log.info("zalo chat %s unreachable: %s", chat, e)
                if self.on_unreachable is not None:
                    notices = await self.on_unreachable(chat, str(e))
                    await self.deliver(chat, [n for n in notices if n.chat_id != chat])
                return False
            except RetryLater as e:
                if attempt == REPLY_ATTEMPTS:
                    log.error("gave up replying to zalo chat %s: %s", chat, e)
                    return False
                await asyncio.sleep(min(e.seconds, REPLY_MAX_WAIT_S))
            except DeliveryError as e:
                log.error("zalo refused a reply to %s: %s", chat, e)
                return False
        return False
