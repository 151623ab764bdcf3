"""Task tables: STT | Nhiệm vụ | Cơ quan chủ trì | Cơ quan phối hợp | Thời gian hoàn thành | Sản phẩm.

Columns are found by the words of the header row, never by position, so a table with the columns
in another order, or without some of them, still reads.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TypeVar, cast

from knowledge.agencies import agency_key
from knowledge.deadlines import Deadline, parse_deadline
from knowledge.importer.model import LeftOut, ParsedTask
from knowledge.importer.names import NOISE, NameFinder, roles
from knowledge.importer.reading import Block, Table
from knowledge.text import clean_markup, fold

T = TypeVar("T")

# A table this large whose columns are not recognised is reported as left out (a header table is smaller).
_UNREAD_MIN_ROWS = 3
_UNREAD_MIN_COLS = 3
_COLUMNS = {
    "task": re.compile(r"\b(nhiem vu|noi dung|cong viec|hoat dong|giai phap|ten de an|de an|ten van ban"
                       r"|ten du an|ten chuong trinh)\b"),
    "lead": re.compile(r"\b(chu tri|thuc hien|trach nhiem|dau moi|soan thao|tham muu|duoc giao)\b"),
    "coord": re.compile(r"\bphoi hop\b"),
    "due": re.compile(r"\b(thoi gian|thoi han|thoi diem|tien do|han hoan thanh|moc thoi gian|nam hoan thanh"
                      r"|nam thuc hien|lo trinh|giai doan)\b"
                      r"|^(hoan thanh|ket thuc)$"),
    "ref": re.compile(r"^(stt|tt|so tt|so thu tu)$"),
}
# Columns that name no body doing the task: its product or result, the level that approves it, the form of
# the document, the body that reviews it, notes, files, funds. A word of theirs ("Kết quả thực hiện",
# "Cơ quan thẩm tra/chuẩn bị ý kiến") would otherwise make them the lead's column.
_NOT_BODIES = re.compile(r"\b(san pham|ket qua|hinh thuc|cap trinh|cap ban hanh|cap phe duyet|ghi chu|ho so"
                         r"|kinh phi|nguon von|du toan|tham tra|tham dinh)\b")
# The lead's column, best first: "Cơ quan chủ trì" over "Cơ quan soạn thảo" over "Đơn vị thực hiện" over
# a column naming a person ("Người đứng đầu chịu trách nhiệm" beside "Cơ quan chủ trì": the gold is the body).
_LEAD_RANKS = (re.compile(r"\bchu tri\b"), re.compile(r"\bsoan thao\b"),
               re.compile(r"\b(thuc hien|trach nhiem|dau moi|tham muu|duoc giao)\b"))
_PERSON = re.compile(r"\b(nguoi|lanh dao|thu truong|giam doc|chu tich)\b")
# "Cơ quan trình" beside "Cơ quan soạn thảo": the body that submits the draft leads with the one writing it.
_SUBMITS = re.compile(r"^(co quan|don vi) trinh$")


_DUE_END = re.compile(r"\b(hoan thanh|ket thuc|den)\b")
_SOAN_THAO = 1  # the rank of "Cơ quan soạn thảo" in _LEAD_RANKS


def _second_header_row(row: list[str], nxt: list[str], cols: dict[str, int]) -> bool:
    """Whether `nxt` is the lower row of a two-row header ("Thời gian" over "Bắt đầu | Hoàn thành"): its task
    and number cells are the ones above (merged down) or empty, and what it adds are short column names."""
    same = [cols[k] for k in ("task", "ref") if k in cols]
    if any(nxt[i].strip() and nxt[i] != row[i] for i in same):
        return False
    added = [b for a, b in zip(row, nxt, strict=True) if b.strip() and b != a]
    return bool(added) and all(len(b) <= _HEADER_CELL_MAX and not _REF_CELL.match(clean_markup(b)) for b in added)


def _names_a_column(f: str) -> bool:
    """A folded line that is a column's name (a new header cell, not the wrapped end of one)."""
    return any(p.search(f) for p in _COLUMNS.values()) or bool(_NOT_BODIES.search(f))


