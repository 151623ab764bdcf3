"""The buttons under a reminder, through the router as a channel would call it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from core.clock import FixedClock
from core.context import AppContext
from core.messages import Incoming
from handlers import router
from knowledge.db import Database
from knowledge.models import AuditEntry, Outbox, TaskProgress
from scheduler import planner
from tests.reminder_fixtures import HOUR, TaskSpec, add_focal, make_plan

REPORT = TaskSpec("Tổng hợp báo cáo tình hình, kết quả thực hiện gửi UBND tỉnh.", ["Sở Khoa học và Công nghệ"],
                  kind="yearly", month=12, day=15, deadline_text="định kỳ trước ngày 15 tháng 12 hằng năm")


async def _setup(db: Database) -> tuple[AppContext, int]:
    await make_plan(db, [REPORT])
    await add_focal(db, "Sở KH&CN", "501")
    ctx = AppContext(db, FixedClock.on(date(2026, 12, 10), 9), admins=frozenset({"telegram:900"}))
    async with db.session() as s:
        await planner.run_planner(s, ctx.clock.now(), HOUR)
        await s.commit()
        b3 = await s.scalar(select(Outbox.id).where(Outbox.offset_key == "b3"))
    assert b3 is not None
    return ctx, b3


def _press(data: str, chat: str = "501", user: str = "501") -> Incoming:
    return Incoming("telegram", chat, user, choice=data, user_name="Nguyễn Văn A")


async def test_done_records_who_and_stops_the_series(db: Database) -> None:
    ctx, b3 = await _setup(db)
    [reply] = await router.handle(ctx, _press(f"rem:done:{b3}"))
    assert reply.text.startswith("✅ Đã ghi nhận hoàn thành") and "lúc 09:00 10/12/2026" in reply.text
    async with db.session() as s:
        [p] = (await s.scalars(select(TaskProgress))).all()
        assert (p.status, p.occurrence, p.by) == ("done", date(2026, 12, 15), "telegram:501")
        left = (await s.scalars(select(Outbox.offset_key).where(Outbox.status == "pending"))).all()
        assert left == [] and await s.scalar(select(AuditEntry.id).where(AuditEntry.action == "task.done"))
    [again] = await router.handle(ctx, _press(f"rem:done:{b3}"))
    assert "đã được ghi nhận hoàn thành trước đó" in again.text


async def test_someone_else_cannot_press_and_garbage_is_refused(db: Database) -> None:
    ctx, b3 = await _setup(db)
    [reply] = await router.handle(ctx, _press(f"rem:done:{b3}", chat="777", user="777"))
    assert reply.text.startswith("Nhắc việc này không gửi cho bạn")
    [reply] = await router.handle(ctx, _press("rem:done:99999"))
    assert reply.text.startswith("Không tìm thấy nhắc việc này")
    [reply] = await router.handle(ctx, _press("rem:boom"))
    assert reply.text == "Lựa chọn không hợp lệ."
    async with db.session() as s:
        assert (await s.scalars(select(TaskProgress))).all() == []


async def test_later_plans_the_next_working_day(db: Database) -> None:
    ctx, b3 = await _setup(db)
    # Thursday 10/12 → Friday 11/12 08:00, with two working days left.
    [reply] = await router.handle(ctx, _press(f"rem:later:{b3}"))
    assert reply.text == "🔔 Sẽ nhắc lại lúc 08:00 thứ Sáu 11/12/2026."
    async with db.session() as s:
        res = await planner.run_planner(s, ctx.clock.now(), HOUR)  # the planner keeps a snooze and words it
        await s.commit()
        assert res.cancelled == 0
        row = await s.scalar(select(Outbox).where(Outbox.offset_key == "s1"))
        assert row is not None and row.status == "pending"
        assert row.text.startswith("⏰ Còn 2 ngày làm việc: thứ Ba 15/12/2026")
        audit = await s.scalar(select(AuditEntry).where(AuditEntry.action == "reminder.snooze"))
        assert audit is not None and audit.actor == "telegram:501" and audit.after["outbox_id"] == row.id


async def test_extension_request_reaches_admins_and_grant_moves_the_deadline(db: Database) -> None:
    ctx, b3 = await _setup(db)
    [ask] = await router.handle(ctx, _press(f"rem:ext:{b3}"))
    assert "lý do" in ask.text
    replies = await router.handle(ctx, Incoming("telegram", "501", "501", text="Chờ số liệu quý IV, xin đến 31/12/2026",
                                                user_name="Nguyễn Văn A"))
    assert replies[0].text.startswith("Đã gửi đề nghị gia hạn")
    to_admin = replies[1]
    assert (to_admin.channel, to_admin.chat_id) == ("telegram", "900")
    assert "Lý do: Chờ số liệu quý IV" in to_admin.text
    assert [c.label for c in to_admin.choices] == ["Đồng ý đến 31/12/2026", "Đồng ý, chọn ngày khác", "Từ chối",
                                                   "Hỏi thêm"]
    # A focal point cannot grant itself more time.
    [no] = await router.handle(ctx, _press(to_admin.choices[0].data))
    assert no.text.startswith("Chỉ quản trị viên")
    done, notice, *_others = await router.handle(ctx, _press(to_admin.choices[0].data, chat="900", user="900"))
    assert done.text == "Đã gia hạn đến thứ Năm 31/12/2026."
    assert (notice.chat_id, notice.channel) == ("501", "telegram") and "được gia hạn" in notice.text
    async with db.session() as s:
        assert (await s.scalars(select(Outbox).where(Outbox.status == "pending"))).all() == []  # old series stopped
        await planner.run_planner(s, ctx.clock.now(), HOUR)  # the next tick plans the new one
        await s.commit()
        keys = (await s.scalars(select(Outbox.offset_key).where(Outbox.status == "pending")
                                .order_by(Outbox.send_at))).all()
        audit = await s.scalar(select(AuditEntry).where(AuditEntry.action == "task.extend"))
    assert keys == ["e1b7"]  # 22/12/2026; the old 15/12 series is cancelled
    assert audit is not None and audit.actor == "telegram:900"
    assert (audit.before, audit.after["due"]) == ({"due": "2026-12-15"}, "2026-12-31")


async def test_admin_grants_a_typed_day_asks_for_more_or_refuses_and_focal_points_hear(db: Database) -> None:
    ctx, b3 = await _setup(db)
    await add_focal(db, "Sở KH&CN", "502")  # another focal point of the same agency hears the outcome
    await router.handle(ctx, _press(f"rem:ext:{b3}"))
    replies = await router.handle(ctx, Incoming("telegram", "501", "501", text="Chờ số liệu", user_name="A"))
    to_admin = replies[1]
    labels = {c.label: c.data for c in to_admin.choices}
    assert list(labels) == ["Đồng ý, chọn ngày khác", "Từ chối", "Hỏi thêm"]  # no day proposed
    # Ask for more: the admin's question reaches the focal point, whose answer is a new request.
    [prompt] = await router.handle(ctx, _press(labels["Hỏi thêm"], chat="900", user="900"))
    assert "hỏi thêm gì" in prompt.text
    _sent, question = await router.handle(ctx, Incoming("telegram", "900", "900", text="Số liệu nào, đến bao giờ?"))
    assert (question.chat_id, "Số liệu nào, đến bao giờ?" in question.text) == ("501", True)
    again = await router.handle(ctx, Incoming("telegram", "501", "501", text="Số liệu quý IV, xin đến 30/12/2026"))
    assert again[0].text.startswith("Đã gửi đề nghị gia hạn") and "30/12/2026" in again[1].text
    # Grant with a typed day: an impossible one is asked again, a real one granted; both focal points hear.
    await router.handle(ctx, _press(labels["Đồng ý, chọn ngày khác"], chat="900", user="900"))
    [bad] = await router.handle(ctx, Incoming("telegram", "900", "900", text="31/11/2026"))
    assert "tháng 11/2026 chỉ có 30 ngày" in bad.text
    granted = await router.handle(ctx, Incoming("telegram", "900", "900", text="28/12/2026"))
    assert granted[0].text == "Đã gia hạn đến thứ Hai 28/12/2026."
    assert {r.chat_id for r in granted[1:]} == {"501", "502"}
    # Refused: the focal points hear the deadline stays.
    denied = await router.handle(ctx, _press(labels["Từ chối"], chat="900", user="900"))
    assert denied[0].text == "Đã từ chối đề nghị gia hạn." and {r.chat_id for r in denied[1:]} == {"501", "502"}
    async with db.session() as s:
        actions = (await s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("task.ext%")))).all()
    assert sorted(actions) == ["task.extend", "task.extension_denied", "task.extension_request",
                               "task.extension_request"]


async def test_done_from_a_reminder_is_announced_to_the_other_focal_points(db: Database) -> None:
    ctx, b3 = await _setup(db)
    await add_focal(db, "Sở KH&CN", "502")
    reply, *others = await router.handle(ctx, _press(f"rem:done:{b3}"))
    assert reply.text.startswith("✅ Đã ghi nhận hoàn thành")
    assert [(o.chat_id, "báo đã hoàn thành ngày 10/12/2026" in o.text) for o in others] == [("502", True)]
