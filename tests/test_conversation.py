"""Conversation state in the store and the command table, through the router as a channel calls it.

On SQLite and PostgreSQL. Each "restart" is a new AppContext on the same store: nothing of the
conversation may live in the old one's memory.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from core.clock import FixedClock
from core.context import AppContext
from core.messages import Incoming
from handlers import router
from handlers.commands import COMMANDS, Audience, menu
from knowledge import conversation
from knowledge.agencies import Registry
from knowledge.db import Database
from knowledge.models import AuditEntry, FocalPoint, Plan, Task, TaskAgency
from tests.test_reminder_actions import _press
from tests.test_reminder_actions import _setup as reminder_setup

ADMIN = "900"
TODAY = date(2026, 11, 23)


def new_ctx(db: Database) -> AppContext:
    """A fresh process's context on the same store."""
    return AppContext(db=db, clock=FixedClock.on(TODAY), admins=frozenset({f"telegram:{ADMIN}"}))


def said(user: str, text: str = "", choice: str | None = None) -> Incoming:
    return Incoming(channel="telegram", chat_id=user, user_id=user, text=text, user_name="Nguyễn Văn A",
                    choice=choice)


async def add_many_tasks(db: Database, agency: str, n: int) -> list[str]:
    """One plan with n tasks led by one agency; their texts in plan order."""
    async with db.session() as s:
        info = (await Registry.load(s)).lookup(agency)
        assert info is not None
        plan = Plan(identity="77/KH-UBND", number="77/KH-UBND", title="Kế hoạch cải cách hành chính",
                    issued_on=date(2026, 1, 5), content_hash="y" * 64)
        texts = [f"{agency} thực hiện nhiệm vụ cải cách số {i:02d} về thủ tục hành chính cấp tỉnh."
                 for i in range(1, n + 1)]
        for i, text in enumerate(texts, 1):
            task = Task(plan=plan, position=i, ref=f"II.{i}", fingerprint=f"cc{i}", text=text)
            task.agencies = [TaskAgency(agency_id=info.id, role="lead", written=agency, position=0)]
            s.add(task)
        s.add(plan)
        await s.commit()
    return texts


async def test_typed_eleven_picks_the_eleventh_across_pages(db: Database) -> None:
    texts = await add_many_tasks(db, "Sở Nội vụ", 13)
    ctx = new_ctx(db)
    [listing] = await router.handle(ctx, said("31", "Sở Nội vụ có việc gì?"))
    numbered = [line for line in listing.text.splitlines() if line.split(".", 1)[0].isdigit()]
    assert len(numbered) == 8 and len(listing.choices) == 9  # a page of eight, and "Xem tiếp"
    [typed_nine] = await router.handle(new_ctx(db), said("31", "9"))
    assert typed_nine.text.startswith("Xin gõ một số từ 1 đến 8")  # not shown yet: the list is kept
    [page] = await router.handle(new_ctx(db), said("31", "xem tiếp"))
    assert "\n11. không ghi hạn · Sở Nội vụ thực hiện nhiệm vụ cải cách số 11" in page.text
    [picked] = await router.handle(new_ctx(db), said("31", "11"))  # the list's own numbering
    assert texts[10] in picked.text
    [again] = await router.handle(ctx, said("31", "12"))
    assert again.text.startswith("Chưa có danh sách nào")  # a pick spends the list


async def test_typed_one_picks_a_registration_suggestion(db: Database) -> None:
    ctx = new_ctx(db)
    [suggest] = await router.handle(ctx, said("41", "/dangky Sở Tài chánh"))
    labels = [c.label for c in suggest.choices]
    n = labels.index("Sở Tài chính") + 1
    replies = await router.handle(new_ctx(db), said("41", str(n)))
    assert replies[0].text.startswith("Đã gửi yêu cầu làm cán bộ đầu mối của Sở Tài chính")
    assert (replies[1].channel, replies[1].chat_id) == ("telegram", ADMIN)
    async with db.session() as s:
        [row] = (await s.scalars(select(FocalPoint))).all()
    assert (row.chat_id, row.status) == ("41", "pending")