def _lead_rank(f: str) -> int:
    """How surely a column's name (folded) says it holds the lead body: lower is surer."""
    rank = next((r for r, p in enumerate(_LEAD_RANKS) if p.search(f)), len(_LEAD_RANKS))
    return rank + len(_LEAD_RANKS) + 1 if _PERSON.search(f) else rank


def _header(row: list[str]) -> dict[str, int] | None:
    """Column of each role in a header row ("lead_also": a second lead column), or None if no task table."""
    cols: dict[str, int] = {}
    leads: list[tuple[int, int]] = []  # (rank, column)
    submits: int | None = None
    for i, cell in enumerate(row):
        f = fold(cell)
        if _COLUMNS["ref"].match(f):
            cols.setdefault("ref", i)
        elif "task" not in cols and _COLUMNS["task"].match(f):
            cols["task"] = i  # "Nội dung thực hiện" is the task column, though "thực hiện" would name the lead's
        elif _NOT_BODIES.search(f):
            continue
        elif _SUBMITS.match(f):
            submits = i
        elif _COLUMNS["coord"].search(f) and "chu tri" not in f:
            cols.setdefault("coord", i)
        elif _COLUMNS["due"].search(f):
            if "due" not in cols or (_DUE_END.search(f) and not _DUE_END.search(fold(row[cols["due"]]))):
                cols["due"] = i  # "Thời gian hoàn thành" over "Thời gian bắt đầu"
        elif _COLUMNS["lead"].search(f):
            leads.append((_lead_rank(f), i))
        elif _COLUMNS["task"].search(f):
            cols.setdefault("task", i)
    if leads:
        rank, cols["lead"] = min(leads)
        if submits is not None and rank == _SOAN_THAO:
            cols["lead_also"] = submits
    return cols if "task" in cols and "lead" in cols else None


# What follows a body's kind to make it all the bodies of a level: "UBND" + " các phường xã", "Sở" + " các tỉnh".
_PLURAL_TAIL = re.compile(r"^\s+(?:các|cấp)\s+\w+[\w\s,]*$")
_PLURAL_NAME_WORDS = 8


def _names(cell: str, finder: NameFinder, drop_noise: bool) -> list[str]:
    cell = clean_markup(cell)
    if not cell:
        return []
    # A cell lists bodies one per line or between ";": a part naming no body the finder knows
    # ("Liên minh Hợp tác xã tỉnh") is still a name, not to be lost beside the known ones.
    names: list[str] = []
    for part in re.split(r";|\n", cell):
        part = part.strip(" ,.-–")
        if not part:
            continue
        mentions = finder.mentions(part)
        found = [m.name for m in mentions]
        if len(mentions) == 1 and mentions[0].start == 0 and len(part.split()) <= _PLURAL_NAME_WORDS \
                and _PLURAL_TAIL.match(part[mentions[0].end:]):
            found = [part]  # "UBND các phường xã": the bodies of a level, not the "UBND" the finder saw
        if found:
            names.extend(found)
        elif part[:1].isupper() and len(part.split()) <= 12:
            names.append(part)
    if not names:
        names = [p.strip() for p in re.split(r";|\n", cell) if p.strip()]
    if drop_noise:
        names = [n for n in names if not NOISE.search(agency_key(n))]
    return names


def join_continued(items: list[T]) -> list[T]:
    """A table broken by a page break goes on as a second table without the header row (only a page
    number or blank lines between): its rows belong to the first, whose header says what they are."""
    out: list[T] = []
    for it in items:
        last = out[-1] if out else None
        if (isinstance(it, Table) and isinstance(last, Table) and it.rows and last.rows
                and len(it.rows[0]) == len(last.rows[0]) and _header(it.rows[0]) is None
                and any(_header(r) for r in last.rows[:4])):
            out[-1] = cast(T, Table(rows=[*last.rows, *it.rows]))
            continue
        out.append(it)
    return out


