"""A plan rendered as a real Word file, as a signed-PDF-like file with a text layer, and as that layer's text:
what the importer must read alike (bench/format_invariance.py scores the corpus so; tests/test_import_formats.py
checks our own plans). The plan is read into paragraphs and tables by the importer's own reading of the
original, so a rendering carries what the importer saw there.

- docx: python-docx; the header block a borderless two-column table (issuer and number left, motto and
  place-date right), "1." / "a)" / "I." items numbered by Word (the label is not in the paragraph's text, as in
  a real Word file), headings in heading styles, tables as Word tables;
- pdf: fpdf2 with the DejaVu Serif font matplotlib ships (nothing is downloaded); A4, justified paragraphs
  wrapped to the page, the header's two columns written line by line side by side (a text layer then gives
  "ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" on one line), the kind line letter-spaced
  ("K Ế H O Ạ C H"), tables drawn as tables, a page number at the foot of every page and a running header on
  every page after the first;
- pdf_text: the PDF's text as pypdf extracts it (pages run on, no page marks).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# How far into a document its header block (issuer, number, motto, place and date) may run, in paragraphs.
HEAD_SPAN = 16
KIND_WORDS = ("ke hoach", "quyet dinh", "chuong trinh", "thong bao", "cong dien", "nghi quyet", "chi thi",
              "ket luan", "huong dan", "cong van", "to trinh", "bao cao")
_KIND = re.compile(r"^(?:" + "|".join(KIND_WORDS) + r")(?: hanh dong)?\s*:?$")
_RIGHT_COLUMN = re.compile(r"^(?:cong hoa xa hoi|doc lap|dang cong san viet nam|[\w .]{2,40}, ngay\b)")
_MOTTO_LINE = re.compile(r"^(?:CỘNG H|ĐẢNG CỘNG|Độc lập|[-_=*. ]*$)")
_DECOR = re.compile(r"^[-_=*.…–— |]{2,}$")
# "1." / "a)" / "I." items Word numbers itself: (kind, value, text after the label).
_ITEM = (("decimal", re.compile(r"^(\d{1,2})\.\s+(?=\S)")), ("letter", re.compile(r"^([a-z])\)\s+(?=\S)")),
         ("roman", re.compile(r"^([IVX]{1,5})\.\s+(?=\S)")))
_ROMAN = {"I": 1, "V": 5, "X": 10}
FONT_DIR = Path(__import__("matplotlib").__file__).parent / "mpl-data" / "fonts" / "ttf"


@dataclass
class Columns:
    """Two blocks side by side: the header (issuer | motto) or a signature (recipients | signer)."""
    left: list[str]
    right: list[str]

    def __post_init__(self) -> None:
        """A crawl's broken lines made whole as a signed header has them: "Số:" / "215/KH-UBND" is one line,
        and so is the place and date ("Hà" / "Nam, ngày 14 tháng 3 năm 2026")."""
        left: list[str] = []
        for line in self.left:
            if left and left[-1].rstrip().endswith("Số:"):
                left[-1] = left[-1].rstrip() + " " + line
            else:
                left.append(line)
        self.left = left
        at = next((i for i, line in enumerate(self.right) if ", ngày" in line or ", ngay" in line), None)
        if at is not None:
            first = at
            while first > 0 and not _MOTTO_LINE.match(self.right[first - 1]):
                first -= 1
            self.right = [*self.right[:first], " ".join(self.right[first:at + 1]), *self.right[at + 1:]]


@dataclass
class Para:
    text: str
    style: str = "normal"  # normal | bold | heading | kind | title


@dataclass
class Grid:
    rows: list[list[str]] = field(default_factory=list)


Element = Columns | Para | Grid


# ---- the plan's structure, as the importer reads the original ----------------------------------------------

def structure(path: Path) -> list[Element]:
    """Paragraphs, tables and two-column blocks of a plan, read by the importer's own reading."""
    from knowledge.importer import NameFinder, read_blocks, seed_registry
    from knowledge.importer.outline import Para as IPara
    from knowledge.importer.outline import paragraphs
    from knowledge.importer.reading import Table
    from knowledge.importer.tables import join_continued, pipe_line_tables, vertical_tables
    from knowledge.text import clean_markup, fold

    blocks = read_blocks(path.read_bytes(), path.name, 50 * 1024 * 1024)
    items = join_continued(paragraphs(vertical_tables(pipe_line_tables(blocks), NameFinder(seed_registry()), None)))
    out: list[Element] = []
    kind_at = next((i for i, it in enumerate(items[:HEAD_SPAN])
                    if isinstance(it, IPara) and _KIND.match(fold(it.text.strip(" *|")))), None)
    i = 0
    if kind_at is not None and not any(isinstance(it, Table) or it.text.strip() == "|" for it in items[:kind_at]
                                       if True):
        left: list[str] = []
        right: list[str] = []
        for it in items[:kind_at]:
            text = it.text.strip()  # type: ignore[union-attr]
            if _DECOR.match(text):
                continue
            (right if _RIGHT_COLUMN.match(fold(text)) else left).append(text)
        out.append(Columns(left, right))
        i = kind_at
    title_left = 0
    while i < len(items):
        it = items[i]
        if isinstance(it, Table):
            out.append(Grid([[clean_markup(c) for c in r] for r in it.rows]))
            i += 1
            continue
        text = it.text.strip()
        if text == "|":
            rows, i = _pipe_cells(items, i)
            cells = [c for r in rows for c in r]
            if len(cells) >= 2:
                left = [ln for r in rows for ln in (r[0] if r else [])]
                right = [ln for r in rows for ln in (r[1] if len(r) > 1 else [])]
                out.append(Columns(left, right))
            else:
                out.extend(Para(ln) for c in cells for ln in c)
            continue
        i += 1
        if not text or _DECOR.match(text):
            continue
        folded = fold(text.strip(" *"))
        if _KIND.match(folded) and title_left == 0 and len(out) < HEAD_SPAN:
            out.append(Para(text.strip(" *"), "kind"))
            title_left = 2
            continue
        raw = it.raw.strip()
        bold = raw.startswith("**") or raw.startswith("#")
        if title_left and (text.isupper() or bold) and len(text) < 300:
            out.append(Para(text, "title"))
            title_left -= 1
            continue
        title_left = 0
        style = "heading" if bold and (_ITEM[2][1].match(text) or text.isupper()) else "bold" if bold else "normal"
        out.append(Para(text, style))
    return out


