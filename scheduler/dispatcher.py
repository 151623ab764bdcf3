"""The dispatcher: claims due outbox rows, sends them through their channel, records the outcome.

Delivery is at-least-once with at most one duplicate per crash: a row is claimed in bulk
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, a conditional UPDATE on SQLite, so two dispatchers
never take the same row), then just before its send the claim is renewed with a conditional
UPDATE (still ours?), and only after the channel confirmed is it marked sent. One send is in
flight at a time per dispatcher, so a crash leaves at most one row sent-but-not-marked; that row
is reclaimed when its claim goes stale and sent again.

Sends are paced per channel (the Sender's `max_per_second` and `per_chat_interval`), so
Telegram should never have to answer 429; when it does, the channel pauses for `retry_after`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from core.clock import Clock
from core.messages import DeliveryError, RetryLater, Sender, Unreachable
from knowledge import focal_points
from knowledge.buttons import reminder_choices
from knowledge.db import Database
from knowledge.models import FocalPoint, Outbox, Task, TaskProgress
from scheduler.planner import STALE_AFTER, as_utc

log = logging.getLogger(__name__)

OUTBOX = cast(Table, Outbox.__table__)  # Core statements: no ORM bookkeeping on the hot path
MAX_ATTEMPTS = 12  # transient failures before a row is given up (reported in the digest)


def _dead_here(worker_id: str) -> bool:
    """Whether a worker id ("host:pid:nonce") names a process of this host that no longer runs."""
    host, _, rest = worker_id.partition(":")
    pid = rest.partition(":")[0]
    if host != os.uname().nodename or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Pacer:
    """Keeps one channel under its limits: at most `per_second` sends in any second, and
    `per_chat` seconds between two sends to one chat. Times are the event loop's monotonic clock.

    A send is recorded when it *completed*: the platform saw it at some moment before that, and the
    next send starts after it (one in flight), so counting from completions keeps the platform's
    own count within the limits whatever the network jitter; only a small margin is needed."""

    def __init__(self, per_second: float | None, per_chat: float | None, margin: float = 0.002) -> None:
        self.per_second = per_second
        self.per_chat = per_chat
        self.margin = margin
        self.recent: deque[float] = deque()
        self.last_by_chat: dict[str, float] = {}
        self.paused_until = 0.0

    def ready_at(self, chat_id: str, now: float) -> float:
        """The earliest moment a send to this chat keeps both limits."""
        t = max(now, self.paused_until)
        if self.per_chat and chat_id in self.last_by_chat:
            t = max(t, self.last_by_chat[chat_id] + self.per_chat * (1 + self.margin))
        if self.per_second:
            window = 1.0 + self.margin
            while self.recent and now - self.recent[0] >= window:
                self.recent.popleft()
            if len(self.recent) >= self.per_second:
                t = max(t, self.recent[-int(self.per_second)] + window)
            if self.recent:  # half the even spacing: smooth, yet a late send can be caught up
                t = max(t, self.recent[-1] + 0.5 / self.per_second)
        return t

    def sent(self, chat_id: str, at: float) -> None:
        self.recent.append(at)
        self.last_by_chat[chat_id] = at

    def pause(self, seconds: float, now: float) -> None:
        self.paused_until = max(self.paused_until, now + seconds)


@dataclass
class Claimed:
    id: int
    channel: str
    chat_id: str
    focal_point_id: int
    text: str
    attempts: int
    claimed_at: datetime


@dataclass
class DispatchStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unreachable: int = 0
    cancelled: int = 0
    sent_ids: list[int] = field(default_factory=list)


class Dispatcher:
    """Sends what is due. One instance per process; several processes may share PostgreSQL."""

    def __init__(
        self,
        db: Database,
        senders: dict[str, Sender],
        clock: Clock | None = None,
        *,
        worker_id: str | None = None,
        claim_timeout: float = 120.0,
        pool_size: int | None = None,
        max_per_second: float | None = None,
        admins: frozenset[str] = frozenset(),
    ) -> None:
        self.db = db
        self.admins = admins  # "channel:user_id": told when a chat blocks the bot
        self.senders = senders
        self.clock = clock or Clock()
        self.worker_id = worker_id or f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.claim_timeout = timedelta(seconds=claim_timeout)
        self.pacers = {
            name: Pacer(max_per_second or getattr(s, "max_per_second", None), getattr(s, "per_chat_interval", None))
            for name, s in senders.items()
        }
        rate = max((p.per_second or 50 for p in self.pacers.values()), default=50)
        self.pool_size = pool_size or max(40, min(int(rate * 4), 400))
        self.stopping = False  # set by the service on shutdown: finish the send in flight, then stop
        self._conn: AsyncConnection | None = None

    # ---- claiming ------------------------------------------------------------------------------

    @staticmethod
    def _wall() -> datetime:
        """Claims are leases in real time, whatever clock decides what is due (tests, --today)."""
        return datetime.now(UTC)

    async def reclaim_stale(self) -> int:
        """Rows claimed by a dispatcher that died go back to pending: at once when it ran on this
        host and its process is gone (a restart after a crash), else when the claim is too old."""
        now = self._wall()
        async with self.db.session() as s:
            owners = (await s.scalars(select(Outbox.claimed_by).distinct().where(
                Outbox.status == "claimed", Outbox.claimed_by != self.worker_id))).all()
            dead = [o for o in owners if o and _dead_here(o)]
            stale = Outbox.claimed_at < now - self.claim_timeout
            if dead:
                stale = or_(stale, Outbox.claimed_by.in_(dead))
            result = await s.execute(
                update(Outbox)
                .where(Outbox.status == "claimed", Outbox.claimed_by != self.worker_id, stale)
                .values(status="pending", claimed_by=None, claimed_at=None)
            )
            await s.commit()
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def _due(self) -> Any:
        now = self.clock.now()
        return and_(
            Outbox.status == "pending",
            Outbox.send_at <= now,
            or_(Outbox.next_attempt_at.is_(None), Outbox.next_attempt_at <= now),
            Outbox.focal_point_id.in_(select(FocalPoint.id).where(FocalPoint.channel.in_(list(self.senders)))),
        )

    async def any_due(self) -> bool:
        """Whether rows are due, claimed or not by anyone: a claim that took nothing while another
        dispatcher held row locks (PostgreSQL) does not mean the work is done."""
        async with self.db.session() as s:
            return await s.scalar(select(Outbox.id).where(self._due()).limit(1)) is not None

    async def claim(self, limit: int) -> list[Claimed]:
        """Take up to `limit` due rows for the channels we can send on; drop the ones nobody needs."""
        now = self.clock.now()
        due = self._due()
        now_wall = self._wall()
        pick = select(Outbox.id).where(due).order_by(Outbox.send_at, Outbox.id).limit(limit)
        async with self.db.session() as s:
            if self.db.is_postgres:
                # The rows are locked by the CTE itself (skipping rows another dispatcher is
                # claiming), so the UPDATE only touches rows this statement already holds.
                picked = pick.with_for_update(skip_locked=True).cte("picked")
                target = Outbox.id == picked.c.id
            else:
                # SQLite: one writer at a time, and the `status = 'pending'` condition in the UPDATE
                # makes the claim conditional, so a row can only be taken once.
                target = Outbox.id.in_(pick.scalar_subquery())
            result = await s.execute(
                update(Outbox)
                .where(target, Outbox.status == "pending")
                .values(status="claimed", claimed_by=self.worker_id, claimed_at=now_wall)
                .returning(Outbox.id)
            )
            ids = [r[0] for r in result.all()]
            claimed_at = now_wall
            await s.commit()
            if not ids:
                return []
            rows = (await s.execute(
                select(Outbox, FocalPoint, Task.status)
                .join(FocalPoint, FocalPoint.id == Outbox.focal_point_id)
                .join(Task, Task.id == Outbox.task_id)
                .where(Outbox.id.in_(ids))
                .order_by(Outbox.send_at, Outbox.id)
            )).all()
            done = {
                (p.task_id, p.agency_id, p.occurrence)
                for p in (await s.scalars(select(TaskProgress).where(
                    TaskProgress.status == "done",
                    TaskProgress.task_id.in_({o.task_id for o, _, _ in rows})))).all()
            }
            out: list[Claimed] = []
            for o, f, task_status in rows:
                send_at = as_utc(o.send_at)
                reason = None
                if task_status != "open":
                    reason = "nhiệm vụ đã đóng"
                elif (o.task_id, o.agency_id, o.occurrence) in done or (o.task_id, o.agency_id, None) in done:
                    reason = "đã hoàn thành"
                elif f.status != "approved":
                    reason = "đầu mối không còn nhận nhắc"
                elif send_at < now - STALE_AFTER:
                    reason = "quá hạn gửi hơn 1 ngày, thay bằng lần nhắc sau"
                if reason:
                    o.status, o.last_error, o.claimed_by = "cancelled", reason, None
                    continue
                out.append(Claimed(o.id, f.channel, f.chat_id, f.id, o.text, o.attempts, claimed_at))
            await s.commit()
        return out

    # ---- sending -------------------------------------------------------------------------------

    async def _write(self, stmt: Any) -> int:
        """One statement in its own transaction on the dispatcher's connection; rows affected.

        A connection held for the whole run (no pool checkout, ping or ORM session per row) keeps
        the two small writes around each send cheap, on PostgreSQL especially."""
        if self._conn is None:
            async with self.db.engine.begin() as conn:
                return int((await conn.execute(stmt)).rowcount or 0)
        try:
            result = await self._conn.execute(stmt)
            await self._conn.commit()
        except BaseException:
            await self._conn.rollback()
            raise
        return int(result.rowcount or 0)

    async def _renew(self, row: Claimed) -> bool:
        """Is the row still ours? A claim younger than a third of the timeout surely is (nobody
        reclaims it before the timeout); an older one is renewed with a conditional UPDATE."""
        now = self._wall()
        if now - row.claimed_at < self.claim_timeout / 3:
            return True
        n = await self._write(
            update(OUTBOX)
            .where(OUTBOX.c.id == row.id, OUTBOX.c.status == "claimed", OUTBOX.c.claimed_by == self.worker_id)
            .values(claimed_at=now)
        )
        row.claimed_at = now
        return n == 1

    async def _finish(self, row: Claimed, **values: object) -> None:
        await self._write(
            update(OUTBOX).where(OUTBOX.c.id == row.id, OUTBOX.c.claimed_by == self.worker_id).values(**values)
        )

    async def _send_one(self, row: Claimed, stats: DispatchStats) -> None:
        sender = self.senders[row.channel]
        pacer = self.pacers[row.channel]
        loop = asyncio.get_running_loop()
        if not await self._renew(row):
            return
        try:
            message_id = await sender.send(row.chat_id, row.text, reminder_choices(row.id))
        except Unreachable as e:
            pacer.sent(row.chat_id, loop.time())
            await self._finish(row, status="failed", last_error=f"unreachable: {e}"[:1000], claimed_by=None)
            async with self.db.session() as s:
                # This reminder, and the chat's others, go to the person's other linked channel if any.
                notice = await focal_points.mark_unreachable(s, row.channel, row.chat_id, str(e), in_flight=row.id)
                await s.commit()
            if notice:
                await self._tell_admins(notice)
            stats.unreachable += 1
        except RetryLater as e:
            pacer.sent(row.chat_id, loop.time())
            pacer.pause(e.seconds, loop.time())
            await self._retry(row, e.seconds, str(e), stats)
        except DeliveryError as e:
            pacer.sent(row.chat_id, loop.time())
            await self._finish(row, status="failed", last_error=str(e)[:1000], claimed_by=None)
            stats.failed += 1
        except Exception as e:  # a bug or an unexpected library error: keep the row, try later
            pacer.sent(row.chat_id, loop.time())
            log.exception("sending outbox row %s failed", row.id)
            await self._retry(row, 30.0, f"{type(e).__name__}: {e}", stats)
        else:
            pacer.sent(row.chat_id, loop.time())
            await self._finish(row, status="sent", sent_at=self.clock.now(), message_id=message_id,
                               last_error=None, claimed_by=None, attempts=row.attempts + 1)
            stats.sent += 1
            stats.sent_ids.append(row.id)

    async def _tell_admins(self, text: str) -> None:
        """A notice to each admin on a channel we can send on (their private chat: chat id = user id)."""
        for admin in sorted(self.admins):
            channel, _, user_id = admin.partition(":")
            sender = self.senders.get(channel)
            if sender is None or not user_id:
                continue
            try:
                await sender.send(user_id, text)
            except DeliveryError as e:
                log.warning("could not tell admin %s that a chat is unreachable: %s", admin, e)

    async def _retry(self, row: Claimed, seconds: float, error: str, stats: DispatchStats) -> None:
        attempts = row.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            await self._finish(row, status="failed", last_error=error[:1000], claimed_by=None, attempts=attempts)
            stats.failed += 1
            return
        backoff = max(seconds, min(2.0 ** attempts, 900.0))
        await self._finish(row, status="pending", claimed_by=None, claimed_at=None, last_error=error[:1000],
                           attempts=attempts, next_attempt_at=self.clock.now() + timedelta(seconds=backoff))
        stats.retried += 1

    async def run_once(self, max_seconds: float | None = None) -> DispatchStats:
        """Send every row due now (until none is left or `max_seconds` passed), paced per channel."""
        stats = DispatchStats()
        loop = asyncio.get_running_loop()
        stop_at = loop.time() + max_seconds if max_seconds else None
        await self.reclaim_stale()
        async with self.db.engine.connect() as conn:
            if self.db.is_postgres:
                # Marks and claims need not wait for the WAL flush: if PostgreSQL itself crashed, a
                # lost "sent" mark means one reminder sent twice, never one lost. Client crashes
                # (the bot killed) lose nothing either way.
                await conn.execute(text("SET synchronous_commit TO off"))
                await conn.commit()
            self._conn = conn
            try:
                return await self._run(stats, stop_at)
            finally:
                self._conn = None

    async def _run(self, stats: DispatchStats, stop_at: float | None) -> DispatchStats:
        loop = asyncio.get_running_loop()
        pool: dict[int, Claimed] = {}
        exhausted, empty_claims = False, 0
        while True:
            if not exhausted and len(pool) < self.pool_size // 2:
                fresh = await self.claim(self.pool_size - len(pool))
                for r in fresh:
                    pool.setdefault(r.id, r)
                if fresh:
                    empty_claims = 0
                elif await self.any_due() and empty_claims < 20:
                    empty_claims += 1  # rows are due but were locked by another dispatcher's claim
                    if not pool:
                        await asyncio.sleep(0.05)
                        continue
                else:
                    exhausted = True
            if not pool:
                break
            now = loop.time()
            if self.stopping or (stop_at is not None and now >= stop_at):
                break
            best, best_at = None, float("inf")
            for r in pool.values():
                t = self.pacers[r.channel].ready_at(r.chat_id, now)
                if t < best_at:
                    best, best_at = r, t
                    if t <= now:
                        break
            assert best is not None
            if best_at > now:
                await asyncio.sleep(min(best_at - now, 1.0))
                continue
            del pool[best.id]
            await self._send_one(best, stats)
        if pool:  # out of time or stopping: hand the rest back at once
            async with self.db.session() as s:
                await s.execute(update(Outbox).where(Outbox.id.in_(list(pool)), Outbox.claimed_by == self.worker_id)
                                .values(status="pending", claimed_by=None, claimed_at=None))
                await s.commit()
        return stats
