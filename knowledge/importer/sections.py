"""Sections written as lettered parts: "a) Nhiệm vụ: ...", "b) Cơ quan thực hiện:" (with "- Đơn vị chủ trì:",
"- Đơn vị phối hợp:" under it), "c) Thời gian thực hiện: ...".

The letters there are not tasks: they are the labels of one task's content, bodies and time. The tree is
rewritten into the shape `OutlineParser.emit_fields` reads for any section that lists its content and then
its fields: the content part becomes a "Nhiệm vụ:" paragraph (its bullets, or the text on its line, are
the items), and the fields become field lines of the section.
"""

from __future__ import annotations

import re

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
