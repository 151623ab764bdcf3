"""What both Zalo channels do with a message before the Edge sees it: store it, then answer it once, in order.

Each message is stored in the inbox (knowledge.inbox, through Edge.accept) before the platform hears
it arrived — before a webhook's 200; at once after the getUpdates that brought it (the Bot Platform
has no offset: a poll confirms what it returns) — then answered from there and marked answered once
its reply went out (Edge.answer_update). The inbox's unique (channel, message id) key makes a
redelivery a no-op, even to an instance that has since restarted; what a killed process left
unanswered is answered on the next start (Edge.recover calls `replay`). Messages of one chat are
answered in arrival order; different chats do not wait for each other.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from knowledge.inbox import Received

if TYPE_CHECKING:
    from bot.edge import Edge

log = logging.getLogger(__name__)

MAX_ID = 64  # characters of an update id the inbox keeps: a longer message id is kept as its SHA-256

# The channel's answer to one stored payload (a Bot Platform update, an OA event); never raises.
Answer = Callable[[dict[str, Any]], Awaitable[None]]
ChatOf = Callable[[dict[str, Any]], str | None]  # the chat a stored payload came from


class Intake:
    """Stored first, answered once per message id, in order per chat, in the background."""

    def __init__(self, edge: Edge, channel: str, answer: Answer, chat_of: ChatOf) -> None:
        self.edge = edge
        self.channel = channel
        self.answer = answer
        self.chat_of = chat_of
        self._work: set[asyncio.Task[Any]] = set()
        self._chat_locks: dict[str, asyncio.Lock] = {}
        self._lock_users: dict[str, int] = {}
        edge.replays(channel, self.replay)

    async def accept(self, chat: str, message_id: str | None, payload: dict[str, Any]) -> None:
        """Store one message, then answer it in the background unless it was stored before (a
        redelivery). Raises when the store cannot take it: a webhook then answers 5xx, and the
        platform sends it again. A message without an id cannot be recognised again: a fresh id."""
        update_id = message_id or f"noid-{uuid.uuid4().hex}"
        if len(update_id) > MAX_ID:  # never two messages under one cut-off id
            update_id = hashlib.sha256(update_id.encode()).hexdigest()
        [new] = await self.edge.accept(self.channel, [Received(update_id, chat, payload)])
        if not new:
            log.info("%s message %s delivered again: not answered twice", self.channel, update_id)
            return
        self.spawn(self._take(chat, update_id, payload))

    async def replay(self, update_id: str, payload: dict[str, Any]) -> None:
        """A message a stopped process stored but did not answer: answered now (Edge.recover)."""
        self.spawn(self._take(self.chat_of(payload) or "", update_id, payload))

    async def _take(self, chat: str, update_id: str, payload: dict[str, Any]) -> None:
        lock = self._chat_locks.setdefault(chat, asyncio.Lock())
        self._lock_users[chat] = self._lock_users.get(chat, 0) + 1
        try:
            async with lock:  # queued before any await: arrival order is answer order
                await self.edge.answer_update(self.channel, update_id, self.answer(payload))
        except Exception:
            log.exception("%s message %s in chat %s failed", self.channel, update_id, chat)
        finally:
            self._lock_users[chat] -= 1
            if not self._lock_users[chat]:  # nobody waits: forget the chat's lock
                del self._lock_users[chat], self._chat_locks[chat]

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
