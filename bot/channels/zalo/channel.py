"""The Zalo Bot Platform channel: updates in by long polling or webhook, handed to the Edge.

Polling starts with deleteWebhook (the two modes exclude each other); each getUpdates brings one
update or a 408 (nothing new). In webhook mode (NHACVIEC_ZALO_WEBHOOK_URL) the web server checks
X-Bot-Api-Secret-Token in constant time, the update may come bare or wrapped in {ok, result}, and
the 200 goes back once the update is stored: the work runs after. Either way an update is stored
in the inbox and answered once per message id, in order per chat (`Intake`, which also answers what
a killed process left), its text going to the Edge as an `Incoming`; images and
stickers get a polite note. Replies and reminders go out through `ZaloSender` (plain text,
numbered choices, files as expiring links, paced by the project).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.channels.zalo import updates
from bot.channels.zalo.client import ZaloApiError, ZaloBotClient
from bot.channels.zalo.intake import Intake
from bot.channels.zalo.sender import ZaloSender
from bot.channels.zalo.text import PIECE
from bot.file_links import FileLinks
from bot.file_links import from_settings as file_links
from bot.web import WebServer, webhook_path
from core.messages import Choice, Reply
from core.settings import Settings
from knowledge import conversation

if TYPE_CHECKING:
    from bot.edge import Edge

log = logging.getLogger(__name__)

CHANNEL = updates.CHANNEL
SECRET_HEADER = "X-Bot-Api-Secret-Token"
DEFAULT_WEBHOOK_PATH = "/zalo/webhook"
POLL_TIMEOUT_S = 30
POLL_ERROR_BACKOFF_S = (1.0, 30.0)  # first and largest wait after a failed poll
# Choices the sender shows outside an answer (a reminder's actions, an admin's approval request) stay
# pickable by number this long: a reminder read at noon is answered in the afternoon.
SENT_CHOICES_TTL = timedelta(hours=24)


class ZaloChannel:
    """One Zalo Bot Platform bot of the product (bot.channels.base.Channel)."""

    name = CHANNEL
    max_text = PIECE

    def __init__(self, edge: Edge, client: ZaloBotClient, *, max_per_second: float = 5.0,
                 per_chat_interval: float = 1.0, links: FileLinks | None = None, webhook_url: str = "",
                 webhook_secret: str = "", poll_timeout_s: int = POLL_TIMEOUT_S) -> None:
        self.edge = edge
        self.client = client
        self.sender = ZaloSender(client, max_per_second=max_per_second, per_chat_interval=per_chat_interval,
                                 links=links, remember=self._remember)
        self.links = links
        self.webhook_url, self.webhook_secret = webhook_url, webhook_secret
        self.poll_timeout_s = poll_timeout_s
        self.intake = Intake(edge, CHANNEL, self.answer, updates.chat_id)
        self.bot_name = ""
        self.polls = 0  # answered polls (with or without an update)
        self._poller: asyncio.Task[None] | None = None
        edge.add(self)

    @classmethod
    def from_settings(cls, edge: Edge, settings: Settings) -> ZaloChannel | None:
        """The channel when NHACVIEC_ZALO_BOT_TOKEN is set (the factory bot.channels lists)."""
        if not settings.zalo_bot_token:
            return None
        if settings.zalo_webhook_url and not settings.zalo_webhook_secret:
            raise SystemExit("NHACVIEC_ZALO_WEBHOOK_SECRET là bắt buộc khi dùng NHACVIEC_ZALO_WEBHOOK_URL.")
        return cls(edge, ZaloBotClient(settings.zalo_bot_token, settings.zalo_base_url),
                   max_per_second=settings.zalo_max_per_second,
                   per_chat_interval=settings.zalo_per_chat_interval_s, links=file_links(settings),
                   webhook_url=settings.zalo_webhook_url, webhook_secret=settings.zalo_webhook_secret)

    @property
    def mode(self) -> str:
        return "webhook" if self.webhook_url else "polling"

    @property
    def status(self) -> str:
        return self.mode

    @property
    def connected(self) -> bool:
        """getMe answered, and in polling mode the poller is still running."""
        polling_ok = self.webhook_url or (self._poller is not None and not self._poller.done())
        return bool(self.bot_name) and bool(polling_ok)

    def health(self) -> dict[str, Any]:
        return {"bot": self.bot_name, "mode": self.mode}

    def add_routes(self, web: WebServer) -> None:
        if self.links is not None:
            self.links.add_route(web.app)
        if self.webhook_url:
            web.add_webhook(webhook_path(self.webhook_url, DEFAULT_WEBHOOK_PATH), SECRET_HEADER,
                            self.webhook_secret, self.put_update, lambda body: updates.unwrap(body) is not None)

    # ---- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Learn the bot's name (getMe), then poll (after deleteWebhook) or set the webhook."""
        await self.client.start()
        me = await self.client.get_me()
        self.bot_name = str(me.get("display_name") or me.get("account_name") or "")
        if self.webhook_url:
            await self.client.set_webhook(self.webhook_url, self.webhook_secret)
        else:
            await self.client.delete_webhook()
            self._poller = asyncio.create_task(self._poll(), name="zalo-poll")
        log.info("Zalo bot %s running (%s)", self.bot_name, self.mode)

    async def stop(self) -> None:
        """Stop polling (the poll in flight is abandoned), finish the answers under way."""
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        await self.intake.drain()
        await self.client.close()

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
                await self.process(update)

    # ---- one update ----------------------------------------------------------------------------

    async def put_update(self, body: dict[str, Any]) -> None:
        """A webhook body: stored (the store failing raises: the webhook answers 503 and the platform
        sends it again), then answered in the background, so the platform gets its 200 at once."""
        update = updates.unwrap(body)
        if update is not None:
            await self.intake.accept(updates.chat_id(update) or "", updates.message_id(update), update)

    async def process(self, update: dict[str, Any]) -> None:
        """A polled update: stored, then answered in the background; never raises. (The poll that
        brought it confirmed it already: if the store fails, it is answered without being stored.)"""
        chat = updates.chat_id(update)
        if chat is None:
            log.info("zalo update without a chat ignored: %s", str(update)[:300])
            return
        try:
            await self.intake.accept(chat, updates.message_id(update), update)
        except Exception as e:
            log.warning("zalo update %s not stored (%s): answered anyway", updates.message_id(update), e)
            self.intake.spawn(self.answer(update))

    async def answer(self, update: dict[str, Any]) -> None:
        """One stored update answered through the Edge (a text), or with a polite note (an image)."""
        chat = updates.chat_id(update)
        incoming = updates.to_incoming(update, self.bot_name)
        if incoming is not None:
            await self.edge.receive(incoming)
        elif chat is not None and updates.wants_text_please(update):
            await self.edge.send(CHANNEL, chat, Reply(updates.TEXT_PLEASE))

    async def _remember(self, chat_id: str, choices: list[Choice]) -> None:
        """Numbered lines the sender shows are what a typed number picks in that chat (an answer that
        lists its own choices was remembered by the router already)."""
        ctx = self.edge.ctx
        await conversation.offer_choices(ctx.db, CHANNEL, chat_id, [c.data for c in choices],
                                         ctx.clock.now() + SENT_CHOICES_TTL)
