"""The importer finds tasks, agencies and deadlines in every layout plans use (docs/domain.md)."""

from __future__ import annotations

from datetime import date

import pytest

from knowledge.importer import ImportRefused
from tests.conftest import SEEDS
from tests.import_helpers import DATA, parse_text

HEAD = "ỦY BAN NHÂN DÂN\nTỈNH BÌNH ĐỊNH\n\nSố: 12/KH-UBND\n\nBình Định, ngày 02 tháng 01 năm 2025\n\nKẾ HOẠCH\n\n"
HEAD += "Thực hiện chuyển đổi số năm 2025\n\nThực hiện Nghị quyết số 57-NQ/TW ngày 22/12/2024 của Bộ Chính trị, "
HEAD += "Ủy ban nhân dân tỉnh ban hành Kế hoạch như sau:\n\nI. MỤC ĐÍCH, YÊU CẦU\n\n"
HEAD += "1. Sở Nội vụ chủ trì rà soát việc này (không phải nhiệm vụ vì nằm ở phần mục đích).\n\n"
TAIL = "\n\nNơi nhận:\n- Sở Tài chính chủ trì lưu;\n- Lưu: VT.\n\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\n\nLê Văn A\n"


def by_key(plan, key: str):
    hits = [t for t in plan.tasks if key in t.text]
    assert len(hits) == 1, [t.text for t in plan.tasks]
    return hits[0]


def test_metadata_and_sections_without_tasks() -> None:
    plan = parse_text(HEAD + "II. NHIỆM VỤ\n\n1. Sở Y tế chủ trì xây dựng đề án trong quý III/2025." + TAIL)
    assert (plan.kind, plan.number, plan.issued_on) == ("Kế hoạch", "12/KH-UBND", date(2025, 1, 2))
    assert plan.issuer == "Ủy ban nhân dân tỉnh Bình Định"
    assert plan.title == "Thực hiện chuyển đổi số năm 2025"
    assert plan.signer == "Lê Văn A"
    assert [t.text[:6] for t in plan.tasks] == ["Sở Y t"]  # nothing from section I, Nơi nhận or the preamble
    t = plan.tasks[0]
    assert t.ref == "II.1" and t.lead == ["Sở Y tế"] and t.deadline and t.deadline.due == date(2025, 9, 30)


def test_subject_lead_coordinators_and_groups() -> None:
    plan = parse_text(HEAD + "II. NHIỆM VỤ\n\n"
                      "a) Sở Tài chính chủ trì, phối hợp với Sở Khoa học và Công nghệ và các cơ quan, đơn vị liên quan "
                      "rà soát các quy định về tài chính.\n\n"
                      "b) Sở Văn hóa, Thể thao và Du lịch, Sở Lao động - Thương binh và Xã hội, Báo Bình Định "
                      "tuyên truyền rộng rãi.\n\n"
                      "c) Các Sở, ban, ngành thuộc tỉnh, Ủy ban nhân dân các huyện, thành phố có trách nhiệm "
                      "quán triệt Kế hoạch.\n\n"
                      "d) Giao Sở Nội vụ nghiên cứu, tham mưu Ủy ban nhân dân tỉnh bổ sung tiêu chí thi đua "
                      "trong năm 2025."
                      + TAIL)
    a = by_key(plan, "rà soát các quy định")
    assert a.lead == ["Sở Tài chính"] and a.coordinators == ["Sở Khoa học và Công nghệ"]  # "liên quan" dropped
    b = by_key(plan, "tuyên truyền rộng rãi")
    assert b.lead == ["Sở Văn hóa, Thể thao và Du lịch", "Sở Lao động - Thương binh và Xã hội", "Báo Bình Định"]
    c = by_key(plan, "quán triệt")
    assert c.lead == ["Các Sở, ban, ngành thuộc tỉnh", "Ủy ban nhân dân các huyện, thành phố"]
    d = by_key(plan, "bổ sung tiêu chí")
    assert d.lead == ["Sở Nội vụ"] and d.deadline and d.deadline.kind == "year"


