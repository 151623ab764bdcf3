"""Follow-ups in a conversation: "việc này", "việc số 2", "kế hoạch đó", "còn hạn không", "ai phối hợp",
"xem tiếp" refer to the task or list just shown (the chat's subject, kept in the store).

A table of conversations written before the code that answers them (first run: see the commit that
added this file), through the router as a channel calls it, on SQLite and PostgreSQL. Each turn may run
in a new AppContext (a restart): the subject must come from the store, not from memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import update

from bot.channels.zalo.text import numbered as zalo_numbered
from core.clock import FixedClock
from core.context import AppContext
from core.messages import Choice, Incoming
from handlers import router
from knowledge.db import Database
from knowledge.models import Task
from scheduler import planner
from tests.fakes.telegram_api import FakeTelegram
from tests.questions_fixtures import TODAY, load_sample
from tests.reminder_fixtures import add_focal
from tests.test_conversation import add_many_tasks
from tests.test_telegram_bot import make_ctx as tg_ctx
from tests.test_telegram_bot import running_bot


@dataclass(frozen=True)
class Turn:
    say: str
    has: tuple[str, ...] = ()  # every one of these stands in the reply
    lacks: tuple[str, ...] = ()  # none of these does
    restart: bool = False  # a new process answers this turn


LEAD_Q = "Ai chủ trì rà soát quy định tài chính cho KHCN?"
LIST_Q = "Kế hoạch 3021 có những nhiệm vụ nào?"
CONVERSATIONS: dict[str, list[Turn]] = {
    "which_plan": [Turn(LEAD_Q, ("Sở Tài chính chủ trì",)),
                   Turn("nhiệm vụ này thuộc kế hoạch nào?", ("3021/KH-UBND", "II.3.a"))],
    "who_coordinates": [Turn(LEAD_Q), Turn("ai phối hợp?", ("Phối hợp: Sở Khoa học và Công nghệ",))],
    "still_time": [Turn("han bao cao cua so khcn len ubnd tinh", ("15/12/2026",)),
                   Turn("còn hạn không?", ("còn 22 ngày",), ("Không tìm thấy",))],
    "when_due": [Turn("Ai chủ trì bổ sung tiêu chí thi đua khen thưởng về khoa học công nghệ?", ("Sở Nội vụ",)),
                 Turn("hạn khi nào?", ("trong năm 2020", "quá hạn"))],
    "done_yet": [Turn("so khcn tong hop bao cao gui cho ai", ("Ủy ban nhân dân tỉnh",)),
                 Turn("đã hoàn thành chưa?", ("Chưa ghi nhận hoàn thành", "III.2"))],
    "detail_of_second": [Turn(LIST_Q, ("II.1.b",)),
                         Turn("cho tôi xem chi tiết việc số 2", ("Báo Ninh Thuận", "mục II.1.b"))],
    "bare_number_phrase": [Turn(LIST_Q), Turn("việc số 4", ("Sở Tài chính chủ trì", "mục II.3.a"))],
    "plan_of_subject": [Turn(LEAD_Q),
                        Turn("kế hoạch đó ban hành ngày nào, ai ký?", ("3021/KH-UBND", "25/08/2020"))],
    "no_subject_asks": [Turn("việc này thuộc kế hoạch nào?", ("việc nào",), ("3021",))],
    "after_restart": [Turn(LEAD_Q), Turn("ai phối hợp?", ("Phối hợp: Sở Khoa học và Công nghệ",), restart=True),
                      Turn("việc này thuộc kế hoạch nào?", ("3021/KH-UBND",), restart=True)],
}


def new_ctx(db: Database) -> AppContext:
    return AppContext(db=db, clock=FixedClock.on(TODAY))


def said(chat: str, text: str) -> Incoming:
    return Incoming(channel="console", chat_id=chat, user_id=chat, text=text)


@pytest.mark.parametrize("name", list(CONVERSATIONS))
async def test_follow_up_conversation(db: Database, name: str) -> None:
    await load_sample(db)
    ctx = new_ctx(db)
    for turn in CONVERSATIONS[name]:
        if turn.restart:
            ctx = new_ctx(db)
        replies = await router.handle(ctx, said("c1", turn.say))
        text = "\n".join(r.text for r in replies)
        for want in turn.has:
            assert want in text, (name, turn.say, text)
        for unwanted in turn.lacks:
            assert unwanted not in text, (name, turn.say, text)


def numbered(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.split(".", 1)[0].isdigit()]


async def test_long_list_pages_of_eight_with_xem_tiep(db: Database) -> None:
    texts = await add_many_tasks(db, "Sở Nội vụ", 13)
    ctx = new_ctx(db)
    [first] = await router.handle(ctx, said("p1", "Sở Nội vụ có việc gì?"))
    lines = numbered(first.text)
    assert len(lines) == 8 and len(first.choices) >= 8, first.text
    assert "xem tiếp" in first.text
    assert any(c.label.lower().startswith("xem tiếp") for c in first.choices)
    [rest] = await router.handle(new_ctx(db), said("p1", "xem tiếp"))  # from the stored subject
    more = numbered(rest.text)
    assert [line.split(".", 1)[0] for line in more] == [str(n) for n in range(9, 14)], rest.text
    assert "số 13" in rest.text and "xem tiếp" not in rest.text.lower().replace("gõ “xem tiếp”", "")
    [picked] = await router.handle(new_ctx(db), said("p1", "việc số 11"))
    assert texts[10] in picked.text  # the whole text in a detail view


async def set_due(db: Database, positions: range | list[int], kind: str, due: date | None, text: str) -> None:
    """Give some of add_many_tasks' tasks (by position) a deadline."""
    async with db.session() as s:
        await s.execute(update(Task).where(Task.position.in_(list(positions)))
                        .values(deadline_kind=kind, deadline_due=due, deadline_text=text))
        await s.commit()


