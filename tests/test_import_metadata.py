"""Issue 9: number, issuer and date in every header layout met in the real corpus, each on a plan written
here (tests/data/metadata), read by the parser and stored on both databases."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from knowledge.db import Database
from knowledge.importer import NameFinder, parse_bytes, seed_registry
from knowledge.models import Plan
from knowledge.plans import import_file
from tests.import_helpers import DATA, make_docx, make_pdf, parse_bytes_docx, parse_text

FOLDER = DATA / "metadata"
# file -> (number, issuer, date, kind)
EXPECTED: dict[str, tuple[str | None, str, date | None, str]] = {
    "a_bang_thuoc_tinh.md": ("412/KH-UBND", "Ủy ban nhân dân tỉnh Hòa Bình", date(2025, 9, 15), "Kế hoạch"),
    "b_bang_tieu_de_cot.md": ("98/KH-SYT", "Sở Y tế", date(2025, 10, 3), "Kế hoạch"),
    "c_hang_bang_tieu_de.md": ("2107/KH-UBND", "Ủy ban nhân dân tỉnh Ninh Bình", date(2025, 8, 22), "Kế hoạch"),
    "d_quyet_dinh_kem_ke_hoach.md": ("2519/QĐ-BCT", "Bộ Công Thương", date(2025, 9, 5), "Kế hoạch"),
    "e_nghi_quyet_kem_ke_hoach.md": ("1339/NQ-UBTVQH15", "Ủy ban Thường vụ Quốc hội", date(2025, 10, 14),
                                     "Kế hoạch"),
    "f_cong_van.txt": ("6225/BVHTTDL-VP", "Bộ Văn hóa, Thể thao và Du lịch", date(2025, 10, 17), "Công văn"),
    "g_tinh_uy.md": ("215-KH/TU", "Ban Thường vụ Tỉnh ủy Nghệ An", date(2025, 7, 8), "Kế hoạch"),
    "h_so_cach_chu.txt": ("173/KH-UBND", "Ủy ban nhân dân tỉnh Nghệ An", date(2025, 9, 12), "Kế hoạch"),
    "i_bo_trong_ngay.txt": (None, "Sở Nông nghiệp và Môi trường", None, "Kế hoạch"),
    "j_trang_o_tung_dong.md": ("57/KH-UBND", "Ủy ban nhân dân thành phố Hải Phòng", date(2025, 3, 4), "Kế hoạch"),
    # a saved page whose site summary (long lines, "Xem chi tiết tại ...") stands between its table and header
    "k_trang_co_tom_tat.md": ("1874/QĐ-TTg", "Thủ tướng Chính phủ", date(2025, 10, 14), "Quyết định"),
}


def test_every_layout_file_is_checked() -> None:
    assert sorted(f.name for f in FOLDER.glob("[a-z]_*")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_header_layout_gives_number_issuer_date(name: str) -> None:
    plan = parse_bytes((FOLDER / name).read_bytes(), name, NameFinder(seed_registry()))
    assert (plan.number, plan.issuer, plan.issued_on, plan.kind) == EXPECTED[name]
    assert plan.tasks, name


def test_page_table_cells_are_not_the_issuer_and_give_the_signer() -> None:
    plan = parse_bytes((FOLDER / "a_bang_thuoc_tinh.md").read_bytes(), "a.md", NameFinder(seed_registry()))
    assert plan.signer == "Đinh Công Sứ" and plan.title == "Chăm sóc sức khỏe người cao tuổi năm 2025"
    letter = parse_bytes((FOLDER / "f_cong_van.txt").read_bytes(), "f.txt", NameFinder(seed_registry()))
    assert letter.title == "Triển khai công tác chuyển đổi số năm 2025" and letter.signer == "Lê Thị Hoa"


def test_blank_day_gives_a_month_hint_not_a_date() -> None:
    plan = parse_bytes((FOLDER / "i_bo_trong_ngay.txt").read_bytes(), "i.txt", NameFinder(seed_registry()))
    assert plan.issued_on is None and plan.date_hint == date(2025, 9, 1)


def test_the_document_header_wins_over_the_page_table() -> None:
    page = ("| Số hiệu | Loại văn bản | Nơi ban hành | Ngày ban hành |\n|---|---|---|---|\n"
            "| 98/KH-UBND | Kế hoạch | Tỉnh Gia Lai | 01/10/2025 |\n\n")
    head = ("ỦY BAN NHÂN DÂN\nTỈNH GIA LAI\n\nSố: 98/KH-UBND\n\nGia Lai, ngày 03 tháng 10 năm 2025\n\nKẾ HOẠCH\n\n"
            "Phòng, chống dịch năm 2025\n\nII. NHIỆM VỤ\n\n1. Sở Y tế chủ trì giám sát dịch trong quý IV/2025.\n")
    plan = parse_text(page + head, "p.md")
    assert (plan.number, plan.issuer, plan.issued_on) == ("98/KH-UBND", "Ủy ban nhân dân tỉnh Gia Lai",
                                                          date(2025, 10, 3))
    # the blank number of a signed copy is filled from the page that published it
    plan = parse_text(page + head.replace("98/KH-UBND", "    /KH-UBND").replace("ngày 03", "ngày    "), "p.md")
    assert (plan.number, plan.issued_on) == ("98/KH-UBND", date(2025, 10, 1))


def test_spaced_number_and_day_in_a_pdf_text_layer() -> None:
    data = make_pdf(["UY BAN NHAN DAN", "TINH NGHE AN", "So: 1 7 3 /KH-UBND", "Nghe An, ngay 1 2 thang 9 nam 2025",
                     "KE HOACH", "Phong chong thien tai nam 2025", "II. NHIEM VU",
                     "1. So Y te chu tri kham suc khoe trong quy IV nam 2025."])
    plan = parse_bytes(data, "kh.pdf", NameFinder(seed_registry()))
    assert (plan.number, plan.issued_on) == ("173/KH-UBND", date(2025, 9, 12))


def test_number_in_a_word_header_table_beside_the_date() -> None:
    data = make_docx(["KẾ HOẠCH", "Giám sát bảo hiểm y tế năm 2025", "II. NHIỆM VỤ",
                      "1. Sở Y tế chủ trì giám sát trong quý IV/2025."],
                     header=[["UBND TỈNH QUẢNG BÌNH\nSỞ Y TẾ", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
                              "Độc lập - Tự do - Hạnh phúc"],
                             ["Số: 1 2 /KH-SYT", "Quảng Bình, ngày 0 5 tháng 11 năm 2025"]])
    plan = parse_bytes_docx(data)
    assert (plan.number, plan.issuer, plan.issued_on) == ("12/KH-SYT", "Sở Y tế", date(2025, 11, 5))


async def test_metadata_layouts_store_on_both_databases(db: Database) -> None:
    for name in sorted(EXPECTED):
        result = await import_file(db, (FOLDER / name).read_bytes(), name)
        assert result.parsed.tasks, name
    async with db.session() as s:
        stored = {(p.number, p.issuer, p.issued_on, p.kind) for p in await s.scalars(select(Plan))}
    assert stored == set(EXPECTED.values())


BODY = ("\n\nKẾ HOẠCH\n\nPhòng, chống dịch năm 2025\n\nII. NHIỆM VỤ\n\n"
        "1. Sở Y tế chủ trì giám sát dịch trong quý IV/2025.\n")


@pytest.mark.parametrize(("lines", "issuer"), [
    (["ĐẢNG BỘ TỈNH NGHỆ AN", "TỈNH ỦY"], "Tỉnh ủy Nghệ An"),  # the committee of the Party organisation above
    (["ĐẢNG BỘ THÀNH PHỐ HÀ NỘI", "THÀNH ỦY"], "Thành ủy Hà Nội"),
    (["UBND HUYỆN NAM ĐÀN"], "Ủy ban nhân dân huyện Nam Đàn"),  # an abbreviated head
    (["ỦY BAN NHÂN DÂN", "XÃ HƯNG NGUYÊN"], "Ủy ban nhân dân xã Hưng Nguyên"),
    (["ỦY BAN NHÂN DÂN", "PHƯỜNG HOÀN KIẾM"], "Ủy ban nhân dân phường Hoàn Kiếm"),
    (["ỦY BAN THƯỜNG VỤ QUỐC HỘI"], "Ủy ban Thường vụ Quốc hội"),
    (["THỦ TƯỚNG CHÍNH PHỦ"], "Thủ tướng Chính phủ"),
    (["BỘ TÀI CHÍNH", "CỤC THUẾ"], "Cục Thuế"),  # the issuing body below its ministry
    (["UBND TỈNH NGHỆ AN", "BAN CHỈ ĐẠO PHÒNG, CHỐNG THIÊN TAI"], "Ban Chỉ đạo phòng, chống thiên tai"),
    (["BỘ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI"], "Bộ Lao động - Thương binh và Xã hội"),
])
def test_issuer_lines_of_every_kind_of_body(lines: list[str], issuer: str) -> None:
    plan = parse_text("\n".join(lines) + "\n\nSố: 12/KH-XX\n\nNghệ An, ngày 03 tháng 10 năm 2025" + BODY)
    assert plan.issuer == issuer


def test_numeric_date_spaced_code_hyphen_and_a_letter_to_its_recipients() -> None:
    plan = parse_text("ỦY BAN NHÂN DÂN\nTỈNH NGHỆ AN\n\nSố: 1 2 3 4 /UBND - KT\n\nNghệ An, ngày 09/01/2025\n\n"
                      "Kính gửi: Các sở, ngành.\n\n1. Sở Y tế chủ trì giám sát dịch trong quý IV/2025.\n")
    assert (plan.number, plan.issuer, plan.issued_on, plan.kind) == (
        "1234/UBND-KT", "Ủy ban nhân dân tỉnh Nghệ An", date(2025, 1, 9), "Công văn")


def test_page_labels_of_other_sites_and_an_abbreviated_issuer() -> None:
    plan = parse_text("| Số ký hiệu | 56/ 2025/ QĐ - UBND |\n| Hình thức văn bản | Quyết định |\n"
                      "| Cơ quan ban hành | UBND tỉnh Nghệ An |\n| Ngày ban hành | 9/1/2025 |\n\n" + BODY, "p.md")
    assert (plan.number, plan.issuer, plan.issued_on) == ("56/2025/QĐ-UBND", "Ủy ban nhân dân tỉnh Nghệ An",
                                                          date(2025, 1, 9))


@pytest.mark.parametrize("head", [
    # one table row: issuer, rule and number in the left cell; motto, rule and date in the right one
    "| **ỦY BAN NHÂN DÂN**<br>**TỈNH NINH BÌNH**<br>-------<br>Số: 2107/KH-UBND | **CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT "
    "NAM**<br>**Độc lập - Tự do - Hạnh phúc**<br>---------------<br>*Ninh Bình, ngày 22 tháng 8 năm 2025* |",
    # a PDF text layer: the spaced-out number wider than a column gap
    "ỦY BAN NHÂN DÂN\nTỈNH NINH BÌNH\nSố:     2 1 0 7    /KH-UBND         Ninh Bình, ngày 22 tháng 8 năm 2025",
    # a crawl that ran a cell's lines together
    "ỦY BAN NHÂN DÂN TỈNH NINH BÌNH ------- Số: 2107/KH-UBND\nNinh Bình, ngày 22 tháng 8 năm 2025",
])
def test_number_run_into_the_issuer_cell(head: str) -> None:
    plan = parse_text(head + BODY, "x.md")
    assert (plan.number, plan.issuer, plan.issued_on) == ("2107/KH-UBND", "Ủy ban nhân dân tỉnh Ninh Bình",
                                                          date(2025, 8, 22))


def test_a_letter_whose_subject_shares_a_line_with_the_date() -> None:
    plan = parse_text("BỘ Y TẾ              CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
                      "                      Độc lập - Tự do - Hạnh phúc\nSố: 512/BYT-KCB\n"
                      "V/v tăng cường phòng, chống            Hà Nội, ngày 14 tháng 3 năm 2025\n"
                      "dịch sởi năm 2025\n\nKính gửi: Sở Y tế các tỉnh, thành phố.\n\n"
                      "1. Sở Y tế các tỉnh chủ trì rà soát tiêm chủng, hoàn thành trước ngày 30/4/2025.\n\n"
                      "Nơi nhận:\n- Lưu: VT.\n")
    assert (plan.number, plan.issuer, plan.issued_on, plan.kind) == ("512/BYT-KCB", "Bộ Y tế", date(2025, 3, 14),
                                                                     "Công văn")
    assert plan.title == "Tăng cường phòng, chống dịch sởi năm 2025"


def test_a_plan_cited_in_the_preamble_gives_no_number() -> None:
    plan = parse_text("ỦY BAN NHÂN DÂN\nTỈNH NGHỆ AN\nSố:      /KH-UBND\nNghệ An, ngày    tháng 9 năm 2025\n"
                      "KẾ HOẠCH\nPhòng, chống thiên tai\nThực hiện Kế hoạch ban hành kèm theo Quyết định "
                      "số 2138/QĐ-TTg "
                      "ngày 27 tháng 9 năm 2025 của Thủ tướng Chính phủ, UBND tỉnh ban hành Kế hoạch như sau:\n"
                      "II. NHIỆM VỤ\n1. Sở Y tế chủ trì giám sát dịch trong quý IV/2025.\n")
    assert (plan.number, plan.issuer, plan.issued_on) == (None, "Ủy ban nhân dân tỉnh Nghệ An", None)


@pytest.mark.parametrize("page", [
    "**Số hiệu:** 412/KH-UBND\n\n**Nơi ban hành:** Tỉnh Hòa Bình\n\n**Ngày ban hành:** 15/09/2025\n\n"
    "**Người ký:** Đinh Công Sứ",  # one attribute a line
    "Số hiệu: 412/KH-UBND    Loại văn bản: Kế hoạch\nNơi ban hành: Tỉnh Hòa Bình    Người ký: Đinh Công Sứ\n"
    "Ngày ban hành: 15/09/2025",  # two a line, apart
    "Số hiệu: 412/KH-UBND Loại văn bản: Kế hoạch\nNơi ban hành: Tỉnh Hòa Bình Người ký: Đinh Công Sứ\n"
    "Ngày ban hành: 15/09/2025",  # two a line, run together
])
def test_page_attributes_written_as_lines(page: str) -> None:
    plan = parse_text(page + BODY, "p.md")
    assert (plan.number, plan.issuer, plan.issued_on, plan.signer) == (
        "412/KH-UBND", "Ủy ban nhân dân tỉnh Hòa Bình", date(2025, 9, 15), "Đinh Công Sứ")


def test_a_national_assembly_header_names_its_kind_before_the_number() -> None:
    plan = parse_text("ỦY BAN THƯỜNG VỤ QUỐC HỘI      CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
                      "Nghị quyết số: 1339/NQ-UBTVQH15      Hà Nội, ngày 14 tháng 10 năm 2025" + BODY)
    assert (plan.number, plan.issuer, plan.issued_on) == ("1339/NQ-UBTVQH15", "Ủy ban Thường vụ Quốc hội",
                                                          date(2025, 10, 14))
