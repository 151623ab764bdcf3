"""Telegram's flood limit kept by every instance together, and flood control reported as what it is.

PTB asks its rate limiter before each request. Messages (the methods Telegram counts) each take a
slot of the bot's overall rate (knowledge.rate_slots: shared through PostgreSQL by all instances of
the same bot, in memory on SQLite), a little under Telegram's 30 per second so that network jitter
never bunches 31 into one second. A 429 is passed on to the sender as it is (RetryLater: the Edge and
the dispatcher wait the time Telegram asks and log a warning), never logged as an error here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import BaseRateLimiter

from knowledge.rate_slots import Slots

MAX_PER_SECOND = 30.0  # Telegram: about 30 messages per second for one bot
HEADROOM = 0.93  # of that rate: jitter between instances never bunches more than 30 into one second
LATE = 0.03  # seconds: a send woken this late after its slot takes a new one instead of bunching up
COUNTED = frozenset({"sendMessage", "sendDocument", "sendPhoto", "copyMessage", "forwardMessage",
                     "editMessageText"})


def bucket_key(token: str) -> str:
    """The bot's limit is per token; the key names it without revealing it."""
    return "telegram:" + hashlib.sha256(token.encode()).hexdigest()[:16]


class SlotRateLimiter(BaseRateLimiter[dict[str, Any]]):
    def __init__(self, slots: Slots, token: str, per_second: float = MAX_PER_SECOND) -> None:
        self.slots = slots
        self.key = bucket_key(token)
        self.interval = 1.0 / (per_second * HEADROOM)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        await self.slots.close()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint in COUNTED:
            # A send that wakes up late (the event loop was busy) would crowd the next ones into the
            # same second: it gives its slot up and takes the next free one.
            while await self.slots.wait(self.key, self.interval) > LATE:
                pass
        return await callback(*args, **kwargs)