def test_agency_heading_over_verb_first_items_and_department_list() -> None:
    plan = parse_text(HEAD + "II. TỔ CHỨC THỰC HIỆN\n\n1. Liên hiệp các Hội Khoa học và Kỹ thuật tỉnh\n\n"
                      "1.1. Chủ trì, phối hợp với Sở Nội vụ tổ chức rà soát bộ máy.\n\n"
                      "1.2. Thực hiện công tác báo cáo định kỳ và đột xuất.\n\n"
                      "2. Sở Nội vụ\n\nPhối hợp với Liên hiệp các Hội Khoa học và Kỹ thuật tỉnh tham mưu sắp xếp.\n\n"
                      "3. Các Sở: Lao động - Thương binh và Xã hội, Nông nghiệp và Phát triển nông thôn, "
                      "Kế hoạch và Đầu tư\n\nTạo điều kiện thuận lợi cho các hội thành viên." + TAIL)
    r = by_key(plan, "rà soát bộ máy")
    assert r.ref == "II.1.1" and r.lead == ["Liên hiệp các Hội Khoa học và Kỹ thuật tỉnh"]
    assert r.coordinators == ["Sở Nội vụ"]
    assert by_key(plan, "đột xuất").deadline.kind == "periodic"  # type: ignore[union-attr]
    s = by_key(plan, "tham mưu sắp xếp")
    assert s.lead == ["Sở Nội vụ"] and s.coordinators == ["Liên hiệp các Hội Khoa học và Kỹ thuật tỉnh"]
    d = by_key(plan, "hội thành viên")
    assert d.lead == ["Sở Lao động - Thương binh và Xã hội", "Sở Nông nghiệp và Phát triển nông thôn",
                      "Sở Kế hoạch và Đầu tư"]


def test_lead_line_over_bullets_and_one_task_with_points() -> None:
    plan = parse_text(HEAD + "II. NHIỆM VỤ\n\n"
                      "b) Sở Kế hoạch và Đầu tư chủ trì, phối hợp với Sở Khoa học và Công nghệ:\n\n"
                      "- Tham mưu chính sách đầu tư công;\n\n- Tham mưu cơ chế khuyến khích doanh nghiệp.\n\n"
                      "c) Sở Y tế tham mưu Hội đồng y khoa xác định nhiệm vụ theo hướng:\n\n"
                      "- Tập trung cho y tế cơ sở;\n\n- Ưu tiên y học dự phòng." + TAIL)
    bullets = [t for t in plan.tasks if t.text.startswith("Tham mưu")]
    assert len(bullets) == 2
    assert all(t.lead == ["Sở Kế hoạch và Đầu tư"] and t.coordinators == ["Sở Khoa học và Công nghệ"]
               and t.ref == "II.b" for t in bullets)
    one = by_key(plan, "Hội đồng y khoa")
    assert "y học dự phòng" in one.text and one.lead == ["Sở Y tế"]
    assert not any(t.text.startswith(("Tập trung", "Ưu tiên")) for t in plan.tasks)


