"""What a focal point asks: the kind of question, the names and time it mentions, its topic words.

Everything is read from the folded question (knowledge.text.fold: no accents, abbreviations
expanded), so "Ai chủ trì", "ai chu tri" and "AI CHỦ TRÌ" are one question. The phrases below are
the ways people ask; the topic words are what is left once question words, names and times are
set aside, and only those decide whether a task answers (a question about "cảng Cà Ná" must not be
answered by a task that merely shares "xây dựng" or "báo cáo").
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise
from operator import attrgetter

from knowledge.search import GLUE_COMPOUNDS, STOP, Index, Mention, Term, accent_key, has_accents, is_glue, wordset
from knowledge.text import fold
from knowledge.vocabulary import role_cues

# ---- kinds of question, as folded phrases ---------------------------------------------------
_GREETING = re.compile(
    r"^(xin chao|chao|chao ban|chao bot|hello|hi|alo|hey|help|huong dan|tro giup|giup|giup toi|giup do|menu"
    r"|ban la ai|ban lam duoc gi|ban giup duoc gi|bot lam duoc gi|toi hoi duoc gi|hoi gi|start|bat dau)"
    r"( (a|nhe|oi|ban|bot|nha|voi))*$"
)
_THANKS = re.compile(
    r"^(cam on|xin cam on|thanks|thank you|thank|tks|thanks you|ok|oke|okay|vang|da|da vang|duoc roi|tot qua|hay qua)"
    r"( (ban|bot|nhe|nha|a|nhieu|rat nhieu|lam))*$"
)
_OVERDUE = re.compile(r"\b(qua han|tre han|tre hen|het han|cham tien do|cham tre|bi tre|da tre|tre roi|da qua ngay"
                      r"|no han)\b")
# "Việc báo cáo 15/12 đã hoàn thành chưa?": the task's state, from the progress records
_STATUS = re.compile(
    r"\b(?:da )?(?:hoan thanh|xong|lam xong|hoan tat|thuc hien xong|nop|gui|bao cao)( roi)? (chua|hay chua|khong)$"
    r"|\b(?:da|duoc) (?:hoan thanh|xong|hoan tat|lam xong)\b.*\b(chua|khong)$"
    r"|\btinh trang\b|\btien do (?:the nao|ra sao|den dau)\b"
)
# "ngày 15/12 là thứ mấy?"
_WEEKDAY = re.compile(r"\b(?:la |vao |roi )?thu (?:may|gi|nao|bao nhieu)\b")
# a bare day in a question about one task ("Việc báo cáo 15/12 ..."), as folded: "15 12"
_BARE_DAY = re.compile(r"\b(\d{1,2}) (\d{1,2})(?: (\d{4}))?\b")
_SOON = re.compile(r"\b(sap den han|sap toi han|sap het han|sap han|sap toi|sap phai|gan den han|sap den)\b")
_LIST = re.compile(
    r"\b(co (nhung |cac )?(nhiem vu|viec|cong viec|han) (gi|nao)|(can|phai|se|duoc giao) lam (nhung |cac )?(gi|viec gi)"
    r"|lam (nhung )?gi|co (viec )?gi|duoc giao (nhung |cac )?(gi|viec gi|nhiem vu gi|nhiem vu nao|viec nao)"
    r"|gom (nhung )?(gi|nhiem vu nao|viec nao)|(nhung|cac) (nhiem vu|viec|cong viec) (gi|nao)"
    r"|(nhiem vu|viec|cong viec) (gi|nao)|danh sach|liet ke|tom tat|noi dung (gi|chinh)"
    r"|(bao nhieu|may) (viec|nhiem vu|cong viec)"
    r"|(nhiem vu|viec|cong viec) (cua|danh cho))\b"
)
_REPORT = re.compile(
    r"\b(ve dau|o dau|di dau|toi dau|den dau|len dau|noi nhan|nop o dau"
    r"|(gui|bao cao|nop|trinh|chuyen|phan anh) (ve |cho |den |toi |len |voi |qua )?(ai|co quan nao|don vi nao|noi nao"
    r"|cap nao)"
    r"|(gui|bao cao|nop|trinh)( \w+){0,8} (cho|ve|len|toi|den) (nhung |cac )?(ai|co quan nao|don vi nao|noi nao))\b"
)
_DUE_DAY_ASKED = re.compile(r"\b(han chot|han cuoi|truoc ngay nao|ngay nao|ngay may|ngay bao nhieu|deadline)\b")
_DUE = re.compile(
    r"\b(khi nao|bao gio|bao h|thoi han|han chot|han cuoi|truoc ngay nao|ngay nao|thang nao|nam nao|luc nao|deadline"
    r"|may gio|ngay bao nhieu|ngay may|thang may|nam may|quy may|thoi gian nao|bao lau|cham nhat|muon nhat"
    r"|khoang nao|khoang thoi gian nao|thoi diem nao|dip nao"
    r"|han (nop|gui|bao cao|hoan thanh|la)|han\b(?! che))"
)
_COORD = re.compile(
    r"\b(phoi hop voi (ai|nhung ai|don vi nao|co quan nao|so nao)|(ai|nhung ai|don vi nao|co quan nao|so nao"
    r"|nhung don vi nao|nhung co quan nao|cac don vi nao) (cung )?phoi hop|phoi hop (gom|la) (ai|nhung ai|don vi nao)"
    r"|don vi phoi hop|co quan phoi hop|ai cung lam|ai ho tro)\b"
)
_LEAD = re.compile(
    r"\b(ai|chu tri|phu trach|giao cho|viec cua|la cua|nhiem vu cua|don vi nao|co quan nao|so nao|ban nao"
    r"|cap nao|noi nao|ben nao|phia nao|dau moi|" + "|".join(re.escape(c) for c in role_cues()["lead"]) + r")\b"
)
# An agency's list kept to one role: "Sở X phối hợp những việc gì?", "Sở X chủ trì những việc nào?"
_ROLE_ASKED = r") (thuc hien |lam |trien khai )?(nhung |cac )?(viec|nhiem vu|cong viec|gi)\b"
_ROLE_COORD = re.compile(r"\b(" + "|".join(re.escape(c) for c in role_cues()["coordinator"]) + _ROLE_ASKED)
_ROLE_LEAD = re.compile(r"\b(" + "|".join(re.escape(c) for c in role_cues()["lead"] if c != "lo") + _ROLE_ASKED)
# "phối hợp (không chủ trì) những việc nào?": a role the question rules out is no role asked; dropped before
# the role is read, so what is left ("phối hợp những việc nào") says the role it keeps
_ROLE_NEGATED = re.compile(
    r"\b(?:khong|chu khong|ma khong|khong phai)( la)? (?:" + "|".join(
        re.escape(c) for r in ("lead", "coordinator") for c in role_cues()[r]) + r")\b ?"
)
# "... những việc gì có hạn?": only tasks with a deadline
_WITH_DEADLINE = re.compile(r"\bco (thoi han|han chot|han|deadline|moc thoi gian)\b(?! che)")
# "KH 3021 ban hành ngày nào, ai ký?": about the plan itself
_PLAN_INFO = re.compile(
    r"\b(ban hanh|ai ky|nguoi ky|do ai ky|ky ngay|ky boi|ngay ky|ky khi nao|ky luc nao|so hieu|ai ban hanh"
    r"|co quan ban hanh|ky ten)\b"
)
_INFO_WORDS = wordset("ban hanh ky nguoi ten hieu luc ngay")
# "Mục III.2 của KH 3021 nói gì?": a section's tasks ("III.2" folds to "iii 2")
_SECTION = re.compile(r"\b(?:muc|phan|diem|khoan) ((?:[ivx]+|\d+)(?: (?:\d+|[a-d]))*)\b")
# "KH 3021 có bao nhiêu việc?": counts
_COUNT = re.compile(r"\b(bao nhieu|may|tong so|tong cong) (viec|nhiem vu|cong viec|dau viec)\b")
# Words whose accents tell them apart from a question word: "Viện Hàn lâm" is not "hạn", "đầu tư" not "đâu".
_FALSE_FRIENDS = {"han": "hạn", "dau": "đâu", "nao": "nào", "gi": "gì", "ky": "ký", "khi": "khi", "gio": "giờ",
                  "ngay": "ngày", "lo": "lo"}
_FRIEND_RE = re.compile(r"\b(" + "|".join(_FALSE_FRIENDS) + r")\b")

# ---- words that are not the topic ----------------------------------------------------------
# Question words and intent phrases: removed, and they break word pairs.
_DROP_PHRASES = [
    p.split() for p in sorted(
        (
            "chu tri", "phu trach", "giao cho", "duoc giao", "khi nao", "bao gio", "bao h", "thoi han", "han chot",
            "han cuoi", "truoc ngay nao", "ngay nao", "thang nao", "nam nao", "luc nao", "ve dau", "o dau",
            "di dau", "den dau", "toi dau", "len dau", "cho ai", "la viec", "viec cua", "la cua", "co quan nao",
            "don vi nao", "so nao", "ban nao", "cap nao", "noi nao", "ben nao", "phia nao", "nhung ai",
            "phoi hop voi ai", "ai phoi hop",
            "phoi hop", "co nhung nhiem vu", "nhiem vu gi", "nhiem vu nao", "viec gi", "viec nao", "cong viec gi",
            "lam gi", "co gi", "danh sach", "liet ke", "bao nhieu", "may viec", "may nhiem vu",
            "may gio", "ngay may", "thang may", "nam may",
            "quy may", "tom tat",
            # which occurrence of a recurring task, not which task: "đợt tới", "kỳ này", "lần tới"
            "dot toi", "dot nay", "dot sau", "ky toi", "ky nay", "ky sau", "lan toi", "lan nay", "lan sau",
            "xin chao", "cho hoi", "cho toi hoi", "toi muon hoi", "vui long", "lam on", "xin hoi", "cho biet",
            "cho toi biet", "xin cho biet", "lam on cho", "giup toi", "deadline", "han",
            "cham nhat", "muon nhat", "tre nhat", "trong thoi gian nao", "thoi gian nao", "bao lau",
            "thu may", "hoan thanh chua", "xong chua", "da hoan thanh", "tinh trang", "tien do",
            "hay khong", "co khong", "khong a",
            *(c for c in role_cues()["lead"] if " " in c and c != "dau moi"),
        ),
        key=lambda p: -len(p.split()),
    )
]
_DROP_WORDS = wordset(
    "ai nao gi dau phai can hay khong chua a vay nhe oi minh toi chung la nhi the sao ha u "
    "biet xem cho tu ve voi nhieu len xuong xong lo ko k kg khg hok"
)
# Generic words: they rank but never make a task "the answer" on their own.
GENERIC = wordset(  # on their own
    "tinh nam ngay thang tuan cap viec lam gui nop trinh truoc sau hang giao ban giup hoi em anh chi lo nhan "
    "nhiem dam nha uy dang"
)
# Two-syllable words that say nothing about which task: their syllables are generic only together
# ("tham mưu" is generic, the "thẩm" of "thẩm định" is not).
GENERIC_PAIRS = frozenset(
    tuple(p.split()) for p in (
        "xay dung", "bao cao", "ke hoach", "thuc hien", "trien khai", "nhiem vu", "cong viec", "cong tac",
        "to chuc", "hoan thanh", "don vi", "co quan", "thoi gian", "dau moi", "tham muu", "lien quan",
        "dia phuong", "tong hop", "ket qua", "tinh hinh", "nghi quyet", "ket luan", "quyet dinh", "chi thi",
        "van ban", "nhan dan", "uy ban", "giai phap", "noi dung", "tiep tuc", "tang cuong", "day manh",
        "nang cao", "hieu qua", "chat luong", "dinh ky", "chinh sach", "chuong trinh", "tham gia", "ho tro",
        "yeu cau", "theo doi", "don doc", "kiem tra", "phoi hop", "chu tri", "hang nam", "thuong xuyen",
        "trach nhiem", "chiu trach", "de xuat", "quan ly", "phat trien",
    )
)
_HAN_CHE = re.compile(r"\bhan che\b")
_ENDS_WHAT = re.compile(r"\b(nhung )?gi( (a|vay|nhi|nhe|the|ha))?$")


@dataclass
class Window:
    start: date
    end: date
    label: str  # "tháng 12/2026", "30 ngày tới"
    span: tuple[int, int] = (0, 0)  # where it sits in the folded question


@dataclass
class Parsed:
    """One question, understood."""

    kind: str  # greeting | thanks | overdue | window | plan | agency | report | due | coord | lead | unknown
    folded: str
    agencies: list[Mention] = field(default_factory=list)
    plans: list[Mention] = field(default_factory=list)
    window: Window | None = None
    seq: list[Term | None] = field(default_factory=list)
    topic: str = ""  # the topic words, as the user wrote them, for "không tìm thấy ... về "...""
    subject: list[int] = field(default_factory=list)  # agencies named as the doer ("Sở X phải ...")
    cue: str = ""  # the folded question with accent false friends masked, for reading what is asked
    role: str | None = None  # "lead" | "coordinator": an agency's list kept to that role
    with_deadline: bool = False  # "... những việc gì có hạn?"
    section: str = ""  # "iii 2" for "Mục III.2"
    day: date | None = None  # a date named inside a question about one task
    year: int | None = None  # a year named inside a question about one task ("hạn quyết toán năm 2025")
    occurrence: Window | None = None  # "quý này ... hạn chót ngày nào": the task's due day falls in it

    @property
    def distinct(self) -> list[str]:
        return [t.text for t in self.seq if t is not None and t.distinct]

    @property
    def plan_ids(self) -> list[int]:
        """The plans named; several names of one plan ("KL 69" and "ở Đà Lạt") narrow to the plans they share."""
        ids = [pid for m in self.plans for pid in m.ids]
        if len(self.plans) > 1:
            shared = set(self.plans[0].ids).intersection(*(m.ids for m in self.plans[1:]))
            if shared:
                return [pid for pid in dict.fromkeys(ids) if pid in shared]
            # Names that share no plan: a number ("KL 69") names one plan, words of a title ("KH triển khai")
            # may stand in many; the number is the one meant.
            numbered = [pid for m in self.plans if any(c.isdigit() for c in m.text) for pid in m.ids]
            if numbered:
                return list(dict.fromkeys(numbered))
        return ids

    @property
    def agency_ids(self) -> list[int]:
        return [aid for m in self.agencies for aid in m.ids]


def parse(index: Index, text: str, today: date) -> Parsed:
    """Read one question: what is asked, about whom, which plan, which time, which topic."""
    folded = index.fold_query(text)
    agencies = index.find_agencies(folded)
    plans = index.find_plans(folded)
    # A plan reference is not an agency ("Kế hoạch" must not become a body); drop overlaps.
    # A place inside an agency's name ("Công an thành phố Hà Nội") is part of the name, and names the plans too.
    agencies = [a for a in agencies
                if not any(p.start < a.end and a.start < p.end and not a.start <= p.start < p.end <= a.end
                           for p in plans)]
    window = parse_window(folded, today)
    p = Parsed(kind="unknown", folded=folded, agencies=agencies, plans=plans, window=window)
    p.cue = _cue(text, folded)
    p.seq, p.topic = _topic(index, text, p.cue, agencies, plans, window)
    p.subject = _subject(folded, agencies, plans)
    p.kind = _kind(p, section_keys(index))
    if p.kind == "status":  # "Việc báo cáo 15/12 đã hoàn thành chưa?": the day names the task
        p.day = p.day or _bare_day(folded, p.window, today)
        p.window = None
    p.role = _role(p.cue)
    p.with_deadline = bool(_WITH_DEADLINE.search(p.cue))
    if p.kind in ("lead", "coord", "report", "due") and p.agencies and not any(
            t is not None and not t.name for t in p.seq):
        p.kind = "agency"  # "Sở X phối hợp với ai?", "hạn của Sở X": nothing but a name: list its tasks
    return p


_REF = attrgetter("ref")


def section_keys(index: Index) -> set[str]:
    """Every section a task stands in, folded ("iii 2", and "iii" for "III.2"): "mục III.2" names one."""
    keys: set[str] | None = index.cache.get("sections")
    if keys is None:
        keys = set()
        # Each distinct ref once (100,000 tasks share a few hundred): this runs again after every store change.
        for ref in set(map(_REF, index.docs)):
            parts = fold(ref, expand=False).split()
            keys.update(" ".join(parts[:n]) for n in range(1, len(parts) + 1))
        index.cache["sections"] = keys
    return keys


def _role(cue: str) -> str | None:
    """The one role an agency's list is kept to, if the question names one: "lead" or "coordinator"."""
    kept = re.sub(r"\s+", " ", _ROLE_NEGATED.sub(" ", cue))
    if _ROLE_COORD.search(kept) and not _ROLE_LEAD.search(kept):
        return "coordinator"
    if _ROLE_LEAD.search(kept):
        return "lead"
    return None


