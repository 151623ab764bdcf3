"""The task store's tables (SQLAlchemy 2 ORM). Schema changes go through Alembic migrations.

Times are stored in UTC (timezone-aware); calendar dates (deadlines, holidays) are plain dates
in Asia/Ho_Chi_Minh, because that is what a plan means by "ngày 15/12".
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Agency(Base):
    """A body that can lead, coordinate or receive reports; a group stands for its members."""

    __tablename__ = "agencies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    key: Mapped[str] = mapped_column(String(300), unique=True)  # agencies.agency_key(name)
    kind: Mapped[str] = mapped_column(String(20), default="other")
    is_group: Mapped[bool] = mapped_column(Boolean, default=False)
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), nullable=True)
    successor_since: Mapped[date | None] = mapped_column(Date, nullable=True)
    seeded: Mapped[bool] = mapped_column(Boolean, default=False)  # False: added by the importer

    aliases: Mapped[list[AgencyAlias]] = relationship(back_populates="agency", cascade="all, delete-orphan")


class AgencyAlias(Base):
    __tablename__ = "agency_aliases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(300))  # as written
    key: Mapped[str] = mapped_column(String(300), unique=True)
    agency: Mapped[Agency] = relationship(back_populates="aliases")


class GroupMember(Base):
    __tablename__ = "group_members"
    group_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True)


class Plan(Base):
    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity: Mapped[str] = mapped_column(String(400), unique=True)  # number or folded title: re-import key
    number: Mapped[str | None] = mapped_column(String(100), nullable=True)
    kind: Mapped[str] = mapped_column(String(50), default="Kế hoạch")
    issuer: Mapped[str | None] = mapped_column(String(300), nullable=True)
    issued_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    title: Mapped[str] = mapped_column(Text, default="")
    signer: Mapped[str | None] = mapped_column(String(200), nullable=True)
    source_name: Mapped[str] = mapped_column(String(400), default="")
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    monitor_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), nullable=True)
    # Set by an admin's /kehoach archive: the plan stays searchable, its tasks are no longer reminded.
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    tasks: Mapped[list[Task]] = relationship(back_populates="plan", cascade="all, delete-orphan",
                                             order_by="Task.position")


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    ref: Mapped[str] = mapped_column(String(50), default="")
    text: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))  # identity across versions of one plan
    deadline_kind: Mapped[str | None] = mapped_column(String(20), nullable=True)
    deadline_due: Mapped[date | None] = mapped_column(Date, nullable=True)  # one-off: the day; recurring: None
    deadline_month: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deadline_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deadline_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | done | cancelled
    # Raised by every admin change (handlers.admin_tasks): two admins changing one task at once,
    # the second finds the version moved and changes nothing.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    plan: Mapped[Plan] = relationship(back_populates="tasks")
    agencies: Mapped[list[TaskAgency]] = relationship(back_populates="task", cascade="all, delete-orphan",
                                                      order_by="TaskAgency.position")

    __table_args__ = (
        UniqueConstraint("plan_id", "fingerprint", name="uq_task_fingerprint"),
        Index("ix_tasks_due", "deadline_due"),
    )


class TaskAgency(Base):
    """One agency in one role on one task, with the name as the plan wrote it."""

    __tablename__ = "task_agencies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    written: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer, default=0)

    task: Mapped[Task] = relationship(back_populates="agencies")
    agency: Mapped[Agency] = relationship()


class FocalPoint(Base):
    """A person who answers for an agency in one chat (cán bộ đầu mối)."""

    __tablename__ = "focal_points"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))  # telegram | zalo | console
    chat_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | approved | unreachable | removed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    approved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # The same person's first row (knowledge.focal_points.link): rows of one person share reminders,
    # sent once, through the first of them that is approved (the others are its fallback).
    linked_to: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)

    __table_args__ = (UniqueConstraint("agency_id", "channel", "chat_id", name="uq_focal_chat"),)


class RegistrationCode(Base):
    """A one-use code an admin hands out so a focal point is approved at once."""

    __tablename__ = "registration_codes"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    created_by: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_by: Mapped[int | None] = mapped_column(ForeignKey("focal_points.id"), nullable=True)
    # A link code (/lienket): "channel:chat_id" whose focal-point rows the code's user joins on their channel.
    link_chat: Mapped[str | None] = mapped_column(String(100), nullable=True)


class ReminderPolicy(Base):
    """Offsets (working days before the due day; 0 is the due day) and hour, per scope."""

    __tablename__ = "reminder_policies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))  # store | plan | task
    scope_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    offsets: Mapped[list[int]] = mapped_column(JSON)
    hour: Mapped[int] = mapped_column(Integer, default=8)
    overdue_every: Mapped[int] = mapped_column(Integer, default=3)
    overdue_max: Mapped[int] = mapped_column(Integer, default=5)
    include_coordinators: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (UniqueConstraint("scope", "scope_id", name="uq_policy_scope"),)


class CalendarDay(Base):
    """An admin's override of the holiday calendar: a day off, or a swapped working Saturday."""

    __tablename__ = "calendar_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")


