"""What both Zalo channels do with a message before the Edge sees it: take it once, in order.

The message id is recorded in the store first (`knowledge.seen_messages`): Zalo resends (the Bot
Platform has no offset, webhooks are retried), so a message seen before, even by an instance that
has since restarted, is not answered again. Messages of one chat are taken in arrival order;
different chats do not wait for each other. Webhooks answer 200 at once: the work is `spawn`ed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from knowledge import seen_messages
from knowledge.db import Database

log = logging.getLogger(__name__)

SEEN_KEPT = timedelta(days=7)  # redeliveries come within minutes; a week is plenty
PRUNE_EVERY = timedelta(hours=1)


class Intake:
    """Once per message id, in order per chat, in the background when asked."""

    def __init__(self, db: Database, channel: str) -> None:
        self.db = db
        self.channel = channel
        self._work: set[asyncio.Task[Any]] = set()
        self._chat_locks: dict[str, asyncio.Lock] = {}
        self._lock_users: dict[str, int] = {}
        self._pruned_at = datetime.min.replace(tzinfo=UTC)

    async def take(self, chat: str, message_id: str | None, work: Callable[[], Awaitable[None]]) -> None:
        """Run `work` once per message id (always when there is none), in arrival order per chat; never raises."""
        lock = self._chat_locks.setdefault(chat, asyncio.Lock())
        self._lock_users[chat] = self._lock_users.get(chat, 0) + 1
        try:
            async with lock:  # queued before any await: arrival order is answer order
                if message_id is None or await self.first_sighting(message_id):
                    await work()
        except Exception:
            log.exception("%s message %s in chat %s failed", self.channel, message_id, chat)
        finally:
            self._lock_users[chat] -= 1
            if not self._lock_users[chat]:  # nobody waits: forget the chat's lock
                del self._lock_users[chat], self._chat_locks[chat]

    async def first_sighting(self, message_id: str) -> bool:
        now = datetime.now(UTC)
        async with self.db.session() as s:
            first = await seen_messages.first_sighting(s, self.channel, message_id, now)
            if now - self._pruned_at > PRUNE_EVERY:
                self._pruned_at = now
                await seen_messages.forget_before(s, now - SEEN_KEPT)
            await s.commit()
        if not first:
            log.info("%s message %s delivered again: not answered twice", self.channel, message_id)
        return first

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
