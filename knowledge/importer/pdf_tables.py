"""Ruled tables of a PDF's text layer read back as tables.

pypdf gives a table's cells one after the other, each cell's text wrapped over lines and, where two cells
end on the same height, on one line ("Văn bản chỉ đạo Thường xuyên"): the columns are lost. A signed
Công báo PDF (a Word table printed to PDF) draws its grid as thin filled rectangles, so the grid tells
which cell each piece of text stands in. A page with such a grid keeps its other text as pypdf gives it;
the grid becomes "| a | b | c |" lines, which `reading.text_blocks` reads as a table. A cell merged over
rows (or columns) repeats in each row (or column) it spans, as a .docx table's does. A table going on
over the next page under its repeated header row is one table, and a row broken by the page break is one
row again. A tagged PDF marks its running header and page number ("CÔNG BÁO/Số 238/Ngày 21-04-2026 94")
as an artifact of pagination: that text is left out, so its date is not read as the document's and it does
not run through a task's words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from knowledge.text import fold

# A rule is a filled rectangle at most this thick (points); a longer side of at least _RULE_MIN_LEN.
_RULE_MAX_THICK = 2.0
_RULE_MIN_LEN = 3.0
_SNAP = 2.0  # rules this close (points) are one line of the grid
_TOUCH = 2.5  # rules this close touch: they belong to one grid
_BUCKET = 64.0  # points: the side of a square of the page rules are hashed by
_MIN_COLS = 3
_MIN_ROWS = 1  # a single row is read as a grid too: it may be the last row of a table, alone on its page
_TABLE_ROWS = 2  # a grid of fewer rows that goes on no table is written back as its cells' text
# A page drawing more rules than this is a drawing, not a table: its text is kept as it is.
_MAX_RULES = 3000
# At most this many non-blank lines of running header between a table's end and its next page's part.
_MAX_BETWEEN_LINES = 4

_STROKE = {b"S", b"s", b"B", b"B*", b"b", b"b*"}
_PAINT = _STROKE | {b"f", b"f*", b"F"}

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1


@dataclass
class _Grid:
    xs: list[float]  # column boundaries, left to right
    ys: list[float]  # row boundaries, top to bottom (PDF y decreasing)
    hrules: list[Rect]
    vrules: list[Rect]
    cells: dict[tuple[int, int], list[str]] = field(default_factory=dict)

    def contains(self, x: float, y: float) -> bool:
        return self.xs[0] - _SNAP <= x <= self.xs[-1] + _SNAP and self.ys[-1] - _SNAP <= y <= self.ys[0] + _SNAP

    def band(self, bounds: list[float], v: float, descending: bool) -> int:
        """The row (bounds top to bottom) or column (left to right) a piece starting at `v` stands in: text
        starts right of its cell's left rule and its baseline sits above the cell's bottom rule."""
        inside = sum(1 for b in bounds if (b > v if descending else b <= v))
        return min(max(inside - 1, 0), len(bounds) - 2)


def _snap(values: list[float]) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if out and v - out[-1] <= _SNAP:
            continue
        out.append(v)
    return out


def _grids(rects: list[Rect]) -> list[_Grid]:
    """The grids the rules draw: rules that touch form one grid."""
    rules = [r for r in rects if min(r[2] - r[0], r[3] - r[1]) <= _RULE_MAX_THICK
             and max(r[2] - r[0], r[3] - r[1]) >= _RULE_MIN_LEN]
    if not rules or len(rules) > _MAX_RULES:
        return []
    parent = list(range(len(rules)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # Rules are compared only with those sharing a square of the page (a spatial hash): near-linear in rules.
    buckets: dict[tuple[int, int], list[int]] = {}
    for i, a in enumerate(rules):
        seen: set[int] = set()
        for bx in range(int((a[0] - _TOUCH) // _BUCKET), int((a[2] + _TOUCH) // _BUCKET) + 1):
            for by in range(int((a[1] - _TOUCH) // _BUCKET), int((a[3] + _TOUCH) // _BUCKET) + 1):
                cell = buckets.setdefault((bx, by), [])
                for j in cell:
                    if j in seen:
                        continue
                    seen.add(j)
                    b = rules[j]
                    if a[0] - _TOUCH <= b[2] and b[0] - _TOUCH <= a[2] and a[1] - _TOUCH <= b[3] \
                            and b[1] - _TOUCH <= a[3]:
                        parent[find(i)] = find(j)
                cell.append(i)
    groups: dict[int, list[Rect]] = {}
    for i, r in enumerate(rules):
        groups.setdefault(find(i), []).append(r)
    out: list[_Grid] = []
    for members in groups.values():
        v = [r for r in members if r[2] - r[0] <= _RULE_MAX_THICK]
        h = [r for r in members if r[3] - r[1] <= _RULE_MAX_THICK]
        xs = _snap([(r[0] + r[2]) / 2 for r in v])
        ys = sorted(_snap([(r[1] + r[3]) / 2 for r in h]), reverse=True)
        if len(xs) - 1 >= _MIN_COLS and len(ys) - 1 >= _MIN_ROWS:
            out.append(_Grid(xs, ys, h, v))
    return out


def _spans(rules: list[Rect], at: float, across: float, horizontal: bool) -> bool:
    """Whether a rule lies at `at` (y of a horizontal rule, x of a vertical one) over the point `across`."""
    for r in rules:
        pos, lo, hi = ((r[1] + r[3]) / 2, r[0], r[2]) if horizontal else ((r[0] + r[2]) / 2, r[1], r[3])
        if abs(pos - at) <= _SNAP and lo - _SNAP <= across <= hi + _SNAP:
            return True
    return False


def _rows(grid: _Grid) -> list[list[str]]:
    """The grid's rows of cell texts; a merged cell's text in every row and column it spans."""
    n_rows, n_cols = len(grid.ys) - 1, len(grid.xs) - 1
    texts = {k: re.sub(r"\s+", " ", "".join(v)).strip() for k, v in grid.cells.items()}
    rows = [[""] * n_cols for _ in range(n_rows)]
    for (r, c), text in texts.items():
        if not text:
            continue
        mid_x = (grid.xs[c] + grid.xs[c + 1]) / 2
        mid_y = (grid.ys[r] + grid.ys[r + 1]) / 2
        r0 = r
        while r0 > 0 and not _spans(grid.hrules, grid.ys[r0], mid_x, True):
            r0 -= 1
        r1 = r
        while r1 + 1 < n_rows and not _spans(grid.hrules, grid.ys[r1 + 1], mid_x, True):
            r1 += 1
        c0 = c
        while c0 > 0 and not _spans(grid.vrules, grid.xs[c0], mid_y, False):
            c0 -= 1
        c1 = c
        while c1 + 1 < n_cols and not _spans(grid.vrules, grid.xs[c1 + 1], mid_y, False):
            c1 += 1
        for rr in range(r0, r1 + 1):
            for cc in range(c0, c1 + 1):
                rows[rr][cc] = f"{rows[rr][cc]} {text}".strip() if rows[rr][cc] != text else text
    return [row for row in rows if any(row)]


def _piece_position(cm: Any, tm: Any) -> tuple[float, float]:
    return (tm[4] * cm[0] + tm[5] * cm[2] + cm[4], tm[4] * cm[1] + tm[5] * cm[3] + cm[5])


def _pagination(args: Any) -> bool:
    """Whether a marked-content sequence is a running header, footer or page number ("/Artifact" of
    "/Type /Pagination"), which tagged PDFs (Word's, the Công báo's) mark as such."""
    try:
        return str(args[0]) == "/Artifact" and len(args) > 1 and str(args[1].get("/Type")) == "/Pagination"
    except (AttributeError, TypeError, IndexError):
        return False


def _read_page(page: Any) -> list[str | list[list[str]]]:
    """The page as text and tables (rows), in the order pypdf gives its text."""
    pieces: list[tuple[str, float, float]] = []
    rects: list[Rect] = []
    pending: list[Rect] = []

    point: list[float] = []  # the current point of a path being drawn
    marked: list[bool] = []  # open marked-content sequences: True for the page's running header or footer

    def on_text(text: str, cm: Any, tm: Any, _font: Any, _size: Any) -> None:
        if any(marked):
            return  # "CÔNG BÁO/Số 238/Ngày 21-04-2026 94": an artifact of pagination, not the document's text
        x, y = _piece_position(cm, tm)
        pieces.append((text, x, y))

    def on_operator(op: bytes, args: Any, cm: Any, _tm: Any) -> None:
        if op == b"BDC":
            marked.append(_pagination(args))
        elif op == b"BMC":
            marked.append(False)
        elif op == b"EMC":
            if marked:
                marked.pop()
        elif op == b"re" and len(args) == 4:
            x, y, w, h = (float(a) for a in args)
            x0, y0 = x * cm[0] + y * cm[2] + cm[4], x * cm[1] + y * cm[3] + cm[5]
            x1, y1 = x0 + w * cm[0], y0 + h * cm[3]
            pending.append((min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
        elif op == b"m" and len(args) == 2:
            point[:] = [float(args[0]) * cm[0] + cm[4], float(args[1]) * cm[3] + cm[5]]
        elif op == b"l" and len(args) == 2 and point:
            x, y = float(args[0]) * cm[0] + cm[4], float(args[1]) * cm[3] + cm[5]
            pending.append((min(x, point[0]), min(y, point[1]), max(x, point[0]), max(y, point[1])))
            point[:] = [x, y]
        elif op in _PAINT:
            for r in pending:
                if op in _STROKE and min(r[2] - r[0], r[3] - r[1]) > _RULE_MAX_THICK:
                    # A stroked cell frame: its four sides are rules.
                    rects.extend([(r[0], r[1], r[0], r[3]), (r[2], r[1], r[2], r[3]),
                                  (r[0], r[1], r[2], r[1]), (r[0], r[3], r[2], r[3])])
                else:
                    rects.append(r)  # a filled thin rectangle, or a stroked line
            pending.clear()
        elif op == b"n":
            pending.clear()  # a clipping path, not drawn

    page.extract_text(visitor_text=on_text, visitor_operand_before=on_operator)
    grids = _grids(rects)
    if not grids:
        return ["".join(p[0] for p in pieces)]
    parts: list[str | list[list[str]]] = []
    slots: dict[int, int] = {}  # grid -> index of its rows in parts
    text: list[str] = []
    where: _Grid | None = None  # the grid of the last non-blank piece
    cell = (0, 0)
    for piece, x, y in pieces:
        if piece.strip():
            where = next((g for g in grids if g.contains(x, y)), None)
            if where is not None:
                cell = (where.band(where.ys, y, True), where.band(where.xs, x, False))
        if where is None:
            text.append(piece)
            continue
        if id(where) not in slots:
            parts.append("".join(text))
            text = []
            slots[id(where)] = len(parts)
            parts.append([])
        where.cells.setdefault(cell, []).append(piece.replace("\n", " "))
    parts.append("".join(text))
    for g in grids:
        if id(g) in slots:
            parts[slots[id(g)]] = _rows(g)
    return parts


def _pipe_lines(rows: list[list[str]]) -> str:
    return "\n".join("| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in rows)


_HEADER_ROWS = 3  # a repeated header is at most this many rows
# A cell whose text ends so ("Bộ Công an, Bộ Tài chính, các") goes on in the next page's row.
_DANGLING = re.compile(r"(?:[,;(\-–]|\b(?:các|và|của|với|về|cho|trong|theo|những|được|để|tại|từ|hoặc))$")


def _continue(table: list[list[str]], more: list[list[str]]) -> None:
    """Rows of a table's part on the next page added to it: the repeated header rows dropped, a first row
    without its number (a row broken by the page break) joined to the last row."""
    head = [[fold(c) for c in row] for row in table[:_HEADER_ROWS]]
    while more and [fold(c) for c in more[0]] in head:
        more = more[1:]
    while more and not more[0][0].strip() and len(table) > 1:
        prev, cont = table[-1], more.pop(0)
        # A cell going on begins in lower case; a cell of its own (a time, a body, a new sentence) does not.
        joined = [f"{a} {b}".strip() if b and b[:1].islower() else a for a, b in zip(prev, cont, strict=True)]
        table[-1] = joined
        if any(a and b and not b[:1].islower() and not _DANGLING.search(a) for a, b in zip(prev, cont, strict=True)):
            # A sub-row of a row whose first cells are merged over the page break: those cells go down.
            table.append([b if b and not b[:1].islower() else j for j, b in zip(joined, cont, strict=True)])
        else:
            table[-1] = [j if j != a or not b else f"{a} {b}".strip() for j, a, b in zip(joined, prev, cont,
                                                                                       strict=True)]
    table.extend(more)


def _lines(text: str) -> int:
    return sum(1 for ln in text.split("\n") if ln.strip())


def pdf_pages_text(pages: list[Any]) -> list[str]:
    """Each page's text, its ruled tables written as pipe rows; a table going on over the next page (its
    header row repeated there, a few running-header lines between) is written once, whole."""
    read = [_read_page(p) for p in pages]
    open_table: list[list[str]] | None = None  # the last table of the page before
    for parts in read:
        first = next((k for k, p in enumerate(parts) if isinstance(p, list) and p), None)
        if open_table is not None and first == 1 and isinstance(parts[0], str) \
                and _lines(parts[0]) <= _MAX_BETWEEN_LINES:
            more = parts[1]
            assert isinstance(more, list)
            if len(more[0]) == len(open_table[0]):
                _continue(open_table, more)
                parts[1] = []
        tables = [p for p in parts if isinstance(p, list) and p]
        if tables:
            open_table = tables[-1]
        elif any(isinstance(p, str) and _lines(p) > _MAX_BETWEEN_LINES for p in parts):
            open_table = None
    for parts in read:
        for k, p in enumerate(parts):
            if isinstance(p, list) and p and len(p) < _TABLE_ROWS:
                parts[k] = "\n" + "\n".join(" ".join(c for c in row if c) for row in p) + "\n"
    out: list[str] = []
    for parts in read:
        out.append("".join(p if isinstance(p, str) else ("\n" + _pipe_lines(p) + "\n" if p else "")
                           for p in parts))
    return out