def _cue(text: str, folded: str) -> str:
    """The folded question with accent false friends masked (upper case, same length): when the user typed
    accents, "Hàn" is not the "hạn" of a deadline question nor "đầu" the "đâu" of "về đâu"."""
    if not has_accents(text):
        return folded
    typed: dict[str, set[str]] = {}
    for w in re.findall(r"\w+", text):
        typed.setdefault(fold(w, expand=False), set()).add(accent_key(w))

    def mask(m: re.Match[str]) -> str:
        w = m.group(0)
        keys = typed.get(w, set())
        marked = {k for k in keys if not k.endswith("|")}  # typed with accents: "ngay" left bare says nothing
        return w.upper() if marked and accent_key(_FALSE_FRIENDS[w]) not in keys else w

    return _FRIEND_RE.sub(mask, folded)


def _kind(p: Parsed, sections: Collection[str] = ()) -> str:
    f = p.cue or p.folded
    if _GREETING.match(f) or not f:
        return "greeting"
    if _THANKS.match(f):
        return "thanks"
    if p.plans and _PLAN_INFO.search(f) and not [w for w in p.distinct if w not in _INFO_WORDS]:
        return "plan_info"
    if (m := _SECTION.search(f)) and m.group(1) in sections:
        p.section = m.group(1)
        return "section"
    if p.plans and not p.agencies and _COUNT.search(f):
        return "count"
    if p.window is not None and p.window.start == p.window.end and _WEEKDAY.search(f):
        return "weekday"
    if _STATUS.search(f) and not _LIST.search(f):
        return "status"
    if _OVERDUE.search(f):
        return "overdue"
    asks_one = bool(_LEAD.search(f) or _REPORT.search(f) or _COORD.search(f)) or bool(p.distinct)
    # A day or a year named in a question about one task is part of that task, not a window.
    if p.window is not None and p.window.label.startswith(("ngày ", "năm ")) and asks_one and not listing_words(f):
        # "Ai nộp báo cáo X trước ngày 15/12?": a task's own date, not a list of the day's deadlines
        p.day = p.window.start if p.window.start == p.window.end else None
        p.year = p.window.start.year if p.window.label.startswith("năm ") else None
        p.window = None
    # "Báo cáo quý ... quý này hạn chót ngày nào?": the due day of one (recurring) task, the period saying which
    # occurrence — the next one — not a list of the period's deadlines.
    if p.window is not None and p.distinct and _DUE_DAY_ASKED.search(f) and not listing_words(f):
        p.occurrence, p.window = p.window, None
        return "due"
    if p.window is not None or _SOON.search(f):
        return "window"
    # "Sở X phối hợp tuyên truyền gì?": an agency that opens a question ending in "gì" asks for its tasks
    listing = bool(_LIST.search(f) or (p.subject and _ENDS_WHAT.search(f)))
    if listing and p.agencies and not p.distinct:
        return "agency"
    if listing and p.plans and not p.distinct:
        return "plan"
    if _REPORT.search(f):
        return "report"
    if _DUE.search(_HAN_CHE.sub(" ", f)):
        return "due"
    if _COORD.search(f):
        return "coord"
    if listing and p.agencies:
        return "agency"
    if listing and p.plans:
        return "plan"
    if _LEAD.search(f):
        return "lead"
    if p.agencies and not p.distinct:
        return "agency"
    if p.plans and not p.distinct:
        return "plan"
    return "lead" if p.distinct else "unknown"