async def test_viec_is_one_message_overdue_and_dated_first(db: Database) -> None:
    await add_many_tasks(db, "Sở Nội vụ", 13)
    await set_due(db, [12], "date", date(2026, 11, 1), "trước ngày 01/11/2026")
    await set_due(db, [13], "date", date(2026, 12, 15), "trước ngày 15/12/2026")
    await set_due(db, [5], "ongoing", None, "thường xuyên")
    await add_focal(db, "Sở Nội vụ", "v1", channel="console")
    [mine] = await router.handle(new_ctx(db), said("v1", "/viec"))  # one message
    lines = numbered(mine.text)
    assert len(lines) == 8, mine.text
    # 01/11/2026 is a Sunday: due Monday 02/11 (art. 148), 21 days before 23/11
    assert lines[0].startswith("1. quá hạn 21 ngày · Sở Nội vụ thực hiện nhiệm vụ cải cách số 12"), lines[0]
    assert lines[1].startswith("2. 15/12 · Sở Nội vụ thực hiện nhiệm vụ cải cách số 13"), lines[1]
    assert lines[2].startswith("3. thường xuyên · ") and "số 05" in lines[2]
    assert all(len(line) <= 140 for line in lines)  # a phone line: date, short title, section
    [rest] = await router.handle(new_ctx(db), said("v1", "xem tiếp"))
    assert len(numbered(rest.text)) == 5 and numbered(rest.text)[0].startswith("9. không ghi hạn · ")


async def test_a_named_filter_stays_across_pages(db: Database) -> None:
    await add_many_tasks(db, "Sở Nội vụ", 13)
    await set_due(db, range(1, 11), "date", date(2026, 12, 18), "trước ngày 18/12/2026")
    ctx = new_ctx(db)
    [first] = await router.handle(ctx, said("f1", "Sở Nội vụ chủ trì những việc gì có hạn?"))
    assert first.text.startswith("Sở Nội vụ có 10 việc") and len(numbered(first.text)) == 8, first.text
    more = next(c for c in first.choices if c.label.startswith("Xem tiếp"))
    [second] = await router.handle(new_ctx(db), Incoming(channel="console", chat_id="f1", user_id="f1",
                                                           choice=more.data))  # the button
    lines = numbered(second.text)
    assert [line.split(" · ")[0] for line in lines] == ["9. 18/12", "10. 18/12"], second.text  # no undated ones
    assert second.text.startswith("Sở Nội vụ có 10 việc (chủ trì 10) — tiếp theo (9–10):")
    [done] = await router.handle(new_ctx(db), said("f1", "xem tiếp"))
    assert done.text.startswith("Đã hết danh sách")