def table_tasks(table: Table, finder: NameFinder, plan_date: date | None, prefix: str = "PL",
                left_out: list[LeftOut] | None = None) -> list[ParsedTask]:
    """Tasks of one table (none when it is not a task table); refs start with `prefix` ("III.1", "PL")."""
    cols = None
    start = 0
    for i, row in enumerate(table.rows[:4]):
        cols = _header(row)
        nxt = table.rows[i + 1] if i + 1 < len(table.rows) else []
        if nxt and len(nxt) == len(row):
            # A two-row header: "Cơ quan thực hiện" over "Chủ trì | Phối hợp".
            merged = _header([f"{a} {b}" if a != b else a for a, b in zip(row, nxt, strict=True)])
            if merged and (("coord" in merged and (not cols or "coord" not in cols))
                           or (cols is not None and _second_header_row(row, nxt, cols))):
                cols, start = merged, i + 2
                break
        if cols:
            start = i + 1
            break
    if not cols:
        if left_out is not None and len(table.rows) >= _UNREAD_MIN_ROWS \
                and max(len(r) for r in table.rows) >= _UNREAD_MIN_COLS:
            left_out.append(LeftOut(prefix, " | ".join(table.rows[0])[:200],
                                    f"bảng {len(table.rows)} hàng không nhận ra cột nhiệm vụ và cột cơ quan chủ trì"))
        return []
    out: list[ParsedTask] = []
    section = ""
    carried_lead = carried_due = ""  # a merged cell's value goes down the rows it spans
    width = len(table.rows[start - 1]) if start else 0
    heads = table.rows[max(0, start - 2):start]
    header_tasks = {fold(clean_markup(r[cols["task"]])) for r in heads if cols["task"] < len(r)}
    header_leads = {fold(clean_markup(r[cols["lead"]])) for r in heads if cols["lead"] < len(r)}
    anchor = _time_anchor(heads, cols, plan_date)
    for row in table.rows[start:]:
        row = _aligned(row, cols, width)

        def cell(name: str, row: list[str] = row) -> str:
            i = cols.get(name) if cols else None
            return row[i].strip() if i is not None and i < len(row) else ""

        task_text = clean_markup(cell("task"))
        lead_cell = cell("lead")
        ref = clean_markup(cell("ref"))
        if not task_text or re.fullmatch(r"[\d\s()]+", task_text):
            continue  # a column-number row "(1) (2) (3)"
        if fold(task_text) in header_tasks and fold(clean_markup(lead_cell)) in header_leads:
            continue  # the header again, at the top of a new page
        if lead_cell == cell("task") or (not lead_cell and _group_row(ref, task_text, row, cols)):
            # A group heading row spanning the columns; "I. Văn bản thuộc ..." in its title cell names it.
            section = ref or (m.group(1) if (m := _GROUP_TITLE.match(task_text)) else section)
            carried_lead = carried_due = ""
            continue
        if not lead_cell:
            if not carried_lead:
                if left_out is not None:
                    left_out.append(LeftOut(".".join(x for x in (prefix, section, ref) if x), task_text,
                                            "hàng của bảng không ghi cơ quan chủ trì"))
                continue
            lead_cell = carried_lead  # the lead cell is merged with the row above
        carried_lead = lead_cell
        due_text = clean_markup(cell("due")) or carried_due
        carried_due = due_text
        lead_cell, aside = _asides(lead_cell)
        lead = _names(lead_cell, finder, drop_noise=False)
        coords = _names(cell("coord"), finder, drop_noise=True) + _names(aside, finder, drop_noise=True)
        if re.search(r"chủ trì|phối hợp", lead_cell, re.IGNORECASE):
            # One "Cơ quan thực hiện" cell: "Sở A chủ trì, phối hợp với Sở B".
            cr = roles(clean_markup(lead_cell), finder)
            if cr.lead:
                lead = [m.name for m in cr.lead]
                coords = coords or [m.name for m in cr.coordinators if not NOISE.search(agency_key(m.name))]
        also = _names(cell("lead_also"), finder, drop_noise=False)
        if also:  # "Cơ quan trình" beside "Cơ quan soạn thảo": both lead, the submitting body first
            keys = {agency_key(x) for x in also}
            lead = [*also, *(x for x in lead if agency_key(x) not in keys)]
        r = roles(task_text, finder)
        deadline = _cell_deadline(due_text, anchor) if due_text else None
        if deadline is None:
            deadline = parse_deadline(task_text, plan_date)
        out.append(ParsedTask(
            ref=".".join(x for x in (prefix, section, ref) if x), text=task_text, lead=lead,
            coordinators=[c for c in coords if agency_key(c) not in {agency_key(x) for x in lead}],
            report_to=[m.name for m in r.report_to], via=[m.name for m in r.via], deadline=deadline))
    return out