def _bare_day(folded: str, window: Window | None, today: date) -> date | None:
    """The day a question about one task names ("15/12"; this year unless it says another)."""
    if window is not None and window.start == window.end:
        return window.start
    m = _BARE_DAY.search(folded)
    if not m:
        return None
    year = int(m.group(3)) if m.group(3) else today.year
    try:
        return date(year, int(m.group(2)), int(m.group(1)))
    except ValueError:
        return None


def listing_words(folded: str) -> bool:
    return bool(_LIST.search(folded))


# Words that may stand between a plan named first and the doer: "Theo KH 3021, Sở X ..."
_SETTING_WORDS = frozenset({"theo", "trong", "tai", "o", "thuoc"})


def _subject(folded: str, agencies: list[Mention], plans: list[Mention]) -> list[int]:
    """Agencies named as the doer: at the start of the question (after the plan it is set in, if any), or
    "của <agency>"."""
    out: list[int] = []
    for m in agencies:
        head = folded[: m.start]
        for pm in sorted(plans, key=lambda pm: -pm.start):  # the plan's own words are not before the doer
            if pm.end <= m.start:
                head = head[: pm.start] + " " * (pm.end - pm.start) + head[pm.end:]
        if plans and set(head.split()) <= _SETTING_WORDS:
            out.extend(m.ids)
            continue
        before = folded[: m.start].split()
        if not before or before in (["cac"], ["co"]) or (before and before[-1] == "cua"):
            out.extend(m.ids)
    return out


