"""The plan importer: a file becomes a `ParsedPlan` (metadata and tasks), with no database involved.

    blocks = read_blocks(data, name, max_bytes)     # reading.py: txt/md/docx/pdf -> paragraphs, tables
    plan = parse_blocks(blocks, finder)             # metadata.py + outline.py + tables.py

Persistence is knowledge.plans; the JSON shape is knowledge.export.
"""

from __future__ import annotations

import re
from pathlib import Path

from knowledge.deadlines import INVALID
from knowledge.importer.metadata import read_metadata, refuse_if_secret
from knowledge.importer.model import ImportRefused, LeftOut, NotAPlan, ParsedPlan, ParsedTask
from knowledge.importer.names import NameFinder, seed_registry
from knowledge.importer.outline import (
    NUM,
    ROMAN,
    Node,
    OutlineParser,
    Para,
    appendix_label,
    build_tree,
    ends_body,
    hoist_fields,
    monitor_agency,
    paragraphs,
    visit_host,
)
from knowledge.importer.reading import Block, Table, read_blocks, read_path
from knowledge.importer.sections import field_runs, lettered_fields, plan_period
from knowledge.importer.tables import (
    field_item_tables,
    join_continued,
    pipe_line_tables,
    table_tasks,
    vertical_tables,
)
from knowledge.text import fold

__all__ = ["ImportRefused", "LeftOut", "NameFinder", "NotAPlan", "ParsedPlan", "ParsedTask", "parse_blocks",
           "parse_bytes", "parse_path", "read_blocks", "seed_registry"]

DEFAULT_MAX_BYTES = 20 * 1024 * 1024


def parse_blocks(blocks: list[Block], finder: NameFinder) -> ParsedPlan:
    """The plan a document holds; refuses a classified one or one without any task."""
    refuse_if_secret([b for b in blocks if isinstance(b, str) and b.strip()])
    items = join_continued(field_item_tables(paragraphs(vertical_tables(pipe_line_tables(blocks), finder, None))))
    plan = read_metadata(_header_paras(items), finder)
    start = _wrapped_plan_start(items)
    if start is not None:
        # "Điều 1. Ban hành kèm theo Quyết định này Kế hoạch ...": the plan is what follows the decision;
        # the decision's articles are no tasks, and its number, issuer and date are the plan's.
        items = items[start:]
        inner = read_metadata(_header_paras(items), finder)
        plan.kind, plan.title = inner.kind, inner.title or plan.title
        plan.number = inner.number or plan.number
        plan.issuer = plan.issuer or inner.issuer  # "(Ban hành kèm theo Nghị quyết số ... của Ủy ban ...)"
        plan.issued_on = inner.issued_on or plan.issued_on
        plan.date_hint = inner.date_hint or plan.date_hint
    paras = [p for p in items if isinstance(p, Para)]
    host = visit_host(paras) if plan.kind == "Thông báo" else None  # the conclusions of a visit to a province
    parser = OutlineParser(finder, plan.issued_on or plan.date_hint, host)
    tree = hoist_fields_tree(build_tree(paras))
    parser.walk_sections(tree)
    for label, part in _appendices(items):
        parser.walk_appendix(hoist_fields_tree(build_tree(part)), label)
    tasks = parser.finish()
    rows: list[ParsedTask] = []
    for prefix, table in _placed_tables(items):
        rows.extend(table_tasks(table, finder, plan.issued_on or plan.date_hint, prefix, parser.left_out))
    tasks = [*_not_restated(tasks, rows, parser.left_out), *rows]
    period = plan_period(tree, plan.issued_on or plan.date_hint)
    for t in tasks if period is not None else []:
        t.deadline = t.deadline or period  # "Thời gian thực hiện: Từ nay đến hết năm 2025" for the whole plan
    if not tasks:
        raise NotAPlan("Không tìm thấy nhiệm vụ nào được giao cho cơ quan cụ thể trong văn bản này.")
    plan.tasks = tasks
    plan.monitor = monitor_agency(tasks, finder)
    plan.left_out = parser.left_out
    _flag_problems(plan)
    return plan


