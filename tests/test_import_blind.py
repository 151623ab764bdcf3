"""Layouts met in plans written blind (tests/data/blind): each rule general, each test able to fail."""

from __future__ import annotations

from tests.import_helpers import parse_text

HEAD = ("BỘ NỘI VỤ\n\nSố: 88/KH-BNV\n\nHà Nội, ngày 02 tháng 3 năm 2026\n\nKẾ HOẠCH\n\n"
        "Thực hiện cải cách hành chính năm 2026\n\n"
        "Bộ Nội vụ ban hành Kế hoạch như sau:\n\nI. MỤC ĐÍCH, YÊU CẦU\n\n1. Bảo đảm tiến độ.\n\nII. NHIỆM VỤ\n\n")
TAIL = "\n\nNơi nhận:\n- Lưu: VT.\n\nKT. BỘ TRƯỞNG\nTHỨ TRƯỞNG\n\nLê Văn A\n"


def only(plan, key: str):
    hits = [t for t in plan.tasks if key in t.text]
    assert len(hits) == 1, [t.text for t in plan.tasks]
    return hits[0]


def test_ministry_inspectorate_is_not_the_province_one() -> None:
    plan = parse_text(HEAD + "1. Thanh tra Bộ chủ trì, phối hợp với Vụ Pháp chế kiểm tra việc thi hành Luật "
                      "(thực hiện hằng năm).\n\n2. Văn phòng Bộ chủ trì tổng hợp số liệu trong tháng 9/2026." + TAIL)
    assert only(plan, "kiểm tra việc thi hành").lead == ["Thanh tra Bộ"]
    assert only(plan, "tổng hợp số liệu").lead == ["Văn phòng Bộ"]


def test_page_number_lines_between_pages_are_dropped() -> None:
    for page_no in ("2", "- 3 -", "Trang 4", "5/12"):
        plan = parse_text(HEAD + "1. Vụ Pháp chế chủ trì rà soát các văn bản để sửa đổi cho phù\n\n" + page_no
                          + "\nhợp với Luật, báo cáo Bộ trưởng (hoàn thành trước ngày 30/11/2026).\n\n"
                          "2. Vụ Tổ chức cán bộ chủ trì rà soát\n" + page_no
                          + "\nvị trí việc làm trong tháng 9/2026." + TAIL)
        t = only(plan, "cho phù hợp với Luật, báo cáo Bộ trưởng")
        assert t.report_to == ["Bộ trưởng"] and t.deadline and t.deadline.due.isoformat() == "2026-11-30"
        assert only(plan, "rà soát vị trí việc làm").lead == ["Vụ Tổ chức cán bộ"]


def test_party_office_held_by_a_comrade_leads() -> None:
    plan = parse_text(HEAD + "1. Đồng chí Phó Bí thư Thường trực Huyện ủy (Trưởng Ban Chỉ đạo) chỉ đạo việc hướng dẫn "
                      "xây dựng báo cáo chính trị; hoàn thành trước ngày 30-6-2026.\n\n"
                      "2. Đồng chí Trưởng Ban Tuyên giáo Huyện ủy chỉ đạo công tác tuyên truyền." + TAIL)
    t = only(plan, "báo cáo chính trị")
    assert t.lead == ["Phó Bí thư Thường trực Huyện ủy"] and t.deadline and t.deadline.due.isoformat() == "2026-06-30"
    assert only(plan, "công tác tuyên truyền").lead == ["Trưởng Ban Tuyên giáo Huyện ủy"]


def test_table_cell_keeps_a_body_the_registry_does_not_know() -> None:
    plan = parse_text(HEAD + "| STT | Nội dung nhiệm vụ | Đơn vị chủ trì | Đơn vị phối hợp | Thời gian thực hiện |\n"
                      "|---|---|---|---|---|\n"
                      "| **I** | **Nhóm nhiệm vụ hỗ trợ** | | | |\n"
                      "| 1 | Hỗ trợ hợp tác xã ứng dụng công nghệ cao | Sở Công Thương | Sở Khoa học và Công nghệ; "
                      "Liên minh Hợp tác xã tỉnh | 2026-2030 |\n"
                      "| 2 | Xúc tiến thương mại | Sở Công Thương | Trung tâm Khuyến công; "
                      "các cơ quan, đơn vị liên quan | Thường xuyên |" + TAIL)
    one, two = only(plan, "công nghệ cao"), only(plan, "Xúc tiến")
    assert one.coordinators == ["Sở Khoa học và Công nghệ", "Liên minh Hợp tác xã tỉnh"]
    assert one.deadline and one.deadline.due and one.deadline.due.isoformat() == "2030-12-31"
    assert two.coordinators == ["Trung tâm Khuyến công"] and two.deadline and two.deadline.kind == "ongoing"