def _topic(
    index: Index, text: str, folded: str, agencies: list[Mention], plans: list[Mention], window: Window | None
) -> tuple[list[Term | None], str]:
    """The question's words as search terms; names and generic words rank but are not the topic."""
    spans = [(m.start, m.end, "name") for m in (*agencies, *plans)]
    # Accents as typed, by folded word: they tell "Hàn" from "hạn" when the user typed them.
    typed = {fold(w, expand=False): accent_key(w) for w in re.findall(r"\w+", text)} if has_accents(text) else {}
    if window is not None:
        spans.append((*window.span, "drop"))
    for rx in (_OVERDUE, _SOON):
        spans += [(*m.span(), "drop") for m in rx.finditer(folded)]
    words = [(m.start(), m.group(0)) for m in re.finditer(r"\S+", folded)]
    toks = [w for _, w in words]
    glue = _glue_marks(index, text, toks)
    marks: list[str] = []
    for (start, _), is_glue_word in zip(words, glue, strict=True):
        mark = next((kind for s, e, kind in spans if s <= start < e), "")
        marks.append("stop" if is_glue_word else mark)
    _mark_places(index, toks, marks)
    # An accented homograph of a glue word is kept upper case ("kỳ" -> "KY"); inside a question phrase
    # ("kỳ tới", "sở nào") it is still that phrase.
    lowered = [t.lower() for t in toks]
    i = 0
    while i < len(toks):
        if marks[i] not in ("", "stop"):
            i += 1
            continue
        for phrase in _DROP_PHRASES:
            n = len(phrase)
            if (lowered[i : i + n] == phrase and all(m in ("", "stop") for m in marks[i : i + n])
                    and not (phrase == ["han"] and lowered[i + 1 : i + 2] == ["che"])):
                for j in range(i, i + n):
                    marks[j] = "drop"
                break
        i += 1
    seq: list[Term | None] = []
    topic_words: list[str] = []
    for i, (tok, mark) in enumerate(zip(toks, marks, strict=True)):
        if mark == "stop":
            continue  # glue words vanish in the index too: pairs are formed across them
        # A glue spelling that reached here was kept for its accents or its word pair ("vệ sinh"): not question glue.
        if mark == "drop" or (
            not mark and tok in _DROP_WORDS and tok not in STOP and not _held_pair(index, toks, marks, i)
        ):
            seq.append(None)
            continue
        if mark == "name":
            seq.append(Term(tok, False, name=True))
            continue
        tok = tok.lower()  # an accent false friend masked in upper case is still a topic word
        for part in index.split_glued(tok):
            # A glue spelling kept for its accents ("dã" of "việt dã") is a word typed on purpose: not a typo.
            word = part if part in GENERIC or part in STOP else _prefer_common(index, _correct(index, part, typed))
            seq.append(Term(word, word not in GENERIC and not word.isdigit(), accent=typed.get(word, ""),
                            typed=part if part != word else ""))
        topic_words.append(tok)
    _mark_generic_pairs(seq)
    return _without_generic_glue(seq), _as_written(text, topic_words)


