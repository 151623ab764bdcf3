"""What both Zalo channels do with a message once it arrived: take it once, answer it, send.

The message id is recorded in the store first (`knowledge.seen_messages`): Zalo resends (the Bot
Platform has no offset, webhooks are retried), so a message seen before, even by an instance
that has since restarted, is not answered again. The text then becomes an `Incoming` for the
handler callback and its replies are sent in order. Messages of one chat are answered in order;
different chats do not wait for each other. Webhooks answer 200 at once: the work is `spawn`ed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from core.messages import DeliveryError, Incoming, Reply, RetryLater, Sender, Unreachable
from knowledge import seen_messages
from knowledge.db import Database

log = logging.getLogger(__name__)

REPLY_ATTEMPTS = 5
REPLY_MAX_WAIT_S = 30.0
SEEN_KEPT = timedelta(days=7)  # redeliveries come within minutes; a week is plenty
PRUNE_EVERY = timedelta(hours=1)
SORRY = "Xin lỗi, đã có lỗi khi xử lý tin nhắn của bạn. Vui lòng thử lại sau ít phút."

OnMessage = Callable[[Incoming], Awaitable[list[Reply]]]  # handlers.router.handle bound to a context
OnUnreachable = Callable[[str, str], Awaitable[list[Reply]]]  # (chat_id, reason) -> notices for admins
Elsewhere = Callable[[Reply], Awaitable[None]]  # a reply addressed to another channel


class AnsweringChannel:
    """The receiving and replying half shared by the Zalo Bot Platform and the Zalo OA channels."""

    name = ""

    def __init__(self, db: Database, sender: Sender, on_message: OnMessage, *,
                 on_unreachable: OnUnreachable | None = None, elsewhere: Elsewhere | None = None) -> None:
        self.db = db
        self.sender = sender
        self.on_message = on_message
        self.on_unreachable = on_unreachable
        self.elsewhere = elsewhere
        self._work: set[asyncio.Task[Any]] = set()
        self._chat_locks: dict[str, asyncio.Lock] = {}
        self._lock_users: dict[str, int] = {}
        self._pruned_at = datetime.min.replace(tzinfo=UTC)

    async def take(self, chat: str, message_id: str | None, answer: Callable[[], Awaitable[None]]) -> None:
        """Run `answer` once per message id, in arrival order per chat; never raises."""
        lock = self._chat_locks.setdefault(chat, asyncio.Lock())
        self._lock_users[chat] = self._lock_users.get(chat, 0) + 1
        try:
            async with lock:  # queued before any await: arrival order is answer order
                if message_id is None or await self.first_sighting(message_id):
                    await answer()
        except Exception:
            log.exception("%s message %s in chat %s failed", self.name, message_id, chat)
        finally:
            self._lock_users[chat] -= 1
            if not self._lock_users[chat]:  # nobody waits: forget the chat's lock
                del self._lock_users[chat], self._chat_locks[chat]

    async def first_sighting(self, message_id: str) -> bool:
        now = datetime.now(UTC)
        async with self.db.session() as s:
            first = await seen_messages.first_sighting(s, self.name, message_id, now)
            if now - self._pruned_at > PRUNE_EVERY:
                self._pruned_at = now
                await seen_messages.forget_before(s, now - SEEN_KEPT)
            await s.commit()
        if not first:
            log.info("%s message %s delivered again: not answered twice", self.name, message_id)
        return first

    async def answer(self, incoming: Incoming) -> None:
        """The handlers' replies to one message, sent."""
        try:
            replies = await self.on_message(incoming)
        except Exception:
            log.exception("handler failed on %s", incoming)
            replies = [Reply(SORRY)]
        await self.deliver(incoming.chat_id, replies)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run work after the caller returned (the webhook's 200), keeping a reference until done."""
        task = asyncio.create_task(work)
        self._work.add(task)
        task.add_done_callback(self._work.discard)

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for the work in flight (tests; shutdown)."""
        while self._work:
            done, _ = await asyncio.wait(set(self._work), timeout=timeout)
            if not done:
                return

    async def deliver(self, chat: str, replies: list[Reply]) -> None:
        """Send replies in order, each to its own chat; replies for another channel go `elsewhere`."""
        for r in replies:
            channel = r.channel or self.name
            if channel == self.name:
                await self.reply(r.chat_id or chat, r)
            elif self.elsewhere is not None:
                await self.elsewhere(replace(r, chat_id=r.chat_id or chat))
            else:
                log.info("no way to reach channel %s; reply to %s dropped", channel, r.chat_id)

    async def reply(self, chat: str, r: Reply) -> bool:
        """One reply to one chat of this channel, passing failures retried; True if delivered."""
        for attempt in range(1, REPLY_ATTEMPTS + 1):
            try:
                await self.sender.send(chat, r.text, r.choices)
                return True
            except Unreachable as e:
                log.info("%s chat %s unreachable: %s", self.name, chat, e)
                if self.on_unreachable is not None:
                    notices = await self.on_unreachable(chat, str(e))
                    await self.deliver(chat, [n for n in notices if (n.chat_id, n.channel) != (chat, self.name)])
                return False
            except RetryLater as e:
                if attempt == REPLY_ATTEMPTS:
                    log.error("gave up replying to %s chat %s: %s", self.name, chat, e)
                    return False
                await asyncio.sleep(min(e.seconds, REPLY_MAX_WAIT_S))
            except DeliveryError as e:
                log.error("%s refused a reply to %s: %s", self.name, chat, e)
                return False
        return False
