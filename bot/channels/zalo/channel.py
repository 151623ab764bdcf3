"""The Zalo Bot Platform channel: updates in by long polling or webhook, replies out.

Polling starts with deleteWebhook (the two modes exclude each other); each getUpdates brings one
update or a 408 (nothing new). The webhook handler checks X-Bot-Api-Secret-Token in constant
time, accepts the update bare or wrapped in {ok, result}, answers 200 at once and works after.
Either way the update goes through `AnsweringChannel.take`: once per message id, in order per chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.channels.zalo import updates
from bot.channels.zalo.answering import AnsweringChannel, Elsewhere, OnMessage, OnUnreachable
from bot.channels.zalo.client import ZaloApiError, ZaloBotClient
from bot.channels.zalo.sender import ZaloSender
from bot.web import secret_matches
from core.messages import Reply
from knowledge.db import Database

log = logging.getLogger(__name__)

CHANNEL = updates.CHANNEL
SECRET_HEADER = "X-Bot-Api-Secret-Token"
POLL_TIMEOUT_S = 30
POLL_ERROR_BACKOFF_S = (1.0, 30.0)  # first and largest wait after a failed poll


class ZaloBotChannel(AnsweringChannel):
    """Receives and answers on the Zalo Bot Platform. Entry points: `start_polling`/`stop`,
    `webhook_handler` (for the project's aiohttp server), `sender` (for the reminder dispatcher)."""

    name = CHANNEL

    def __init__(self, db: Database, client: ZaloBotClient, sender: ZaloSender, on_message: OnMessage, *,
                 on_unreachable: OnUnreachable | None = None, elsewhere: Elsewhere | None = None,
                 bot_name: str = "", poll_timeout_s: int = POLL_TIMEOUT_S) -> None:
        super().__init__(db, sender, on_message, on_unreachable=on_unreachable, elsewhere=elsewhere)
        self.client = client
        self.zalo_sender = sender
        self.bot_name = bot_name
        self.poll_timeout_s = poll_timeout_s
        self.polls = 0  # answered polls (with or without an update): /healthz can show the channel lives
        self._poller: asyncio.Task[None] | None = None

    async def process(self, update: dict[str, Any]) -> None:
        """Take one update in; never raises."""
        chat = updates.chat_id(update)
        if chat is None:
            log.info("zalo update without a chat ignored: %s", str(update)[:300])
            return

        async def answer() -> None:
            incoming = updates.to_incoming(update, self.bot_name)
            if incoming is not None:
                await self.answer(incoming)
            elif updates.wants_text_please(update):
                await self.reply(chat, Reply(updates.TEXT_PLEASE))

        await self.take(chat, updates.message_id(update), answer)

    async def learn_name(self) -> None:
        """The bot's name (getMe), which group members type after @ to address it."""
        if not self.bot_name:
            me = await self.client.get_me()
            self.bot_name = str(me.get("display_name") or me.get("account_name") or "")

    # ---- long polling --------------------------------------------------------------------------

    async def start_polling(self) -> None:
        """deleteWebhook, then poll in the background until `stop`."""
        await self.client.start()
        await self.learn_name()
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