def _pipe_cells(items: list[Any], i: int) -> tuple[list[list[list[str]]], int]:
    """A header or signature table written with its cells between lone "|" lines: rows of two cells."""
    rows: list[list[list[str]]] = [[]]
    cell: list[str] = []
    j = i + 1
    while j < len(items):
        it = items[j]
        if not hasattr(it, "text"):
            break
        t = it.text.strip()
        if t == "|":
            if cell:
                rows[-1].append(cell)
                cell = []
            elif len(rows[-1]) >= 2:
                rows.append([])
            elif rows[-1]:
                rows[-1].append([])
            j += 1
            continue
        if t.endswith("|"):
            t = t[:-1].strip()
            if t and not _DECOR.match(t):
                cell.append(t)
            rows[-1].append(cell)
            cell = []
            j += 1
            continue
        if len(rows[-1]) >= 2 and not cell:
            break  # the row is full: what follows is the document's own text
        if not _DECOR.match(t):
            cell.append(t)
        j += 1
    if cell:
        rows[-1].append(cell)
    return [r for r in rows if r], j


def _item(text: str) -> tuple[str, int, str] | None:
    for kind, pattern in _ITEM:
        m = pattern.match(text)
        if m:
            label = m.group(1)
            value = (ord(label) - 96 if kind == "letter" else _roman(label) if kind == "roman" else int(label))
            return kind, value, text[m.end():]
    return None


