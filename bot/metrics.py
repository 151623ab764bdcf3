"""What /metrics exports, in the Prometheus text format (the official prometheus_client).

Counted as they happen (by the Edge): messages handled by channel and intent, the time from a
message's arrival to its last reply confirmed, plan imports by outcome. Read from the store at each
scrape: reminders by channel and status, the age of the oldest reminder due but not sent, questions
waiting in the inbox; and the size of the search index in memory. Each App has its own registry.
"""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select

from core.context import AppContext
from core.messages import Incoming
from handlers.commands import find
from knowledge import inbox
from knowledge.models import FocalPoint, Outbox
from knowledge.search import CACHE_KEY

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
REMINDER_STATUSES = ("pending", "claimed", "sent", "failed", "cancelled")


def intent_of(msg: Incoming) -> str:
    """A short, bounded label: the command's name, the kind of button, a file, or a question."""
    if msg.file_name is not None:
        return "file"
    if msg.choice is not None:
        return "button:" + (msg.choice.split(":", 1)[0] if ":" in msg.choice else "other")
    if msg.text.startswith("/"):
        name = msg.text[1:].split(maxsplit=1)[0].lower() if len(msg.text) > 1 else ""
        return "command:" + (name if find(name) is not None else "unknown")
    return "question"


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.handled = Counter("nhacviec_messages_handled", "Messages answered, by channel and intent",
                               ["channel", "intent"], registry=r)
        self.latency = Histogram("nhacviec_answer_seconds", "From a message's arrival to its replies confirmed",
                                 ["channel"], buckets=LATENCY_BUCKETS, registry=r)
        self.imports = Counter("nhacviec_imports", "Plan files sent in chat, by outcome (new, updated, "
                               "unchanged, refused)", ["result"], registry=r)
        self.reminders = Gauge("nhacviec_reminders", "Reminders in the outbox, by channel and status",
                               ["channel", "status"], registry=r)
        self.oldest_pending = Gauge("nhacviec_reminder_oldest_pending_seconds",
                                    "Age of the oldest reminder due and not yet sent (0: none)", registry=r)
        self.inbox_open = Gauge("nhacviec_inbox_unanswered", "Messages received and not yet answered", registry=r)
        self.inbox_oldest = Gauge("nhacviec_inbox_oldest_unanswered_seconds",
                                  "Age of the oldest message not yet answered (0: none)", registry=r)
        self.index_tasks = Gauge("nhacviec_index_tasks", "Tasks in the search index in memory", registry=r)

    def answered(self, msg: Incoming, seconds: float) -> None:
        self.handled.labels(msg.channel, intent_of(msg)).inc()
        self.latency.labels(msg.channel).observe(seconds)

    async def refresh(self, ctx: AppContext) -> None:
        """The figures kept in the store, read now."""
        now = datetime.now(UTC)
        async with ctx.db.session() as s:
            rows = (await s.execute(
                select(FocalPoint.channel, Outbox.status, func.count(Outbox.id))
                .join(FocalPoint, FocalPoint.id == Outbox.focal_point_id)
                .group_by(FocalPoint.channel, Outbox.status))).all()
            oldest = await s.scalar(select(func.min(Outbox.send_at)).where(Outbox.status.in_(("pending", "claimed")),
                                                                            Outbox.send_at <= now))
        self.reminders.clear()
        for channel, status, n in rows:
            self.reminders.labels(channel, status).set(n)
        self.oldest_pending.set(max(0.0, (now - _utc(oldest)).total_seconds()) if oldest is not None else 0.0)
        waiting, first = await inbox.open_count(ctx.db)
        self.inbox_open.set(waiting)
        self.inbox_oldest.set(max(0.0, (now - first).total_seconds()) if first is not None else 0.0)
        holder = ctx.cache.get(CACHE_KEY)
        index = getattr(holder, "index", None)
        self.index_tasks.set(len(index.docs) if index is not None else 0)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)
