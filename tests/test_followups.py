"""Follow-ups in a conversation: "việc này", "việc số 2", "kế hoạch đó", "còn hạn không", "ai phối hợp",
"xem tiếp" refer to the task or list just shown (the chat's subject, kept in the store).

A table of conversations written before the code that answers them (first run: see the commit that
added this file), through the router as a channel calls it, on SQLite and PostgreSQL. Each turn may run
in a new AppContext (a restart): the subject must come from the store, not from memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.clock import FixedClock
from core.context import AppContext
from core.messages import Incoming
from handlers import router
from knowledge.db import Database
from tests.questions_fixtures import TODAY, load_sample
from tests.test_conversation import add_many_tasks


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