# A remark in brackets after the lead body: who helps it ("Ban A (Viện B phối hợp chuẩn bị dự thảo)"), or
# what it is ("Ban soạn thảo do ... thành lập (Thường trực Ủy ban C là cơ quan thường trực của Ban)").
_ASIDE = re.compile(r"\(([^()]{3,300})\)")
_ASIDE_HELPS = re.compile(r"\bphối hợp\b", re.IGNORECASE)
_ASIDE_SAYS = re.compile(r"\s(?:là|làm)\s|thường trực của", re.IGNORECASE)


def _asides(cell: str) -> tuple[str, str]:
    """A lead cell without its remarks in brackets, and the bodies named as helping in them ("" if none);
    a bracket that is neither (an abbreviation, a list of places) stays in the cell."""
    helps: list[str] = []

    def drop(m: re.Match[str]) -> str:
        inner = m.group(1)
        if _ASIDE_HELPS.search(inner):
            helps.append(_ASIDE_HELPS.split(inner)[0])
            return " "
        return " " if _ASIDE_SAYS.search(inner) else m.group(0)

    bare = _ASIDE.sub(drop, cell) if "(" in cell else cell
    return re.sub(r"[ \t]+", " ", bare).strip() if bare != cell else cell, "; ".join(helps)


# A time standing bare in a time cell, with no cue word: "Trình ... tại Phiên họp thứ 44 (tháng 4/2025)".
# Months and quarters only: a bare day is as often a cited document's ("Nghị định số 52/2015/NĐ-CP ngày 28/5/2015").
_BARE_TIME = re.compile(r"(?:(?:cuối|đầu|giữa)\s+)?tháng\s+\d{1,2}\s*[/.-]\s*\d{4}|quý\s+[IVX\d]{1,3}\s*[/.-]\s*\d{4}",
                        re.IGNORECASE)


# A day in a time cell after other words: "Từ 20 giờ 15 phút - 20 giờ 45 phút ngày 23 tháng 1".
_CELL_DAY = re.compile(r"ngày\s+\d{1,2}\s*(?:tháng\s+\d{1,2}|[/.-]\s*\d{1,2})(?:\s*(?:năm|[/.-])\s*\d{4})?(?![\d/])",
                       re.IGNORECASE)
# A cited document's number ("52/2015/NĐ-CP", "số 1441/QĐ-UBND"): a day after it is that document's.
_CITED = re.compile(r"\d/\s*[A-ZĐ]|\bsố\s+\d", re.IGNORECASE)
# The year a time column's header gives its cells: "Thời gian (Năm 2026)".
_HEADER_YEAR = re.compile(r"\bnam\s+((?:19|20)\d\d)\b")


def _cell_deadline(text: str, plan_date: date | None) -> Deadline | None:
    """The time of a table's time cell. A cell whose times stand bare, one per step ("Trình Ủy ban ... (tháng
    4/2025); Trình Quốc hội ... (tháng 5/2025)"), is due at its last step: the latest of them. A time cell
    that names one day after an hour ("Từ 20 giờ 15 phút ... ngày 23 tháng 1") is due that day."""
    found = parse_deadline(text, plan_date)
    if found is not None:
        return found
    steps = [d for m in _BARE_TIME.finditer(text) if (d := parse_deadline(m.group(0), plan_date)) and d.due]
    if steps:
        return max(steps, key=lambda d: d.due or date.min)
    days = _CELL_DAY.findall(text)
    if len(days) != 1 or _CITED.search(text):
        return None  # "Theo Điều 17 Nghị định số 52/2015/NĐ-CP ngày 28/5/2015": the day of a cited document
    return parse_deadline(days[0], plan_date)


