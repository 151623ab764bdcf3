"""The Telegram bot: a PTB Application around the channel-agnostic router.

Every update becomes one `Incoming` (bot.telegram.updates), goes through handlers.router, and the
replies go back through `TelegramSender` (split at 4096 characters, choices as inline buttons). A
chat that blocked the bot is marked unreachable and reported to the admins; flood control and
network errors are retried; any other error is logged with its update and answered politely.
Long polling by default; in webhook mode bot.web feeds updates into `application.update_queue`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from telegram import BotCommand, Update
from telegram.constants import ChatAction, ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.chunks import split_text
from bot.telegram.sender import MAX_TEXT, TelegramSender, keyboard
from bot.telegram.updates import CHANNEL, to_incoming
from core.context import AppContext
from core.messages import DeliveryError, Incoming, Reply, RetryLater, Sender, Unreachable
from handlers import router
from handlers.registration import USERNAME_CACHE, mark_chat_unreachable

log = logging.getLogger(__name__)

COMMANDS = [
    BotCommand("start", "Bắt đầu; kèm mã để đăng ký đầu mối"),
    BotCommand("help", "Hướng dẫn sử dụng"),
    BotCommand("hoi", "Hỏi về nhiệm vụ: /hoi <câu hỏi>"),
    BotCommand("viec", "Các việc của cơ quan tôi"),
    BotCommand("saphan", "Các việc sắp đến hạn"),
    BotCommand("quahan", "Các việc đã quá hạn"),
    BotCommand("dangky", "Đăng ký làm cán bộ đầu mối: /dangky <tên cơ quan>"),
    BotCommand("huydangky", "Hủy đăng ký cán bộ đầu mối"),
]
SORRY = "Xin lỗi, đã có lỗi khi xử lý tin nhắn của bạn. Vui lòng thử lại sau ít phút."
NOT_UNDERSTOOD = "Xin lỗi, tôi chưa hiểu tin nhắn này. Gõ /help để xem cách hỏi."
ADMIN_FILES_ONLY = "Xin lỗi, chỉ quản trị viên mới gửi được tệp kế hoạch. Bạn có thể đặt câu hỏi bằng tin nhắn."
TYPING_EVERY = 4.0  # Telegram shows "typing…" for about 5 seconds
MAX_ATTEMPTS = 5  # per message piece, for flood control and network errors
MAX_WAIT = 60.0  # never sleep longer than this on one retry
UPDATES = ["message", "callback_query", "my_chat_member"]  # what the bot asks Telegram for
REPLY_BACKOFF = 1.0  # seconds before retrying a reply after a network error or 5xx: someone is waiting


class TelegramBot:
    """One Telegram bot of the product: build, start (polling or webhook), stop."""

    def __init__(
        self,
        ctx: AppContext,
        token: str,
        *,
        base_url: str = "https://api.telegram.org/bot",
        base_file_url: str = "https://api.telegram.org/file/bot",
        webhook_url: str = "",
        webhook_secret: str = "",
        poll_timeout: float = 10.0,
        max_upload_mb: int = 20,
        senders: Mapping[str, Sender] | None = None,
    ) -> None:
        self.ctx = ctx
        self.webhook_url, self.webhook_secret = webhook_url, webhook_secret
        self.poll_timeout = poll_timeout
        self.max_upload_bytes = max_upload_mb * 1024 * 1024
        self.senders = dict(senders or {})  # other channels, for replies addressed to them (admins)
        builder = (
            ApplicationBuilder()
            .token(token)
            .base_url(base_url)
            .base_file_url(base_file_url)
            .rate_limiter(AIORateLimiter())  # overall and per-group pacing inside this process
            .concurrent_updates(32)
        )
        if webhook_url:
            builder = builder.updater(None)  # updates arrive through bot.web
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        self.sender = TelegramSender(self.application.bot, network_backoff=REPLY_BACKOFF)
        self.username = ""
        self.bot_id = 0
        self._chat_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    @property
    def mode(self) -> str:
        return "webhook" if self.webhook_url else "polling"

    # ---- lifecycle -----------------------------------------------------------------------------

    async def _post_init(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        me = application.bot.bot
        self.username, self.bot_id = me.username or "", me.id
        self.ctx.cache[USERNAME_CACHE] = self.username
        try:
            await application.bot.set_my_commands(COMMANDS)
        except TelegramError:
            log.exception("setMyCommands failed; the bot runs without its command menu")

    async def start(self) -> None:
        """Connect (getMe), register commands, then poll or set the webhook. Returns once running."""
        app = self.application
        await app.initialize()
        await self._post_init(app)
        await app.start()
        if self.webhook_url:
            await app.bot.set_webhook(self.webhook_url, secret_token=self.webhook_secret or None,
                                      allowed_updates=UPDATES)
        else:
            assert app.updater is not None
            await app.updater.start_polling(timeout=int(self.poll_timeout), poll_interval=0.0,
                                            allowed_updates=UPDATES,
                                            error_callback=self._on_poll_error)
        log.info("Telegram bot @%s running (%s)", self.username, self.mode)

    async def stop(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    async def put_update(self, data: dict[str, Any]) -> None:
        """An update received by the webhook: queued for the same handlers as polling."""
        await self.application.update_queue.put(Update.de_json(data, self.application.bot))

    @staticmethod
    def _on_poll_error(exc: TelegramError) -> None:
        log.warning("Telegram polling: %s (retrying)", exc)

    # ---- one update ----------------------------------------------------------------------------

    async def _on_update(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not isinstance(update, Update):
            return
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
        # Updates run concurrently, but one chat's messages are answered in the order they came.
        async with self._chat_locks[incoming.chat_id]:
            typing = asyncio.create_task(self._typing(incoming.chat_id))
            try:
                replies = await self._answer(update, incoming)
            finally:
                typing.cancel()
            await self.deliver(incoming, replies)

    async def _on_membership(self, update: Update) -> None:
        """Blocked in a private chat, or removed from a group: the chat is gone until it writes again."""
        change = update.my_chat_member
        assert change is not None
        if change.new_chat_member.status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
            chat_id = str(change.chat.id)
            notices = await mark_chat_unreachable(self.ctx, CHANNEL, chat_id, f"my_chat_member: "
                                                  f"{change.new_chat_member.status}")
            await self.deliver(None, [n for n in notices if n.chat_id != chat_id])

    async def _answer(self, update: Update, incoming: Incoming) -> list[Reply]:
        if incoming.file_name is not None:
            if not self.ctx.is_admin(CHANNEL, incoming.user_id):
                return [Reply(ADMIN_FILES_ONLY)]
            incoming = await self._with_file(update, incoming)
            if incoming.file_bytes is None:
                return [Reply(f"Tệp {incoming.file_name} quá lớn (tối đa {self.max_upload_bytes // 2**20} MB).")]
        replies = await router.handle(self.ctx, incoming)
        if not replies and incoming.file_bytes is not None:
            return await self._import_document(incoming, incoming.file_bytes)
        if not replies and incoming.choice is None:
            return [Reply(NOT_UNDERSTOOD)]
        return replies

    async def _import_document(self, incoming: Incoming, data: bytes) -> list[Reply]:
        """An admin's plan file into the store (knowledge.plans), unless a handler took it first."""
        name = incoming.file_name or "tep.txt"
        try:
            from knowledge.importer import ImportRefused
            from knowledge.plans import import_file
        except ImportError:
            return [Reply(f"Đã nhận tệp {name}, nhưng chức năng nhập kế hoạch chưa sẵn sàng trên máy chủ này.")]
        try:
            result = await import_file(self.ctx.db, data, name, actor=f"{CHANNEL}:{incoming.user_id}",
                                       max_bytes=self.max_upload_bytes)
        except ImportRefused as e:
            return [Reply(f"Không nhập được tệp {name}: {e.message_vi}")]
        return [Reply(f"Tệp {name}: {result.summary_vi()}")]

    async def _with_file(self, update: Update, incoming: Incoming) -> Incoming:
        """The document's bytes (getFile + download), unless it is larger than allowed."""
        assert update.message is not None and update.message.document is not None
        document = update.message.document
        if document.file_size and document.file_size > self.max_upload_bytes:
            return incoming
        file = await document.get_file()
        data = bytes(await file.download_as_bytearray())
        return replace(incoming, file_bytes=data)

    async def _typing(self, chat_id: str) -> None:
        """Show "typing…" until cancelled (the answer is ready)."""
        while True:
            with contextlib.suppress(TelegramError):
                await self.application.bot.send_chat_action(int(chat_id), ChatAction.TYPING)
            await asyncio.sleep(TYPING_EVERY)

    # ---- replies -------------------------------------------------------------------------------

    async def deliver(self, incoming: Incoming | None, replies: list[Reply]) -> None:
        """Send replies in order; each to its own chat and channel (admins' notices, for example)."""
        for reply in replies:
            channel = reply.channel or (incoming.channel if incoming else CHANNEL)
            chat_id = reply.chat_id or (incoming.chat_id if incoming else "")
            if not chat_id:
                continue
            if channel == CHANNEL:
                await self.send_reply(chat_id, reply)
            elif channel in self.senders:
                try:
                    await self.senders[channel].send(chat_id, reply.text, reply.choices)
                except DeliveryError as e:
                    log.warning("could not deliver to %s:%s: %s", channel, chat_id, e)
            else:
                log.info("no sender for channel %s; reply to %s dropped", channel, chat_id)

    async def send_reply(self, chat_id: str, reply: Reply) -> bool:
        """One reply to one Telegram chat, piece by piece, retrying passing failures. True if delivered."""
        pieces = split_text(reply.text, MAX_TEXT)
        for i, piece in enumerate(pieces):
            markup = keyboard(reply.choices) if i == len(pieces) - 1 else None
            for attempt in range(1, MAX_ATTEMPTS + 1):
                try:
                    await self.sender.send_one(chat_id, piece, markup)
                    break
                except Unreachable as e:
                    log.info("telegram chat %s unreachable: %s", chat_id, e)
                    notices = await mark_chat_unreachable(self.ctx, CHANNEL, chat_id, str(e))
                    await self.deliver(None, [n for n in notices if n.chat_id != chat_id])
                    return False
                except RetryLater as e:
                    if attempt == MAX_ATTEMPTS:
                        log.error("gave up sending to %s after %d attempts: %s", chat_id, attempt, e)
                        return False
                    await asyncio.sleep(min(e.seconds, MAX_WAIT))
                except DeliveryError as e:
                    log.error("telegram refused a reply to %s: %s", chat_id, e)
                    return False
        return True

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the failure with its update; tell the user politely; keep running."""
        log.error("error while handling update %s", update, exc_info=context.error)
        if isinstance(update, Update) and update.effective_chat is not None:
            with contextlib.suppress(Exception):
                await self.sender.send_one(str(update.effective_chat.id), SORRY)
