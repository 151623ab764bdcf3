"""Composition of `nhacviec run`: settings → store → context → web server, reminders, Telegram.

Each part is started in order and stopped in reverse, so a signal leaves the store consistent:
the Telegram bot stops taking updates first, the reminder service finishes its row, the web
server closes, the store closes last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy import func, select

from bot.cli import open_store
from bot.telegram.application import TelegramBot
from bot.telegram.sender import TelegramSender
from bot.web import WebServer, webhook_path
from core.context import AppContext
from core.messages import Sender
from core.settings import Settings
from knowledge.demo import loaded_line, samples_folder
from knowledge.models import Plan
from knowledge.plans import import_file
from knowledge.search import get_index
from scheduler.service import ReminderService

log = logging.getLogger(__name__)

TELEGRAM_DEFAULT_FILE_URL = "https://api.telegram.org/file/bot"
PLAN_SUFFIXES = {".txt", ".md", ".docx", ".pdf"}


def telegram_file_url(settings: Settings) -> str:
    """Files come from the same server as the API unless set apart: only NHACVIEC_TELEGRAM_BASE_URL
    needs setting to point the bot at a local Bot API server or a test fake."""
    base = settings.telegram_base_url.rstrip("/")
    if settings.telegram_base_file_url == TELEGRAM_DEFAULT_FILE_URL and base.endswith("/bot") \
            and not base.startswith("https://api.telegram.org"):
        return base[: -len("/bot")] + "/file/bot"
    return settings.telegram_base_file_url


async def build_context(settings: Settings) -> AppContext:
    """The store (migrated, agencies seeded) and what every handler needs."""
    db = await open_store(settings)
    return AppContext(db=db, admins=settings.admin_ids, settings=settings)


async def load_samples(ctx: AppContext, folder: str) -> int:
    """Import every plan file of a folder when the store holds no plan yet; how many were imported.

    Runs on every start but only fills an empty store, so restarting never duplicates plans and
    plans an admin removed do not come back once the store holds others. `folder` "demo" means the
    plans shipped in knowledge/data/demo. Prints one Vietnamese line saying what was loaded.
    """
    path = samples_folder(folder)
    if path is None or not path.is_dir():
        if folder:
            log.warning("NHACVIEC_LOAD_SAMPLES=%s is not a folder; no samples loaded", folder)
        return 0
    async with ctx.db.session() as s:
        if (await s.scalar(select(func.count(Plan.id)))) or 0:
            return 0
    numbers: list[str] = []
    for file in sorted(p for p in path.iterdir() if p.suffix.lower() in PLAN_SUFFIXES and p.name != "README.md"):
        try:
            result = await import_file(ctx.db, file, actor="samples")
            numbers.append(result.parsed.number or file.name)
        except Exception:  # one bad sample must not stop the bot
            log.exception("sample %s not imported", file.name)
    if numbers:
        print(loaded_line(len(numbers), numbers), flush=True)
    return len(numbers)


class App:
    """The running product: context, web server, reminder service and (with a token) the Telegram bot."""

    def __init__(self, settings: Settings, ctx: AppContext) -> None:
        self.settings = settings
        self.ctx = ctx
        self.web = WebServer(ctx.db, settings.web_host, settings.web_port)
        self.telegram: TelegramBot | None = None
        self.reminders: ReminderService | None = None
        self.warm_up: asyncio.Task[Any] | None = None
        self.senders: dict[str, Sender] = {}
        if settings.telegram_token:
            self.telegram = TelegramBot(
                ctx,
                settings.telegram_token,
                base_url=settings.telegram_base_url,
                base_file_url=telegram_file_url(settings),
                webhook_url=settings.webhook_url,
                webhook_secret=settings.webhook_secret,
                max_upload_mb=settings.max_upload_mb,
                senders=self.senders,
            )
            self.senders["telegram"] = TelegramSender(self.telegram.application.bot)
            if settings.webhook_url:
                self.web.add_telegram_webhook(webhook_path(settings.webhook_url), settings.webhook_secret,
                                              self.telegram.put_update)
            self.web.status["telegram"] = self.telegram.mode
        else:
            self.web.status["telegram"] = "off"

    @classmethod
    async def create(cls, settings: Settings) -> App:
        if settings.telegram_token and settings.webhook_url and not settings.webhook_secret:
            raise SystemExit("NHACVIEC_WEBHOOK_SECRET là bắt buộc khi dùng NHACVIEC_WEBHOOK_URL.")
        ctx = await build_context(settings)
        await load_samples(ctx, settings.load_samples)
        return cls(settings, ctx)

    async def start(self) -> None:
        try:
            await self.web.start()
        except OSError as e:
            if self.telegram is not None and self.telegram.mode == "webhook":
                raise
            log.warning("web server not started (%s): no /healthz", e)
        # Build the search index now, in the background: on a large store the first question
        # would otherwise wait for it (about 12 s at 100,000 tasks).
        self.warm_up = asyncio.create_task(get_index(self.ctx))
        if self.telegram is not None:
            await self.telegram.start()  # first: the reminder sender uses its initialised bot
        self.reminders = ReminderService(self.ctx, self.senders)
        await self.reminders.start()

    async def stop(self) -> None:
        """Reverse order; each part stops even when an earlier one failed to."""
        if self.warm_up is not None and not self.warm_up.done():
            self.warm_up.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.warm_up  # never close the store under the index build's query
        for name, part in (("telegram", self.telegram), ("reminders", self.reminders), ("web", self.web)):
            if part is None:
                continue
            try:
                await part.stop()
            except Exception:
                log.exception("stopping %s failed", name)
        await self.ctx.db.close()
