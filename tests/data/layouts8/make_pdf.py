"""Writes s_phu_luc_cong_bao.pdf: a plan of our own laid out as a signed Công báo PDF is (fpdf2, the DejaVu font
the system ships). Run from the repository root: `.venv/bin/python tests/data/layouts8/make_pdf.py` (needs fpdf2).

What the PDF carries, as the real ones do: a running header "CÔNG BÁO/Số .../Ngày ..." with the page number on
every page, marked as a pagination artifact, whose date is not the plan's; an appendix task table whose grid is
drawn as thin filled rectangles (cells wrapped over lines, two cells ending on one height), a group row spanning
all columns, the header row repeated on the next page, a row broken by the page break, and a task cell merged
over two sub-rows each with its own result and time.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

HERE = Path(__file__).resolve().parent
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
LINE = 13.0
RULE = 0.5
COLS = (40, 30, 190, 95, 95, 95, 80)  # x of the first rule, then the columns' widths
HEADER = (["TT"], ["Nhiệm vụ"], ["Cơ quan", "chủ trì"], ["Cơ quan", "phối hợp"], ["Kết quả"], ["Thời gian", "hoàn thành"])

BODY = [
    ["CHÍNH PHỦ", "", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"],
    ["Số: 45/NQ-CP", "", "Hà Nội, ngày 20 tháng 02 năm 2026"],
    ["", "KẾ HOẠCH", ""],
    ["", "Phát triển thư viện số giai đoạn 2026 - 2027", ""],
    ["I. MỤC ĐÍCH, YÊU CẦU"],
    ["Đưa tài nguyên thư viện đến người dân ở mọi địa bàn."],
    ["II. NHIỆM VỤ CỤ THỂ"],
    ["1. Số hóa tài liệu quý hiếm của các thư viện công cộng."],
    ["2. Kết nối các thư viện số trên một nền tảng chung."],
    ["3. Bồi dưỡng kỹ năng số cho người làm thư viện."],
    ["Cơ quan chủ trì, phối hợp và thời gian của từng nhiệm vụ tại Phụ lục kèm theo Kế hoạch này./."],
    ["", "", "TM. CHÍNH PHỦ"],
    ["", "", "THỦ TƯỚNG"],
    ["", "", "Trần Văn Bình"],
]

# Rows of the appendix: (TT, task lines, lead lines, coordinator lines, result lines, time lines); None for a
# group row (its text in the task tuple), "sub" for a sub-row under the cell merged above it.
PAGE_ONE = [
    ("group", ["I. Số hóa tài liệu"]),
    ("1", ["Số hóa tài liệu quý hiếm của các", "thư viện công cộng"], ["Bộ Văn hóa, Thể", "thao và Du lịch"],
     ["Bộ Khoa học và", "Công nghệ"], ["Kho tài liệu số"], ["Quý III/2026"]),
    ("2", ["Xây dựng bộ tiêu chuẩn siêu dữ liệu", "cho tài liệu số hóa, áp dụng thống", "nhất trong cả nước"],
     ["Bộ Khoa học và", "Công nghệ"], ["Bộ Văn hóa, Thể", "thao và Du lịch"], ["Bộ tiêu chuẩn"], ["Tháng 10/2026"]),
]
PAGE_TWO = [
    ("", ["cho các thư viện cấp tỉnh"], [], [], [], []),  # row 2's task goes on after the page break
    ("group", ["II. Kết nối và bồi dưỡng"]),
    ("3", ["Kết nối các thư viện số trên một", "nền tảng chung"], ["Bộ Văn hóa, Thể", "thao và Du lịch"],
     ["Ủy ban nhân dân", "cấp tỉnh"], ["Đề án kết nối"], ["Tháng 12/2026"]),
    ("sub", [], ["Bộ Văn hóa, Thể", "thao và Du lịch"], ["Ủy ban nhân dân", "cấp tỉnh"], ["Nền tảng vận", "hành"],
     ["Năm 2027"]),
    ("4", ["Bồi dưỡng kỹ năng số cho người", "làm thư viện"], ["Ủy ban nhân dân", "cấp tỉnh"], ["Bộ Nội vụ"],
     ["Lớp bồi dưỡng"], ["Hằng năm"]),
]


class Doc(FPDF):
    def running_header(self, page: int) -> None:
        self._out("/Artifact <</Type /Pagination /Subtype /Header>> BDC")
        self.text(300, 30, f"CÔNG BÁO/Số 123/Ngày 05-03-2026 {page}")
        self._out("EMC")

    def rule(self, x: float, y: float, w: float, h: float) -> None:
        self.rect(x, y, w, h, style="F")


def _xs() -> list[float]:
    xs = [float(COLS[0])]
    for w in COLS[1:]:
        xs.append(xs[-1] + w)
    return xs


def _row(doc: Doc, y: float, cells: list[list[str]], merged_above: set[int] | None = None) -> float:
    """Draws one row from y (top) down; returns its bottom. `merged_above`: columns without a rule on top."""
    xs = _xs()
    height = max(len(c) for c in cells) * LINE + 6
    for c, lines in enumerate(cells):
        top = y + (height - len(lines) * LINE) / 2  # Word centres a cell's text vertically
        for k, line in enumerate(lines):
            doc.text(xs[c] + 3, top + (k + 1) * LINE - 3, line)
        if c not in (merged_above or set()):
            doc.rule(xs[c], y, xs[c + 1] - xs[c], RULE)
        doc.rule(xs[c], y, RULE, height)
    doc.rule(xs[-1], y, RULE, height)
    return y + height


def _close(doc: Doc, y: float) -> None:
    xs = _xs()
    doc.rule(xs[0], y, xs[-1] - xs[0], RULE)


def _group(doc: Doc, y: float, text: str) -> float:
    xs = _xs()
    height = LINE + 6
    doc.text(xs[0] + 3, y + LINE, text)
    doc.rule(xs[0], y, xs[-1] - xs[0], RULE)
    doc.rule(xs[0], y, RULE, height)
    doc.rule(xs[-1], y, RULE, height)
    return y + height


def _table(doc: Doc, y: float, rows: list[tuple]) -> float:  # type: ignore[type-arg]
    y = _row(doc, y, [*HEADER])
    for row in rows:
        if row[0] == "group":
            y = _group(doc, y, row[1][0])
        elif row[0] == "sub":
            y = _row(doc, y, [[], [], *row[2:]], merged_above={0, 1})
        else:
            y = _row(doc, y, [[row[0]], *row[1:]])
    _close(doc, y)
    return y


def main() -> None:
    doc = Doc(orientation="L", unit="pt", format="A4")
    doc.add_font("DejaVu", fname=FONT)
    doc.set_font("DejaVu", size=10)
    doc.set_auto_page_break(False)
    doc.add_page()
    doc.running_header(11)
    y = 70.0
    for line in BODY:
        if len(line) == 3:
            for x, text in zip((60, 330, 520), line, strict=True):
                if text:
                    doc.text(x, y, text)
        else:
            doc.text(60, y, line[0])
        y += 18
    doc.add_page()
    doc.running_header(12)
    doc.text(380, 70, "PHỤ LỤC")
    doc.text(200, 88, "DANH MỤC NHIỆM VỤ PHÁT TRIỂN THƯ VIỆN SỐ GIAI ĐOẠN 2026 - 2027")
    _table(doc, 110, PAGE_ONE)
    doc.add_page()
    doc.running_header(13)
    _table(doc, 60, PAGE_TWO)
    doc.output(str(HERE / "s_phu_luc_cong_bao.pdf"))


if __name__ == "__main__":
    main()