# A body item and a table row say the same when this share of the shorter one's word runs (of _RUN words) are in
# the other.
_RUN = 4
_RESTATED_SHARE = 0.6
# ... and at least this share of the body item's own runs: an item that goes on to other work is kept.
_BODY_SHARE = 0.4
_RUN_MIN = 3  # an item this short (in runs) is not judged
_COMMON_RUN = 20  # a run in more rows than this ("các bộ, cơ quan ngang bộ") tells no row apart


def _runs(text: str) -> set[tuple[str, ...]]:
    words = fold(text).split()
    return {tuple(words[i:i + _RUN]) for i in range(len(words) - _RUN + 1)}


def _not_restated(body: list[ParsedTask], rows: list[ParsedTask], left_out: list[LeftOut]) -> list[ParsedTask]:
    """The body's tasks without those a task table restates: a plan whose "Nhiệm vụ cụ thể" items come again,
    each with its lead and time, as rows of its appendix table has its work once, in the rows. The item left
    out is reported with the row that holds it."""
    if not rows or not body:
        return body
    index: dict[tuple[str, ...], list[int]] = {}
    sizes: list[int] = []
    for j, row in enumerate(rows):
        row_runs = _runs(row.text)
        sizes.append(len(row_runs))
        for run in row_runs:
            index.setdefault(run, []).append(j)
    kept: list[ParsedTask] = []
    for task in body:
        runs = _runs(task.text)
        counts: dict[int, int] = {}
        for run in runs:
            found = index.get(run, [])
            if len(found) <= _COMMON_RUN:
                for j in found:
                    counts[j] = counts.get(j, 0) + 1
        best = max(counts, key=counts.__getitem__, default=None)
        # The shorter of the two mostly inside the other: "Bộ X xây dựng bộ tiêu chí ..." restates "Xây dựng bộ
        # tiêu chí ...", and a row merging two body items restates each.
        shorter = min(len(runs), sizes[best]) if best is not None else 0
        if best is not None and shorter >= _RUN_MIN and counts[best] >= _RESTATED_SHARE * shorter \
                and counts[best] >= _BODY_SHARE * len(runs):
            left_out.append(LeftOut(task.ref, task.text[:200], f"nêu lại ở hàng {rows[best].ref} của bảng nhiệm vụ"))
            continue
        kept.append(task)
    return kept


def _flag_problems(plan: ParsedPlan) -> None:
    """Deadlines that name no real day: the task keeps the words and asks an admin for the date."""
    for t in plan.tasks:
        if t.deadline is not None and t.deadline.kind == INVALID:
            t.problems.append(f"Thời hạn “{t.deadline.text}” không phải là ngày có thật; "
                              "cần quản trị viên nhập lại ngày đúng.")
        plan.problems.extend(f"{t.ref}: {p}" for p in t.problems)


_WRAPS_PLAN = re.compile(r"^dieu 1\W+ban hanh kem theo (?:quyet dinh|chi thi|nghi quyet) nay\s+"
                         r"(?P<k>ke hoach|chuong trinh)")
_BARE_ARTICLE = re.compile(r"^dieu 1\W*$")
_KIND_LINE = {"ke hoach", "chuong trinh", "chuong trinh hanh dong", "ke hoach hanh dong"}
_HEAD_KINDS = _KIND_LINE | {"quyet dinh", "chi thi", "nghi quyet"}
# How far into a document the decision's first article and header tables may stand.
_HEAD_SPAN = 80