def _correct(index: Index, word: str, typed: dict[str, str]) -> str:
    """A word the plans lack, read as the known word it is a typo of; but a syllable typed with accents is not
    shortened or lengthened into another ("cảng" is not "can", "thêm" not "tem")."""
    fixed = index.correct(word)
    marked = typed.get(word, "|").split("|", 1)[1]
    swapped = {word[0], fixed[0]} == {"d", "g"}  # "dao" typed for "giao": a confusion, not another syllable
    if marked and len(fixed) != len(word) and not swapped:
        return word
    return fixed


def _glue_marks(index: Index, text: str, toks: list[str]) -> list[bool]:
    """Which question words are glue. Typed with accents, a word is glue only when its accents are a glue
    word's ("vệ sinh", "thi đua", "sở" stay); typed without, a glue spelling is glue unless it forms a word
    pair the plans hold with its neighbour ("ve sinh", "thi dua", "de xuat")."""
    if has_accents(text):
        queue: dict[str, list[str]] = {}
        for w in re.findall(r"\w+", text):
            queue.setdefault(fold(w, expand=False), []).append(w)
        out = []
        for tok in toks:
            written = queue.get(tok)
            # A word the question did not type (a short form spelt out: the "và" of "KH&CN") is glue.
            out.append(tok in STOP and (not written or is_glue(written.pop(0), True)))
        return out
    out = [tok in STOP for tok in toks]
    for i, tok in enumerate(toks):
        # The word it opens, not one it closes: "đầu tư cơ sở" holds "tu co", which says nothing of "từ có".
        nxt = toks[i + 1] if i + 1 < len(toks) and not out[i + 1] else ""
        if out[i] and nxt and index.postings.get(f"{tok} {nxt}"):
            out[i] = False
    return out


