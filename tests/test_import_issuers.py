"""Issue 9: layouts of every kind of issuer (national steering committees, ministries, decisions that
issue a plan, work tables, PDF text layers), each on a small plan written here."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from knowledge.db import Database
from knowledge.deadlines import parse_deadline
from knowledge.models import Plan, Task
from knowledge.plans import import_file
from tests.import_helpers import DATA, make_docx, parse_bytes_docx, parse_text

HEAD = ("BỘ NỘI VỤ\n\nSố: 15/KH-BNV\n\nHà Nội, ngày 10 tháng 3 năm 2025\n\nKẾ HOẠCH\n\n"
        "Triển khai Luật Cán bộ, công chức\n\nI. MỤC ĐÍCH, YÊU CẦU\n\n1. Bảo đảm tiến độ.\n\nII. NHIỆM VỤ\n\n")
TAIL = "\n\nNơi nhận:\n- Lưu: VT.\n\nKT. BỘ TRƯỞNG\nTHỨ TRƯỞNG\n\nLê Văn C\n"


def only(plan, key: str):
    hits = [t for t in plan.tasks if key in t.text]
    assert len(hits) == 1, [t.text for t in plan.tasks]
    return hits[0]


def test_section_fields_apply_to_every_content_item() -> None:
    plan = parse_text(HEAD + "1. Hoàn thiện thể chế\n\na) Xây dựng Nghị định quy định chi tiết Luật.\n\n"
                      "b) Xây dựng Thông tư hướng dẫn.\n\n- Cơ quan chủ trì: Bộ Nội vụ.\n\n"
                      "- Cơ quan phối hợp: Bộ Tư pháp, Văn phòng Chính phủ.\n\n"
                      "- Thời gian thực hiện: Quý III năm 2025.\n\n"
                      "2. Đào tạo, bồi dưỡng\n\n- Nội dung:\n\n+ Biên soạn tài liệu bồi dưỡng.\n\n"
                      "+ Tổ chức lớp bồi dưỡng cho công chức.\n\n"
                      "- Cơ quan chủ trì: Học viện Hành chính và Quản trị công.\n\n"
                      "- Thời gian thực hiện: từ tháng 3 đến tháng 6/2025.\n\n"
                      "3. Số hóa hồ sơ\n\na) Số hóa hồ sơ công chức.\n\nb) Làm sạch dữ liệu công chức.\n\n"
                      "Cơ quan chủ trì: Bộ Nội vụ; Cơ quan phối hợp: Bộ Công an; "
                      "Thời gian thực hiện: tháng 9/2025 và thường xuyên.\n\n"
                      "4. Thanh tra công vụ\n\na) Thanh tra việc tuyển dụng.\n\nb) Thanh tra việc nâng ngạch.\n\n"
                      "Cơ quan chủ trì:\n\n- Thanh tra Bộ.\n\nCơ quan phối hợp:\n\n- Vụ Công chức - Viên chức;\n\n"
                      "- Vụ Pháp chế.\n\nThời gian thực hiện:\n\n- Hằng năm." + TAIL)
    assert not [t for t in plan.tasks if t.text.startswith(("Hoàn thiện", "Đào tạo", "Số hóa hồ sơ\u00a0"))]
    for key in ("Nghị định", "Thông tư"):
        t = only(plan, key)
        assert t.lead == ["Bộ Nội vụ"] and t.coordinators == ["Bộ Tư pháp", "Văn phòng Chính phủ"]
        assert t.deadline and t.deadline.due == date(2025, 9, 30)
    for key in ("Biên soạn", "Tổ chức lớp"):
        t = only(plan, key)
        assert t.lead == ["Học viện Hành chính và Quản trị công"]
        assert t.deadline and (t.deadline.kind, t.deadline.due) == ("month", date(2025, 6, 30))
    t = only(plan, "Làm sạch")
    assert t.coordinators == ["Bộ Công an"] and t.deadline and t.deadline.due == date(2025, 9, 30)
    t = only(plan, "nâng ngạch")
    assert t.lead == ["Thanh tra Bộ"] and t.coordinators == ["Vụ Công chức - Viên chức", "Vụ Pháp chế"]
    assert t.deadline and t.deadline.kind == "periodic"


def test_heading_names_a_body_known_only_by_its_start() -> None:
    plan = parse_text(HEAD + "1. Nhiệm vụ của Cục Quản lý Khám, chữa bệnh\n\n"
                      "a) Chủ trì xây dựng Thông tư về danh mục kỹ thuật trong quý II/2025.\n\n"
                      "2. Trách nhiệm của Sở Nội vụ các tỉnh, thành phố trực thuộc trung ương\n\n"
                      "- Tham mưu ban hành kế hoạch tại địa phương trong tháng 4/2025.\n\n"
                      "3. Trách nhiệm của Sở Y tế trong việc kiểm tra\n\n- Kiểm tra các cơ sở." + TAIL)
    assert only(plan, "danh mục kỹ thuật").lead == ["Cục Quản lý Khám, chữa bệnh"]
    assert only(plan, "Tham mưu ban hành").lead == ["Sở Nội vụ các tỉnh, thành phố trực thuộc trung ương"]
    assert not [t for t in plan.tasks if "Kiểm tra các cơ sở" in t.text and t.lead != ["Sở Y tế"]]


def test_office_holders_lead_and_an_office_that_gives_work_to_a_body() -> None:
    plan = parse_text(HEAD + "1. Chủ tịch Ủy ban nhân dân tỉnh quyết định kiện toàn Ban Chỉ huy trong tháng 3/2025.\n\n"
                      "2. Giám đốc Sở Y tế chỉ đạo chuẩn bị cơ số thuốc trước ngày 30/6/2025.\n\n"
                      "3. Chủ tịch Ủy ban nhân dân tỉnh giao Sở Tài chính bố trí kinh phí trong quý II/2025.\n\n"
                      "4. Thủ trưởng các sở, ban, ngành chịu trách nhiệm triển khai Kế hoạch." + TAIL)
    assert only(plan, "kiện toàn").lead == ["Chủ tịch Ủy ban nhân dân tỉnh"]
    assert only(plan, "cơ số thuốc").lead == ["Giám đốc Sở Y tế"]
    assert only(plan, "bố trí kinh phí").lead == ["Sở Tài chính"]
    assert only(plan, "chịu trách nhiệm triển khai").lead == ["các sở, ban, ngành"]


DECISION = """ỦY BAN NHÂN DÂN                         CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
TỈNH QUẢNG TRỊ                                 Độc lập - Tự do - Hạnh phúc

