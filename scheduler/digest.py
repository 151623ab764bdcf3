"""The weekly digest for whoever monitors a plan ("theo dõi, đôn đốc") and for the admins:
what falls due next week, what is overdue, which reminders could not be delivered, and which
periodic tasks still need a day. Sent once a week per recipient (an audit entry records it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.deadlines import INVALID
from knowledge.due import occurrence_due, occurrences
from knowledge.labels import day_label, dmy, shorten
from knowledge.models import AuditEntry, FocalPoint, Outbox, Plan, Task
from scheduler.planner import Snapshot, at_hour, needs_day

OVERDUE_LOOKBACK = timedelta(days=120)  # older misses are history, not news


@dataclass
class DigestLine:
    plan_id: int
    text: str


@dataclass
class Digest:
    week_start: date
    due_next_week: list[DigestLine] = field(default_factory=list)
    overdue: list[DigestLine] = field(default_factory=list)
    undelivered: list[DigestLine] = field(default_factory=list)
    need_day: list[DigestLine] = field(default_factory=list)

    def for_plans(self, plan_ids: set[int] | None) -> Digest:
        """The part of the digest about some plans (None: all, for admins)."""
        if plan_ids is None:
            return self

        def keep(lines: list[DigestLine]) -> list[DigestLine]:
            return [ln for ln in lines if ln.plan_id in plan_ids]

        return Digest(self.week_start, keep(self.due_next_week), keep(self.overdue), keep(self.undelivered),
                      keep(self.need_day))

    def is_empty(self) -> bool:
        return not (self.due_next_week or self.overdue or self.undelivered or self.need_day)

    def text(self) -> str:
        end = self.week_start + timedelta(days=6)
        out = [f"📋 Tổng hợp nhắc việc tuần {dmy(self.week_start)} – {dmy(end)}"]
        for title, lines in (("Đến hạn trong tuần", self.due_next_week), ("Đã quá hạn", self.overdue),
                             ("Nhắc việc không gửi được", self.undelivered),
                             ("Nhiệm vụ chưa có ngày hạn dùng được — định kỳ không ghi ngày, hoặc ngày không hợp lệ "
                              "trong văn bản (cần quản trị viên đặt ngày)", self.need_day)):
            if lines:
                out.append(f"\n{title} ({len(lines)}):")
                out.extend(f"{i}. {ln.text}" for i, ln in enumerate(lines[:30], 1))
                if len(lines) > 30:
                    out.append(f"… và {len(lines) - 30} mục khác.")
        if self.is_empty():
            out.append("Không có việc đến hạn, quá hạn hay nhắc việc lỗi.")
        return "\n".join(out)


async def build_digest(session: AsyncSession, today: date, snap: Snapshot) -> Digest:
    """Next week = the Monday after `today` to Sunday; overdue = due before today, not done.

    The day that counts is knowledge.due's, for the lead agencies that have not finished (a lead
    given to a group counts as finished when any member finished)."""
    monday = today + timedelta(days=7 - today.weekday())
    digest = Digest(monday)
    cal = snap.calendar
    for task in snap.tasks:
        if task.deadline is None:
            continue
        leads = [(a, w) for a, r, w in task.agencies if r == "lead"]
        who = ", ".join(w for _, w in leads) or "chưa rõ cơ quan"
        for nominal in occurrences(task.deadline, today - OVERDUE_LOOKBACK, monday + timedelta(days=6)):
            dues = [occurrence_due(task.id, task.deadline.kind, nominal, cal, snap.progress,
                                   {a} | {cur.id for cur in snap.registry.expand(a)}) for a, _ in leads]
            pending = [d for d in dues if d is not None]
            if leads and not pending:
                continue
            counted = min(pending, key=lambda d: d.day) if pending else occurrence_due(
                task.id, task.deadline.kind, nominal, cal, snap.progress, [])
            if counted is None:
                continue
            due = counted.day
            line = f"{shorten(task.text, 120)} — {who} — hạn {day_label(due)} ({task.plan_label}" + (
                f", mục {task.ref})" if task.ref else ")")
            if monday <= due <= monday + timedelta(days=6):
                digest.due_next_week.append(DigestLine(task.plan_id, line))
            elif due < today:
                digest.overdue.append(DigestLine(task.plan_id, line))
    failed = (await session.execute(
        select(Outbox, FocalPoint, Task.plan_id)
        .join(FocalPoint, FocalPoint.id == Outbox.focal_point_id).join(Task, Task.id == Outbox.task_id)
        .where(Outbox.status == "failed", Outbox.send_at >= _week_ago(today))
        .order_by(Outbox.send_at))).all()
    for o, f, plan_id in failed:
        name = snap.registry.by_id[o.agency_id].name if o.agency_id in snap.registry.by_id else "?"
        digest.undelivered.append(DigestLine(plan_id, f"{name} — {f.name or f.chat_id} ({f.channel}) — "
                                                      f"{o.last_error or 'lỗi không rõ'}"))
    for t in await needs_day(session):
        why = "ngày không hợp lệ trong văn bản: " if t.deadline_kind == INVALID else ""
        digest.need_day.append(DigestLine(t.plan_id, f"{shorten(t.text, 120)} — {why}\"{t.deadline_text or ''}\""))
    return digest


def _week_ago(today: date) -> datetime:
    return at_hour(today - timedelta(days=7), 0)


async def recipients(
    session: AsyncSession, admins: frozenset[str], snap: Snapshot
) -> list[tuple[str, str, set[int] | None]]:
    """(channel, chat, plans) for each digest reader: monitors see their plans, admins see all."""
    out: dict[tuple[str, str], set[int] | None] = {}
    for a in sorted(admins):
        channel, _, user = a.partition(":")
        if channel and user:
            out[(channel, user)] = None
    for plan in (await session.scalars(select(Plan).where(Plan.monitor_agency_id.is_not(None)))).all():
        assert plan.monitor_agency_id is not None
        for cur in snap.registry.expand(plan.monitor_agency_id):
            for fp in snap.focal.get(cur.id, []):
                key = (fp.channel, fp.chat_id)
                if key in out and out[key] is None:
                    continue
                out.setdefault(key, set()).add(plan.id)  # type: ignore[union-attr]
    return [(c, chat, plans) for (c, chat), plans in out.items()]


async def already_sent(session: AsyncSession, week_start: date, channel: str, chat: str) -> bool:
    target = f"{week_start.isoformat()}:{channel}:{chat}"
    return await session.scalar(select(AuditEntry.id).where(AuditEntry.action == "digest.sent",
                                                            AuditEntry.target == target)) is not None


def sent_entry(week_start: date, channel: str, chat: str) -> AuditEntry:
    return AuditEntry(actor="system", action="digest.sent", target=f"{week_start.isoformat()}:{channel}:{chat}")