def _without_generic_glue(seq: list[Term | None]) -> list[Term | None]:
    """A glue spelling kept for its accents that only makes a generic word ("cơ" of "cơ sở", "đề" of "đề xuất")
    says nothing of which task: left out, as the index leaves it out (knowledge.search.GLUE_COMPOUNDS)."""
    drop: set[int] = set()
    for i, (a, b) in enumerate(pairwise(seq)):
        if a is not None and b is not None and not a.name and not b.name and (a.text, b.text) in GLUE_COMPOUNDS:
            drop.update(j for j, t in ((i, a), (i + 1, b)) if t.text in STOP)
    return [t for i, t in enumerate(seq) if i not in drop]


def _mark_places(index: Index, toks: list[str], marks: list[str]) -> None:
    """A place the plans come from ("ở Đà Lạt") names a plan's origin, not a task's topic."""
    for place in map(str.split, index.places()):
        n = len(place)
        for i in range(len(toks) - n + 1):
            if toks[i : i + n] == place and all(m in ("", "stop") for m in marks[i : i + n]):
                for j in range(i, i + n):
                    marks[j] = "name"


def _held_pair(index: Index, toks: list[str], marks: list[str], i: int) -> bool:
    """A question word that is also a plan word beside a neighbour ("cần" / "cán bộ": both "can";
    the "tư" of "thông tư" is not the "từ" of "từ ngày")."""
    nxt = toks[i + 1] if i + 1 < len(toks) and not marks[i + 1] else ""
    prev = toks[i - 1] if i > 0 and not marks[i - 1] else ""
    return bool(
        (nxt and nxt not in _DROP_WORDS and index.postings.get(f"{toks[i]} {nxt}"))
        or (prev and prev not in _DROP_WORDS and index.postings.get(f"{prev} {toks[i]}"))
    )


def _mark_generic_pairs(seq: list[Term | None]) -> None:
    """Syllables that form a generic two-syllable word with a neighbour are not topic words."""
    for a, b in pairwise(seq):
        if a is not None and b is not None and not a.name and not b.name and (a.text, b.text) in GENERIC_PAIRS:
            a.distinct = b.distinct = False


# Words plans write one way and people another: ask the index for the plans' word.
_SYNONYMS = {"nop": "gui"}


def _prefer_common(index: Index, word: str) -> str:
    other = _SYNONYMS.get(word)
    if other and len(index.postings.get(other, ())) > len(index.postings.get(word, ())):
        return other
    return word