Số: 4 5 6 /QĐ-UBND                        Quảng Trị, ngày    tháng 4 năm 2025

                                QUYẾT ĐỊNH
   Ban hành Kế hoạch phát triển du lịch năm 2025

                CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH QUẢNG TRỊ

Căn cứ Luật Du lịch ngày 19 tháng 6 năm 2017;

                                 QUYẾT ĐỊNH:

Điều 1. Ban hành kèm theo Quyết định này Kế hoạch phát triển du lịch năm 2025.
Điều 2. Quyết định này có hiệu lực thi hành kể từ ngày ký.
Điều 3. Giám đốc Sở Văn hóa, Thể thao và Du lịch chịu trách nhiệm thi hành Quyết định này trước ngày 31/12/2025./.

Nơi nhận:                                               KT. CHỦ TỊCH
- Như Điều 3;                                           PHÓ CHỦ TỊCH
- Lưu: VT.                                              Hoàng Nam


ỦY BAN NHÂN DÂN                         CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
TỈNH QUẢNG TRỊ                                 Độc lập - Tự do - Hạnh phúc

                                   KẾ HOẠCH
                    Phát triển du lịch năm 2025
  (Ban hành kèm theo Quyết định số 456/QĐ-UBND ngày   /4/2025 của Chủ tịch UBND tỉnh)