def test_deadline_words_end_a_body_name() -> None:
    plan = parse_text(HEAD + "1. Ủy ban Kiểm tra Huyện ủy chủ trì kiểm tra, báo cáo kết quả về Ban Thường vụ Huyện ủy "
                      "chậm nhất ngày 20/10/2026.\n\n2. Văn phòng Huyện ủy tổng hợp, báo cáo Thường trực Huyện ủy "
                      "hạn chót ngày 30/10/2026." + TAIL)
    assert only(plan, "kiểm tra, báo cáo").report_to == ["Ban Thường vụ Huyện ủy"]
    assert only(plan, "tổng hợp, báo cáo").report_to == ["Thường trực Huyện ủy"]


def test_hard_wrapped_lines_run_on_into_a_capitalised_name() -> None:
    plan = parse_text(HEAD + "1. Vụ Pháp chế chủ trì, phối hợp với các đơn vị thuộc Bộ rà soát các văn bản "
                      "quy phạm, báo cáo\n"
                      "Bộ trưởng kết quả rà soát trước ngày 30/11/2026.\n"
                      "2. Vụ Tổ chức cán bộ chủ trì rà soát vị trí việc làm.\nII. TỔ CHỨC THỰC HIỆN\n"
                      "Vụ Kế hoạch - Tài chính bố trí kinh phí." + TAIL)
    t = only(plan, "rà soát các văn bản")
    assert "Bộ trưởng kết quả rà soát" in t.text and t.report_to == ["Bộ trưởng"]
    assert t.deadline and t.deadline.due and t.deadline.due.isoformat() == "2026-11-30"
    assert only(plan, "vị trí việc làm").lead == ["Vụ Tổ chức cán bộ"]  # a short line ends with its "."


def test_header_columns_side_by_side_are_read_apart() -> None:
    text = ("BỘ NỘI VỤ                      CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
            "                                 Độc lập - Tự do - Hạnh phúc\n"
            "Số: 88/KH-BNV                  Hà Nội, ngày 02 tháng 3 năm 2026\n\n" + HEAD.split("\n\n", 3)[3])
    plan = parse_text(text + "1. Vụ Pháp chế chủ trì rà soát văn bản trong tháng 9/2026." + TAIL)
    assert (plan.issuer, plan.number, plan.issued_on and plan.issued_on.isoformat()) == (
        "Bộ Nội vụ", "88/KH-BNV", "2026-03-02")


def test_office_without_a_known_body_or_after_a_person_name_leads() -> None:
    plan = parse_text(HEAD + "1. Đồng chí Bí thư Huyện ủy chỉ đạo chung công tác đại hội.\n\n"
                      "2. Đồng chí Nguyễn Văn An, Phó Bí thư Huyện ủy (Trưởng Tiểu ban) trực tiếp chỉ đạo việc "
                      "chuẩn bị nhân sự, xong trước 15/9." + TAIL)
    assert only(plan, "chỉ đạo chung").lead == ["Bí thư Huyện ủy"]
    t = only(plan, "chuẩn bị nhân sự")
    assert t.lead == ["Phó Bí thư Huyện ủy"] and t.deadline and t.deadline.due.isoformat() == "2026-09-15"


def test_table_going_on_after_a_page_break_without_its_header() -> None:
    plan = parse_text(HEAD + "| STT | Nội dung nhiệm vụ | Đơn vị chủ trì | Đơn vị phối hợp | Thời gian thực hiện |\n"
                      "|---|---|---|---|---|\n"
                      "| 1 | Ban hành quy chế phối hợp | Sở Tư pháp | Sở Nội vụ | Quý III/2026 |\n\n- 2 -\n\n"
                      "| 2 | Tổ chức tập huấn nghiệp vụ | Sở Nội vụ | Sở Tư pháp | Năm 2026 |\n"
                      "| 3 | Kiểm tra việc thực hiện | Thanh tra tỉnh | | Hằng năm |" + TAIL)
    assert only(plan, "tập huấn").lead == ["Sở Nội vụ"] and only(plan, "tập huấn").coordinators == ["Sở Tư pháp"]
    assert only(plan, "Kiểm tra việc").lead == ["Thanh tra tỉnh"]


def test_group_named_by_a_list_of_kinds_of_body() -> None:
    plan = parse_text(HEAD + "1. Các Tổng cục, Cục, Vụ, đơn vị thuộc Bộ báo cáo kết quả về Vụ Kế hoạch - Tài chính "
                      "(định kỳ 6 tháng, trước ngày 10/7 và 10/01 năm sau).\n\n"
                      "2. Vụ Pháp chế chủ trì, phối hợp với các sở, ngành liên quan rà soát văn bản." + TAIL)
    t = only(plan, "báo cáo kết quả")
    assert t.lead == ["Các Tổng cục, Cục, Vụ, đơn vị thuộc Bộ"] and t.report_to == ["Vụ Kế hoạch - Tài chính"]
    assert t.deadline and t.deadline.kind == "periodic"
    assert only(plan, "rà soát văn bản").coordinators == []  # "... liên quan" names nobody in particular