def _as_written(text: str, folded_words: list[str]) -> str:
    """The topic words in the user's own spelling (accents kept) where they can be matched back."""
    originals: dict[str, str] = {}
    for w in re.findall(r"[\w&]+", text):
        originals.setdefault(fold(w, expand=False), w)
    return " ".join(originals.get(w, w) for w in folded_words)


# ---- time windows ----------------------------------------------------------------------------
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


_FROM_NOW = re.compile(r"\b(?:tu|ke tu) (?:nay|bay gio|gio|hom nay) (?:den|toi|cho den) (?:het |cuoi )?$")


def parse_window(folded: str, today: date) -> Window | None:
    """The time a question is about; "từ nay đến hết tháng 11 năm sau" runs from today to that time's end."""
    win = _parse_window(folded, today)
    if win is None or win.start <= today:
        return win
    if m := _FROM_NOW.search(folded[: win.span[0]]):
        return Window(today, win.end, f"khoảng từ nay đến {win.end.day:02d}/{win.end.month:02d}/{win.end.year}",
                      (m.start(), win.span[1]))
    return win


def _parse_window(folded: str, today: date) -> Window | None:
    """The time a question is about ("tháng này", "tuần tới", "30 ngày tới", "tháng 12", "quý 4")."""

    def month_window(y: int, m: int, span: tuple[int, int]) -> Window:
        return Window(date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1]), f"tháng {m}/{y}", span)

    if m := re.search(r"\b(?:ngay|han|truoc|vao) (\d{1,2}) (\d{1,2})(?: (\d{4}))?\b", folded):
        try:
            d = date(int(m.group(3) or today.year), int(m.group(2)), int(m.group(1)))
        except ValueError:
            d = None
        if d is not None:
            return Window(d, d, f"ngày {d.day:02d}/{d.month:02d}/{d.year}", m.span())
    if m := re.search(r"\b(hom nay|ngay hom nay)\b", folded):
        return Window(today, today, "hôm nay", m.span())
    if m := re.search(r"\bngay mai\b", folded):
        d = today + timedelta(days=1)
        return Window(d, d, "ngày mai", m.span())
    if m := re.search(r"\b(\d{1,3}) (ngay|tuan|thang) (toi|sap toi|nua|tiep theo|ke tiep|sau|sap den)\b", folded):
        n, unit = int(m.group(1)), m.group(2)
        days = n * {"ngay": 1, "tuan": 7, "thang": 30}[unit]
        label = {"ngay": "ngày", "tuan": "tuần", "thang": "tháng"}[unit]
        return Window(today, today + timedelta(days=days), f"{n} {label} tới", m.span())
    if m := re.search(r"\btuan (nay|hien tai)\b", folded):
        end = today + timedelta(days=6 - today.weekday())
        return Window(today, end, "tuần này", m.span())
    if m := re.search(r"\btuan (toi|sau|ke tiep|tiep theo)\b", folded):
        start = today + timedelta(days=7 - today.weekday())
        return Window(start, start + timedelta(days=6), "tuần tới", m.span())
    if m := re.search(r"\bthang (nay|hien tai)\b", folded):
        return month_window(today.year, today.month, m.span())
    if m := re.search(r"\bthang (toi|sau|ke tiep|tiep theo)\b", folded):
        y, mo = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        return month_window(y, mo, m.span())
    if m := re.search(r"\bthang (\d{1,2})(?: (?:nam )?(\d{4}|nay|sau|toi|ke tiep))?\b", folded):
        mo, yword = int(m.group(1)), m.group(2)
        if 1 <= mo <= 12:
            if yword and yword.isdigit():
                y = int(yword)
            elif yword == "nay":
                y = today.year
            elif yword:
                y = today.year + 1
            else:
                y = today.year if mo >= today.month else today.year + 1
            return month_window(y, mo, m.span())
    if m := re.search(r"\bquy (nay|hien tai|(\d|iv|iii|ii|i))(?: (?:nam )?(\d{4}))?\b", folded):
        q = (today.month - 1) // 3 + 1 if m.group(1) in ("nay", "hien tai") else (
            _ROMAN.get(m.group(2)) or int(m.group(2)))
        if 1 <= q <= 4:
            y = int(m.group(3)) if m.group(3) else today.year
            end_m = q * 3
            return Window(date(y, end_m - 2, 1), date(y, end_m, calendar.monthrange(y, end_m)[1]),
                          f"quý {q}/{y}", m.span())
    if m := re.search(r"\bnam (nay|hien tai)\b", folded):
        return Window(date(today.year, 1, 1), date(today.year, 12, 31), f"năm {today.year}", m.span())
    if m := re.search(r"\b(?:trong )?nam (\d{4})\b", folded):
        y = int(m.group(1))
        if 2000 <= y <= 2100:
            return Window(date(y, 1, 1), date(y, 12, 31), f"năm {y}", m.span())
    if m := re.search(r"\bnam (sau|toi|ke tiep)\b", folded):
        y = today.year + 1
        return Window(date(y, 1, 1), date(y, 12, 31), f"năm {y}", m.span())
    if m := _SOON.search(folded):
        return Window(today, today + timedelta(days=30), "30 ngày tới", m.span())
    return None


