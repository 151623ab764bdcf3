"""Reading files: formats and encodings, and the files the importer refuses (with a Vietnamese reason)."""

from __future__ import annotations

import time
import unicodedata
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from knowledge.importer import ImportRefused, NameFinder, parse_bytes, parse_path, seed_registry
from knowledge.importer.reading import decode_text
from tests.import_helpers import blank_pdf, make_docx, make_pdf

PLAN = ("KẾ HOẠCH\n\nThực hiện chuyển đổi số\n\nII. NHIỆM VỤ\n\n"
        "1. Sở Tư pháp chủ trì, phối hợp với Sở Nội vụ rà soát văn bản trước ngày 30/6/2025.\n")


def parse(data: bytes, name: str):
    return parse_bytes(data, name, NameFinder(seed_registry()))


def to_cp1258(text: str) -> bytes:
    """Windows-1258 writes a base letter (ê, ư, ă ...) and a combining tone mark."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        d = unicodedata.normalize("NFD", ch)
        tone = next(c for c in d if c in "\u0300\u0301\u0303\u0309\u0323")
        base = unicodedata.normalize("NFC", d.replace(tone, ""))
        out += base.encode("cp1258") + tone.encode("cp1258")
    return bytes(out)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1258"])
def test_text_encodings(encoding: str) -> None:
    data = to_cp1258(PLAN) if encoding == "cp1258" else PLAN.encode(encoding)
    if encoding == "cp1258":
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")  # really a legacy file: the code page must be detected
    plan = parse(data, "plan.txt")
    assert plan.tasks[0].lead == ["Sở Tư pháp"] and plan.tasks[0].coordinators == ["Sở Nội vụ"]


def test_decomposed_text_is_composed() -> None:
    assert decode_text(unicodedata.normalize("NFD", PLAN).encode()) == unicodedata.normalize("NFC", PLAN)


def test_docx_paragraphs_and_tables_in_order() -> None:
    data = make_docx(
        ["ỦY BAN NHÂN DÂN TỈNH GIA LAI", "Số: 77/KH-UBND", "KẾ HOẠCH", "Cải cách hành chính năm 2025",
         "II. NHIỆM VỤ", "1. Sở Nội vụ chủ trì theo dõi chung, báo cáo Ủy ban nhân dân tỉnh trước ngày 15/12/2025."],
        table=[["STT", "Nhiệm vụ", "Thời hạn", "Đơn vị phối hợp", "Đơn vị chủ trì"],
               ["1", "Số hóa hồ sơ thủ tục hành chính", "Quý III/2025", "Sở Nội vụ", "Sở Khoa học và Công nghệ"],
               ["2", "Rà soát thủ tục", "Tháng 10/2025", "", "Sở Tư pháp"]],
        after=["III. TỔ CHỨC THỰC HIỆN", "Sở Tài chính bố trí kinh phí thực hiện."])
    plan = parse(data, "ke-hoach.docx")
    assert plan.number == "77/KH-UBND" and plan.title == "Cải cách hành chính năm 2025"
    texts = [t.text for t in plan.tasks]
    assert texts[0].startswith("Sở Nội vụ chủ trì") and "Sở Tài chính bố trí kinh phí thực hiện." in texts
    row = next(t for t in plan.tasks if t.text.startswith("Số hóa"))
    # Columns found by their header words, in another order than usual.
    assert row.lead == ["Sở Khoa học và Công nghệ"] and row.coordinators == ["Sở Nội vụ"]
    assert row.deadline and row.deadline.due.isoformat() == "2025-09-30"  # type: ignore[union-attr]


def test_pdf_with_a_text_layer() -> None:
    data = make_pdf(["KE HOACH", "Thuc hien chuyen doi so", "II. NHIEM VU",
                     "1. So Tu phap chu tri, phoi hop voi So Noi vu ra soat van ban truoc ngay 30/6/2025."])
    plan = parse(data, "plan.pdf")
    t = plan.tasks[0]
    assert t.lead == ["So Tu phap"] and t.coordinators == ["So Noi vu"]
    assert t.deadline and t.deadline.due.isoformat() == "2025-06-30"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("data", "name", "reason"),
    [
        (b"", "empty.txt", "Tệp rỗng"),
        (b"   \n\n  ", "blank.txt", "Tệp rỗng"),
        (bytes(range(256)) * 40, "blob.txt", "nhị phân"),
        (b"PK\x03\x04 this is not really a zip", "broken.docx", ".docx bị hỏng"),
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage", "broken.pdf", "PDF bị hỏng"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "scan.png", "Chưa hỗ trợ"),
        ("MẬT\n\n".encode() + PLAN.encode(), "secret.txt", "MẬT"),
        ("**TỐI MẬT**\n\n".encode() + PLAN.encode(), "secret.txt", "TỐI MẬT"),
        ("ỦY BAN NHÂN DÂN TỈNH X\nĐộ mật: Mật\n\n".encode() + PLAN.encode(), "secret.txt", "MẬT"),
        ("KẾ HOẠCH\n\nNội dung\n\nII. NỘI DUNG\n\n1. Đánh giá tình hình.".encode(), "none.txt", "Không tìm thấy"),
    ],
)
def test_refused_files(data: bytes, name: str, reason: str) -> None:
    with pytest.raises(ImportRefused) as e:
        parse(data, name)
    assert reason in e.value.message_vi


def test_docx_that_is_a_zip_without_a_document() -> None:
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "xin chào")
    with pytest.raises(ImportRefused, match="docx"):
        parse(buf.getvalue(), "plan.docx")


def test_scanned_pdf_without_text_is_refused() -> None:
    with pytest.raises(ImportRefused, match="scan"):
        parse(blank_pdf(), "scan.pdf")


def test_legacy_font_encoding_is_named() -> None:
    # TCVN3 (ABC) bytes read as Latin-1 look like this; no code page makes them Vietnamese.
    tcvn3 = ("KÕ ho¹ch thùc hiÖn nhiÖm vô ph¸t triÓn khoa häc vµ c«ng nghÖ cña tØnh " * 30).encode("latin-1")
    with pytest.raises(ImportRefused, match=r"TCVN3|bảng mã"):
        parse(tcvn3, "old.txt")


def test_a_50_mb_file_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    started = time.perf_counter()
    with pytest.raises(ImportRefused, match="quá lớn"):
        parse_path(big, NameFinder(seed_registry()), max_bytes=20 * 1024 * 1024)
    assert time.perf_counter() - started < 0.5
    with pytest.raises(ImportRefused, match="quá lớn"):
        parse(b"x" * (21 * 1024 * 1024), "big.txt")


def test_word_numbering_lost_sections_and_agency_headings_as_plain_paragraphs() -> None:
    """Word's automatic numbering is not in the text: sections and agency headings are plain lines."""
    data = make_docx(["ỦY BAN NHÂN DÂN TỈNH LÂM ĐỒNG", "KẾ HOẠCH", "Phát triển du lịch năm 2025",
                      "Ủy ban nhân dân tỉnh ban hành Kế hoạch như sau:",
                      "MỤC ĐÍCH, YÊU CẦU", "Sở Du lịch chủ trì nâng cao chất lượng (không phải nhiệm vụ).",
                      "TỔ CHỨC THỰC HIỆN", "Sở Văn hóa, Thể thao và Du lịch",
                      "Chủ trì xây dựng chương trình quảng bá du lịch trong quý III/2025.",
                      "Phối hợp với Sở Tài chính bố trí kinh phí.",
                      "Sở Công Thương", "Hỗ trợ doanh nghiệp du lịch thường xuyên."])
    plan = parse(data, "word.docx")
    assert [(t.text[:8], t.lead) for t in plan.tasks] == [
        ("Chủ trì ", ["Sở Văn hóa, Thể thao và Du lịch"]), ("Phối hợp", ["Sở Văn hóa, Thể thao và Du lịch"]),
        ("Hỗ trợ d", ["Sở Công Thương"])]
    assert plan.tasks[1].coordinators == ["Sở Tài chính"]


