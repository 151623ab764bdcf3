"""An agency's task list in a plan the question names, "where does the report go", and the next due day of a
recurring task asked with "kỳ tới" / "quý này" (issue 10).

"Sở Nội vụ có những việc gì trong kế hoạch chuyển đổi số?" lists that plan's tasks of the agency — not tasks of
other plans sharing a word — its own ones before those given to a group it belongs to ("Các sở, ban, ngành"),
even when the group's task is overdue. "Các sở báo cáo kết quả thực hiện kế hoạch ... về đâu?" answers from the
plan's report line (which names the address) rather than from a task on the topic that names none. Through the
console channel, on SQLite and PostgreSQL, over two small plans of our own."""

from __future__ import annotations

from datetime import date

import pytest

from core.clock import FixedClock
from core.context import AppContext
from knowledge.db import Database
from tests.questions_fixtures import TODAY, T, add_plan, ask

DIGITAL = {
    "identity": "40/KH-UBND", "number": "40/KH-UBND", "issued_on": date(2026, 3, 2),
    "issuer": "Ủy ban nhân dân tỉnh", "title": "Chuyển đổi số trong cơ quan nhà nước tỉnh năm 2026",
    "tasks": [
        T("II.1", "Các sở, ban, ngành cập nhật danh mục dữ liệu dùng chung lên cổng dữ liệu của tỉnh, hoàn thành "
          "trước ngày 30/6/2026.", ["Các sở, ban, ngành"], kind="date", due=date(2026, 6, 30),
          when="trước ngày 30/6/2026"),
        T("II.2", "Sở Nội vụ chủ trì số hóa hồ sơ cán bộ, công chức, viên chức và đưa vào cơ sở dữ liệu quốc gia.",
          ["Sở Nội vụ"]),
        T("II.3", "Công an tỉnh chủ trì bảo đảm an toàn thông tin cho các hệ thống chuyển đổi số của tỉnh.",
          ["Công an tỉnh"]),
        T("III", "Các sở, ban, ngành, Ủy ban nhân dân các xã báo cáo kết quả thực hiện Kế hoạch về Sở Khoa học và "
          "Công nghệ trước ngày 10/12 hằng năm để tổng hợp.", ["Các sở, ban, ngành", "Ủy ban nhân dân các xã"],
          report=["Sở Khoa học và Công nghệ"], kind="yearly", month=12, day=10, when="trước ngày 10/12 hằng năm"),
        T("III.2", "Sở Khoa học và Công nghệ tổng hợp tình hình chuyển đổi số hằng quý, trước ngày 20 của tháng "
          "cuối quý, gửi Ủy ban nhân dân tỉnh.", ["Sở Khoa học và Công nghệ"], report=["Ủy ban nhân dân tỉnh"],
          kind="quarterly", month=3, day=20, when="trước ngày 20 của tháng cuối quý"),
        T("III.3", "Văn phòng Ủy ban nhân dân tỉnh lập báo cáo nhanh về vận hành cổng dịch vụ công trước ngày 25 "
          "hằng tháng.", ["Văn phòng Ủy ban nhân dân tỉnh"], kind="monthly", day=25, when="trước ngày 25 hằng tháng"),
    ],
}
REFORM = {
    "identity": "41/KH-UBND", "number": "41/KH-UBND", "issued_on": date(2026, 3, 9),
    "issuer": "Ủy ban nhân dân tỉnh", "title": "Cải cách hành chính tỉnh năm 2026",
    "tasks": [
        T("I.1", "Sở Nội vụ chủ trì đánh giá chỉ số cải cách hành chính và chuyển đổi số của các sở, ngành.",
          ["Sở Nội vụ"]),
        T("I.2", "Sở Nội vụ chủ trì kiểm tra công vụ định kỳ tại các cơ quan hành chính.", ["Sở Nội vụ"]),
    ],
}


@pytest.fixture
async def ctx(db: Database) -> AppContext:
    await add_plan(db, DIGITAL, tag="d")
    await add_plan(db, REFORM, tag="r")
    return AppContext(db=db, clock=FixedClock.on(TODAY))


async def test_agency_list_of_a_named_plan_own_tasks_first(ctx: AppContext) -> None:
    for q in ("Sở Nội vụ có những việc gì trong kế hoạch chuyển đổi số?",
              "so noi vu phai lam gi trong ke hoach chuyen doi so"):
        text = await ask(ctx, q)
        assert "số hóa hồ sơ cán bộ" in text and "danh mục dữ liệu dùng chung" in text, (q, text)
        assert "chỉ số cải cách hành chính" not in text, (q, text)  # another plan's task sharing "chuyển đổi số"
        # Its own task first, although the group's one is overdue.
        assert text.index("số hóa hồ sơ cán bộ") < text.index("danh mục dữ liệu dùng chung"), (q, text)


async def test_report_address_from_the_plans_report_line(ctx: AppContext) -> None:
    for q in ("Các sở báo cáo kết quả chuyển đổi số trong cơ quan nhà nước về đâu?",
              "cac so bao cao ket qua chuyen doi so trong co quan nha nuoc ve dau",
              "Các sở gửi báo cáo chuyển đổi số của tỉnh về đâu?"):  # only the report line names an address
        text = await ask(ctx, q)
        assert "Sở Khoa học và Công nghệ" in text and "không ghi rõ nơi nhận" not in text, (q, text)


async def test_next_due_of_a_recurring_task(ctx: AppContext) -> None:
    """"kỳ tới" is which occurrence, not a topic word, also when typed with accents ("kỳ" is kept apart from the
    glue word "ky"); "quý này ... hạn chót" asks one task's next due day, not the quarter's list."""
    for q, day in (("Văn phòng UBND tỉnh lập báo cáo nhanh cổng dịch vụ công, kỳ tới hạn ngày nào?", "25/11/2026"),
                   ("Báo cáo tổng hợp tình hình chuyển đổi số quý này hạn chót ngày nào?", "20/12/2026"),
                   ("bao cao tong hop tinh hinh chuyen doi so quy nay han chot ngay nao", "20/12/2026")):
        text = await ask(ctx, q)
        assert day in text and not text.startswith(("Không", "Có ")), (q, text)


async def test_long_list_says_own_first_only_when_it_has_both(db: Database) -> None:
    """A list longer than a message says its order: "việc riêng trước" only when the agency has tasks of its
    own as well as its groups' ones (not for an agency given none of its own)."""
    tasks = [T(f"I.{n}", f"Sở Nội vụ chủ trì nhiệm vụ cải cách số {n} của tỉnh.", ["Sở Nội vụ"]) for n in range(1, 6)]
    tasks += [T(f"II.{n}", f"Các sở, ban, ngành thực hiện nhiệm vụ chung số {n} của tỉnh.", ["Các sở, ban, ngành"])
              for n in range(1, 10)]
    await add_plan(db, {**REFORM, "identity": "42/KH-UBND", "number": "42/KH-UBND", "tasks": tasks}, tag="l")
    ctx = AppContext(db=db, clock=FixedClock.on(TODAY))
    text = await ask(ctx, "Sở Nội vụ có những việc gì?")
    head = text.split("\n", 1)[0]
    assert "việc riêng trước" in head and "xem tiếp" in text, text
    assert "nhiệm vụ cải cách số" in text.split("\n")[1], text  # its own task opens the list
    text = await ask(ctx, "Sở Tư pháp có những việc gì?")
    assert "không được giao riêng" in text and "việc riêng trước" not in text, text