# ---- follow-ups: questions about what was just shown -------------------------------------------
# "việc này", "nhiệm vụ đó", "kế hoạch trên": a reference to the chat's subject (knowledge.conversation)
_REFERENCE = re.compile(r"\b(viec|nhiem vu|cong viec|ke hoach|van ban|muc|cai|viec do|viec nay)"
                        r" (nay|do|tren|ay|kia|vua roi|vua hoi|vua xem|vua neu|o tren)\b")
_PLAN_REF = re.compile(r"\bke hoach (nay|do|tren|ay|kia|vua roi|o tren)\b")
# "thuộc kế hoạch nào?", "trong văn bản nào?", "của kế hoạch nào?"
_WHICH_PLAN = re.compile(r"\b(ke hoach|van ban|chuong trinh) (nao|gi|so may|so bao nhieu)\b")
# "cho tôi xem chi tiết việc số 2", "việc số 2", "số 2", "xem việc thứ 2", "chi tiết mục 2 trong danh sách"
_PICK = re.compile(r"^(?:(?:cho (?:toi |minh |em )?)?(?:xem|doc|mo) )?(?:(?:chi tiet|noi dung|cu the) )?"
                   r"(?:(?:cua |ve )?(?:viec|nhiem vu|cong viec|dong|muc) )?(?:so |thu )(\d{1,3})"
                   r"(?: (?:la gi|the nao|noi gi|di|nhe|nha|a|voi|giup|trong danh sach|o tren))*$")
# "xem tiếp", "tiếp", "còn nữa không", "xem thêm", "trang sau"
_MORE = re.compile(r"^(?:(?:cho )?(?:toi |minh |em )?(?:xem|hien|liet ke|doc) )?"
                   r"(?:tiep|them|nua|tiep theo|con nua|con gi nua|con lai|trang sau|phan tiep|cac viec con lai"
                   r"|nhung viec con lai|tiep di|con viec nao nua|con nua khong|con khong)"
                   r"(?: (?:di|nhe|nha|a|khong|ko|nua|theo))*$")
_DETAIL = re.compile(r"\b(chi tiet|noi dung|day du|toan van|cu the|ro hon|nguyen van)\b")
_STILL_TIME = re.compile(r"\b(con han|het han|con kip|con bao lau|con may ngay|con bao nhieu ngay)\b")
# words a follow-up says that are not a topic of its own ("còn hạn không", "xem chi tiết")
_FOLLOW_WORDS = wordset("con chi tiet noi dung day du cu the xem cho ro hon toan van nguyen kip bao lau may")


_ABOUT_ONE = frozenset({"lead", "coord", "report", "due", "status", "unknown"})  # kinds that ask about one task


@dataclass(frozen=True)
class FollowUp:
    """A question about the chat's subject: `ask` is what it wants to know of it, `n` a number in its list."""

    ask: str  # more | pick | plan | plan_info | lead | coord | report | due | status | detail
    n: int = 0


def follow_up(p: Parsed) -> FollowUp | None:
    """Is this question about what was just shown ("việc này thuộc kế hoạch nào?", "ai phối hợp?",
    "việc số 2", "xem tiếp")? A question that names its own task, agency or plan is not."""
    f = re.sub(r"\s+", " ", (p.cue or p.folded).lower()).strip()
    if _MORE.match(f):
        return FollowUp("more")
    if m := _PICK.match(f):
        return FollowUp("pick", int(m.group(1)))
    topic = any(t is not None and not t.name and t.text not in _FOLLOW_WORDS for t in p.seq)
    refers = bool(_REFERENCE.search(f))
    if not refers and (topic or p.agencies or p.plans or (p.window is not None and not _STILL_TIME.search(f))
                       or p.kind not in _ABOUT_ONE):
        return None  # a question of its own ("Việc nào đã quá hạn?" is a list, not about the last task)
    if _PLAN_REF.search(f) and _PLAN_INFO.search(f):
        return FollowUp("plan_info")
    if _WHICH_PLAN.search(f) or _PLAN_REF.search(f):
        return FollowUp("plan")
    if _STATUS.search(f):
        return FollowUp("status")
    if _REPORT.search(f):
        return FollowUp("report")
    if _STILL_TIME.search(f) or _DUE.search(_HAN_CHE.sub(" ", f)):
        return FollowUp("due")
    if _COORD.search(f) or re.search(r"\bphoi hop\b", f):
        return FollowUp("coord")
    if _LEAD.search(f):
        return FollowUp("lead")
    if _DETAIL.search(f) or refers:
        return FollowUp("detail")
    return None