async def test_out_of_range_number_keeps_the_list_and_choices_expire(db: Database) -> None:
    ctx = new_ctx(db)
    [suggest] = await router.handle(ctx, said("42", "/dangky Sở Tài chánh"))
    count = len(suggest.choices)
    [bad] = await router.handle(ctx, said("42", str(count + 1)))
    assert bad.text == f"Xin gõ một số từ 1 đến {count}, hoặc đặt câu hỏi mới."
    assert isinstance(ctx.clock, FixedClock)
    ctx.clock.advance(router.CHOICES_TTL + timedelta(seconds=1))
    [late] = await router.handle(ctx, said("42", "1"))
    assert late.text.startswith("Chưa có danh sách nào")
    async with db.session() as s:
        assert (await s.scalars(select(FocalPoint))).all() == []


async def test_extension_reason_awaited_across_a_restart(db: Database) -> None:
    ctx, b3 = await reminder_setup(db)
    [ask] = await router.handle(ctx, _press(f"rem:ext:{b3}"))
    assert "lý do" in ask.text
    later = AppContext(db, ctx.clock, admins=ctx.admins)  # another instance, or after a restart
    replies = await router.handle(later, Incoming("telegram", "501", "501", text="Chờ số liệu, xin đến 31/12/2026"))
    assert replies[0].text.startswith("Đã gửi đề nghị gia hạn")
    assert "Lý do: Chờ số liệu" in replies[1].text
    state = await conversation.load(db, "telegram", "501", ctx.clock.now())
    assert state.awaiting is None  # answered once: the next text is a question again


async def test_confirmation_awaited_picks_on_yes_and_cancels_on_no(db: Database) -> None:
    ctx = new_ctx(db)
    until = ctx.clock.now() + timedelta(minutes=5)
    async with db.session() as s:
        agency = (await Registry.load(s)).lookup("Sở Y tế")
    assert agency is not None
    await conversation.await_confirmation(db, "telegram", "43", f"reg:ask:{agency.id}", until)
    [no] = await router.handle(ctx, said("43", "không"))
    assert no.text.startswith("Đã hủy")
    await conversation.await_confirmation(db, "telegram", "43", f"reg:ask:{agency.id}", until)
    replies = await router.handle(new_ctx(db), said("43", "Có"))
    assert replies[0].text.startswith("Đã gửi yêu cầu làm cán bộ đầu mối của Sở Y tế")


async def test_help_lists_what_each_user_may_use(db: Database) -> None:
    ctx = new_ctx(db)
    everyone = [f"/{c.name}" for c in COMMANDS if c.audience is Audience.EVERYONE]
    [plain] = await router.handle(ctx, said("51", "/help"))
    assert all(f"\n{name}" in plain.text for name in everyone)
    assert "/hoi <câu hỏi>" in plain.text and "/huydangky" not in plain.text and "/taoma" not in plain.text
    await router.handle(ctx, said("51", "/dangky Sở Y tế"))  # now a focal point (waiting for approval)
    [registered] = await router.handle(ctx, said("51", "/help"))
    assert "/huydangky" in registered.text and "/taoma" not in registered.text
    [admin] = await router.handle(ctx, said(ADMIN, "/help"))
    assert all(f"/{c.name}" in admin.text for c in COMMANDS)
    assert "/taoma <tên cơ quan> — Tạo mã đăng ký" in admin.text
    [refused] = await router.handle(ctx, said("52", "/duyet"))
    assert refused.text == "Chỉ quản trị viên mới dùng được lệnh /duyet."
    [unknown] = await router.handle(ctx, said("52", "/xyz"))
    assert unknown.text.startswith("Không rõ lệnh /xyz.") and "/taoma" not in unknown.text
    async with db.session() as s:
        assert await s.scalar(select(AuditEntry.id).where(AuditEntry.action == "code.create")) is None


def test_menu_from_the_table() -> None:
    assert [n for n, _ in menu(Audience.ADMIN)] == [c.name for c in COMMANDS]
    assert [n for n, _ in menu(Audience.REGISTERED)] == [c.name for c in COMMANDS if c.audience is not Audience.ADMIN]
    assert dict(menu())["dangky"] == "Đăng ký làm cán bộ đầu mối: /dangky <tên cơ quan>"