def test_responsibility_lines_assign_the_bullets_above() -> None:
    plan = parse_text(HEAD + "II. NHIỆM VỤ, GIẢI PHÁP\n\n1. Tăng cường lãnh đạo\n\n"
                      "- Tổ chức quán triệt Kết luận, xác định đây là nhiệm vụ thường xuyên, lâu dài.\n\n"
                      "* Ban Tuyên giáo Tỉnh ủy hướng dẫn triển khai; hoàn thành **trong quý II-2024**.\n\n"
                      "- Đẩy mạnh tuyên truyền.\n\n- Thường xuyên kiểm tra.\n\n"
                      "** Ban cán sự đảng Ủy ban nhân dân tỉnh; các huyện ủy, thành ủy lãnh đạo thực hiện "
                      "thường xuyên.*"
                      + TAIL)
    first = by_key(plan, "quán triệt Kết luận")
    assert first.lead == ["Ban Tuyên giáo Tỉnh ủy"]
    assert first.deadline and (first.deadline.kind, first.deadline.due) == ("quarter", date(2024, 6, 30))
    for key in ("Đẩy mạnh tuyên truyền", "Thường xuyên kiểm tra"):
        t = by_key(plan, key)
        assert t.lead == ["Ban cán sự đảng Ủy ban nhân dân tỉnh", "các huyện ủy, thành ủy"]
        assert t.deadline and t.deadline.kind == "ongoing"
    # The line itself is no task; it goes with the task it assigns (who and when, asked about in chat).
    assert [t for t in plan.tasks if "hướng dẫn triển khai" in t.text] == [first]
    assert len(plan.tasks) == 3


def test_report_to_via_and_page_breaks() -> None:
    plan = parse_text(HEAD + "II. TỔ CHỨC THỰC HIỆN\n\n"
                      "1. Giao mặt trận Tổ quốc, đoàn thể chính trị-xã hội tổ chức phản biện và gửi báo cáo về "
                      "Thường trực Tỉnh ủy (*qua Văn phòng Tỉnh ủy*); đồng thời gửi Ban cán sự đảng Ủy ban nhân dân "
                      "tỉnh để tiếp thu.\n\n"
                      "2. Sở Khoa học và Công nghệ làm đầu mối theo dõi; định kỳ trước ngày 15 tháng\n\n"
                      "12, tổng hợp báo cáo để Ủy ban nhân dân tỉnh xem xét, chỉ đạo.\n\n"
                      "3. Ban Tuyên giáo Tỉnh ủy\n\nTham mưu tổ chức hội nghị trước ngày **29/4/2022**; hoàn chỉnh "
                      "báo cáo; trình Thường trực Tỉnh ủy ký ban hành trước ngày **08/5/2022**." + TAIL)
    one = by_key(plan, "phản biện")
    assert one.lead == ["mặt trận Tổ quốc", "đoàn thể chính trị-xã hội"]
    assert one.report_to == ["Thường trực Tỉnh ủy", "Ban cán sự đảng Ủy ban nhân dân tỉnh"]
    assert one.via == ["Văn phòng Tỉnh ủy"]
    two = by_key(plan, "tổng hợp báo cáo")  # the page break inside the sentence is joined
    assert two.report_to == ["Ủy ban nhân dân tỉnh"]
    assert two.deadline and (two.deadline.kind, two.deadline.month, two.deadline.day) == ("yearly", 12, 15)
    conf = by_key(plan, "tổ chức hội nghị")  # one item, two days: two tasks
    sign = by_key(plan, "ký ban hành")
    assert conf.deadline.due == date(2022, 4, 29) and sign.deadline.due == date(2022, 5, 8)  # type: ignore[union-attr]
    assert sign.report_to == ["Thường trực Tỉnh ủy"] and sign.lead == ["Ban Tuyên giáo Tỉnh ủy"]


def test_pipe_table_columns_by_header_words() -> None:
    plan = parse_text((DATA / "ubnd_bang.md").read_text(encoding="utf-8"), "ubnd_bang.md")
    assert plan.issuer == "Ủy ban nhân dân tỉnh Khánh Hòa" and plan.number == "5678/KH-UBND"
    dc = by_key(plan, "Trung tâm dữ liệu")
    assert dc.lead == ["Sở Khoa học và Công nghệ"] and dc.coordinators == ["Sở Tài chính"]
    assert dc.deadline and dc.deadline.due == date(2025, 6, 30)
    rep = by_key(plan, "Báo cáo tình hình thực hiện chuyển đổi số")
    assert rep.lead == ["Các sở, ban, ngành", "UBND các huyện, thị xã, thành phố"]
    assert rep.deadline and (rep.deadline.kind, rep.deadline.day) == ("monthly", 20)
    assert by_key(plan, "Tuyên truyền").coordinators == ["Đài Phát thanh và Truyền hình tỉnh", "Báo Khánh Hòa"]
    assert not any(t.text in ("Hạ tầng số", "Chính quyền số") for t in plan.tasks)  # group rows


