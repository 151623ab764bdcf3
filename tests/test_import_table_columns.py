"""Task tables whose columns are named otherwise than "Cơ quan chủ trì / Cơ quan phối hợp / Thời gian": each
column found by its words, a column naming a person, a product or the level that approves never the lead's."""

from __future__ import annotations

import pytest

from tests.import_helpers import parse_text

_HEAD = ("ỦY BAN NHÂN DÂN TỈNH YÊN BÁI\n\nSố: 12/KH-UBND\n\nYên Bái, ngày 05 tháng 01 năm 2026\n\nKẾ HOẠCH\n\n"
         "Cải cách hành chính năm 2026\n\nII. NHIỆM VỤ\n\n")


@pytest.mark.parametrize(("header", "row"), [
    # "Năm thực hiện" is the time, though "thực hiện" names the lead's column elsewhere.
    ("STT | Tên nhiệm vụ | Cơ quan tham mưu | Năm thực hiện",
     "1 | Rà soát thủ tục hành chính nội bộ | Sở Tư pháp | 2026"),
    ("TT | Nội dung | Lãnh đạo Ủy ban nhân dân tỉnh phụ trách | Đơn vị được giao | Lộ trình",
     "1 | Rà soát thủ tục hành chính nội bộ | Phó Chủ tịch Ủy ban nhân dân tỉnh | Sở Tư pháp | Năm 2026"),
    ("STT | Công việc | Cấp trình | Chủ trì thực hiện | Phối hợp thực hiện | Thời điểm hoàn thành",
     "1 | Rà soát thủ tục hành chính nội bộ | Ủy ban nhân dân tỉnh | Sở Tư pháp | Sở Nội vụ | Năm 2026"),
    ("STT | Nhiệm vụ | Hình thức văn bản | Cơ quan thực hiện | Giai đoạn",
     "1 | Rà soát thủ tục hành chính nội bộ | Quyết định của Ủy ban nhân dân tỉnh | Sở Tư pháp | 2026"),
], ids=["tham-muu-nam-thuc-hien", "lanh-dao-duoc-giao-lo-trinh", "cap-trinh-thoi-diem", "hinh-thuc-giai-doan"])
def test_a_column_is_found_by_its_words(header: str, row: str) -> None:
    plan = parse_text(_HEAD + header + "\n" + row + "\n", "bang.txt")
    task = next(t for t in plan.tasks if t.text.startswith("Rà soát thủ tục"))
    assert task.lead == ["Sở Tư pháp"]
    assert task.deadline is not None and task.deadline.due is not None and task.deadline.due.isoformat() == "2026-12-31"