def _wrapped_plan_start(items: list[Para | Table]) -> int | None:
    """Where the plan a decision issues begins (its "KẾ HOẠCH" line after the decision), or None."""
    for i, it in enumerate(items[:_HEAD_SPAN]):
        if not isinstance(it, Para) or it.text[:5].lower() not in ("điều ", "dieu "):
            continue
        text = fold(it.text)
        nxt = items[i + 1] if i + 1 < len(items) else None
        if _BARE_ARTICLE.match(text) and isinstance(nxt, Para):
            text += " " + fold(nxt.text)  # "**Điều 1.**" alone, its words in the paragraph below
        if _WRAPS_PLAN.match(text):
            for j in range(i + 1, len(items)):
                cand = items[j]
                if isinstance(cand, Para) and cand.text.isupper() and _kind_line(fold(cand.text)):
                    # Start at the plan's own header lines (issuer, "CỘNG HÒA ...") just above it.
                    k = j
                    while k > i + 1 and isinstance(items[k - 1], Para) and k > j - 4 \
                            and not ends_body(items[k - 1].text) and items[k - 1].text.isupper():  # type: ignore[union-attr]
                        k -= 1
                    return k
            return None
    return None


def _kind_line(folded: str) -> bool:
    """"KẾ HOẠCH", "CHƯƠNG TRÌNH HÀNH ĐỘNG", or one naming its issuer ("CHƯƠNG TRÌNH HÀNH ĐỘNG CỦA CHÍNH PHỦ")."""
    return folded in _KIND_LINE or any(folded.startswith(k + " cua ") for k in _KIND_LINE)


def _header_paras(items: list[Para | Table]) -> list[Para]:
    """The paragraphs, with the cells of the tables before the kind line ("KẾ HOẠCH") read as lines:
    a Word header is often a two-column table (issuer and number left, "CỘNG HÒA ..." and date right)."""
    out: list[Para] = []
    for it in items:
        if isinstance(it, Para):
            out.append(it)
        elif len(out) < _HEAD_SPAN and not any(p.text.isupper() and fold(p.text) in _HEAD_KINDS for p in out):
            for col in range(max((len(r) for r in it.rows), default=0)):
                for row in it.rows:
                    if col < len(row):
                        out.extend(Para(line, line) for line in row[col].split("\n") if line.strip())
    return out


def hoist_fields_tree(root: Node) -> Node:
    lettered_fields(root)
    field_runs(root)
    hoist_fields(root)
    return root


def _appendices(items: list[Para | Table]) -> list[tuple[str, list[Para]]]:
    """The paragraphs of each appendix ("PHỤ LỤC ...") after the signature block, with its ref label."""
    out: list[tuple[str, list[Para]]] = []
    signed = False
    for it in items:
        if not isinstance(it, Para):
            continue
        if not signed:
            signed = ends_body(it.text)
            continue
        label = appendix_label(it.text)
        if label is not None:
            out.append((label, []))
        elif out:
            out[-1][1].append(it)
    return out


def _placed_tables(items: list[Para | Table]) -> list[tuple[str, Table]]:
    """Each table with the ref of where it stands: the enclosing section inside the body ("III.1"),
    the appendix ("PL", "PL.II") after the signature."""
    out: list[tuple[str, Table]] = []
    signed = False
    section: list[str] = []
    appendix = "PL"
    for it in items:
        if isinstance(it, Table):
            out.append((appendix if signed else ".".join(section), it))
            continue
        if not signed:
            if ends_body(it.text):
                signed = True
                continue
            if (m := ROMAN.match(it.text)) and it.text[:len(m.group("l"))].isupper():
                section = [m.group("l")]
            elif (m := NUM.match(it.text)) is not None and section:
                section = [section[0], (m.group("l") or m.group("l2")).strip(".")]
        elif (label := appendix_label(it.text)) is not None:
            appendix = label
    return out


def parse_bytes(data: bytes, name: str, finder: NameFinder, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedPlan:
    return parse_blocks(read_blocks(data, name, max_bytes), finder)


def parse_path(path: Path, finder: NameFinder, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedPlan:
    data, name = read_path(path, max_bytes)
    return parse_bytes(data, name, finder, max_bytes)