def test_docx_table_with_a_two_row_header_and_merged_cells() -> None:
    data = make_docx(["KẾ HOẠCH", "Chương trình năm 2025", "II. NHIỆM VỤ"],
                     table=[["TT", "Nội dung công việc", "Cơ quan thực hiện", "Cơ quan thực hiện",
                             "Thời gian thực hiện"],
                            ["TT", "Nội dung công việc", "Chủ trì", "Phối hợp", "Thời gian thực hiện"],
                            ["I", "Nhóm nhiệm vụ thể chế", "Nhóm nhiệm vụ thể chế", "Nhóm nhiệm vụ thể chế",
                             "Nhóm nhiệm vụ thể chế"],
                            ["1", "Ban hành quy chế phối hợp", "Sở Tư pháp", "Các sở, ngành liên quan",
                             "15/12 hằng năm"],
                            ["2", "Xây dựng đề án", "Sở Nội vụ chủ trì, phối hợp với Sở Tài chính", "", "Năm 2025"]])
    plan = parse(data, "bang.docx")
    one, two = plan.tasks
    assert one.ref == "II.I.1" and one.lead == ["Sở Tư pháp"] and one.coordinators == []
    assert one.deadline and (one.deadline.kind, one.deadline.month, one.deadline.day) == ("yearly", 12, 15)
    assert two.lead == ["Sở Nội vụ"] and two.coordinators == ["Sở Tài chính"]
    assert two.deadline and two.deadline.kind == "year"


