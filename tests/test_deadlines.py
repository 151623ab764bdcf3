"""Deadline phrases as plans write them, and the days they mean."""

from __future__ import annotations

from datetime import date

import pytest

from knowledge.deadlines import Deadline, deadline_json, parse_deadline

PLAN = date(2020, 8, 25)


@pytest.mark.parametrize(
    ("text", "kind", "due"),
    [
        ("gửi về Thường trực Tỉnh ủy (*qua Văn phòng Tỉnh ủy*) **trước ngày 10/10/2021.**", "date", "2021-10-10"),
        ("gửi Ban Thường vụ Tỉnh ủy trước ngày **08/4/2022**.", "date", "2022-04-08"),
        ("hoàn thành trước 15-4-2022", "date", "2022-04-15"),
        ("hoàn thành trước ngày 15 tháng 4 năm 2022", "date", "2022-04-15"),
        ("xong truoc ngay 31/12/2026", "date", "2026-12-31"),
        ("tổ chức hội nghị trước ngày trước ngày **29/4/2022**; hoàn chỉnh", "date", "2022-04-29"),
        ("tổ chức Hội nghị **trong tháng 10/2021**", "month", "2021-10-31"),
        ("hoàn thành trong tháng 2/2024", "month", "2024-02-29"),
        ("hoàn thành **trong quý II-2024**.", "quarter", "2024-06-30"),
        ("trong quý 1/2019", "quarter", "2019-03-31"),
        ("Quý II/2026", "quarter", "2026-06-30"),
        ("thi đua, khen thưởng của tỉnh trong năm 2020.", "year", "2020-12-31"),
        ("Năm 2026", "year", "2026-12-31"),
        ("xây dựng kế hoạch tuyên truyền, 6 tháng đầu năm phải hoàn thành.", "date", "2020-06-30"),
        ("ban hành quy chế, quý III/2021 phải hoàn thành", "quarter", "2021-09-30"),
        ("báo cáo về Sở Tài chính trước ngày 15/6 và 15/12 để tổng hợp", "periodic", None),
        ("Thời gian hoàn thành: quý III năm 2021", "quarter", "2021-09-30"),
        ("hoàn thiện hồ sơ, cuối quý II/2021", "quarter", "2021-06-30"),
        ("báo cáo trước ngày 15/6/2021 và 15/12/2021", "date", "2021-06-15"),
        ("2024 - 2030", "year", "2030-12-31"),
        ("Giai đoạn 2021-2025", "year", "2025-12-31"),
        ("thực hiện trong giai đoạn 2021-2025", "year", "2025-12-31"),
        ("báo cáo trong 6 tháng đầu năm 2024", "date", "2024-06-30"),
        ("hoàn thành vào giữa năm", "date", "2020-06-30"),
        ("hoàn thành cuối năm 2023", "date", "2023-12-31"),
        ("đầu tháng 5/2026", "date", "2026-05-01"),
        ("giữa tháng 5/2026", "date", "2026-05-15"),
        ("cuối tháng 5/2026", "month", "2026-05-31"),
    ],
)
def test_one_off_deadlines(text: str, kind: str, due: str) -> None:
    d = parse_deadline(text, PLAN)
    assert d is not None
    assert (d.kind, d.due and d.due.isoformat()) == (kind, due)


@pytest.mark.parametrize(
    ("text", "kind", "month", "day", "next_due"),
    [
        ("Định kỳ, trước ngày 15 tháng 11 hằng năm báo cáo", "yearly", 11, 15, "2026-11-15"),
        ("định kỳ trước ngày 15 tháng\n\n12, tổng hợp báo cáo", "yearly", 12, 15, "2026-12-15"),
        ("báo cáo trước ngày 15/12 hằng năm", "yearly", 12, 15, "2026-12-15"),
        ("báo cáo trước ngày 20 hằng tháng", "monthly", None, 20, "2026-10-20"),
        ("hằng tháng, trước ngày 25 báo cáo", "monthly", None, 25, "2026-10-25"),
        ("báo cáo trước ngày 20 tháng cuối quý", "quarterly", 3, 20, "2026-12-20"),
        ("hằng quý, trước ngày 20", "quarterly", 3, 20, "2026-12-20"),
    ],
)
def test_recurring_deadlines(text: str, kind: str, month: int | None, day: int, next_due: str) -> None:
    d = parse_deadline(text, PLAN)
    assert d is not None and (d.kind, d.month, d.day) == (kind, month, day)
    assert d.next_due(date(2026, 10, 20)).isoformat() == next_due


def test_next_occurrence_rolls_over() -> None:
    yearly = Deadline("yearly", None, 11, 15, "trước ngày 15 tháng 11 hằng năm")
    assert yearly.next_due(date(2026, 11, 15)) == date(2026, 11, 15)
    assert yearly.next_due(date(2026, 11, 16)) == date(2027, 11, 15)
    monthly = Deadline("monthly", None, None, 31, "trước ngày 31 hằng tháng")
    assert monthly.next_due(date(2026, 2, 1)) == date(2026, 2, 28)
    quarterly = Deadline("quarterly", None, 3, 20, "")
    assert quarterly.next_due(date(2026, 12, 21)) == date(2027, 3, 20)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("định kỳ 6 tháng báo cáo kết quả", "periodic"),
        ("định kỳ báo cáo kết quả thực hiện", "periodic"),
        ("Thực hiện công tác thông tin, báo cáo định kỳ và đột xuất theo quy định.", "periodic"),
        ("Hằng năm", "periodic"),
        ("thường xuyên nắm bắt, tháo gỡ khó khăn", "ongoing"),
        ("Thường xuyên", "ongoing"),
    ],
)
def test_vague_deadlines(text: str, kind: str) -> None:
    d = parse_deadline(text, PLAN)
    assert d is not None and d.kind == kind and d.next_due(date(2026, 1, 1)) is None


@pytest.mark.parametrize(
    "text",
    [
        "Thực hiện Quyết định số 696/QĐ-TTg ngày 25/5/2020 của Thủ tướng Chính phủ",
        "thực hiện Kết luận số 69-KL/TW, ngày 11-01-2024 của Bộ Chính trị",
        "Mốc thời gian tổng kết: Từ khi ban hành Nghị quyết số 20 đến tháng **3/2022**.",
        "đẩy mạnh đổi mới sáng tạo giai đoạn 2021 -2025, tầm nhìn đến năm 2030",
        "Tổ chức nghiên cứu, quán triệt Kết luận và Kế hoạch này đến cán bộ, đảng viên.",
        "",
    ],
)
def test_not_deadlines(text: str) -> None:
    assert parse_deadline(text, PLAN) is None


def test_concrete_beats_vague_and_json_shape() -> None:
    d = parse_deadline("nhiệm vụ thường xuyên, lâu dài; hoàn thành trong quý II-2024", PLAN)
    assert d is not None and d.kind == "quarter"
    assert deadline_json(d, date(2026, 1, 1)) == {
        "kind": "quarter", "due": "2024-06-30", "month": None, "day": None, "text": "hoàn thành trong quý II-2024"}
    assert deadline_json(None, date(2026, 1, 1)) is None


def test_year_taken_from_plan_date() -> None:
    d = parse_deadline("trong tháng 10", date(2021, 6, 23))
    assert d is not None and d.due == date(2021, 10, 31)
    no_year = parse_deadline("trong tháng 10")
    assert no_year is not None and no_year.kind == "month" and no_year.due is None