def test_ministry_plan_with_units_and_recurring_reports() -> None:
    plan = parse_text((DATA / "bo_khcn_2024.txt").read_text(encoding="utf-8"))
    assert plan.issuer == "Bộ Khoa học và Công nghệ" and plan.signer == "Trần Văn Tùng"
    a = by_key(plan, "rà soát các thông tư")
    assert a.lead == ["Vụ Pháp chế"] and a.coordinators == ["Vụ Kế hoạch - Tài chính"]
    assert by_key(plan, "sáng chế mở").lead == ["Cục Sở hữu trí tuệ"]
    q = by_key(plan, "hằng quý")
    assert q.deadline and (q.deadline.kind, q.deadline.day) == ("quarterly", 20)
    assert q.report_to == ["Vụ Kế hoạch - Tài chính"]
    m = by_key(plan, "25 hằng tháng")
    assert m.lead == ["Vụ Kế hoạch - Tài chính"] and m.deadline and m.deadline.kind == "monthly"
    assert len(plan.tasks) == 9


def test_document_without_tasks_is_refused() -> None:
    with pytest.raises(ImportRefused, match="Không tìm thấy nhiệm vụ"):
        parse_text(HEAD + "II. NỘI DUNG\n\n1. Đánh giá tình hình.\n\n2. Rút ra bài học kinh nghiệm." + TAIL)


@pytest.mark.skipif(not SEEDS.exists(), reason="the shared sample plans are not here")
def test_sample_plans_all_parse() -> None:
    counts = {}
    for path in sorted(SEEDS.glob("*.txt")):
        plan = parse_text(path.read_text(encoding="utf-8"), path.name)
        counts[path.name[:3]] = len(plan.tasks)
        assert all(t.lead for t in plan.tasks)
    assert counts["002"] == 23 and sum(counts.values()) >= 66


def test_task_with_field_lines() -> None:
    """A task followed by "Cơ quan chủ trì: ...", "Cơ quan phối hợp: ...", "Thời gian hoàn thành: ..."."""
    plan = parse_text(HEAD + "II. NHIỆM VỤ CỤ THỂ\n\n1. Xây dựng cơ sở dữ liệu đất đai của tỉnh\n\n"
                      "- Cơ quan chủ trì: Sở Tài nguyên và Môi trường.\n\n"
                      "- Cơ quan phối hợp: Sở Khoa học và Công nghệ, Ủy ban nhân dân các huyện, thành phố.\n\n"
                      "- Thời gian hoàn thành: Quý IV/2025.\n\n- Sản phẩm: Cơ sở dữ liệu.\n\n"
                      "2. Tuyên truyền về chuyển đổi số\n\nCơ quan thực hiện: Báo Bình Định\n\n"
                      "Thời gian thực hiện: Thường xuyên." + TAIL)
    a = by_key(plan, "cơ sở dữ liệu đất đai")
    assert a.lead == ["Sở Tài nguyên và Môi trường"]
    assert a.coordinators == ["Sở Khoa học và Công nghệ", "Ủy ban nhân dân các huyện, thành phố"]
    assert a.deadline and a.deadline.due == date(2025, 12, 31)
    b = by_key(plan, "Tuyên truyền")
    assert b.lead == ["Báo Bình Định"] and b.deadline and b.deadline.kind == "ongoing"
    assert len(plan.tasks) == 2