class TaskProgress(Base):
    """Per-agency state of a task: done, extended (new due day), snoozed."""

    __tablename__ = "task_progress"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    occurrence: Mapped[date | None] = mapped_column(Date, nullable=True)  # for recurring tasks
    status: Mapped[str] = mapped_column(String(20))  # done | extended
    new_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    by: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    note: Mapped[str] = mapped_column(Text, default="")


class Outbox(Base):
    """One reminder to one focal point for one occurrence and offset: the unit of delivery."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    focal_point_id: Mapped[int] = mapped_column(ForeignKey("focal_points.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    occurrence: Mapped[date] = mapped_column(Date)  # the due day this reminder is about
    offset_key: Mapped[str] = mapped_column(String(10))  # "b7", "b3", "b1", "d0", "o1".."o5", "s<n>"
    kind: Mapped[str] = mapped_column(String(10))  # before | due | overdue
    send_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending|claimed|sent|failed|cancelled
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    text: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        UniqueConstraint("task_id", "focal_point_id", "occurrence", "offset_key", name="uq_outbox_unit"),
        Index("ix_outbox_due", "status", "send_at"),
    )


class AuditEntry(Base):
    """Who changed what, when: every admin action and import writes one.

    Task changes (knowledge.changes) also keep the value before and after, so the last change can
    be undone by writing `before` back."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class ConversationState(Base):
    """What one chat is in the middle of, so a restart or another instance carries on the conversation.

    Three independent parts, each with its own expiry: the numbered choices shown last (any
    handler's; a typed number picks one), a reply awaited (`awaiting` names what the next text
    answers, e.g. an extension reason) and a confirmation awaited (the choice a "có" would pick).
    """

    __tablename__ = "conversation_state"
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    choices_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    awaiting: Mapped[str | None] = mapped_column(String(40), nullable=True)
    awaiting_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    awaiting_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    confirm: Mapped[str | None] = mapped_column(String(200), nullable=True)
    confirm_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The task or list just shown (knowledge.conversation.Subject as JSON): what "việc này", "việc số 2"
    # and "xem tiếp" refer to; replaced by the next answer, kept across a restart.
    subject: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class ChannelSeen(Base):
    """A platform message already taken in: platforms that resend (Zalo has no offset) are answered once."""

    __tablename__ = "channel_seen"
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class OaToken(Base):
    """The Zalo OA tokens of one app: the refresh token is single-use, so the store is its only home.

    `lock_owner`/`lock_until` are the refresh lease on SQLite (PostgreSQL locks the row instead)."""

    __tablename__ = "zalo_oa_tokens"
    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text, default="")
    refresh_token: Mapped[str] = mapped_column(Text, default="")
    access_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    refreshed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    lock_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lock_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AdminUser(Base):
    """An admin added or removed in chat ("channel:user_id"): on top of NHACVIEC_ADMINS, which stays the
    starting list. A removed row overrides the settings, so an admin removed in chat stays removed."""

    __tablename__ = "admin_users"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))  # added | removed
    name: Mapped[str] = mapped_column(String(200), default="")
    by: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PendingImport(Base):
    """A plan file an admin sent, read as a dry run and waiting for "Lưu" or "Hủy".

    The file itself is kept (not the parse), so "Lưu" stores exactly what the preview showed, after a
    restart or on another instance too; rows older than a day are dropped when a new file comes."""

    __tablename__ = "pending_imports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(100))
    file_name: Mapped[str] = mapped_column(String(400))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
