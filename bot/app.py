"""Composition of `nhacviec run`: settings → store → context → web server, channels, reminders.

The channels are started from one list (bot.channels.CHANNELS): every channel whose settings are
present. Each part is started in order and stopped in reverse, so a signal leaves the store
consistent: the channels stop taking updates first, the reminder service finishes its row, the
web server closes, the store closes last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from bot.channels import CHANNELS, Channel
from bot.cli import open_store
from bot.edge import Edge
from bot.web import WebServer
from core.context import AppContext
from core.settings import Settings
from knowledge.demo import loaded_line, samples_folder
from knowledge.models import Plan
from knowledge.plans import import_file
from knowledge.search import get_index
from scheduler.service import ReminderService

log = logging.getLogger(__name__)

PLAN_SUFFIXES = {".txt", ".md", ".docx", ".pdf"}


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
    """The running product: context, web server, the channels whose settings are present, reminders."""

    def __init__(self, settings: Settings, ctx: AppContext) -> None:
        self.settings = settings
        self.ctx = ctx
        self.edge = Edge(ctx, max_upload_mb=settings.max_upload_mb, replies_in_flight=settings.replies_in_flight)
        self.edge.late_after = settings.late_answer_s
        self.web = WebServer(ctx.db, settings.web_host, settings.web_port)
        self.web.status["telegram"] = "off"  # /healthz has always said whether Telegram runs
        self.channels: list[Channel] = []
        for build in CHANNELS:
            channel = build(self.edge, settings)
            if channel is not None:
                channel.add_routes(self.web)
                self.web.status[channel.name] = channel.status
                self.channels.append(channel)
        self.reminders: ReminderService | None = None
        self.warm_up: asyncio.Task[Any] | None = None
        self.web.health_parts = self.health
        self.web.metrics_text = self.metrics

    async def health(self) -> tuple[dict[str, Any], bool]:
        """/healthz beyond the database: each channel connected, the planner and dispatcher ticking."""
        now = datetime.now(UTC)
        channels = {c.name: {"status": c.status, "connected": c.connected, **c.health()} for c in self.channels}
        well = all(c.connected for c in self.channels)
        ticks: dict[str, Any] = {}
        service = self.reminders
        for name, part in (("plan", "planner"), ("dispatch", "dispatcher")):
            alive = service is not None and service.alive(name, now)
            last = service.last_tick.get(name) if service is not None else None
            ticks[part] = {"alive": alive, "last_tick": last.isoformat(timespec="seconds") if last else None}
            well = well and alive
        return {"channels": channels, **ticks}, well

    async def metrics(self) -> bytes:
        await self.edge.metrics.refresh(self.ctx)
        return self.edge.metrics.render()

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
            if self.settings.webhook_url and self.settings.telegram_token:
                raise
            log.warning("web server not started (%s): no /healthz", e)
        # Build the search index now, in the background: on a large store the first question
        # would otherwise wait for it (about 12 s at 100,000 tasks).
        self.warm_up = asyncio.create_task(get_index(self.ctx))
        for channel in self.channels:
            await channel.start()  # first: the reminder senders use the started channels
        # Questions a crashed instance took but did not answer: answered now, then watched for.
        await self.edge.recover()
        self.edge.start_sweeping()
        self.reminders = ReminderService(self.ctx, self.edge.senders())
        await self.reminders.start()

    async def stop(self) -> None:
        """Reverse order; each part stops even when an earlier one failed to."""
        if self.warm_up is not None and not self.warm_up.done():
            self.warm_up.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.warm_up  # never close the store under the index build's query
        await self.edge.stop_sweeping()
        parts: list[tuple[str, Any]] = [(c.name, c) for c in reversed(self.channels)]
        parts += [("reminders", self.reminders), ("web", self.web)]
        for name, part in parts:
            if part is None:
                continue
            try:
                if name == "reminders":
                    await part.stop(grace=self.settings.shutdown_grace_s)
                else:
                    await part.stop()
            except Exception:
                log.exception("stopping %s failed", name)
        await self.ctx.db.close()