def _roman(s: str) -> int:
    total = 0
    for a, b in zip(s, [*s[1:], ""], strict=True):
        v = _ROMAN[a]
        total += -v if b and _ROMAN[b] > v else v
    return total


# ---- docx ------------------------------------------------------------------------------------------------------

_NUM_FORMATS = {"decimal": ("decimal", "%1."), "letter": ("lowerLetter", "%1)"), "roman": ("upperRoman", "%1.")}
_ABSTRACT_BASE = 900


def render_docx(elements: list[Element]) -> bytes:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls
    from docx.shared import Pt

    document = docx.Document()
    document.styles["Normal"].font.name = "Times New Roman"
    document.styles["Normal"].font.size = Pt(13)
    numbering = document.part.numbering_part.element
    first_num = numbering.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}num")
    for k, (kind, (fmt, text)) in enumerate(_NUM_FORMATS.items()):
        abstract = parse_xml(
            f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{_ABSTRACT_BASE + k}"><w:multiLevelType '
            f'w:val="singleLevel"/><w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/>'
            f'<w:lvlText w:val="{text}"/><w:lvlJc w:val="left"/></w:lvl></w:abstractNum>')
        if first_num is not None:
            first_num.addprevious(abstract)
        else:
            numbering.append(abstract)
        _NUM_FORMATS[kind] = (fmt, text)
    abstract_of = {kind: _ABSTRACT_BASE + k for k, kind in enumerate(_NUM_FORMATS)}
    current: dict[str, tuple[int, int]] = {}  # kind -> (numId, last value)
    next_id = [_ABSTRACT_BASE]

    def number(paragraph: Any, kind: str, value: int) -> None:
        num_id, last = current.get(kind, (0, -1))
        if value != last + 1 or not num_id:
            next_id[0] += 1
            num_id = next_id[0]
            numbering.append(parse_xml(
                f'<w:num {nsdecls("w")} w:numId="{num_id}"><w:abstractNumId w:val="{abstract_of[kind]}"/>'
                f'<w:lvlOverride w:ilvl="0"><w:startOverride w:val="{value}"/></w:lvlOverride></w:num>'))
        current[kind] = (num_id, value)
        num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
        num_pr.get_or_add_ilvl().val = 0
        num_pr.get_or_add_numId().val = num_id

    for el in elements:
        if isinstance(el, Columns):
            table = document.add_table(rows=1, cols=2)  # no style: Word's plain table has no borders
            for cell, lines in zip(table.rows[0].cells, (el.left, el.right), strict=True):
                for n, line in enumerate(lines or [""]):
                    p = cell.paragraphs[0] if n == 0 else cell.add_paragraph()
                    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
                    p.add_run(line).bold = line.isupper()
        elif isinstance(el, Grid):
            width = max((len(r) for r in el.rows), default=0)
            if not width:
                continue
            table = document.add_table(rows=len(el.rows), cols=width)
            table.style = "Table Grid"
            for row, cells in zip(table.rows, el.rows, strict=True):
                if len(cells) == 1 and width > 1:  # a group row: one cell merged across the table
                    row.cells[0].merge(row.cells[-1])
                for cell, text in zip(row.cells, cells, strict=False):
                    cell.text = text
        else:
            item = _item(el.text) if el.style not in ("kind", "title") else None
            style = {"heading": "Heading 1" if item and item[0] == "roman" else "Heading 2"}.get(el.style)
            if el.style == "heading" and not item:
                style = None
            p = document.add_paragraph(style=style)
            p.add_run(item[2] if item else el.text).bold = el.style != "normal"
            if el.style in ("kind", "title"):
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            else:
                p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
            if item:
                number(p, item[0], item[1])
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


# ---- pdf -------------------------------------------------------------------------------------------------------

LINE_H = 6.0
BODY_PT = 12
HEAD_PT = 11
LEFT_COL = 0.4  # share of the text width the header's left column takes


