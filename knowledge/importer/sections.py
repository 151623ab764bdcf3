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


def plan_period(root: Node, plan_date: date | None) -> Deadline | None:
    """The time a plan gives once for all its work ("II. ĐỐI TƯỢNG, PHẠM VI VÀ THỜI GIAN THỰC HIỆN" >
    "3. Thời gian thực hiện: Từ nay đến hết năm 2025", or a section "THỜI GIAN THỰC HIỆN"): it applies
    to the tasks that give no time of their own. Only a one-off period counts (a day, month, quarter, year)."""
    for sec in root.children:
        if sec.kind != "roman" or "thoi gian" not in fold(sec.text):
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