def _time_anchor(heads: list[list[str]], cols: dict[str, int], plan_date: date | None) -> date | None:
    """What supplies the year of the time cells: the time column's header when it names one ("Thời gian
    (Năm 2026)"), else the plan's date."""
    i = cols.get("due")
    for r in heads:
        if i is not None and i < len(r) and (m := _HEADER_YEAR.search(fold(r[i]))):
            return date(int(m.group(1)), 1, 1)
    return plan_date


_GROUP_REF = re.compile(r"^(?:[IVXLC]+|[A-ZĐ])\.?$")
_GROUP_TITLE = re.compile(r"^([IVXLC]+)\.\s+\S")
# What a row number looks like: "1", "1.1", "I", "a", "1a)", "(2)", "-".
_REF_CELL = re.compile(r"^\(?(?:[IVXLC]+|\d{1,3}(?:\.\d{1,3})*|[a-zđ]|\d{1,3}[a-zđ])?[.)]?$|^[-+*•]$", re.IGNORECASE)
_REF_CELL_MAX = 8


def _aligned(row: list[str], cols: dict[str, int], width: int) -> list[str]:
    """A row written without its empty number cell ("| Nghị quyết ... | Ban A | ... | |" under
    "| TT | Tên văn bản | Cơ quan ... |"): its text stands in the number column and an empty cell closes it,
    or it is short of cells. Such a row moves one column right; a row whose first cell is a number, or
    empty, is left as it is."""
    first = row[0].strip() if row else ""
    if cols.get("ref") != 0 or not first or width < 2:
        return row
    if len(first) <= _REF_CELL_MAX and _REF_CELL.match(clean_markup(first)):
        return row
    if len(row) < width and cols.get("task") == 1:
        # A row under a row whose number and time cells span it ("| Thực hiện sao lưu ... | Sở A | Sở B |"):
        # its cells are the task's and those after it; the time is carried down from the row above.
        return ["", *row, *[""] * (width - len(row) - 1)]
    if len(row) < width or row[-1].strip():
        return row
    return ["", *row[:-1]]


def _group_row(ref: str, task_text: str, row: list[str], cols: dict[str, int]) -> bool:
    """A row that heads a group ("II | CẢI CÁCH THỦ TỤC HÀNH CHÍNH | | |"), not a task whose lead cell
    is merged with the row above: a Roman or letter ref, a title in capitals, or nothing but its title."""
    others = [c for i, c in enumerate(row) if i not in (cols.get("ref"), cols.get("task")) and c.strip()]
    return bool(_GROUP_REF.match(ref)) or (task_text.isupper() and len(task_text) > 3) or (not ref and not others)


# ---- tables whose cells came out one per line (a PDF's text layer) --------------------------------

_REF_HEAD = re.compile(r"^(?:stt|tt|so tt|so thu tu)$")
_REF_HEAD_MAX = 16  # longer lines are no "STT" cell: skip them before folding
# At most this many lines between "TT" and the first row: the header's cells, some wrapped.
_MAX_HEADER_LINES = 12
_MAX_CELL_LINES = 12
_DUE_MAX_CHARS = 48  # a time cell's line; a longer one is a task's or a product's text


