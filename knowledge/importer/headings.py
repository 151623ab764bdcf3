"""Headings that name the body doing the items under them, when the name finder sees only part of it.

"a) Tổ đảng ở Thường trực Ủy ban KH,CN&MT", "n) Lãnh đạo Ban Dân nguyện", "Đảng ủy cơ quan Văn phòng
Quốc hội", "p) Các Đoàn đại biểu Quốc hội, các đại biểu Quốc hội": a short line with no verb, made of
bodies' names joined by "ở", "của", "thuộc" (a party cell *of* a committee's standing body), maybe
after an office word ("Lãnh đạo", "Đảng ủy cơ quan"). The heading as written is the lead: cutting it at
the first name the finder knows ("Tổ đảng") would give every such heading the same, wrong, lead.
"""

from __future__ import annotations

import itertools
import re

from knowledge.importer.names import HEAD_WORDS, Mention, NameFinder, shadow
from knowledge.text import fold

# Longest heading read as a name; a longer line is a sentence.
_MAX_HEADING = 110
# Words before the first name that make it an office or a party body of that name.
_PREFIX = re.compile(r"^(?:de nghi\s*:?\s*|cac\s+|(?:tap the\s+)?lanh dao\s+|thuong truc\s+|ban thuong vu\s+|"
                     r"ban can su dang\s+|dang doan\s+|dang uy(?:\s+co quan)?\s+|chi bo(?:\s+co quan)?\s+|"
                     r"dang bo(?:\s+co quan)?\s+|"
                     r"to dang(?:\s+o)?\s+|thu truong\s+|nguoi dung dau\s+|chu tich\s+|giam doc\s+)*$")
# What may stand between two names of one heading: "ở", "của", "thuộc", a list's comma, or a few words
# of a name the finder does not know (", các đại biểu "); verbs are ruled out for the whole line.
_JOIN_WORDS = 4
# Words no name holds: a verb or a preposition makes the line a sentence. Short words are matched with
# their accents ("tại" is a preposition, "Tài chính" a name), longer ones folded.
_SHORT_VERB = re.compile(r"(?<!\w)(?:có|là|làm|chịu|được|để|với|về|trong|tại|cho|đã|sẽ|nhằm|khi|nếu|thì|từ|đến|"
                         r"sau|trước|gửi|trình|theo|xong)(?!\w)")
_VERB = re.compile(r"\b(?:chu tri|phoi hop|thuc hien|trien khai|xay dung|to chuc|tham muu|huong dan|bao cao|ra soat|"
                   r"nghien cuu|tong hop|kiem tra|ban hanh|chi dao|hoan thanh|tiep tuc|day manh|tang cuong|"
                   r"tuyen truyen|giam sat|nhiem vu|trach nhiem|noi dung)\b")
_ASKED = re.compile(r"^đề nghị\s*:?\s*", re.IGNORECASE)
_SEPARATOR = re.compile(r"\s*(?:[,;]|\bvà\b)\s*(?:và\s+)?")


def heading_body(text: str, finder: NameFinder) -> list[str] | None:
    """The bodies a verb-less heading names, each as written; None when the line is not such a heading."""
    stripped = text.strip().rstrip(":").strip()
    if not stripped or len(stripped) > _MAX_HEADING or stripped.endswith(".") \
            or any(c.isdigit() or c == "|" for c in stripped):
        return None
    sh = shadow(stripped)
    if _VERB.search(sh) or _SHORT_VERB.search(stripped.lower()):
        return None
    found = finder.mentions(stripped)
    if not found or not _PREFIX.match(sh[:found[0].start]):
        return None
    for a, b in itertools.pairwise(found):
        if len(re.findall(r"\w+", sh[a.end:b.start])) > _JOIN_WORDS:
            return None
    if not _name_tail(stripped[found[-1].end:]):
        return None
    return _split_names(stripped, found)


def _name_tail(tail: str) -> bool:
    """What follows the last name the finder saw still belongs to a name: capitalised words,
    abbreviations ("KH,CN&MT"), a list of more names ("Tài chính, Ngân sách", ", các đại biểu Quốc hội"),
    and it ends on a capitalised word among its last two."""
    words = re.findall(r"[\w&]+", tail)
    if not words:
        return True
    last_part = tail.rsplit(",", 1)[-1].split()
    if "," in tail and len(last_part) == 1 and fold(last_part[0]) in HEAD_WORDS:
        return False  # "Mặt trận Tổ quốc, Đoàn" + a hard-wrapped line: a name never ends on its head word
    return any(w[:1].isupper() for w in words[-2:])


def _split_names(heading: str, found: list[Mention]) -> list[str]:
    """The heading cut into its bodies: at a comma, ";" or "và" only where a name the finder knows
    begins ("Tổ đảng ở Thường trực Ủy ban Tài chính, Ngân sách" stays whole); "Đề nghị" is no name."""
    starts = {m.start for m in found}
    cuts = [0]
    for sep in _SEPARATOR.finditer(heading):
        if (sep.end() in starts or heading[sep.end():sep.end() + 4].lower() == "các ") and sep.start() > cuts[-1]:
            cuts.append(sep.start())
            cuts.append(sep.end())
    cuts.append(len(heading))
    names = [heading[a:b].strip(" ,;") for a, b in zip(cuts[::2], cuts[1::2], strict=False)]
    names = [_ASKED.sub("", n) for n in names]
    return [n for n in names if n]