def test_duty_headings() -> None:
    plan = parse_text(HEAD + "II. TỔ CHỨC THỰC HIỆN\n\n1. Trách nhiệm của Sở Tài chính\n\n"
                      "- Bố trí kinh phí thực hiện Kế hoạch.\n\n2. Đối với Ủy ban nhân dân các huyện, thành phố\n\n"
                      "- Xây dựng kế hoạch của địa phương trước ngày 31/3/2025." + TAIL)
    assert by_key(plan, "Bố trí kinh phí").lead == ["Sở Tài chính"]
    local = by_key(plan, "kế hoạch của địa phương")
    assert local.lead == ["Ủy ban nhân dân các huyện, thành phố"] and local.deadline
    assert len(plan.tasks) == 2


def test_city_party_plan_with_hyphen_numbering_and_local_bodies() -> None:
    """A Thành ủy plan: "1-" items, dates with hyphens, bodies of the city (not the province's)."""
    plan = parse_text((DATA / "thanh_uy_da_lat.txt").read_text(encoding="utf-8"))
    assert (plan.number, plan.issuer, plan.signer) == ("45-KH/TU", "Thành ủy Đà Lạt", "Đặng Trí Dũng")
    assert plan.title.startswith("tổ chức thực hiện Kết luận")
    a = by_key(plan, "hội nghị quán triệt")
    assert a.lead == ["Ban Tuyên giáo Thành ủy"] and a.coordinators == ["Văn phòng Thành ủy"]
    assert a.deadline and a.deadline.due == date(2024, 5, 31)
    assert by_key(plan, "lãnh đạo xây dựng").lead == ["Ban cán sự đảng Ủy ban nhân dân thành phố"]
    r = by_key(plan, "báo cáo kết quả")
    assert r.lead == ["Các cấp ủy, tổ chức đảng trực thuộc Thành ủy"]
    assert r.report_to == ["Ban Thường vụ Thành ủy"] and r.via == ["Văn phòng Thành ủy"]
    assert r.deadline and r.deadline.due == date(2024, 11, 30)
    assert len(plan.tasks) == 4  # nothing from section I


def test_unmarked_responsibility_line_after_bullets() -> None:
    plan = parse_text(HEAD + "II. NHIỆM VỤ\n\n1. Phát triển du lịch\n\n- Xây dựng sản phẩm du lịch đặc thù.\n\n"
                      "- Quảng bá điểm đến.\n\nSở Văn hóa, Thể thao và Du lịch chủ trì thực hiện; hoàn thành "
                      "trong năm 2025." + TAIL)
    assert [t.lead for t in plan.tasks] == [["Sở Văn hóa, Thể thao và Du lịch"]] * 2
    assert all(t.deadline and t.deadline.kind == "year" for t in plan.tasks)


def test_assignee_named_after_the_work() -> None:
    plan = parse_text(HEAD + "II. TỔ CHỨC THỰC HIỆN\n\n"
                      "1. Tổ chức sơ kết 6 tháng thực hiện Kế hoạch, do Văn phòng Bộ chủ trì, phối hợp với "
                      "Vụ Kế hoạch - Tài chính thực hiện trong tháng 7/2026.\n\n"
                      "2. Rà soát văn bản quy phạm pháp luật, giao Sở Tư pháp thực hiện trong quý III/2025.\n\n"
                      "3. Xây dựng quy chế phối hợp (Sở Nội vụ chủ trì; Sở Tài chính phối hợp).\n\n"
                      "4. Xây dựng cơ sở dữ liệu cán bộ\n\nTrách nhiệm thực hiện: Sở Nội vụ\n\n"
                      "5. Số hóa hồ sơ lưu trữ\n\nĐơn vị thực hiện: Sở Tư pháp; thời gian: quý IV/2025\n\n"
                      "6. Tổng kết các văn bản do Bộ Tài chính ban hành năm 2024." + TAIL)
    one = by_key(plan, "sơ kết 6 tháng")
    assert one.lead == ["Văn phòng Bộ"] and one.coordinators == ["Vụ Kế hoạch - Tài chính"]
    assert one.deadline and (one.deadline.kind, one.deadline.due) == ("month", date(2026, 7, 31))
    two = by_key(plan, "Rà soát văn bản")
    assert two.lead == ["Sở Tư pháp"] and two.deadline and two.deadline.due == date(2025, 9, 30)
    three = by_key(plan, "quy chế phối hợp")
    assert three.lead == ["Sở Nội vụ"] and three.coordinators == ["Sở Tài chính"]
    assert by_key(plan, "cán bộ").lead == ["Sở Nội vụ"]
    five = by_key(plan, "Số hóa")
    assert five.lead == ["Sở Tư pháp"] and five.deadline and five.deadline.due == date(2025, 12, 31)
    assert not [t for t in plan.tasks if "Tổng kết" in t.text]  # "do Bộ X ban hành" cites, assigns nothing


