"""The reminder service the bot runs: APScheduler ticks the planner, the dispatcher and the
weekly digest; the outbox in the store is the truth, so a restart loses nothing and a tick that
was missed while the bot was down runs once (coalesced), sending late reminders once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from core.clock import VN
from core.context import AppContext
from core.messages import DeliveryError, Sender
from scheduler import digest, planner
from scheduler.dispatcher import Dispatcher

log = logging.getLogger(__name__)


class ReminderService:
    """Plans and sends reminders in the background of `nhacviec run`."""

    def __init__(
        self,
        ctx: AppContext,
        senders: dict[str, Sender],
        *,
        plan_interval: float | None = None,
        dispatch_interval: float | None = None,
        claim_timeout: float | None = None,
    ) -> None:
        settings = ctx.settings  # handed in by the composition root; never re-read here
        self.ctx = ctx
        self.senders = senders
        self.plan_interval = plan_interval or settings.plan_interval_s
        self.dispatch_interval = dispatch_interval or settings.dispatch_interval_s
        self.hour = settings.reminder_hour  # where no policy names one
        self.dispatcher = Dispatcher(ctx.db, senders, ctx.clock,
                                     claim_timeout=claim_timeout or settings.claim_timeout_s,
                                     max_per_second=settings.reminder_max_per_second or None,
                                     admins=ctx.admins)
        self.scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[Any]] = set()  # ticks in progress, awaited on stop
        self.started_at: datetime | None = None
        self.last_tick: dict[str, datetime] = {}  # "plan", "dispatch", "digest": when each last finished (UTC)
        self._lock = asyncio.Lock()  # planner and dispatcher ticks never overlap inside one process

    async def plan_tick(self) -> planner.SyncResult:
        async with self._lock, self.ctx.db.session() as s:
            res = await planner.run_planner(s, self.ctx.clock.now(), self.hour)
            await s.commit()
        if res.created or res.cancelled or res.moved:
            log.info("planner: %s", res)
        return res

    async def dispatch_tick(self) -> None:
        async with self._lock:
            stats = await self.dispatcher.run_once(max_seconds=max(30.0, self.dispatch_interval * 6))
        if stats.sent or stats.failed or stats.unreachable:
            log.info("dispatcher: %s", stats)

    async def digest_tick(self) -> int:
        """Send this week's digest to each reader once; returns how many went out."""
        today = self.ctx.clock.today()
        sent = 0
        async with self.ctx.db.session() as s:
            snap = await planner.load_snapshot(s, self.hour)
            full = await digest.build_digest(s, today, snap)
            for channel, chat, plans in await digest.recipients(s, self.ctx.admins, snap):
                sender = self.senders.get(channel)
                if sender is None or await digest.already_sent(s, full.week_start, channel, chat):
                    continue
                part = full.for_plans(plans)
                if plans is not None and part.is_empty():
                    continue
                try:
                    await sender.send(chat, part.text())
                except DeliveryError as e:
                    log.warning("digest to %s:%s not delivered: %s", channel, chat, e)
                    continue
                s.add(digest.sent_entry(full.week_start, channel, chat))
                await s.commit()
                sent += 1
        return sent

    async def _safe(self, name: str, fn: Any) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            await fn()
            self.last_tick[name] = datetime.now(UTC)
        except Exception:  # a tick must never kill the scheduler
            log.exception("reminder %s tick failed", name)
        finally:
            if task is not None:
                self._running.discard(task)

    def alive(self, name: str, now: datetime) -> bool:
        """A tick is alive when the scheduler runs and it finished within two intervals and a minute (of
        the start, before its first tick)."""
        interval = {"plan": self.plan_interval, "dispatch": self.dispatch_interval}[name]
        last = self.last_tick.get(name) or self.started_at
        return self.scheduler is not None and self.scheduler.running and last is not None \
            and (now - last).total_seconds() <= 2 * interval + 60

    async def start(self) -> None:
        self.dispatcher.stopping = False
        sched = AsyncIOScheduler(timezone=VN)
        common = dict(coalesce=True, max_instances=1, misfire_grace_time=None)
        sched.add_job(self._safe, "interval", args=["plan", self.plan_tick], seconds=self.plan_interval,
                      next_run_time=datetime.now(UTC), id="plan", **common)
        sched.add_job(self._safe, "interval", args=["dispatch", self.dispatch_tick], seconds=self.dispatch_interval,
                      id="dispatch", **common)
        sched.add_job(self._safe, "cron", args=["digest", self.digest_tick], day_of_week="fri",
                      hour=max(self.hour, 14), id="digest", **common)
        sched.start()
        self.scheduler = sched
        self.started_at = datetime.now(UTC)

    async def stop(self, grace: float = 10.0) -> None:
        """No new ticks; let the running ones finish (the dispatcher stops after its current row),
        so the store is never closed under a query; cancel what is still running after `grace`."""
        self.dispatcher.stopping = True
        if self.scheduler is not None:
            self.scheduler.pause()
        running = set(self._running)
        if running:
            _done, late = await asyncio.wait(running, timeout=grace)
            for task in late:
                task.cancel()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        async with self._lock:  # a running tick finishes the send in flight and hands back its claims
            pass
