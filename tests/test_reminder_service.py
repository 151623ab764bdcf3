"""The background service (APScheduler ticks) and the weekly digest."""

from __future__ import annotations

import asyncio
from datetime import date

from sqlalchemy import select

from core.clock import FixedClock
from core.context import AppContext
from knowledge import changes
from knowledge.db import Database
from knowledge.models import AuditEntry, Plan
from scheduler import digest, planner
from scheduler.service import ReminderService
from tests.reminder_fixtures import HOUR, RecordingChannel, TaskSpec, add_focal, agency_id, make_plan

REPORT = TaskSpec("Tổng hợp báo cáo tình hình, kết quả thực hiện gửi UBND tỉnh.", ["Sở Khoa học và Công nghệ"],
                  kind="yearly", month=12, day=15, deadline_text="định kỳ trước ngày 15 tháng 12 hằng năm")


async def test_service_plans_and_sends_in_the_background(sqlite_db: Database) -> None:
    await make_plan(sqlite_db, [REPORT])
    await add_focal(sqlite_db, "Sở KH&CN", "c1", channel="console")
    channel = RecordingChannel()
    ctx = AppContext(sqlite_db, FixedClock.on(date(2026, 12, 10), 9))
    service = ReminderService(ctx, {"console": channel}, plan_interval=0.2, dispatch_interval=0.1)
    await service.start()
    try:
        for _ in range(100):
            if channel.sent:
                break
            await asyncio.sleep(0.05)
    finally:
        await service.stop()
    assert [(chat, text.splitlines()[0]) for chat, text, _ in channel.sent] == [
        ("c1", "⏰ Còn 3 ngày làm việc: thứ Ba 15/12/2026")]


async def test_weekly_digest_to_monitor_and_admins_once(db: Database) -> None:
    ids = await make_plan(db, [
        REPORT,
        TaskSpec("Hoàn thiện đề án.", ["Sở Tài chính"], kind="date", due=date(2026, 12, 1),
                 deadline_text="trước ngày 01/12/2026"),
        TaskSpec("Sơ kết định kỳ 6 tháng.", ["Sở Tài chính"], kind="periodic", deadline_text="định kỳ 6 tháng"),
    ])
    await add_focal(db, "Sở KH&CN", "m1", channel="console")
    khcn = await agency_id(db, "Sở KH&CN")
    async with db.session() as s:
        plan = (await s.scalars(select(Plan))).one()
        plan.monitor_agency_id = khcn
        await changes.mark_done(s, ids[0], khcn, date(2025, 12, 15), "console:m1")
        await s.commit()
    channel = RecordingChannel()
    # Friday 11/12/2026: next week holds 15/12; 01/12 is overdue.
    ctx = AppContext(db, FixedClock.on(date(2026, 12, 11), 14), admins=frozenset({"console:admin"}))
    service = ReminderService(ctx, {"console": channel})
    assert await service.digest_tick() == 2
    assert await service.digest_tick() == 0  # once a week
    texts = {chat: text for chat, text, _ in channel.sent}
    assert set(texts) == {"m1", "admin"}
    t = texts["m1"]
    assert t.startswith("📋 Tổng hợp nhắc việc tuần 14/12/2026 – 20/12/2026")
    assert "Đến hạn trong tuần (1):\n1. Tổng hợp báo cáo" in t and "hạn thứ Ba 15/12/2026" in t
    assert "Đã quá hạn (1):\n1. Hoàn thiện đề án. — Sở Tài chính — hạn thứ Ba 01/12/2026" in t
    assert "Sơ kết định kỳ 6 tháng." in t
    async with db.session() as s:
        d = await digest.build_digest(s, date(2026, 12, 11), await planner.load_snapshot(s, HOUR))
        assert len(d.due_next_week) == 1
        assert len((await s.scalars(select(AuditEntry).where(AuditEntry.action == "digest.sent"))).all()) == 2
