"""Sections written as lettered parts: "a) Nhiệm vụ: ...", "b) Cơ quan thực hiện:" (with "- Đơn vị chủ trì:",
"- Đơn vị phối hợp:" under it), "c) Thời gian thực hiện: ...".

The letters there are not tasks: they are the labels of one task's content, bodies and time. The tree is
rewritten into the shape `OutlineParser.emit_fields` reads for any section that lists its content and then
its fields: the content part becomes a "Nhiệm vụ:" paragraph (its bullets, or the text on its line, are
the items), and the fields become field lines of the section.
"""

from __future__ import annotations

import re
from datetime import date

from knowledge.deadlines import ONE_OFF, Deadline, parse_deadline
from knowledge.importer.names import HEAD_WORDS
from knowledge.importer.outline import CONTENT_LABEL, FIELD, Node
from knowledge.text import fold

_LEAD_LABEL = re.compile(r"chu tri|thuc hien|trach nhiem|dau moi")


def lettered_fields(node: Node) -> None:
    """Rewrite, anywhere below `node`, the lettered parts of a task into content and field lines."""
    for c in node.children:
        lettered_fields(c)
    parts = [c for c in node.children if c.kind in ("letter", "num")]
    if len(parts) < 2:
        return
    content = [c for c in parts if CONTENT_LABEL.match(c.text) and not FIELD.match(c.text)]
    fields = [c for c in parts if FIELD.match(c.text)]
    if len(content) != 1 or not fields or not any(_names_lead(f) for f in fields):
        return
    out: list[Node] = []
    for c in node.children:
        if c in content:
            out.append(Node("plain", 8, "", c.text, children=c.children, parent=node))
        elif c in fields:
            m = FIELD.match(c.text)
            if m and not m.group("value").strip() and c.children and all(FIELD.match(g.text) for g in c.children):
                # "b) Cơ quan thực hiện:" over "- Đơn vị chủ trì: ..." / "- Đơn vị phối hợp: ...".
                for g in c.children:
                    out.append(Node("bullet", 6, "", g.text, parent=node))
            else:
                out.append(Node("bullet", 6, "", c.text, children=c.children, parent=node))
        else:
            out.append(c)
    node.children = out


def _names_lead(f: Node) -> bool:
    """A field part that says who leads, on its line or in the lines under it."""
    m = FIELD.match(f.text)
    label = fold(m.group("label")) if m else ""
    if _LEAD_LABEL.search(label) and "thoi" not in label:
        return True
    return any((g := FIELD.match(c.text)) and _LEAD_LABEL.search(fold(g.group("label"))) for c in f.children)


_PERIOD_LABEL = re.compile(r"^thoi gian(?: thuc hien| trien khai)?(?: ke hoach)?\s*:?\s*(?P<v>.*)$")


# Sections that frame the whole plan ("I. MỤC TIÊU" > "3. Thời gian thực hiện: Từ năm 2026 - 2030"), as
# opposed to a task section whose own "Thời gian thực hiện" line is its items' time only.
_PREAMBLE_SECTION = re.compile(r"thoi gian|muc dich|muc tieu|yeu cau|pham vi|doi tuong")


def plan_period(root: Node, plan_date: date | None) -> Deadline | None:
    """The time a plan gives once for all its work ("II. ĐỐI TƯỢNG, PHẠM VI VÀ THỜI GIAN THỰC HIỆN" >
    "3. Thời gian thực hiện: Từ nay đến hết năm 2025", or a section "THỜI GIAN THỰC HIỆN"): it applies
    to the tasks that give no time of their own. Only a one-off period counts (a day, month, quarter, year)."""
    for sec in root.children:
        if sec.kind != "roman" or not _PREAMBLE_SECTION.search(fold(sec.text)):
            continue
        m = _PERIOD_LABEL.match(fold(re.sub(r"^[IVX]+\s*[.:\-–]\s*", "", sec.text)))
        candidates = [(sec, m)] if m else []
        candidates += [(c, cm) for c in sec.children if (cm := _PERIOD_LABEL.match(fold(c.text)))]
        for node, match in candidates:
            value = node.text[match.start("v"):] if match.group("v") else " ".join(c.text for c in node.children[:2])
            found = parse_deadline(value, plan_date)
            if found is not None and found.kind in ONE_OFF and found.due is not None:
                return found
    return None


def field_runs(node: Node) -> None:
    """Bullets each followed by their own field lines ("- Tổ chức tập huấn ..." / "Đơn vị chủ trì: Sở Tư
    pháp." / "Đơn vị phối hợp: ..." / "Thời gian thực hiện: ..." / "- Nâng cao ..." / "Đơn vị chủ trì: Sở Nội
    vụ." ...): each run of field lines belongs to the bullets since the run before, not to the whole
    section. The section's children are regrouped so that every group is read as content plus fields."""
    for c in node.children:
        field_runs(c)
    kids = node.children
    is_field = [c.kind in ("bullet", "plain") and bool(FIELD.match(c.text)) for c in kids]
    runs = sum(1 for i, f in enumerate(is_field) if f and (i == 0 or not is_field[i - 1]))
    if runs < _MIN_RUNS or is_field[0] or not is_field[-1]:
        return
    if any(c.kind not in ("bullet", "plain") for c in kids):
        return
    groups: list[Node] = []
    content: list[Node] = []
    fields: list[Node] = []
    for c, f in zip(kids, is_field, strict=True):
        if not f and fields:
            groups.append(_group(node, content, fields))
            content, fields = [], []
        (fields if f else content).append(c)
    groups.append(_group(node, content, fields))
    node.children = groups


# Below two runs of field lines, the fields may be the whole section's (read by emit_fields as it is).
_MIN_RUNS = 2


def _group(parent: Node, content: list[Node], fields: list[Node]) -> Node:
    group = Node("bullet", 6, "", "", parent=parent)
    items: list[Node] = []
    for c in content:
        points = [g for g in c.children if _named_point(g)]
        if points and len(points) == len(c.children):
            # "- Phối hợp hướng dẫn ... Trong đó:" over "+ Sở Xây dựng: hướng dẫn ...", "+ Sở Công Thương: ...":
            # each point names its own doer; the line above them is the section's own task.
            items.append(Node("plain", 8, "", "Nội dung: " + c.text, parent=group))
            items += [Node("plain", 8, "", "Nội dung: " + _text(g), parent=group) for g in points]
        else:
            items.append(Node("plain", 8, "", "Nội dung: " + _text(c), parent=group))
    group.children = [*items, *fields]
    for f in fields:
        f.parent = group
    return group


# "Sở Xây dựng: hướng dẫn ...", "Sở Tài chính phối hợp Ban Quản lý ...: hướng dẫn ...": a point that opens with
# a body's name (a head word in capitals) and a colon.
_NAMED_POINT = re.compile(r"^[A-ZĐÀ-Ỹ][^:]{2,120}:\s*\S")


def _named_point(node: Node) -> bool:
    words = fold(node.text).split()
    return node.kind == "bullet" and bool(_NAMED_POINT.match(node.text)) and bool(words) and words[0] in HEAD_WORDS


def _text(node: Node) -> str:
    return " ".join([node.text, *(_text(c) for c in node.children)])
