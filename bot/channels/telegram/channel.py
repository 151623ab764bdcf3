"""The Telegram channel: a PTB Application that turns updates into `Incoming` for the Edge.

Every update becomes one `Incoming` (updates.py) handed to the Edge (bot/edge.py), which answers
and delivers; replies go out through `TelegramSender` (choices as inline buttons). The command
menu comes from the command table (handlers.commands): everyone's by default, admins' in their
own chats. A chat that blocks the bot is marked unreachable through the Edge. Long polling by
default; with a webhook URL the updates come through the web server (`add_routes`).

Nothing received is lost: every update is stored in the inbox (Edge.accept) before Telegram is told
it arrived — in polling mode the channel drives getUpdates itself and moves the offset (which
confirms) only after the store took the batch; in webhook mode the 200 comes after the store took
it — and it is marked answered once its replies were confirmed. Only one process polls one token
(an exclusive hold in the store); several instances share a bot through the webhook.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.constants import ChatAction, ChatMemberStatus
from telegram.error import Conflict, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.channels.telegram.limiter import SlotRateLimiter, bucket_key
from bot.channels.telegram.sender import MAX_TEXT, TelegramSender, retry_seconds
from bot.channels.telegram.updates import CHANNEL, to_incoming
from bot.edge import SORRY, Edge
from bot.web import WebServer, webhook_path
from core.settings import Settings
from handlers.commands import Audience, menu
from handlers.registration import USERNAME_CACHE
from handlers.router import refresh_admins
from knowledge.exclusive import Held, try_hold
from knowledge.inbox import Received
from knowledge.rate_slots import slots_for

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"
DEFAULT_FILE_URL = "https://api.telegram.org/file/bot"
TYPING_EVERY = 4.0  # Telegram shows "typing…" for about 5 seconds
UPDATES = ["message", "callback_query", "my_chat_member"]  # what the bot asks Telegram for
REPLY_BACKOFF = 1.0  # seconds before retrying after a network error or 5xx: someone is waiting
CONCURRENT_UPDATES = 32
POLL_BACKOFF = 1.0  # seconds before polling again after a network error or a store failure
SECOND_POLLER = (
    "Đã có một tiến trình khác nhận tin (polling) cho bot Telegram này trên cùng kho dữ liệu; "
    "không chạy tiến trình thứ hai. Muốn chạy nhiều tiến trình, hãy dùng webhook (NHACVIEC_WEBHOOK_URL).\n"
    "Another process is already polling this Telegram bot on the same store; not starting a second poller. "
    "To run several instances, use webhook mode (NHACVIEC_WEBHOOK_URL)."
)


def bot_commands(audience: Audience) -> list[BotCommand]:
    """The Telegram menu of one audience, from the command table."""
    return [BotCommand(name, description) for name, description in menu(audience)]


def file_url(settings: Settings) -> str:
    """Files come from the same server as the API unless set apart: only NHACVIEC_TELEGRAM_BASE_URL
    needs setting to point the bot at a local Bot API server or a test fake."""
    base = settings.telegram_base_url.rstrip("/")
    if settings.telegram_base_file_url == DEFAULT_FILE_URL and base.endswith("/bot") \
            and not base.startswith("https://api.telegram.org"):
        return base[: -len("/bot")] + "/file/bot"
    return settings.telegram_base_file_url


def is_update(data: Any) -> bool:
    return isinstance(data, dict) and "update_id" in data


def _received(update: Update, payload: dict[str, Any] | None = None) -> Received:
    chat = update.effective_chat
    return Received(str(update.update_id), str(chat.id) if chat is not None else "",
                    payload if payload is not None else update.to_dict())


@dataclass
class _Document:
    """Fetches one document's bytes for the Edge, unless it is heavier than allowed."""

    update: Update

    async def __call__(self, max_bytes: int) -> bytes | None:
        assert self.update.message is not None and self.update.message.document is not None
        document = self.update.message.document
        if document.file_size and document.file_size > max_bytes:
            return None
        file = await document.get_file()
        return bytes(await file.download_as_bytearray())


