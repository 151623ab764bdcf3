"""The plan importer: a file becomes a `ParsedPlan` (metadata and tasks), with no database involved.

    blocks = read_blocks(data, name, max_bytes)     # reading.py: txt/md/docx/pdf -> paragraphs, tables
    plan = parse_blocks(blocks, finder)             # metadata.py + outline.py + tables.py

Persistence is knowledge.plans; the JSON shape is knowledge.export.
"""

from __future__ import annotations

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
)
from knowledge.importer.reading import Block, Table, read_blocks, read_path
from knowledge.importer.tables import join_continued, table_tasks

__all__ = ["ImportRefused", "LeftOut", "NameFinder", "NotAPlan", "ParsedPlan", "ParsedTask", "parse_blocks",
           "parse_bytes", "parse_path", "read_blocks", "seed_registry"]

DEFAULT_MAX_BYTES = 20 * 1024 * 1024


def parse_blocks(blocks: list[Block], finder: NameFinder) -> ParsedPlan:
    """The plan a document holds; refuses a classified one or one without any task."""
    refuse_if_secret([b for b in blocks if isinstance(b, str) and b.strip()])
    items = join_continued(paragraphs(blocks))
    paras = [p for p in items if isinstance(p, Para)]
    plan = read_metadata(paras, finder)
    parser = OutlineParser(finder, plan.issued_on)
    parser.walk_sections(hoist_fields_tree(build_tree(paras)))
    for label, part in _appendices(items):
        parser.walk_appendix(hoist_fields_tree(build_tree(part)), label)
    tasks = parser.finish()
    for prefix, table in _placed_tables(items):
        tasks.extend(table_tasks(table, finder, plan.issued_on, prefix))
    if not tasks:
        raise NotAPlan("Không tìm thấy nhiệm vụ nào được giao cho cơ quan cụ thể trong văn bản này.")
    plan.tasks = tasks
    plan.monitor = monitor_agency(tasks, finder)
    plan.left_out = parser.left_out
    _flag_problems(plan)
    return plan


def _flag_problems(plan: ParsedPlan) -> None:
    """Deadlines that name no real day: the task keeps the words and asks an admin for the date."""
    for t in plan.tasks:
        if t.deadline is not None and t.deadline.kind == INVALID:
            t.problems.append(f"Thời hạn “{t.deadline.text}” không phải là ngày có thật; "
                              "cần quản trị viên nhập lại ngày đúng.")
        plan.problems.extend(f"{t.ref}: {p}" for p in t.problems)


def hoist_fields_tree(root: Node) -> Node:
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