def vertical_tables(blocks: list[Block], finder: NameFinder, plan_date: date | None) -> list[Block]:
    """A table copied out of a PDF comes one cell per line: "TT", "Nhiệm vụ", "Cơ quan chủ trì", ...,
    then "1", the task (wrapped over lines), the lead, the coordinators, the time, then "2" ... Such a
    run of lines becomes a Table again; the row numbers (1, 2, 3 ... in order) mark the rows."""
    out: list[Block] = []
    i = 0
    while i < len(blocks):
        b = blocks[i]
        if isinstance(b, str) and len(b) < _REF_HEAD_MAX and _REF_HEAD.match(fold(b.strip())):
            found = _vertical_table(blocks, i, finder, plan_date)
            if found is not None:
                table, i = found
                out.append(table)
                continue
        out.append(b)
        i += 1
    return out


def _vertical_table(blocks: list[Block], start: int, finder: NameFinder,
                    plan_date: date | None) -> tuple[Table, int] | None:
    lines: list[tuple[int, str]] = []  # (block index, line) of the non-blank lines from "TT" on
    j = start
    while j < len(blocks) and isinstance(blocks[j], str):
        text = clean_markup(str(blocks[j]))
        if text:
            lines.append((j, text))
        j += 1
    header: list[str] = []
    k = 0
    while k < len(lines) and lines[k][1] != "1":
        if k > _MAX_HEADER_LINES:
            return None
        f = fold(lines[k][1])
        if not header or _REF_HEAD.match(f) or _names_a_column(f):
            header.append(lines[k][1])
        else:
            header[-1] += " " + lines[k][1]  # "Thời gian" / "hoàn thành"
        k += 1
    cols = _header(header)
    if cols is None or k >= len(lines) or "ref" not in cols:
        return None
    rows: list[list[str]] = [header]
    n = 1
    end = lines[k][0] + 1
    while k < len(lines) and lines[k][1] == str(n):
        body: list[str] = []
        k += 1
        while k < len(lines) and lines[k][1] != str(n + 1) and len(body) < _MAX_CELL_LINES \
                and not _ends_vertical(lines[k][1]):
            body.append(lines[k][1])
            k += 1
        rows.append(_vertical_row(str(n), body, cols, len(header), finder, plan_date))
        end = lines[k - 1][0] + 1
        n += 1
    if n == 1:
        return None
    return Table(rows), end


def _ends_vertical(line: str) -> bool:
    """A line after a table: a heading in capitals, a new appendix, the signature."""
    return (line.isupper() and len(line) > 12) or fold(line).startswith(("phu luc", "noi nhan"))


def _vertical_row(ref: str, body: list[str], cols: dict[str, int], width: int, finder: NameFinder,
                  plan_date: date | None) -> list[str]:
    """The cells of one row from its lines: the task first (its wrapped lines), then the bodies (a line
    opening with a name starts the lead, the next such line the coordinators; a line in lower case goes
    on with the cell above), and the time at the end (a line, or two, that reads as a deadline). When
    columns follow the time ("Sản phẩm", "Ghi chú"), the time is the last such line and what follows it
    is theirs, not a body's."""
    row = [""] * width
    due: list[str] = []
    if "due" in cols:
        # The lines the time may end at: the last one, or any when other columns follow the time's.
        ends = range(len(body), 1, -1) if cols["due"] < width - 1 else range(len(body), len(body) - 1, -1)
        end = len(body)
        for end in ends:
            for take in (1, 2):
                tail = " ".join(body[end - take:end]) if end > take else ""
                if tail and len(tail) <= _DUE_MAX_CHARS and parse_deadline(tail, plan_date) is not None:
                    due = body[end - take:end]
                    break
            if due:
                break
        body = body[:end - len(due)] if due else body
    cells: list[list[str]] = [[]]
    for line in body:
        opens_name = line[:1].isupper() and (m := finder.mentions(line)) and m[0].start == 0
        if cells[0] and opens_name:
            cells.append([line])
        elif cells[-1]:
            cells[-1].append(line)
        else:
            cells[-1] = [line]
    task = " ".join(cells[0])
    bodies = cells[1:]
    lead = "; ".join(" ".join(c) for c in bodies[:1])
    coord = "; ".join(" ".join(c) for c in bodies[1:])
    for name, value in (("ref", ref), ("task", task), ("lead", lead), ("coord", coord), ("due", " ".join(due))):
        if name in cols:
            row[cols[name]] = value
    return row