class TelegramChannel:
    """One Telegram bot of the product: build, start (polling or webhook), stop."""

    name = CHANNEL
    max_text = MAX_TEXT

    def __init__(
        self,
        edge: Edge,
        token: str,
        *,
        base_url: str = "https://api.telegram.org/bot",
        base_file_url: str = DEFAULT_FILE_URL,
        webhook_url: str = "",
        webhook_secret: str = "",
        poll_timeout: float = 10.0,
    ) -> None:
        self.edge = edge
        self.ctx = edge.ctx
        self.webhook_url, self.webhook_secret = webhook_url, webhook_secret
        self.poll_timeout = poll_timeout
        builder = (
            ApplicationBuilder()
            .token(token)
            .base_url(base_url)
            .base_file_url(base_file_url)
            .rate_limiter(SlotRateLimiter(slots_for(edge.ctx.db), token))  # shared by every instance
            .concurrent_updates(CONCURRENT_UPDATES)
            .updater(None)  # updates come from our own polling loop (stored first) or through bot.web
        )
        self.token = token
        self._poller: asyncio.Task[None] | None = None
        self._poll_hold: Held | None = None
        self.shutdown_grace = 10.0
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        self.sender = TelegramSender(self.application.bot, network_backoff=REPLY_BACKOFF)
        self.username = ""
        self.bot_id = 0
        self._connected = False  # getMe answered (for /healthz)
        self.last_poll: float | None = None  # time.time() of the last getUpdates asked or answered
        self._menu_admins: set[int] = set()  # Telegram user ids whose chat has the admin menu
        edge.add(self)
        edge.replays(CHANNEL, self.replay)
        edge.watch_admins(self.follow_admins)

    @classmethod
    def from_settings(cls, edge: Edge, settings: Settings) -> TelegramChannel | None:
        """The channel when NHACVIEC_TELEGRAM_TOKEN is set (the factory bot.channels lists)."""
        if not settings.telegram_token:
            return None
        channel = cls(edge, settings.telegram_token, base_url=settings.telegram_base_url,
                      base_file_url=file_url(settings), webhook_url=settings.webhook_url,
                      webhook_secret=settings.webhook_secret)
        channel.shutdown_grace = settings.shutdown_grace_s
        return channel

    @property
    def mode(self) -> str:
        return "webhook" if self.webhook_url else "polling"

    @property
    def status(self) -> str:
        return self.mode

    @property
    def connected(self) -> bool:
        """getMe answered, and in polling mode the poller runs (/healthz fails otherwise)."""
        polling_ok = bool(self.webhook_url) or (self._poller is not None and not self._poller.done())
        return self._connected and polling_ok

    def health(self) -> dict[str, Any]:
        if self.webhook_url:
            return {}
        last = self.last_poll
        return {"last_poll": datetime.fromtimestamp(last, UTC).isoformat(timespec="seconds") if last else None,
                "poller_alive": self._poller is not None and not self._poller.done()}

    def add_routes(self, web: WebServer) -> None:
        if self.webhook_url:
            web.add_webhook(webhook_path(self.webhook_url, DEFAULT_WEBHOOK_PATH), SECRET_HEADER,
                            self.webhook_secret, self.put_update, is_update)

    # ---- lifecycle -----------------------------------------------------------------------------

    async def _post_init(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        me = application.bot.bot
        self.username, self.bot_id = me.username or "", me.id
        self.ctx.cache[USERNAME_CACHE] = self.username
        await refresh_admins(self.ctx)  # admins added in chat get their menu too
        try:
            await application.bot.set_my_commands(bot_commands(Audience.REGISTERED))
        except TelegramError:
            log.exception("setMyCommands failed; the bot runs without its command menu")
        await self.follow_admins(self.ctx.admins)

    async def follow_admins(self, admins: frozenset[str]) -> None:
        """Each Telegram admin's own chat gets the admin menu, at start and as soon as they are added in
        chat; a removed admin's chat goes back to everyone's menu."""
        wanted = {int(user_id) for channel, _, user_id in (a.partition(":") for a in admins)
                  if channel == CHANNEL and user_id.lstrip("-").isdigit()}
        bot = self.application.bot
        for user_id in sorted(wanted - self._menu_admins):
            try:  # an admin who never wrote to the bot has no chat yet: the default menu then
                await bot.set_my_commands(bot_commands(Audience.ADMIN), scope=BotCommandScopeChat(user_id))
                self._menu_admins.add(user_id)
            except TelegramError as e:
                log.warning("admin menu for telegram:%s not set: %s", user_id, e)
        for user_id in sorted(self._menu_admins - wanted):
            try:
                await bot.delete_my_commands(scope=BotCommandScopeChat(user_id))
                self._menu_admins.discard(user_id)
            except TelegramError as e:
                log.warning("admin menu for telegram:%s not removed: %s", user_id, e)

    async def start(self) -> None:
        """Connect (getMe), set the menus, then poll or set the webhook. Returns once running."""
        app = self.application
        if not self.webhook_url:
            self._poll_hold = await try_hold(self.ctx.db, f"telegram-poll:{bucket_key(self.token)}")
            if self._poll_hold is None:
                raise SystemExit(SECOND_POLLER)
        await app.initialize()
        await self._post_init(app)
        self._connected = True
        await app.start()
        if self.webhook_url:
            await app.bot.set_webhook(self.webhook_url, secret_token=self.webhook_secret or None,
                                      allowed_updates=UPDATES)
        else:
            await app.bot.delete_webhook()
            self._poller = asyncio.create_task(self._poll())
        log.info("Telegram bot @%s running (%s)", self.username, self.mode)

    async def stop(self) -> None:
        """Stop taking updates; answers in progress get `shutdown_grace` seconds to finish (what is
        left stays in the inbox, answered on the next start)."""
        if self._poller is not None:
            self._poller.cancel()  # fetched but not yet stored: not confirmed either, fetched again later
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        app = self.application
        if app.running:
            try:
                await asyncio.wait_for(app.stop(), self.shutdown_grace)
            except TimeoutError:
                log.warning("Telegram: answers still running after %.0f s; they are answered on the next start",
                            self.shutdown_grace)
        with contextlib.suppress(Exception):
            await app.shutdown()
        if self._poll_hold is not None:
            await self._poll_hold.release()
            self._poll_hold = None

    # ---- updates in: stored first --------------------------------------------------------------

    async def _poll(self) -> None:
        """Long polling, storing each batch before the next getUpdates offset confirms it to Telegram."""
        bot = self.application.bot
        offset: int | None = None
        while True:
            self.last_poll = time.time()
            try:
                updates = await bot.get_updates(offset=offset, timeout=int(self.poll_timeout),
                                                allowed_updates=UPDATES)
                self.last_poll = time.time()
            except RetryAfter as e:
                log.warning("Telegram polling: flood control (429), polling again in %.0f s", retry_seconds(e))
                await asyncio.sleep(retry_seconds(e))
                continue
            except Conflict as e:
                log.error("Telegram polling: another process polls this bot token (%s); "
                          "stop it or use webhook mode", e.message)
                await asyncio.sleep(POLL_BACKOFF * 5)
                continue
            except (NetworkError, TelegramError) as e:
                log.warning("Telegram polling: %s (polling again)", e)
                await asyncio.sleep(POLL_BACKOFF)
                continue
            except Exception:  # an answer PTB could not read: the poller must not die of it
                log.exception("Telegram polling: unexpected error (polling again)")
                await asyncio.sleep(POLL_BACKOFF * 5)
                continue
            if not updates:
                continue
            try:
                fresh = await self.edge.accept(CHANNEL, [_received(u) for u in updates])
            except Exception as e:  # not stored: not confirmed either; Telegram gives them again
                log.warning("Telegram polling: the store did not take %d updates (%s); fetching them again",
                            len(updates), e)
                await asyncio.sleep(POLL_BACKOFF)
                continue
            offset = updates[-1].update_id + 1
            for update, new in zip(updates, fresh, strict=True):
                if new:
                    await self.application.update_queue.put(update)

    async def put_update(self, data: dict[str, Any]) -> None:
        """An update received by the webhook: stored (a retry of one already stored is dropped), then
        queued for the same handlers as polling. The store failing raises: the webhook answers 503
        and Telegram sends it again."""
        update = Update.de_json(data, self.application.bot)
        [new] = await self.edge.accept(CHANNEL, [_received(update, data)])
        if new:
            await self.application.update_queue.put(update)

    async def replay(self, update_id: str, payload: dict[str, Any]) -> None:
        """An update stored but left unanswered by a process that stopped: handled again."""
        await self.application.update_queue.put(Update.de_json(payload, self.application.bot))

    # ---- one update ----------------------------------------------------------------------------

    async def _on_update(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if isinstance(update, Update):
            await self.edge.answer_update(CHANNEL, str(update.update_id), self._handle(update))

    async def _handle(self, update: Update) -> None:
        if update.my_chat_member is not None:
            await self._on_membership(update)
            return
        incoming = to_incoming(update, self.username, self.bot_id)
        if update.callback_query is not None:
            # Stop the button's spinner at once, whatever the answer turns out to be.
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()
        if incoming is None:
            return
        fetch = _Document(update) if incoming.file_name is not None else None
        chat_id = incoming.chat_id
        await self.edge.receive(incoming, fetch_file=fetch, working=lambda: self._typing(chat_id))

    async def _on_membership(self, update: Update) -> None:
        """Blocked in a private chat, or removed from a group: the chat is gone until it writes again."""
        change = update.my_chat_member
        assert change is not None
        if change.new_chat_member.status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
            await self.edge.unreachable(CHANNEL, str(change.chat.id),
                                        f"my_chat_member: {change.new_chat_member.status}")

    async def _typing(self, chat_id: str) -> None:
        """Show "typing…" until cancelled (the answer is ready)."""
        while True:
            with contextlib.suppress(TelegramError):
                await self.application.bot.send_chat_action(int(chat_id), ChatAction.TYPING)
            await asyncio.sleep(TYPING_EVERY)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An error outside the Edge (reading the update): log it with its update, answer politely."""
        log.error("error while handling update %s", update, exc_info=context.error)
        if isinstance(update, Update) and update.effective_chat is not None:
            with contextlib.suppress(Exception):
                await self.sender.send_one(str(update.effective_chat.id), SORRY)