def test_table_pasted_as_tab_separated_text() -> None:
    text = ("KẾ HOẠCH\n\nCải cách hành chính\n\nII. NHIỆM VỤ\n\n"
            "STT\tNhiệm vụ\tCơ quan chủ trì\tCơ quan phối hợp\tThời hạn\n"
            "1\tRà soát thủ tục hành chính\tSở Tư pháp\tSở Nội vụ<br>Văn phòng UBND tỉnh\tTháng 6/2025\n")
    plan = parse(text.encode(), "bang.txt")
    t = plan.tasks[0]
    assert t.lead == ["Sở Tư pháp"] and t.coordinators == ["Sở Nội vụ", "Văn phòng UBND tỉnh"]
    assert t.deadline and t.deadline.due.isoformat() == "2025-06-30"  # type: ignore[union-attr]


def test_table_refs_follow_where_the_table_stands_and_appendix_paragraphs_are_read() -> None:
    header = ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành"]
    data = make_docx(["ỦY BAN NHÂN DÂN", "TỈNH GIA LAI", "Số: 15/KH-UBND", "KẾ HOẠCH", "Cải cách hành chính năm 2026",
                      "I. MỤC ĐÍCH, YÊU CẦU", "Bảo đảm thực chất.", "III. TỔ CHỨC THỰC HIỆN",
                      "1. Phân công nhiệm vụ cụ thể"],
                     table=[header, ["1", "Rà soát thủ tục hành chính", "Sở Tư pháp", "Sở Nội vụ", "Quý II/2026"]],
                     after=["Nơi nhận:", "- Lưu: VT.", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Nguyễn Văn C",
                            "PHỤ LỤC II", "NHIỆM VỤ CỤ THỂ", "(Kèm theo Kế hoạch số 15/KH-UBND của UBND tỉnh)",
                            "1. Sở Tài chính chủ trì, phối hợp với Sở Nội vụ bố trí kinh phí trong quý III/2026.",
                            "2. Lập danh mục dịch vụ công, giao Sở Khoa học và Công nghệ thực hiện trong năm 2026."])
    plan = parse(data, "bang.docx")
    refs = {" ".join(t.text.split()[:3]): t.ref for t in plan.tasks}
    assert refs == {"Rà soát thủ": "III.1.1", "Sở Tài chính": "PL.II.1", "Lập danh mục": "PL.II.2"}
    money = next(t for t in plan.tasks if t.ref == "PL.II.1")
    assert money.lead == ["Sở Tài chính"] and money.coordinators == ["Sở Nội vụ"]
    assert money.deadline and money.deadline.due and money.deadline.due.isoformat() == "2026-09-30"
    pasted = "\n\n".join(["KẾ HOẠCH", "Cải cách hành chính năm 2026", "II. NHIỆM VỤ", "Nơi nhận:", "- Lưu: VT.",
                          "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Nguyễn Văn C", "PHỤ LỤC",
                          "| STT | Nhiệm vụ | Cơ quan chủ trì | Thời hạn |\n|---|---|---|---|\n"
                          "| 1 | Số hóa hồ sơ | Sở Nội vụ | Tháng 6/2026 |"])
    assert [t.ref for t in parse(pasted.encode(), "pl.md").tasks] == ["PL.1"]