# ---- tables written one cell per line between lone "|" lines (a web page's table copied as text) ----

_LONE_PIPE = "|"
_MAX_PIPE_CELL_LINES = 40  # a longer run of lines between two pipes is prose, not a cell
_ROW_NUMBER = re.compile(r"^\d{1,3}\.?$")
_HEADER_CELL_MAX = 60  # a longer text between pipes is a title above the table, not a column's name


def pipe_line_tables(blocks: list[Block]) -> list[Block]:
    """A table whose cells stand on their own lines between lone "|" lines:

        |  STT  |  Nhiệm vụ  |  Cơ quan chủ trì  |  ...  |  (the row's closing pipe)
        |  1  |  Triển khai ...  |  Sở A  |  ...  |

    becomes a Table again when its first row is a task table's header; any other such run (a header
    block, the signature) is left as lines."""
    out: list[Block] = []
    i = 0
    while i < len(blocks):
        b = blocks[i]
        if isinstance(b, str) and b.strip() == _LONE_PIPE:
            found = _pipe_line_table(blocks, i)
            if found is not None:
                table, opens, i_next = found
                out.extend(blocks[i:opens])  # lines before the header's first cell: another table's
                out.append(table)
                i = i_next
                continue
        out.append(b)
        i += 1
    return out


_DOTS = re.compile(r"[.…\s]{3,}")


def _pipe_segments(blocks: list[Block], start: int) -> list[tuple[str, int]]:
    """The texts between consecutive lone pipes from `start`, each with the index after its closing pipe."""
    segs: list[tuple[str, int]] = []
    cur: list[str] = []
    for pos in range(start + 1, len(blocks)):
        b = blocks[pos]
        if not isinstance(b, str):
            break
        s = b.strip()
        if s == _LONE_PIPE:
            text = " ".join(cur)
            # A row of dots ("…..........") stands for rows left out of the copy: nothing, between two rows.
            segs.append(("" if _DOTS.fullmatch(text) else text, pos + 1))
            cur = []
        elif s:
            cur.append(s)
            if len(cur) > _MAX_PIPE_CELL_LINES:
                break
    return segs


def _pipe_line_table(blocks: list[Block], start: int) -> tuple[Table, int, int] | None:
    """The table from the lone pipe at `start`, the index of the pipe opening its header, the index after it."""
    segs = _pipe_segments(blocks, start)
    k = 0
    header: list[str] = []
    while k < len(segs) and segs[k][0]:
        header.append(segs[k][0])
        k += 1
    if _header([clean_markup(c) for c in header]) is None or k >= len(segs):
        return None
    # The run may begin in a table above (a signature block, then the appendix's title between the pipes):
    # the header opens at its "STT" cell, or else at its first short cell that names a column.
    folded = [fold(clean_markup(c)) for c in header]
    first = next((h for h, f in enumerate(folded) if _COLUMNS["ref"].match(f)), None)
    if first is None:
        first = next((h for h, f in enumerate(folded) if len(f) <= _HEADER_CELL_MAX and _names_a_column(f)), 0)
    opens = start if first == 0 else segs[first - 1][1] - 1
    header = header[first:]
    width = len(header)
    rows = [header]
    end = segs[k - 1][1]
    k += 1  # the empty text between the header's closing pipe and the next row's opening one
    while k < len(segs):
        n = 0
        if _ROW_NUMBER.match(clean_markup(segs[k][0])) and k + width <= len(segs) and \
                (k + width == len(segs) or not segs[k + width][0]):
            n = width  # a numbered row, empty cells and all
        else:
            while k + n < len(segs) and segs[k + n][0]:
                n += 1
        if n:
            rows.append([segs[x][0] for x in range(k, k + n)])
            end = segs[k + n - 1][1]
        k += n
        if k < len(segs) and segs[k][0]:
            break  # text after a row's closing pipe: the table is over
        k += 1
    return Table(rows), opens, end