def render_pdf(elements: list[Element], running: str) -> bytes:
    from fpdf import FPDF

    class Page(FPDF):
        def header(self) -> None:
            if self.page_no() > 1:
                self.set_font("serif", "I", 9)
                self.cell(0, 5, running, align="R", new_x="LMARGIN", new_y="NEXT")
                self.ln(2)
            self.set_font("serif", "", BODY_PT)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("serif", "", 10)
            self.cell(0, 8, str(self.page_no()), align="C")

    pdf = Page(format="A4")
    for style, name in (("", "DejaVuSerif.ttf"), ("B", "DejaVuSerif-Bold.ttf"), ("I", "DejaVuSerif-Italic.ttf")):
        pdf.add_font("serif", style, str(FONT_DIR / name))
    pdf.set_margins(25, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("serif", "", BODY_PT)
    for el in elements:
        if isinstance(el, Columns):
            _pdf_columns(pdf, el)
        elif isinstance(el, Grid):
            _pdf_table(pdf, el)
        elif el.style == "kind":
            _pdf_spaced(pdf, el.text)
        else:
            pdf.set_font("serif", "B" if el.style != "normal" else "", BODY_PT)
            align = "C" if el.style == "title" else "J"
            pdf.multi_cell(0, LINE_H, el.text, align=align, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)
    return bytes(pdf.output())


def _pdf_columns(pdf: Any, el: Columns) -> None:
    """Both columns line by line at the same heights, as a signed plan's header is laid out."""
    pdf.set_font("serif", "", HEAD_PT)
    width = pdf.w - pdf.l_margin - pdf.r_margin
    widths = (width * LEFT_COL, width * (1 - LEFT_COL))
    columns = []
    for lines, w in zip((el.left, el.right), widths, strict=True):
        wrapped: list[str] = []
        for line in lines:
            wrapped.extend(pdf.multi_cell(w, LINE_H, line, dry_run=True, output="LINES"))
        columns.append(wrapped)
    rows = max(len(c) for c in columns)
    for k in range(rows):
        if pdf.get_y() + LINE_H > pdf.page_break_trigger:
            pdf.add_page()
        y = pdf.get_y()
        x = pdf.l_margin
        for lines, w in zip(columns, widths, strict=True):
            if k < len(lines):
                pdf.set_font("serif", "B" if lines[k].isupper() else "", HEAD_PT)
                pdf.set_xy(x, y)
                pdf.cell(w, LINE_H, lines[k], align="C")
            x += w
        pdf.set_xy(pdf.l_margin, y + LINE_H)
    pdf.ln(3)
    pdf.set_font("serif", "", BODY_PT)


def _pdf_spaced(pdf: Any, text: str) -> None:
    """The kind line with its letters spaced out, drawn letter by letter ("K Ế H O Ạ C H" in the text layer)."""
    pdf.set_font("serif", "B", 14)
    gap = 2.2
    letters = [c for c in text if c != " "]
    width = sum(pdf.get_string_width(c) for c in letters) + gap * (len(letters) - 1)
    x = (pdf.w - width) / 2
    y = pdf.get_y() + 6
    for c in letters:
        pdf.text(x, y, c)
        x += pdf.get_string_width(c) + gap
    pdf.set_xy(pdf.l_margin, y + 3)
    pdf.set_font("serif", "", BODY_PT)


def _pdf_table(pdf: Any, el: Grid) -> None:
    width = max((len(r) for r in el.rows), default=0)
    if not width:
        return
    pdf.set_font("serif", "", 9)
    try:
        with pdf.table(first_row_as_headings=False, text_align="LEFT", line_height=4.5) as table:
            for cells in el.rows:
                row = table.row()
                if len(cells) == 1 and width > 1:  # a group row: one cell merged across the table
                    row.cell(cells[0], colspan=width)
                    continue
                for text in [*cells, *[""] * (width - len(cells))]:
                    row.cell(text)
    except Exception:  # a cell taller than a page: its rows as lines, as a copied table would come
        for cells in el.rows:
            pdf.multi_cell(0, 4.5, " | ".join(cells), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("serif", "", BODY_PT)


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