def test_unknown_body_with_a_comma_in_its_name() -> None:
    plan = parse_text(HEAD + "II. NHIỆM VỤ\n\n"
                      "1. Giao Cục Thông tin, Thống kê chủ trì xây dựng cơ sở dữ liệu trong quý II/2025.\n\n"
                      "2. Vụ Đánh giá, Thẩm định và Giám định công nghệ chủ trì, phối hợp với Sở Văn hóa, "
                      "Thể thao và Du lịch, Sở Nội vụ, Sở Tài chính thẩm định công nghệ.\n\n"
                      "3. Cục Thông tin, Sở Nội vụ, Ban Tuyên giáo Tỉnh ủy tuyên truyền Kế hoạch.\n\n"
                      "4. Sở Nội vụ chủ trì, phối hợp với Công ty Điện lực Bình Định, Viettel Bình Định rà soát "
                      "hạ tầng.\n\n5. Vụ Khoa học, Giáo dục, Tài nguyên và Môi trường chủ trì lập dự toán." + TAIL)
    assert by_key(plan, "cơ sở dữ liệu").lead == ["Cục Thông tin, Thống kê"]
    two = by_key(plan, "thẩm định công nghệ")
    assert two.lead == ["Vụ Đánh giá, Thẩm định và Giám định công nghệ"]
    assert two.coordinators == ["Sở Văn hóa, Thể thao và Du lịch", "Sở Nội vụ", "Sở Tài chính"]
    assert by_key(plan, "tuyên truyền").lead == ["Cục Thông tin", "Sở Nội vụ", "Ban Tuyên giáo Tỉnh ủy"]
    assert by_key(plan, "hạ tầng").coordinators[0] == "Công ty Điện lực Bình Định"  # a whole name before the comma
    assert by_key(plan, "dự toán").lead == ["Vụ Khoa học, Giáo dục, Tài nguyên và Môi trường"]


def test_monitor_agency_of_the_plan() -> None:
    plan = parse_text(HEAD + "II. TỔ CHỨC THỰC HIỆN\n\n1. Các Sở, ban, ngành kiểm tra, đôn đốc thực hiện Kế hoạch.\n\n"
                      "2. Giao Sở Khoa học và Công nghệ làm đầu mối giúp Ủy ban nhân dân tỉnh theo dõi, đôn đốc "
                      "triển khai thực hiện Kế hoạch này; định kỳ báo cáo kết quả." + TAIL)
    assert plan.monitor == "Sở Khoa học và Công nghệ"  # not the group, not the body it helps
    plan = parse_text(HEAD + "II. TỔ CHỨC THỰC HIỆN\n\n1. Sở Nội vụ chủ trì rà soát bộ máy.\n\n"
                      "2. Giao Văn phòng Tỉnh ủy, theo dõi, đôn đốc thực hiện Kế hoạch này." + TAIL)
    assert plan.monitor == "Văn phòng Tỉnh ủy"
    plan = parse_text(HEAD + "II. NHIỆM VỤ\n\n1. Sở Nội vụ chủ trì rà soát bộ máy trong năm 2025." + TAIL)
    assert plan.monitor is None
