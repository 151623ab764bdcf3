"""From a plan's paragraphs to its tasks: numbering, sections, and who each item is given to.

The layouts (see docs/domain.md): an agency as the sentence's subject; "Giao Sở X ..."; an agency
heading over verb-first sub-items; a lead line ("Sở X chủ trì, phối hợp với Y:") over dash bullets;
responsibility lines ("* Ban Tuyên giáo Tỉnh ủy ...") after the bullets they assign. Section I (Mục
đích, yêu cầu), the preamble, "Nơi nhận" and the signer block never hold tasks, and an item nobody is
assigned to is not a task.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import date

from knowledge.agencies import agency_key
from knowledge.deadlines import ONE_OFF, RECURRING, Deadline, parse_deadline
from knowledge.importer.headings import _SHORT_VERB, heading_body
from knowledge.importer.model import LeftOut, ParsedTask
from knowledge.importer.names import (
    HEAD_WORDS,
    NOISE,
    NOT_NAMES,
    NameFinder,
    Roles,
    clause_roles,
    roles,
    runs,
    shadow,
)
from knowledge.importer.reading import Block, Table
from knowledge.text import clean_markup, fold

ROMAN = re.compile(r"^(?P<l>X{0,3}(?:IX|IV|V?I{1,3}|V))\s*[.\-–:)]\s*(?P<t>\S.*)$")
NUM = re.compile(r"^(?P<l>\d{1,4}(?:\.\d{1,3}){0,5})(?:\s*[.)]|\s*[-–]\s)\s*(?P<t>\S.*)$"
                  r"|^(?P<l2>\d{1,4}(?:\.\d{1,3}){1,5})\s+(?P<t2>\S.*)$")
# Below this an item number is read as one without more ado; from it on ("100.", "2021 - 2025 ...")
# only as the next number of a running list, since a year or an amount also starts lines.
_BIG_NUMBER = 100
_LETTER = re.compile(r"^(?P<l>[a-zđ])\s*[).]\s*(?P<t>\S.*)$")
# "(1) Giao Bộ X ...", "(2) Về ...": a conclusion notice's points numbered in brackets, read as lettered items.
_PAREN = re.compile(r"^\((?P<l>\d{1,2})\)\s*(?P<t>\S.*)$")
_BULLET = re.compile(r"^(?P<b>[-–—•●▪◦+])\s*(?P<t>\S.*)$")
_SECTION_WORDS = re.compile(r"^(?:PHẦN\s+\S+\s*[.:\-–]?\s*)?(MỤC ĐÍCH|MỤC TIÊU|YÊU CẦU|QUAN ĐIỂM|NHIỆM VỤ|NỘI DUNG|"
                            r"GIẢI PHÁP|TỔ CHỨC THỰC HIỆN|PHÂN CÔNG|KINH PHÍ|CHẾ ĐỘ BÁO CÁO)")
# "- Cơ quan chủ trì: Sở X" / "Thời gian hoàn thành: Quý II/2025": a field of the task above.
_FIELD = re.compile(r"^(?P<label>(?:cơ quan|đơn vị|bộ phận)\s+(?:chủ trì|thực hiện|phối hợp|chịu trách nhiệm|đầu mối)"
                    r"(?:\s+tham mưu)?(?:\s+thực hiện)?|chủ trì|phối hợp|trách nhiệm thực hiện"
                    r"|thời gian(?:\s+(?:hoàn thành|thực hiện|trình|dự kiến|tổ chức))?"
                    r"|thời hạn(?:\s+(?:hoàn thành|thực hiện|ban hành|trình))?"
                    r"|tiến độ(?:\s+thực hiện)?|hoàn thành|sản phẩm|kết quả|kinh phí)"
                    r"\s*:\s*(?P<value>.*)$", re.IGNORECASE)
FIELD = _FIELD
_STAR = re.compile(r"^\s*\*{1,3}\s+\S")
_STOP = re.compile(r"^(noi nhan|kt chu tich|t m |tm |tl |kt |q chu tich)")
_NO_TASK_SECTION = re.compile(r"^(muc dich|muc tieu|quan diem|yeu cau|can cu|tinh hinh|ket qua|danh gia|phu luc)")
# A line ending on one of these words goes on in the next line (a page break inside a sentence).
_DANGLING = re.compile(r"(?:\b(?:của|và|với|các|về|tại|cho|trong|theo|đến|những|được|để|là|hoặc|"
                       r"từ|ở|bằng|nhằm|mà|thì|trên|dưới|qua|chỉ|cùng|có|không|đã|sẽ|đang|quý)|[,(\-–])$")
_ROLE_WORDS = re.compile(r"\b(chu tri|phoi hop|voi|va|cac|co quan|don vi|lien quan|co trach nhiem|chiu trach nhiem|"
                         r"la co quan|dau moi|lam dau moi|thuc hien|theo chuc nang nhiem vu|chuc nang|nhiem vu|"
                         r"duoc giao|tinh|nhu sau|cu the|sau day|chu dong)\b")
_DUTY_OF = re.compile(r"^(?:trach nhiem|nhiem vu|doi voi|phan cong)(?:\s+cua)?\s+")
# What may follow the known start of a body's name in a heading "Trách nhiệm của ...": more words of
# the name, or where it is ("các tỉnh, thành phố trực thuộc trung ương"), but no verb or clause.
_NAME_TAIL = re.compile(r"^(?![^:]*\b(?:trong|ve|doi voi|nham|de|thuc hien|trien khai|chu tri|phoi hop)\b)"
                        r"[\w ,\-–&]{0,60}$")
# A heading "Trách nhiệm của <X>" read with a body the finder does not know: at most this long, X at most
# this many words once its parenthesis ("(bao gồm ...)") is dropped.
_DUTY_HEADING_MAX = 110
_DUTY_WHO_WORDS = 8
_PARENS = re.compile(r"\([^)]*\)?")
# Words of where a body is, after its known head: "các phường, xã, đặc khu", "các tỉnh, thành phố".
_PLACE_TAIL = re.compile(r"^[\s,]*(?:(?:cac|tinh|thanh pho|huyen|quan|thi xa|thi tran|xa|phuong|dac khu|va|"
                         r"truc thuoc|trung uong)\b[\s,]*)+$")
# " - " between a name and what it is in the plan ("Sở Tài chính - Cơ quan thường trực Ban Chỉ đạo").
_APPOSITION = re.compile(r"\s[-–]\s")
_HEADING_VERB = re.compile(r"\b(?:chu tri|phoi hop|thuc hien|trien khai|xay dung|(?<!cac )to chuc|tham muu|"
                           r"huong dan|bao cao|ra soat|tong hop|kiem tra|ban hanh|(?<!ban )chi dao|hoan thanh|tiep tuc|"
                           r"day manh|tang cuong|tuyen truyen|giam sat)\b")
_DUTY_COLON = re.compile(r"\b(?:co|chiu) trach nhiem(?: (?:thuc hien|nhu sau|cac nhiem vu sau))?\s*:\s*$")
# "(gồm các Sở: Xây dựng, Tài chính)", "(bao gồm: Sở A, Sở B)": the members of a group a heading names.
_MEMBERS = re.compile(r"\((?:bao\s+)?gồm\s*(?:các\s+)?(?P<head>sở|bộ|ban)\s*:\s*(?P<rest>[^()]+)\)", re.IGNORECASE)
_GROUP_WORDS = 14
# "Các Bộ, cơ quan: Tài chính, Xây dựng, ... <the work>": a list of bodies by their kind's name as a sentence's subject.
_LIST_SUBJECT = re.compile(r"^(?:các\s+)?(?P<head>bộ|sở)(?:\s*,\s*(?:cơ quan|ngành|ban, ngành|địa phương))+\s*:\s*"
                           r"(?P<rest>.+)$", re.IGNORECASE)
_LIST_PART_WORDS = 5
_DEPT_LIST = re.compile(r"^(?:các\s+)?(?P<head>sở|bộ|ban)\s*:\s*(?P<rest>.+?)[.:]?$", re.IGNORECASE)


_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_MARKUP = re.compile(r"[*_\u00a0\u200b]|\s\s")
# A page number copied out of a PDF between two pages: "2", "- 3 -", "Trang 4", "5/12" on a line of its own.
_PAGE_NO = re.compile(r"^(?:[-–—]\s*)?(?:trang\s+)?\d{1,3}(?:\s*/\s*\d{1,3})?(?:\s*[-–—])?$", re.IGNORECASE)


@dataclass
class Para:
    raw: str
    text: str  # markup removed


@dataclass
class Node:
    kind: str  # root | roman | num | letter | bullet | plain | star
    level: int
    label: str
    text: str
    star: bool = False
    children: list[Node] = field(default_factory=list)
    parent: Node | None = None


def paragraphs(blocks: list[Block]) -> list[Para | Table]:
    """Lines joined into paragraphs; a sentence broken by a page break is made whole again."""
    out: list[Para | Table] = []
    last_line = ""  # the physical line just before, when no blank line came between
    opened = ""  # a bold marker alone on its line ("**" / "Ngày hiệu lực:**"): it opens the next line's bold
    for b in blocks:
        if isinstance(b, Table):
            out.append(b)
            last_line = ""
            continue
        raw = opened + _MD_HEADING.sub("", b.rstrip())  # "# NGHỊ QUYẾT", "## Ban hành ...": a heading's words
        text = clean_markup(raw) if _MARKUP.search(raw) else raw.strip()
        opened = ""
        if not text and raw.count("**") % 2:
            last = out[-1] if out else None
            if isinstance(last, Para) and last_line and last.raw.count("**") % 2:
                last.raw += " **"  # "**ỦY BAN NHÂN DÂN" / "**": it closes the bold above
            else:
                opened = "**"
        if not text:
            last_line = ""
            continue
        if _PAGE_NO.match(text):
            continue
        last = out[-1] if out else None
        if isinstance(last, Para) and last_line and (
                (_BARE_LABEL.match(last.text) and not _starts_item(text, raw)) or last.raw.count("**") % 2):
            # "1." / "Sở Y tế:" on the next line: a number broken from its heading is one heading; and a
            # markdown "**II. ĐỐI" / "TƯỢNG, PHẠM VI**" goes on until its bold closes.
            last.raw += " " + raw.strip()
            last.text = last.text + " " + text
        elif isinstance(last, Para) and (_continues(last.text, text, raw) or _wrapped(last_line, text, raw)):
            last.raw += " " + raw.strip()
            last.text = last.text + " " + text
        else:
            out.append(Para(raw, text))
        last_line = text
    return out


# An item number or bullet alone on its line ("1.", "IV.", "a)", "Điều 1.", "-"): its text went on to the
# next line (a hard-wrapped copy breaks right after the marker).
_BARE_LABEL = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){0,3}\.|[IVX]{1,5}\.|[a-zđ]\)|Điều \d{1,3}\s*[.:]|[-–—•●▪◦+])$")


# Text copied out of a PDF breaks every line near the page width; such a line runs on into the next
# one even when that begins with a capital ("... báo cáo" / "Bộ trưởng ...").
_WRAP_WIDTH = 60


def _wrapped(prev_line: str, text: str, raw: str) -> bool:
    return (len(prev_line) >= _WRAP_WIDTH and not prev_line.endswith((".", ";", ":", "!", "?"))
            and prev_line.upper() != prev_line and not _starts_item(text, raw) and not _FIELD.match(text)
            and not _SECTION_WORDS.match(text) and not _BARE_LABEL.match(text))


def _starts_item(text: str, raw: str) -> bool:
    return bool(ROMAN.match(text) or _small_num(text) or _LETTER.match(text) or _PAREN.match(text)
                or _BULLET.match(raw.strip())
                or _STAR.match(raw))


def _small_num(text: str) -> bool:
    m = NUM.match(text)
    return m is not None and not _big(m)


def _big(m: re.Match[str]) -> bool:
    label = m.group("l") or m.group("l2")
    return "." not in label.strip(".") and int(label.strip(".")) >= _BIG_NUMBER


# The first word of a body's name, capitalised: no line ends on it unless the name goes on below.
_NAME_HEADS = frozenset({"Sở", "Bộ", "Ban", "Cục", "Hội", "Đoàn", "Viện", "Vụ", "Ủy", "Uỷ", "Tổng", "Chi", "Trung",
                         "Ngân", "Liên", "Phòng", "Đài", "Báo", "Văn", "Bảo", "Hiệp", "Mặt", "Công", "Kho"})


def _continues(prev: str, text: str, raw: str) -> bool:
    if _starts_item(text, raw) or _FIELD.match(text) or _BARE_LABEL.match(text):
        return False
    if prev.upper() == prev and text.upper() != text:
        return False  # "KẾ HOẠCH" then its title in lower case: a header line ends there
    first = text[0]
    if first.islower():
        return True
    if prev.endswith((".", ";", ":", "!", "?", "./.")):
        return False
    if prev.count("(") > prev.count(")"):
        return True  # "(Viettel Nghệ" / "An, VNPT Nghệ An)": a bracket still open goes on
    if first.isdigit():
        return True
    if prev.rsplit(None, 1)[-1] in _NAME_HEADS:
        return True  # "Cơ quan chủ trì: Sở Nội vụ, Sở" / "Giáo dục và Đào tạo": a name broken at its head word
    if prev.upper() != prev and _OFFICE_END.search(prev[-12:].lower()):
        return True  # "Tham mưu đề xuất Chủ tịch" / "UBND tỉnh khen thưởng ...": an office and its body
    return bool(_DANGLING.search(prev[-12:].lower()))


_OFFICE_END = re.compile(r"\b(?:chủ tịch|giám đốc|bộ trưởng|thủ trưởng|bí thư|trưởng ban|chủ nhiệm)$")


_BARE_COMMITTEE = ("uy ban nhan dan", "ubnd")
_PLACES = r"(?:tinh|thanh pho|huyen|quan|thi xa|thi tran|xa|phuong|dac khu)"
_PLACE_AFTER = re.compile(r"\s+cac\s+" + _PLACES + r"(?:\s*(?:,|va)\s*(?:" + _PLACES + r"|truc thuoc trung uong))*\b")


def _with_place(text: str, start: int, end: int, name: str) -> str:
    """"Ủy ban nhân dân các phường, xã, đặc khu": a bare "Ủy ban nhân dân" and the places it stands for, as
    written (the bare name alone would read as the province's committee)."""
    if fold(text[start:end]) not in _BARE_COMMITTEE:
        return name
    m = _PLACE_AFTER.match(shadow(text), end)
    return text[start:m.end()].strip(" ,") if m else name


_DUTIES_FOLLOW = re.compile(r"\b(?:cac )?(?:nhiem vu|noi dung|cong viec)(?: cu the| chu yeu| trong tam)?"
                            r" (?:nhu )?sau\s*$")
# Where one clause of an item ends: a sentence's full stop, or a ";" (only "...; giao X ..." opens a doer's part).
_CLAUSE_END = re.compile(r"(?<=[\w)\u201d\"][.;])\s+(?=\S)")
_TWO_DOERS = 2
# A doer's part that only agrees, announces or tells what was done: "thống nhất ...", "sẽ phân công ...".
_NO_TASK_VERB = re.compile(r"^(?:thong nhat|se|da|dang)\b")
# "Yêu cầu ...", "Đề nghị ..." after the item's task: an exhortation that goes on with it, no new doer's part.
_EXHORT = re.compile(r"^(?:yeu cau|de nghi|kinh de nghi)\b")
# "Tỉnh"/"Thành phố" as the subject (after a "Về ...:" topic): the province whose working visit is concluded.
_HOST_SUBJECT = re.compile(r"^(?:ve [^:]{3,250}:\s*)?(?:trong thoi gian toi,\s*)?"
                           r"(?P<w>tinh|thanh pho)\s+(?!uy\b|doan\b)")
# "... buổi làm việc với lãnh đạo tỉnh Điện Biên ...": the host of a working visit, in the notice's preamble.
_VISIT = re.compile(r"làm việc với (?:lãnh đạo |Ban Thường vụ |tập thể lãnh đạo )?(?P<k>tỉnh|thành phố) "
                    r"(?P<n>[^,.;:()]{2,40})")
_HOST_SPAN = 100  # paragraphs searched for it (a saved web page puts its notices before the document)


def visit_host(paras: list[Para]) -> str | None:
    """"tỉnh Điện Biên" when the preamble says the meeting was a working visit to that province."""
    for p in paras[:_HOST_SPAN]:
        m = _VISIT.search(p.text)
        if m is None:
            continue
        words = []
        for w in m.group("n").split():
            if not w[:1].isupper():
                break
            words.append(w)
        if words:
            return f"{m.group('k')} {' '.join(words)}"
    return None


# Fewer words than this, or a line all in capitals, is no work asked of anyone.
_WORK_WORDS = 4


def _no_work(text: str) -> bool:
    return len(re.findall(r"\w+", text)) < _WORK_WORDS or text.isupper()


# A line that only gives a time, without a field's colon: "Thời gian hoàn thành trước ngày 31/12/2025."
_TIME_LINE = re.compile(r"^(?:Thời gian|Thời hạn)\s+(?:hoàn thành|thực hiện)?\s*(?:trước|trong|vào|chậm nhất|xong)",
                        re.IGNORECASE)
_TIME_LINE_MAX = 150
# A preamble that names who does the items below: "yêu cầu <X> tập trung thực hiện (tốt) (một số) nhiệm vụ,
# giải pháp (như) sau:", "Bộ Xây dựng yêu cầu <X>:".
_ASKS = re.compile(r"\b(?:yeu cau|de nghi)\s+")
_DOERS_TAIL = re.compile(r"^\s*(?::|[^:]{0,150}\b(?:sau|nhu sau|sau day)\s*:)\s*$")
# The office holders a preamble asks before the bodies they head: "yêu cầu Giám đốc, Thủ trưởng các sở, ban ngành".
_HOLDERS = re.compile(r"(?:(?:giam doc|thu truong|nguoi dung dau|lanh dao)\s*(?:,|va)?\s*)+")
_ASKED_PREFIX = re.compile(r"^(?:đề nghị|kính đề nghị)\s*:?\s*", re.IGNORECASE)
# First words of a body's name beyond those the name finder starts names with.
_MORE_HEADS = ("thanh doan", "co quan", "dai su quan", "uy ban nhan dan", "ubnd", "giam doc", "thu truong")
# Who a plan may ask in the plural without naming one body: "Các chủ đầu tư ...", "Các doanh nghiệp ...".
_PLURAL_HEADS = ("chu dau tu", "chu rung", "doanh nghiep", "nha mang", "hop tac xa", "don vi", "co so", "dia phuong")


# "Tiểu ban giúp việc Ban Chỉ đạo 934": a number that ends a body's name (a steering committee's).
_NAME_NUMBER = re.compile(r"\s\d{1,4}$")


def _unknown_body_heading(text: str) -> str | None:
    """A short verb-less heading that starts with a body's head word ("Thành đoàn Hà Nội", "Liên hiệp các tổ
    chức hữu nghị thành phố Hà Nội"): the body's name as written; None for a topic heading."""
    name = _ASKED_PREFIX.sub("", text.strip().rstrip(" :")).strip()
    if not name or len(name) > _DUTY_HEADING_MAX or name.endswith(".") or not name[:1].isupper() \
            or any(c.isdigit() for c in _NAME_NUMBER.sub("", name)) or name.isupper():
        return None
    sh = shadow(name)
    words = fold(name).split()
    plural = words[:1] == ["cac"]  # "Các chủ đầu tư xây dựng và kinh doanh hạ tầng ...": who, then what they do
    if plural:
        words = words[1:]
    if (not plural and (_HEADING_VERB.search(sh) or _SHORT_VERB.search(name.lower()))) or _NO_TASK_SECTION.match(sh):
        return None
    if " ".join(words).startswith(NOT_NAMES):  # "Hội nghị sơ kết", "Tổ chức ...": an event, a verb
        return None
    heads = _MORE_HEADS + (_PLURAL_HEADS if plural else ())
    if not any(" ".join(words[:n]) in HEAD_WORDS or " ".join(words[:n]) in heads for n in (1, 2, 3, 4)):
        return None
    return name


def _is_time_field(node: Node) -> bool:
    return node.kind in ("bullet", "plain") and bool(_FIELD.match(node.text)) \
        and fold(node.text).startswith(("thoi gian", "thoi han"))


def _own_times(node: Node) -> None:
    """Items each followed by its own "Thời gian thực hiện: ..." line (two or more such lines between the
    items): each line is its item's time, not one time of the section; it moves under its item."""
    kids = node.children
    times = [i for i, c in enumerate(kids) if _is_time_field(c)]
    if len(times) < 2 or any(_FIELD.match(c.text) and not _is_time_field(c)
                             for c in kids if c.kind in ("bullet", "plain")):
        return
    if any(i == 0 or _is_time_field(kids[i - 1]) or kids[i - 1].kind != "bullet" for i in times):
        return
    kept: list[Node] = []
    for c in kids:
        if _is_time_field(c):
            kept[-1].children.append(c)
            c.parent = kept[-1]
        else:
            kept.append(c)
    node.children = kept


# "Văn phòng Chính phủ thông báo để các Bộ, cơ quan liên quan biết, thực hiện./.": a notice's closing line.
_CLOSING = re.compile(r"^.{0,80}\bthong bao de\b.{0,160}\bbiet"
                      r"(?: (?:va |de )?(?:phoi hop )?(?:thuc hien|trien khai))?\s*$")
_CLOSING_MAX = 250


def ends_body(text: str) -> bool:
    """"Nơi nhận:", "KT. CHỦ TỊCH", "TM. BAN THƯỜNG VỤ", a notice's "... thông báo để ... biết, thực hiện":
    the body of the plan ends here."""
    if len(text) < _CLOSING_MAX and "thông báo" in text and _CLOSING.match(fold(text)):
        return True
    return len(text) < 80 and bool(_STOP.match(fold(text) + " "))


# A document's kind line, above its title: what comes before it is the header.
_KIND_LINES = ("ke hoach", "quyet dinh", "chi thi", "cong dien", "thong bao")
_APPENDIX = re.compile(r"^PH[ỤU] L[ỤU]C(?:\s+(?P<n>[IVXLC]+|\d+)\b)?", re.IGNORECASE)


def appendix_label(text: str) -> str | None:
    """"PHỤ LỤC II ..." -> "PL.II", "PHỤ LỤC" -> "PL"; None for any other line."""
    m = _APPENDIX.match(text)
    if m is None or len(text) > 200 or not text[:7].isupper():
        return None
    return "PL." + m.group("n").upper() if m.group("n") else "PL"


def build_tree(paras: list[Para]) -> Node:
    """The numbering tree: I./II. > 1./1.1. > a) > bullets; plain paragraphs under the current item."""
    root = Node("root", -1, "", "")
    stack = [root]
    last_top = 0  # the last one-part item number: "100." counts only right after "99."
    for p in paras:
        text, raw = p.text, p.raw
        if ends_body(text):
            break
        node: Node
        m = ROMAN.match(text)
        if m and text[: len(m.group("l"))].isupper():
            node = Node("roman", 0, m.group("l"), m.group("t"))
        elif (m := NUM.match(text)) is not None and (not _big(m) or _label_int(m) == last_top + 1):
            label = (m.group("l") or m.group("l2")).strip(".")
            node = Node("num", label.count(".") + 1, label, m.group("t") or m.group("t2"))
            if "." not in label:
                last_top = int(label)
        elif (m := _LETTER.match(text) or _PAREN.match(text)) is not None and len(text) > 4:
            node = Node("letter", 5, m.group("l"), m.group("t"))
        elif _SECTION_WORDS.match(text) and text.upper() == text and len(text) < 120:
            node = Node("roman", 0, "", text)  # "NHIỆM VỤ, GIẢI PHÁP" without a number (Word numbering)
        elif _STAR.match(raw):
            node = Node("star", 8, "", text, star=True)
        elif (m := _BULLET.match(raw.strip())) is not None:
            node = Node("bullet", 7 if m.group("b") == "+" else 6, "", clean_markup(m.group("t")))
        else:
            node = Node("plain", 8, "", text)
        if node.kind in ("plain", "star"):
            while stack[-1].kind == "bullet" or stack[-1].kind in ("plain", "star"):
                stack.pop()
            node.parent = stack[-1]
            stack[-1].children.append(node)
            continue
        while len(stack) > 1 and stack[-1].level >= node.level:
            stack.pop()
        node.parent = stack[-1]
        stack[-1].children.append(node)
        stack.append(node)
    return root


def _label_int(m: re.Match[str]) -> int:
    return int((m.group("l") or m.group("l2")).strip("."))



@dataclass
class _Ctx:
    """What an item inherits from an agency heading or a lead line above it."""

    lead: list[str]
    coordinators: list[str]
    deadline: Deadline | None


@dataclass
class _Info:
    text: str
    roles: Roles
    lead: list[str]
    deadline: Deadline | None
    agency_heading: bool
    lead_line: bool


def _rank(d: Deadline | None) -> int:
    if d is None:
        return 9
    if d.kind in ONE_OFF:
        return 0 if d.due else 2
    if d.kind in RECURRING:
        return 1
    return 3 if d.kind == "periodic" else 4


def better(*ds: Deadline | None) -> Deadline | None:
    """The most concrete of several deadlines (a day beats "định kỳ", which beats "thường xuyên")."""
    best: Deadline | None = None
    for d in ds:
        if d is not None and _rank(d) < _rank(best):
            best = d
    return best


class OutlineParser:
    def __init__(self, finder: NameFinder, plan_date: date | None, host: str | None = None) -> None:
        self.finder = finder
        self.plan_date = plan_date
        self.host = host  # "tỉnh Điện Biên": the province a working visit's conclusions call "Tỉnh"
        self.tasks: list[ParsedTask] = []
        self._info: dict[str, _Info] = {}
        self._tails: dict[int, tuple[ParsedTask, list[str]]] = {}
        self.left_out: list[LeftOut] = []

    def _append(self, task: ParsedTask, text: str) -> None:
        """A paragraph that goes on with a task: joined once at the end (`finish`), so that a task
        followed by thousands of paragraphs costs linear time, not quadratic."""
        self._tails.setdefault(id(task), (task, []))[1].append(text)
        task.deadline = better(task.deadline, self.info(text).deadline)

    def finish(self) -> list[ParsedTask]:
        """The tasks, with the paragraphs that go on with them joined to their text."""
        for task, tail in self._tails.values():
            task.text = clean_markup(" ".join([task.text, *tail]))
        self._tails.clear()
        return self.tasks

    # -- analysis of one item's text --
    def info(self, text: str) -> _Info:
        """What one item's text says (cached: the walk asks about a text more than once)."""
        found = self._info.get(text)
        if found is None:
            found = self._info[text] = self._analyse(text)
        return found

    def _analyse(self, text: str) -> _Info:
        r = roles(text, self.finder)
        lead = [_with_place(text, m.start, m.end, m.name) for m in r.lead]
        stripped = text.rstrip(" :.;")
        agency_heading = False
        dm = _DEPT_LIST.match(stripped)
        gm = _MEMBERS.search(stripped) if "(" in stripped else None
        if gm and not stripped[gm.end():].strip(" .:*") and len(stripped[:gm.start()].split()) <= _GROUP_WORDS \
                and not _SHORT_VERB.search(stripped[:gm.start()].lower()) \
                and (names := self._dept_list(gm.group("head"), gm.group("rest"))):
            # "1.3. Các cơ quan tham mưu quản lý ngành (gồm các Sở: Xây dựng, Tài chính, ...)": a heading
            # whose members, named in brackets, do the items under it.
            lead, agency_heading = names, True
        elif (sm := _LIST_SUBJECT.match(stripped)) is not None and (names := self._list_subject(sm)):
            # "Các Bộ, cơ quan: Tài chính, Xây dựng, ..., Tập đoàn Điện lực Việt Nam theo chức năng ... rà soát ...":
            # the bodies listed after the kind's name do the sentence's work.
            lead = names
        elif dm and not r.lead_end:
            names = self._dept_list(dm.group("head"), dm.group("rest"))
            if names:
                lead, agency_heading = names, True
        elif lead and r.lead_end >= len(stripped) - 1:
            agency_heading = True
        elif (not lead or r.lead[0].start > 0) and (hm := _DUTY_OF.match(shadow(stripped))) and len(stripped) < 200:
            # "Trách nhiệm của Sở Tài chính", "Đối với Ủy ban nhân dân các huyện": a heading all the same.
            rest = stripped[hm.end():]
            found = self.finder.mentions(rest)
            if found and found[0].start == 0 and found[-1].end >= len(rest) - 1:
                lead, agency_heading = [m.name for m in found], True
            elif found and found[0].start == 0 and _NAME_TAIL.match(shadow(rest[found[-1].end:])):
                # "Cục Quản lý Khám, chữa bệnh", "Sở Y tế các tỉnh, thành phố trực thuộc trung ương": a
                # name the finder knows only the start of; the heading's rest is the name as written.
                lead, agency_heading = [rest.strip()], True
            elif text.rstrip().endswith(":") and len(stripped) <= _DUTY_HEADING_MAX \
                    and shadow(stripped).startswith(("trach nhiem cua", "nhiem vu cua")):
                # "Trách nhiệm của đối tượng thực hiện kiểm kê:": a body the finder does not know, as written.
                who = _PARENS.sub("", rest).strip(" ,;:")
                if who and len(who.split()) <= _DUTY_WHO_WORDS and not any(c.isdigit() for c in who):
                    lead, agency_heading = [who], True
        elif lead and r.lead_end < len(stripped) - 1 and len(stripped) <= _DUTY_HEADING_MAX \
                and r.lead[0].start == 0 and _PLACE_TAIL.match(shadow(stripped[r.lead_end:])):
            # "Ủy ban nhân dân các phường, xã, đặc khu": a known head and where it is; the line is the name.
            lead, agency_heading = [stripped], True
        elif lead and r.lead[0].start == 0 and (am := _APPOSITION.search(stripped)) is not None \
                and r.lead_end >= am.start() - 1 and len(stripped) <= _DUTY_HEADING_MAX \
                and not _HEADING_VERB.search(shadow(stripped[am.end():])) \
                and not _SHORT_VERB.search(stripped[am.end():].lower()):
            # "Sở Tài chính - Cơ quan thường trực Ban Chỉ đạo": a name, then what it is in the plan.
            lead, agency_heading = [m.name for m in r.lead if m.end <= am.start()], True
        if not lead and self.host and (hm := _HOST_SUBJECT.match(shadow(text))) is not None \
                and text[hm.start("w")].isupper() and not text[hm.end("w"):].lstrip()[:1].isupper():
            # "Về hỗ trợ 20 xe ô tô ...: Tỉnh căn cứ các quy định ..." in the conclusions of a visit to a province.
            lead = [self.host]
        named = None if agency_heading else heading_body(text, self.finder)
        if named is not None:
            # "Tổ đảng ở Thường trực Ủy ban Kinh tế", "Lãnh đạo Ban Dân nguyện": the heading names the body.
            lead, agency_heading = named, True
        lead_line = False
        if lead and not agency_heading and text.rstrip().endswith(":"):
            rest = shadow(text)
            spans = sorted((m.start, m.end) for m in r.coordinators + r.lead)
            for s, e in reversed(spans):
                rest = rest[:s] + " " * (e - s) + rest[e:]
            rest = _ROLE_WORDS.sub(" ", rest[r.lead_end:])
            # "X có trách nhiệm:" heads its items even when X is longer than the name the finder knows.
            lead_line = len(re.sub(r"[^a-z]", "", rest)) <= 12 or bool(_DUTY_COLON.search(shadow(text)))
        return _Info(text, r, lead, parse_deadline(text, self.plan_date), agency_heading, lead_line)

    def _doer_pieces(self, text: str) -> list[str]:
        """One item whose sentences each name another doer ("Bộ trưởng ... chủ trì ... . UBND thành phố Đà Nẵng
        khẩn trương ..."; "...; giao Bộ X làm ...") is one task per doer; a sentence with no subject goes on with
        the one before. Sentences that only agree or announce ("Các Bộ thống nhất ...", "Chính phủ sẽ phân công
        ...") are no task; a closing "Thời hạn hoàn thành: ..." is the time of every doer's part."""
        cuts = [m.end() for m in _CLAUSE_END.finditer(text)]
        if not cuts:
            return [text]
        bounds = [0, *cuts, len(text)]
        clauses = [text[a:b] for a, b in itertools.pairwise(bounds) if text[a:b].strip()]
        tail = ""
        if len(clauses) > 1 and (m := _FIELD.match(clauses[-1].strip())) \
                and fold(m.group("label")).startswith(("thoi han", "thoi gian")):
            tail = clauses.pop().strip()
        doers = [None] + [self._clause_doer(c, after_semicolon=clauses[k].rstrip().endswith(";"))
                          for k, c in enumerate(clauses[1:])]
        if not any(doers):
            return [text]
        doers[0] = self._clause_doer(clauses[0], after_semicolon=False)
        pieces: list[list[str]] = []  # [text, doer key, what follows the doer]
        for k, (clause, doer) in enumerate(zip(clauses, doers, strict=True)):
            if k == 0:
                pieces.append([clause, *(doer or ("", ""))])
            elif doer is None or doer[0] == pieces[-1][1]:
                pieces[-1][0] += clause
            else:
                pieces.append([clause, *doer])
        if sum(1 for p in pieces if p[1]) < _TWO_DOERS:
            return [text]
        kept = [p for p in pieces if not _NO_TASK_VERB.match(p[2])]
        if not kept:
            return [text]
        out = [p[0].strip() for p in kept]
        if tail:
            out = [o if parse_deadline(o, self.plan_date) is not None else f"{o} {tail}" for o in out]
        return out

    def _clause_doer(self, clause: str, *, after_semicolon: bool) -> tuple[str, str] | None:
        """(the doer's key, the words after it) of a clause that opens with its subject, or None."""
        if after_semicolon and clause.lstrip()[:5].lower() != "giao ":
            return None
        sh = shadow(clause.strip())
        if _EXHORT.match(sh):
            return None
        r = roles(clause.strip(), self.finder)
        if not r.lead or not r.lead_end:
            return None
        return " ".join(agency_key(m.name) for m in r.lead), sh[r.lead_end:].strip()

    def _preamble_doers(self, text: str) -> list[str] | None:
        """Who "yêu cầu X ... (các nhiệm vụ) sau:" / "Bộ Y yêu cầu các cơ quan, đơn vị:" asks to do the items
        below (the names as written); None when the paragraph does not end so."""
        if not text.rstrip().endswith(":"):
            return None
        last = re.split(r"(?<=[.;])\s+", text.rstrip())[-1]
        sh = shadow(last)
        asks = list(_ASKS.finditer(sh))
        if not asks:
            return None
        asked = start = asks[-1].end()
        if holders := _HOLDERS.match(sh, start):
            start = holders.end()
        found = self.finder.mentions(last)
        run = next((r for r in runs(found, last) if r[0].start == start), None)
        if run is None or not _DOERS_TAIL.match(sh[run[-1].end:]):
            return None
        names = [_with_place(last, m.start, m.end, m.name) for m in run if not NOISE.search(agency_key(m.name))]
        if holders and names and run[0].name == names[0]:
            names[0] = last[asked:run[0].end]  # "Giám đốc, Thủ trưởng các sở, ban ngành": the holders lead
        return names

    def _list_subject(self, m: re.Match[str]) -> list[str]:
        """The bodies of "Các Bộ, cơ quan: A, B, ..., <a named body> <the work>": each short part is the kind's
        name ("Bộ A"), a part that opens with a body's name is that body, and the list ends where the work
        begins. Empty when fewer than two bodies are listed."""
        short: list[str] = []
        named: list[str] = []
        for part in m.group("rest").split(","):
            part = part.strip()
            found = self.finder.mentions(part)
            if found and found[0].start == 0:
                named.append(found[0].name)
                if found[0].end < len(part.rstrip(" .;")):
                    break  # "Tập đoàn Điện lực Việt Nam theo chức năng ...": the work follows the last name
            elif part[:1].isupper() and len(part.split()) <= _LIST_PART_WORDS and not any(c.isdigit() for c in part):
                short.append(part)
            else:
                break
        names = (self._dept_list(m.group("head"), ", ".join(short)) if short else []) + named
        return names if len(names) >= _TWO_DOERS else []

    def _dept_list(self, head: str, rest: str) -> list[str]:
        """"Các Sở: Lao động - Thương binh và Xã hội, Nông nghiệp và ..." -> each Sở by its full name."""
        parts = [p.strip() for p in re.split(r",|;", rest) if p.strip()]
        head = head.capitalize()
        names: list[str] = []
        i = 0
        while i < len(parts):
            for j in range(len(parts), i, -1):
                cand = f"{head} " + ", ".join(parts[i:j])
                if self.finder.canonical(cand) or j == i + 1:
                    names.append(cand)
                    i = j
                    break
        return names

    # -- walking the tree --
    def walk_appendix(self, root: Node, label: str) -> None:
        """An appendix after the signature: its items are refs under "PL" ("PL.II.1")."""
        ref = label.split(".")
        romans = [c for c in root.children if c.kind == "roman"]
        if not romans:
            self.walk_children(root, ref, None)
            return
        for sec in romans:
            if not _NO_TASK_SECTION.match(fold(sec.text)):
                self.walk_children(sec, [*ref, sec.label] if sec.label else ref, None)

    def walk_sections(self, root: Node) -> None:
        romans = [c for c in root.children if c.kind == "roman"]
        if not romans:
            # No sections: what comes before the preamble's "ban hành ... như sau" (or the title) is no task.
            kids = root.children
            start = 0
            asked: _Ctx | None = None  # "... yêu cầu Giám đốc các sở, ... thực hiện các nhiệm vụ như sau:"
            for i, c in enumerate(kids[:20]):
                if c.kind != "plain":
                    continue  # "3. ... yêu cầu các sở thực hiện các nhiệm vụ như sau:" is an item, not the preamble
                f = fold(c.text)
                if re.search(r"ban hanh|nhu sau", f) or (f in _KIND_LINES and not start):
                    start = i + 1 if "ban hanh" in f or "nhu sau" in f else i + 2
                    who = self._preamble_doers(c.text)
                    asked = _Ctx(who, [], None) if who else None
                elif f.endswith(" dien") and c.text.rstrip().endswith(":"):
                    # "THỦ TƯỚNG CHÍNH PHỦ điện:" over the dispatch's addressees ("- Bộ trưởng ..."): no tasks.
                    start = i + 1
                    while start < len(kids) and kids[start].kind == "bullet":
                        start += 1
            body = Node("root", -1, "", "", children=kids[start:])
            # The preamble's bodies do the items that name nobody (a directive's "yêu cầu ... như sau:").
            self.walk_children(body, [], asked)
            return
        for sec in romans:
            if _NO_TASK_SECTION.match(fold(sec.text)):
                continue
            first = len(self.tasks)
            self.walk_children(sec, [sec.label], None)
            if (when := parse_deadline(sec.text, self.plan_date)) is not None:
                # "I. NHỮNG NHIỆM VỤ CẦN TRIỂN KHAI NGAY TRONG THÁNG 12/2025": the section's time is that of
                # its tasks that give none of their own.
                for task in self.tasks[first:]:
                    task.deadline = task.deadline or when

    def walk_children(self, parent: Node, ref: list[str], ctx: _Ctx | None) -> None:
        pending: list[tuple[Node, list[str]]] = []
        last_task: ParsedTask | None = None
        heading: _Ctx | None = None  # a plain paragraph that names only an agency heads what follows
        colon_line = False  # the heading is a "Giao Sở X ...:" line, which heads lettered and numbered items too
        outer = ctx
        for child in parent.children:
            child_ref = _child_ref(ref, child)
            if child.kind == "plain":
                info = self.info(child.text)
                if (info.agency_heading or (info.lead_line and child.text.rstrip().endswith(":"))) \
                        and len(child.text) < 200:
                    # "Sở X có trách nhiệm:" standing alone heads the items after it, as a heading does.
                    heading = _Ctx(info.lead, [m.name for m in info.roles.coordinators], info.deadline)
                    colon_line = not info.agency_heading  # "Giao Sở X chủ trì, phối hợp ...:", not a bare name
                    last_task = None
                    continue
                if (who := self._preamble_doers(child.text)) is not None:
                    # "..., yêu cầu cấp ủy, chính quyền các cấp thực hiện tốt các nhiệm vụ sau:": the items
                    # after it that name nobody are theirs.
                    outer, heading, last_task = _Ctx(who, [], None), None, None
                    continue
                ctx = heading or outer
            elif heading is not None and (child.kind == "bullet" or (colon_line and child.kind in ("letter", "num"))):
                # "- ..." / "a) ..." / "1. ..." items under a plain "Sở X có trách nhiệm:" line, or under
                # a notice's "Giao Sở X chủ trì, phối hợp với các cơ quan liên quan:" line.
                ctx = heading
            else:
                heading, ctx = None, outer
            if child.kind == "star" or (child.kind == "plain" and pending and len(child.text) < 250):
                # "* Ban X ...; hoàn thành ..." (or the same line unmarked) after bullets nobody was given.
                info = self.info(child.text)
                if info.lead and pending:
                    for node, node_ref in pending:
                        task = self.emit(node, node_ref, _Ctx(info.lead, [], info.deadline), responsibility=True)
                        if task is not None:
                            # The line says who and when: it is part of what the task asks.
                            task.text = f"{task.text} ({child.text.rstrip('.')})"
                    pending = []
                    last_task = None
                    continue
            if child.kind == "plain" and last_task is not None and len(child.text) < _TIME_LINE_MAX \
                    and _TIME_LINE.match(child.text) and self.info(child.text).deadline is not None:
                # "Thời gian hoàn thành trước ngày 31/12/2025." after a block's last bullet: that bullet's time.
                self._append(last_task, child.text)
                continue
            made = self.visit(child, child_ref, ctx, last_task)
            if made == "orphan":
                pending.append((child, child_ref))
            elif isinstance(made, ParsedTask):
                last_task = made
            elif made == "appended":
                pass
            else:
                last_task = None
        for node, node_ref in pending:
            if _looks_like_work(node.text):
                self.left_out.append(LeftOut(".".join(node_ref), node.text,
                                             "không nêu cơ quan chủ trì (trong đoạn hay ở đề mục phía trên)"))

    def visit(self, node: Node, ref: list[str], ctx: _Ctx | None,
              last_task: ParsedTask | None) -> ParsedTask | str | None:
        _own_times(node)
        fields = [c for c in node.children if c.kind in ("bullet", "plain") and _FIELD.match(c.text)]
        if fields:
            return self.emit_fields(node, ref, ctx, fields)
        info = self.info(node.text)
        if info.agency_heading:
            self.walk_children(node, ref, _Ctx(info.lead, [m.name for m in info.roles.coordinators],
                                               info.deadline))
            return None
        if info.lead_line and node.children:
            coords = [m.name for m in info.roles.coordinators]
            self.walk_children(node, ref, _Ctx(info.lead, coords, info.deadline))
            return None
        if (not info.roles.lead or info.roles.lead[0].start == 0) and node.kind in ("num", "letter") and node.children \
                and (who := _unknown_body_heading(node.text)) is not None:
            # "7. Thành đoàn Hà Nội", "15. Đề nghị Cơ quan Báo và Phát thanh, Truyền hình Hà Nội", "7. Trung tâm
            # Xúc tiến đầu tư, thương mại và du lịch" over the items it does: the body as written heads them.
            self.walk_children(node, ref, _Ctx([who], [], info.deadline))
            return None
        if node.children and (doers := self._preamble_doers(node.text)) is not None:
            # "3. Trong thời gian tới, yêu cầu các bộ, ngành thực hiện một số nhiệm vụ như sau:" over its items.
            self.walk_children(node, ref, _Ctx(doers, [], info.deadline))
            return None
        own = bool(info.lead)
        if own and node.children and _DUTIES_FOLLOW.search(fold(node.text)):
            # "Giao Sở X là cơ quan đầu mối ...; tổ chức thực hiện các nhiệm vụ sau:" over its items: each item
            # is a task of X's, not a point of one task.
            self.walk_children(node, ref, _Ctx(info.lead, [m.name for m in info.roles.coordinators], info.deadline))
            return None
        if own or ctx is not None:
            if node.children and node.text.rstrip().endswith(":") and all(
                    c.kind in ("bullet", "plain") and not self.info(c.text).lead for c in node.children):
                # "Sở X tham mưu ... theo hướng:" followed by the points of that one task.
                text = node.text + " " + " ".join(c.text for c in node.children)
                return self.emit_text(text, ref, ctx if not own else None, info)
            task = self.emit(node, ref, ctx, info=info)
            rest = node.children
            if task is not None:
                # Subject-less paragraphs under a task go on with it ("Về tài liệu, hồ sơ ...").
                k = 0
                while k < len(rest) and rest[k].kind == "plain" and not self.info(rest[k].text).lead:
                    self._append(task, rest[k].text)
                    k += 1
                rest = rest[k:]
            if rest:
                sub = Node(node.kind, node.level, node.label, node.text, children=rest, parent=node.parent)
                self.walk_children(sub, ref, ctx if not own else _Ctx(info.lead, [], None))
            return task
        if node.kind == "plain" and last_task is not None and node.parent is not None \
                and node.parent.kind in ("roman", "root", "num", "letter"):
            self._append(last_task, node.text)
            return "appended"
        if node.children:
            if info.deadline is not None:
                # "1. Các nhiệm vụ hoàn thành trong quý II/2025", "2. Năm 2026": the heading's time is
                # its items' time.
                ctx = _Ctx(ctx.lead if ctx else [], ctx.coordinators if ctx else [],
                           better(ctx.deadline if ctx else None, info.deadline))
            self.walk_children(node, ref, ctx)
            return None
        return "orphan"

    def _names_in(self, value: str) -> list[str]:
        """The bodies a field's value names: those the finder knows, and the other parts of the list
        written as names ("Bảo hiểm xã hội Việt Nam", "các đại học quốc gia")."""
        found = self.finder.mentions(value)
        names: list[str] = []
        rest = value
        for m in reversed(found):
            # "Thanh tra" + "Bộ": capitalised words up to the next separator go with the name.
            tail = re.match(r"(?:\s+[A-ZĐÀ-Ỹ][\wÀ-ỹ-]*){1,3}(?=\s*(?:[,;.]|$))", value[m.end:])
            end = m.end + (tail.end() if tail else 0)
            names.insert(0, value[m.start:end] if tail else m.name)
            rest = rest[:m.start] + ";" + rest[end:]
        for part in re.split(r"[;,]|\s(?:và|với)\s", rest):
            part = part.strip(" .:-–")
            words = part.split()
            if len(words) >= 2 and (part[:1].isupper() or fold(words[0]) == "cac") and len(words) <= 12 \
                    and not NOISE.search(agency_key(part)):
                names.append(part)
        return names or [v.strip() for v in value.split(";") if v.strip()]

    def _field_values(self, kids: list[Node], fields: list[Node]) -> tuple[list[tuple[str, str]], set[int]]:
        """(label, value) pairs of field lines, and the ids of the nodes they take up. A field with no
        value on its line ("Cơ quan chủ trì:") takes the bullets after it (or under it) as its value."""
        pairs: list[tuple[str, str]] = []
        used: set[int] = set()
        field_ids = {id(f) for f in fields}
        for i, f in enumerate(kids):
            if id(f) not in field_ids:
                continue
            used.add(id(f))
            # "Đơn vị thực hiện: Sở X; thời gian: quý IV/2025": one line may hold several fields.
            for piece in re.split(r"[;,]\s*(?=[^;,:]{2,30}:)", f.text):
                if m := _FIELD.match(piece.strip()):
                    pairs.append((fold(m.group("label")), m.group("value").strip(" .;")))
            if pairs and not pairs[-1][1]:
                values = [c.text for c in f.children if c.kind == "bullet"]
                for c in kids[i + 1:]:
                    if id(c) in field_ids or c.kind != "bullet" or c.children:
                        break
                    values.append(c.text)
                    used.add(id(c))
                pairs[-1] = (pairs[-1][0], "; ".join(v.strip(" .;") for v in values))
        return pairs, used

    def _own_time_points(self, ref: list[str], fields: list[Node]) -> None:
        """"- Thời gian thực hiện:" over "+ Các bộ ... gửi kết quả về Bộ Công an trước ngày 15/12/2025", "+ Bộ Công an
        tổng hợp ... trước ngày 31/12/2025": each point names who does what by when, a task of its own."""
        for f in fields:
            m = _FIELD.match(f.text)
            if m is None or m.group("value").strip() \
                    or not fold(m.group("label")).startswith(("thoi gian", "thoi han")):
                continue
            points = [c for c in f.children if c.kind == "bullet"]
            infos = [self.info(c.text) for c in points]
            if len(points) < 2 or not all(i.lead and i.deadline for i in infos):
                continue
            for c, i in zip(points, infos, strict=True):
                self.tasks.append(ParsedTask(
                    ref=".".join(ref), text=c.text.strip(), lead=_dedupe(i.lead),
                    coordinators=_dedupe([x.name for x in i.roles.coordinators], exclude=i.lead),
                    report_to=_dedupe([x.name for x in i.roles.report_to], exclude=i.lead),
                    via=_dedupe([x.name for x in i.roles.via]), deadline=i.deadline))

    def emit_fields(self, node: Node, ref: list[str], ctx: _Ctx | None, fields: list[Node]) -> ParsedTask | None:
        """A task followed by its fields: "- Cơ quan chủ trì: Sở X", "- Phối hợp: ...", "- Thời gian: Quý II".

        When the fields follow a section's content items (a), b) ... or "- Nội dung:" over "+" points),
        they apply to each item: every item is a task, the section's heading is none."""
        lead: list[str] = []
        coords: list[str] = []
        deadline: Deadline | None = None
        pairs, used = self._field_values(node.children, fields)
        # "Đơn vị chủ trì: Sở X" beside "Đơn vị thực hiện: Trung tâm Y" (a unit of X's): X leads, Y takes part.
        has_chair = any("chu tri" in label and "phoi hop" not in label for label, _ in pairs)
        for label, value in pairs:
            if has_chair and "thuc hien" in label and "chu tri" not in label and "thoi" not in label:
                coords += [n for n in self._names_in(value) if not NOISE.search(agency_key(n))]
                continue
            names = self._names_in(value)
            if "phoi hop" in label:
                coords += [n for n in names if not NOISE.search(agency_key(n))]
            elif re.search(r"chu tri|thuc hien|trach nhiem|dau moi", label) and "thoi" not in label:
                split = clause_roles(value, self.finder)  # "Sở X chủ trì ...; Sở Y ... chủ động tổ chức ..."
                lead += split[0] if split else names
                coords += split[1] if split else []
            elif re.search(r"thoi|tien do|hoan thanh|han", label):
                # "ngày 11/9/2026 (thứ Sáu)": the weekday in brackets is no part of the day.
                deadline = better(deadline, parse_deadline(_PARENS.sub("", value), self.plan_date))
        others = [c for c in node.children if id(c) not in used]
        info = self.info(node.text)
        self._own_time_points(ref, fields)
        items = _content_items(others)
        if items and (lead or info.lead or ctx):
            inherited = not lead and not info.lead  # the doers come from a heading above, not from this section
            lead = lead or info.lead or (ctx.lead if ctx else [])
            first: ParsedTask | None = None
            if len(items) == 1 and not items[0][0] and fold(node.text) not in fold(items[0][1]):
                # "5. Xây dựng Cổng thông tin ..." over "- Nội dung: Cổng thông tin ... cung cấp ...": the
                # line names the work, "Nội dung" says what it holds; the task is both.
                items = [([], f"{node.text.rstrip(' :.')}: {items[0][1]}")]
            for item_ref, item in items:
                item_info = self.info(item)
                # The section's "Cơ quan chủ trì" decides; an item's own subject only when it names none
                # ("Thanh tra việc tuyển dụng" is work, not the inspectorate).
                own = [] if lead else item_info.lead
                if inherited and item_info.roles.lead and item_info.roles.lead[0].start == 0 \
                        and 0 < item.find(":") <= _NAMED_POINT_HEAD:
                    own = item_info.lead  # "Sở Xây dựng: hướng dẫn ..." under a heading of several bodies
                task = ParsedTask(ref=".".join([*ref, *item_ref]), text=item.strip(), lead=_dedupe(own or lead),
                                  coordinators=_dedupe([m.name for m in item_info.roles.coordinators] or coords,
                                                       exclude=own or lead),
                                  report_to=_dedupe([m.name for m in item_info.roles.report_to], exclude=own or lead),
                                  via=_dedupe([m.name for m in item_info.roles.via]),
                                  deadline=item_info.deadline or better(deadline, info.deadline,
                                                                        ctx.deadline if ctx else None))
                self.tasks.append(task)
                first = first or task
            return first
        text = " ".join([node.text, *(c.text for c in others if c.kind in ("bullet", "plain"))])
        lead = lead or info.lead or (ctx.lead if ctx else [])
        if not lead:
            return None
        task = ParsedTask(ref=".".join(ref), text=text.strip(), lead=_dedupe(lead),
                          coordinators=_dedupe(coords or [m.name for m in info.roles.coordinators], exclude=lead),
                          report_to=_dedupe([m.name for m in info.roles.report_to], exclude=lead),
                          via=_dedupe([m.name for m in info.roles.via]),
                          deadline=better(deadline, info.deadline, ctx.deadline if ctx else None))
        self.tasks.append(task)
        for c in others:
            if c.kind not in ("bullet", "plain"):
                self.visit(c, _child_ref(ref, c), _Ctx(lead, [], None), None)
        return task

    def emit(self, node: Node, ref: list[str], ctx: _Ctx | None, *, info: _Info | None = None,
             responsibility: bool = False) -> ParsedTask | None:
        info = info or self.info(node.text)
        return self.emit_text(node.text, ref, ctx, info, responsibility=responsibility)

    def emit_text(self, text: str, ref: list[str], ctx: _Ctx | None, info: _Info,
                  responsibility: bool = False) -> ParsedTask | None:
        pieces = [q for p in self._doer_pieces(text) for q in split_on_deadlines(p, self.plan_date)]
        first: ParsedTask | None = None
        for piece in pieces:
            if _no_work(piece):
                continue  # "|", "Đã biết", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM": a saved page's or header's line
            pinfo = info if pieces == [text] else self.info(piece)
            r = pinfo.roles
            lead = pinfo.lead or info.lead
            if (responsibility and ctx is not None) or (not lead and ctx is not None):
                lead = ctx.lead
            if not lead:
                continue
            coords = [m.name for m in r.coordinators]
            if not coords and ctx is not None and not pinfo.lead:
                coords = list(ctx.coordinators)
            deadline = better(pinfo.deadline, ctx.deadline if ctx else None)
            task = ParsedTask(
                ref=".".join(ref), text=piece.strip(), lead=_dedupe(lead),
                coordinators=_dedupe(coords, exclude=lead),
                report_to=_dedupe([m.name for m in r.report_to if not NOISE.search(agency_key(m.name))],
                                  exclude=lead),
                via=_dedupe([m.name for m in r.via]), deadline=deadline)
            self.tasks.append(task)
            first = first or task
        return first


_CONTENT_LABEL = re.compile(r"^(?:nội dung|các nội dung|nhiệm vụ|công việc)(?:\s+(?:chính|cụ thể|thực hiện))?\s*:\s*",
                            re.IGNORECASE)
CONTENT_LABEL = _CONTENT_LABEL


# "Sở Tài chính phối hợp Ban Quản lý Khu kinh tế ...: hướng dẫn ...": a point's doer before its colon, at most so long.
_NAMED_POINT_HEAD = 120


# An item that asks for work: long enough, or setting a time. Bare headings and labels are not.
_WORK_MIN_CHARS = 40


def _looks_like_work(text: str) -> bool:
    f = fold(text)
    if "phu luc" in f or "kem theo" in f or text.isupper():
        # "Các nhiệm vụ cụ thể tại Phụ lục kèm theo", "(Kèm theo Kế hoạch số ...)", a title in capitals
        return False
    return len(text) >= _WORK_MIN_CHARS or parse_deadline(text) is not None


def _subtree_text(node: Node) -> str:
    return " ".join([node.text, *(_subtree_text(c) for c in node.children)])


def _content_items(kids: list[Node]) -> list[tuple[list[str], str]]:
    """The content items a section lists before its shared fields: its a), b) (or numbered) items, or
    what "Nội dung:" lists (its "+" points, or the text on its line). Empty when there are none."""
    out: list[tuple[list[str], str]] = []
    for c in kids:
        if c.kind in ("letter", "num"):
            out.append(([c.label], _subtree_text(c)))
        elif c.kind in ("bullet", "plain") and (m := _CONTENT_LABEL.match(c.text)):
            rest = c.text[m.end():].strip()
            if c.children:
                out.extend(([str(k)], _subtree_text(g)) for k, g in enumerate(c.children, start=1))
            elif rest:
                out.append(([], rest))
    return out


def hoist_fields(node: Node) -> None:
    """"a) ... b) ... c) ... - Cơ quan chủ trì: ..." nests the fields under c) (the last item): when the
    items before it have no fields of their own, the fields belong to the section, for all its items."""
    for c in node.children:
        hoist_fields(c)
    items = [c for c in node.children if c.kind in ("letter", "num")]
    if len(items) < 2 or items[-1] is not node.children[-1]:
        return
    last = items[-1]
    run_start = None
    for i, g in enumerate(last.children):
        if g.kind in ("bullet", "plain") and _FIELD.match(g.text):
            run_start = i
            break
    # Only right under the last item's own line, and only after plain content items: an item with
    # content of its own ("1.4. Văn phòng Bộ / - Nội dung: ... / - Thời gian: ...") keeps its fields.
    if run_start != 0 or any(_has_fields(x) or x.children for x in items[:-1]):
        return
    tail = last.children[run_start:]
    if not all(g.kind in ("bullet", "plain") for g in tail):
        return
    last.children = last.children[:run_start]
    for g in tail:
        g.parent = node
    node.children.extend(tail)


def _has_fields(node: Node) -> bool:
    return any(g.kind in ("bullet", "plain") and _FIELD.match(g.text) for g in node.children)


def _child_ref(ref: list[str], child: Node) -> list[str]:
    """"II" + "1.1" -> ["II", "1.1"] (a deeper number replaces the shallower one it extends)."""
    if not child.label:
        return ref
    if child.kind == "num":
        ref = [r for r in ref if not r[:1].isdigit()]
    return [*ref, child.label]


def _dedupe(names: list[str], exclude: list[str] | None = None) -> list[str]:
    seen = {agency_key(n) for n in exclude or []}
    out = []
    for n in names:
        k = agency_key(n)
        if k and k not in seen:
            seen.add(k)
            out.append(n)
    return out


_CLAUSE = re.compile(r"(?<=[;.])\s+")
_DATED = re.compile(r"\d{1,2}\s*[/.\-]\s*\d{1,2}|[Qq]uý\s+\w+\s*[/\-]|tháng\s+\d{1,2}\s*[/\-]|năm\s+\d{4}")


def split_on_deadlines(text: str, plan_date: date | None) -> list[str]:
    """One item that sets two days ("... trước ngày 29/4; ... trước ngày 08/5") is two tasks."""
    if len(_DATED.findall(text)) < 2:
        return [text]
    clauses = _CLAUSE.split(text)
    if len(clauses) < 2:
        return [text]
    dated = [_rank(parse_deadline(c, plan_date)) == 0 for c in clauses]
    if sum(dated) < 2:
        return [text]
    pieces: list[str] = []
    cur: list[str] = []
    for clause, has in zip(clauses, dated, strict=True):
        cur.append(clause)
        if has:
            pieces.append(" ".join(cur))
            cur = []
    if cur:
        pieces[-1] += " " + " ".join(cur)
    return pieces



# "theo dõi, đôn đốc (việc) thực hiện Kế hoạch này": the body that follows the whole plan up.
_FOLLOW_UP = re.compile(r"theo doi[^.;]{0,40}?don doc|don doc[^.;]{0,40}?theo doi")
_FOLLOW_UP_WEAK = re.compile(r"(?:kiem tra|don doc)[^.;]{0,100}?ke hoach")


def monitor_agency(tasks: list[ParsedTask], finder: NameFinder) -> str | None:
    """The lead of the task that follows up the plan as a whole ("Giao Sở X làm đầu mối ... theo dõi,
    đôn đốc triển khai thực hiện Kế hoạch này"); groups ("các Sở, ngành") are no monitor."""
    best: tuple[int, str] | None = None
    for t in tasks:
        sh = shadow(t.text)
        rank = 3
        for m in _FOLLOW_UP.finditer(sh):
            rank = min(rank, 0 if "ke hoach" in sh[m.start():m.end() + 80].split(";")[0] else 1)
        if rank == 3 and _FOLLOW_UP_WEAK.search(sh):
            rank = 2
        if rank == 3:
            continue
        lead = [n for n in t.lead if not (finder.canonical(n) or ("", False))[1] and not fold(n).startswith("cac ")]
        if lead and (best is None or rank < best[0]):
            best = (rank, lead[0])
    return best[1] if best else None