I. MỤC ĐÍCH, YÊU CẦU
1. Phát triển du lịch bền vững.
II. NHIỆM VỤ
1. Sở Văn hóa, Thể thao và Du lịch chủ trì xây dựng sản phẩm du lịch mới, hoàn thành trước 15/9.
2. Sở Tài chính chủ trì bố trí kinh phí xúc tiến du lịch trong quý II năm 2025.
"""


def test_a_decision_that_issues_a_plan_yields_the_plan() -> None:
    plan = parse_text(DECISION)
    # The Chairman decides ("CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH QUẢNG TRỊ" under the title), as the corpus gold reads c08.
    assert (plan.kind, plan.number, plan.issuer) == ("Kế hoạch", "456/QĐ-UBND",
                                                     "Chủ tịch Ủy ban nhân dân tỉnh Quảng Trị")
    assert plan.title == "Phát triển du lịch năm 2025" and plan.signer == "Hoàng Nam"  # signature beside Nơi nhận
    assert plan.issued_on is None and plan.date_hint == date(2025, 4, 1)  # the day was left blank
    assert [t.ref for t in plan.tasks] == ["II.1", "II.2"]  # Điều 3 is no task
    t = only(plan, "sản phẩm du lịch mới")
    assert t.deadline and t.deadline.due == date(2025, 9, 15)  # the year from the blank-day date


def test_number_and_date_in_a_word_header_table() -> None:
    data = make_docx(["", "KẾ HOẠCH", "Phát triển thể thao năm 2025", "II. NHIỆM VỤ",
                      "1. Sở Y tế chủ trì khám sức khỏe vận động viên trong quý II/2025."],
                     table=None, header=[["ỦY BAN NHÂN DÂN\nTỈNH KON TUM", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"],
                                         ["Số: 88/KH-UBND", "Kon Tum, ngày 12 tháng 02 năm 2025"]])
    plan = parse_bytes_docx(data)
    assert (plan.number, plan.issued_on) == ("88/KH-UBND", date(2025, 2, 12))
    assert plan.issuer == "Ủy ban nhân dân tỉnh Kon Tum"


def test_pipe_tables_without_outer_pipes_group_rows_and_merged_cells() -> None:
    plan = parse_text(HEAD + "TT | Nhiệm vụ | Đơn vị | | Thời hạn\n | | Chủ trì | Phối hợp |\n"
                      "A | CÔNG TÁC TUYÊN TRUYỀN | | |\n"
                      "1 | Mở chuyên mục cải cách hành chính | Báo Nhân Dân | Bộ Nội vụ | Quý II/2025\n"
                      "2 | Phát sóng phóng sự chuyên đề | | Bộ Nội vụ |\n"
                      "B | CÔNG TÁC KIỂM TRA | | |\n"
                      "3 | Kiểm tra công vụ tại các bộ | Thanh tra Bộ | | Hằng năm\n"
                      "4 | Rà soát, tổng hợp | | | \n" + TAIL)
    t = only(plan, "Phát sóng")
    assert t.lead == ["Báo Nhân Dân"] and t.deadline and t.deadline.due == date(2025, 6, 30)  # carried down
    assert t.ref == "II.A.2"
    assert not [x for x in plan.tasks if "CÔNG TÁC" in x.text]
    assert only(plan, "Kiểm tra công vụ").deadline.kind == "periodic"  # type: ignore[union-attr]
    t4 = only(plan, "Rà soát, tổng hợp")
    assert t4.lead == ["Thanh tra Bộ"] and t4.deadline and t4.deadline.kind == "periodic"


def test_a_table_row_without_any_lead_is_left_out_with_its_reason() -> None:
    plan = parse_text(HEAD + "| STT | Nội dung | Cơ quan chủ trì | Thời gian |\n|---|---|---|---|\n"
                      "| 1 | Tổ chức hội nghị triển khai | | Quý II/2025 |\n"
                      "| 2 | Tập huấn nghiệp vụ | Bộ Nội vụ | Quý III/2025 |\n" + TAIL)
    assert [t.text for t in plan.tasks] == ["Tập huấn nghiệp vụ"]
    assert [(x.text, x.reason) for x in plan.left_out] == [("Tổ chức hội nghị triển khai",
                                                           "hàng của bảng không ghi cơ quan chủ trì")]


def test_appendix_table_one_cell_per_line_from_a_pdf() -> None:
    plan = parse_text(HEAD + "1. Bộ Nội vụ theo dõi việc thực hiện." + TAIL + "PHỤ LỤC\nNHIỆM VỤ CỤ THỂ\n"
                      "TT\nNhiệm vụ\nCơ quan chủ trì\nCơ quan phối hợp\nThời gian\nhoàn thành\n"
                      "1\nRà soát vị trí việc làm trong các cơ quan\nhành chính\nVụ Tổ chức cán bộ\n"
                      "Vụ Công chức - Viên chức\nQuý II/2025\n"
                      "2\nBồi dưỡng công chức\nHọc viện Hành chính và Quản trị\ncông\nTháng 8/2025\n"
                      "3\nKiểm tra công vụ\nThanh tra Bộ\nỦy ban nhân dân các tỉnh,\nthành phố\nThường xuyên\n")
    t = only(plan, "Rà soát vị trí việc làm trong các cơ quan hành chính")
    assert t.lead == ["Vụ Tổ chức cán bộ"] and t.coordinators == ["Vụ Công chức - Viên chức"]
    assert t.deadline and t.deadline.due == date(2025, 6, 30) and t.ref.startswith("PL")
    t = only(plan, "Bồi dưỡng")
    assert t.lead == ["Học viện Hành chính và Quản trị công"] and t.coordinators == []
    assert only(plan, "Kiểm tra công vụ").deadline.kind == "ongoing"  # type: ignore[union-attr]


@pytest.mark.parametrize(("text", "kind", "due"), [
    ("từ tháng 3 đến tháng 6/2025", "month", date(2025, 6, 30)),
    ("Thời gian thực hiện: quý III - quý IV năm 2025", "quarter", date(2025, 12, 31)),
    ("vận hành hồ chứa, tháng 9/2025 và thường xuyên", "month", date(2025, 9, 30)),
    ("Hằng năm", "periodic", None),
    ("bố trí từ nguồn chi thường xuyên năm 2025", None, None),
])
def test_deadline_spans_and_words(text: str, kind: str | None, due: date | None) -> None:
    d = parse_deadline(text, date(2025, 3, 1))
    assert (d.kind if d else None, d.due if d else None) == (kind, due)


async def test_layout_plans_store_on_both_databases(db: Database) -> None:
    folder = DATA / "layouts"
    counts = {}
    for f in sorted(Path(folder).glob("[a-f]_*")):
        result = await import_file(db, f.read_bytes(), f.name)
        counts[f.name[0]] = len(result.parsed.tasks)
    assert counts == {"a": 17, "b": 20, "c": 15, "d": 18, "e": 15, "f": 17}
    async with db.session() as s:
        plan = (await s.scalars(select(Plan).where(Plan.number == "123/QĐ-UBND"))).one()
        assert plan.issued_on is None and plan.title.startswith("Thực hiện chuyển đổi số")
        carried = (await s.scalars(select(Task).where(Task.text.like("Kiểm tra việc thi hành pháp luật%")))).one()
        assert carried.deadline_due == date(2025, 6, 30)


def test_a_headings_time_applies_to_its_items() -> None:
    plan = parse_text(HEAD + "1. Các nhiệm vụ hoàn thành trong quý II/2025\n\na) Sở Tư pháp rà soát văn bản.\n\n"
                      "b) Sở Nội vụ kiện toàn bộ máy; thực hiện thường xuyên.\n\n2. Năm 2026\n\n"
                      "a) Sở Y tế chủ trì khám sức khỏe.\n\n3. Công tác khác\n\na) Sở Công Thương xúc tiến thương mại."
                      + TAIL)
    assert only(plan, "rà soát văn bản").deadline.due == date(2025, 6, 30)  # type: ignore[union-attr]
    assert only(plan, "kiện toàn").deadline.due == date(2025, 6, 30)  # type: ignore[union-attr]
    assert only(plan, "khám sức khỏe").deadline.due == date(2026, 12, 31)  # type: ignore[union-attr]
    assert only(plan, "xúc tiến").deadline is None


def test_bodies_under_a_group_heading_keep_their_own_items_and_fields() -> None:
    plan = parse_text(HEAD + "1. Các đơn vị thuộc Bộ\n\n1.1. Cục Khoa học, Công nghệ và Thông tin có trách nhiệm:\n\n"
                      "a) Chủ trì hoàn thiện cơ sở dữ liệu ngành, trước ngày 31/12/2025.\n\n"
                      "b) Hướng dẫn triển khai học bạ số trong quý IV/2025.\n\n"
                      "1.2. Vụ Kế hoạch - Tài chính bố trí kinh phí trước ngày 15/11/2025.\n\n"
                      "1.3. Văn phòng Bộ\n\n- Nội dung: Cung cấp dịch vụ công trực tuyến toàn trình.\n\n"
                      "- Thời gian thực hiện: tháng 12/2025 và thường xuyên.\n\n"
                      "2. Các sở giáo dục và đào tạo\n\nSở giáo dục và đào tạo các tỉnh, thành phố có trách nhiệm:\n\n"
                      "- Tham mưu ban hành kế hoạch của địa phương trong tháng 9/2025.\n\n"
                      "3. Đảng đoàn Hội đồng nhân dân tỉnh chỉ đạo giám sát; thực hiện hằng năm." + TAIL)
    assert not [t for t in plan.tasks if t.text.endswith("có trách nhiệm:")]  # lead lines are no tasks
    assert only(plan, "hoàn thiện cơ sở dữ liệu").lead == ["Cục Khoa học"]
    assert only(plan, "bố trí kinh phí").lead == ["Vụ Kế hoạch - Tài chính"]
    t = only(plan, "dịch vụ công")
    assert t.lead == ["Văn phòng Bộ"] and t.deadline and t.deadline.due == date(2025, 12, 31)
    assert only(plan, "Tham mưu ban hành").lead == ["Sở giáo dục và đào tạo"]
    assert only(plan, "giám sát").lead == ["Đảng đoàn Hội đồng nhân dân tỉnh"]


@pytest.mark.parametrize("head", [
    "ỦY BAN NHÂN DÂN TỈNH KON TUM CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n"
    "Số: 88 /KH-UBND Kon Tum, ngày 12 tháng 02 năm 2025",  # columns joined by one space, number and date on a line
    "| ỦY BAN NHÂN DÂN TỈNH KON TUM | CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM |\n"
    "| Số: 88/KH-UBND | Kon Tum, ngày 12 tháng 02 năm 2025 |",  # a header table
    "Số: 88/KH-UBND\t\tKon Tum, ngày 12 tháng 02 năm 2025",  # no issuer in the header: the signature's "TM."
])
def test_header_variants_give_number_issuer_and_date(head: str) -> None:
    plan = parse_text(head + "\n\nKẾ HOẠCH\n\nPhát triển thể thao năm 2025\n\nII. NHIỆM VỤ\n\n"
                      "1. Sở Y tế chủ trì khám sức khỏe trong quý II/2025.\n\nNơi nhận:\n- Lưu: VT.\n\n"
                      "TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\n\nLê Văn A\n")
    assert (plan.number, plan.issuer, plan.issued_on) == ("88/KH-UBND", "Ủy ban nhân dân tỉnh Kon Tum",
                                                          date(2025, 2, 12))


def test_a_table_whose_columns_are_not_recognised_is_reported() -> None:
    plan = parse_text(HEAD + "1. Bộ Nội vụ chủ trì tổng kết trong quý IV/2025.\n\n"
                      "| STT | Hạng mục | Đơn vị | Ghi chú |\n|---|---|---|---|\n| 1 | Hội nghị | Sở A | |\n"
                      "| 2 | Tập huấn | Sở B | |\n" + TAIL)
    assert len(plan.tasks) == 1
    assert [x.reason for x in plan.left_out] == ["bảng 3 hàng không nhận ra cột nhiệm vụ và cột cơ quan chủ trì"]