async def test_invalid_deadline_is_named_as_such_and_listed_for_admins(db: Database) -> None:
    await add_many_tasks(db, "Sở Nội vụ", 2)
    long_text = ("Sở Nội vụ chủ trì rà soát, sắp xếp, kiện toàn tổ chức bộ máy các cơ quan chuyên môn thuộc Ủy ban "
                 "nhân dân tỉnh theo hướng tinh gọn, hoạt động hiệu lực, hiệu quả; xây dựng đề án vị trí việc làm, "
                 "cơ cấu ngạch công chức và trình Ủy ban nhân dân tỉnh phê duyệt trước ngày 31/4/2026.")
    async with db.session() as s:
        await s.execute(update(Task).where(Task.position == 1).values(
            text=long_text, deadline_kind="invalid", deadline_text="trước ngày 31/4/2026"))
        await s.commit()
    ctx = new_ctx(db)
    [listing] = await router.handle(ctx, said("i1", "Sở Nội vụ có việc gì?"))
    # a short tag in the list line, never "định kỳ"; before the undated task (an admin must act on it)
    assert "\n1. hạn không hợp lệ · Sở Nội vụ chủ trì rà soát" in listing.text and "định kỳ" not in listing.text
    [detail] = await router.handle(ctx, said("i1", "việc số 1"))
    assert long_text in detail.text  # the whole text in a detail view, not cut
    assert "Hạn: ngày hạn không hợp lệ trong văn bản: trước ngày 31/4/2026 (cần quản trị viên xác định)." \
        in detail.text
    [when] = await router.handle(ctx, said("i1", "hạn khi nào?"))
    assert "ngày hạn không hợp lệ trong văn bản" in when.text and "định kỳ" not in when.text
    async with db.session() as s:
        needs = await planner.needs_day(s)
    assert [t.text for t in needs] == [long_text]  # the digest asks admins to set a day


async def test_a_follow_up_after_a_restart_through_telegram(sqlite_db: Database) -> None:
    texts = await add_many_tasks(sqlite_db, "Sở Nội vụ", 13)
    user = 77
    async with FakeTelegram() as tg:
        bot = await running_bot(tg_ctx(sqlite_db), tg)
        try:
            tg.queue_message(user, "Sở Nội vụ có việc gì?")
            [listing] = await tg.wait_for_messages(1, chat_id=user)
        finally:
            await bot.stop()
        assert len(numbered(listing["text"])) == 8
        buttons = [b for row in listing["reply_markup"]["inline_keyboard"] for b in row]
        more = next(b for b in buttons if b["text"].startswith("Xem tiếp"))
        bot = await running_bot(tg_ctx(sqlite_db), tg)  # a new process: the subject comes from the store
        try:
            tg.queue_callback(user, more["callback_data"], message_id=listing["message_id"])
            page = (await tg.wait_for_messages(2, chat_id=user))[1]
            assert numbered(page["text"])[0].startswith("9. ")
            tg.queue_message(user, "việc số 11")
            picked = (await tg.wait_for_messages(3, chat_id=user))[2]
            assert texts[10] in picked["text"]
            tg.queue_message(user, "nhiệm vụ này thuộc kế hoạch nào?")
            plan = (await tg.wait_for_messages(4, chat_id=user))[3]
            assert "Việc này thuộc Kế hoạch 77/KH-UBND (05/01/2026), mục II.11." in plan["text"]
        finally:
            await bot.stop()


def test_zalo_shows_a_page_as_the_handler_numbered_it() -> None:
    page = "Sở Nội vụ có 13 việc — tiếp theo (9–10):\n9. 18/12 · A — KH 77, II.9\n10. 18/12 · B — KH 77, II.10\n" \
           "… còn 3 việc nữa — gõ “xem tiếp” (hoặc bấm nút)."
    choices = [Choice("9. A", "q:task:9"), Choice("10. B", "q:task:10"), Choice("Xem tiếp ▶", "q:more")]
    assert zalo_numbered(page, choices) == page  # not listed twice, renumbered from 1
    assert zalo_numbered("Chọn:", [Choice("Có", "y"), Choice("Không", "n")]).endswith("Trả lời bằng một số từ 1 đến 2.")
