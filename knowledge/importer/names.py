"""Finding agency names in a task's text, and the role each plays (lead, coordinator, report-to, via).

Known names (the registry's names and aliases) are matched greedily, longest first, on folded words,
so "Sở Văn hóa, Thể thao và Du lịch" stays one agency and "các Sở, ban, ngành thuộc tỉnh" one group.
Bodies the registry does not know are recognised by a head word ("Báo", "Cục", "Ban", ...) followed by
capitalised words. A matched list such as "các ban cán sự đảng, đảng đoàn" is split again when
every part is itself a known name, because the plan means several bodies there.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from knowledge.agencies import AgencyInfo, Registry, agency_key
from knowledge.agency_seed import SEED
from knowledge.deadlines import shadow
from knowledge.text import fold

_TOKEN = re.compile(r"\w+(?:[&\-]\w+)*")
MAX_WORDS = 24

# Collective bodies plans name in lower case, beyond the registry's groups (folded).
_EXTRA_NAMES = (
    "cac co quan don vi", "cac co quan don vi lien quan", "cac co quan lien quan", "cac don vi lien quan",
    "cac co quan don vi dia phuong", "cac dia phuong co quan don vi", "co quan don vi dia phuong",
    "cac co quan ca nhan to chuc lien quan", "cac to chuc ca nhan lien quan", "cac co quan to chuc lien quan",
    "cac so nganh lien quan", "cac so ban nganh lien quan", "cac bo nganh lien quan", "cac bo nganh",
    "cac bo co quan ngang bo", "cac bo co quan ngang bo co quan thuoc chinh phu", "cac don vi truc thuoc",
    "cac don vi thuoc bo", "cac co quan don vi thuoc bo", "cac vu cuc", "cac dia phuong",
    "thu truong cac don vi thuoc bo", "thu truong cac co quan don vi", "thu truong cac don vi", "bo truong",
    "lanh dao bo", "thu tuong chinh phu", "chinh phu", "cac don vi thuoc uy ban nhan dan tinh",
    "uy ban nhan dan cac tinh thanh pho truc thuoc trung uong", "uy ban nhan dan cac tinh thanh pho",
    "cac bo nganh trung uong", "cac co quan trung uong", "cac bo co quan trung uong",
    "cac tap doan tong cong ty nha nuoc", "uy ban nhan dan cac xa phuong", "uy ban nhan dan cap xa",
    "uy ban nhan dan cac xa",
    "uy ban nhan dan cac xa phuong thi tran", "cac so nganh", "cac hoi doan the", "cac co quan bao chi",
    "cac co quan thong tan bao chi", "cac doanh nghiep", "cac truong dai hoc vien nghien cuu",
    "cac cap uy to chuc dang", "cac cap uy dang", "cac cap uy chinh quyen", "cac to chuc co so dang",
    "cac chi bo dang bo", "cac dang bo chi bo", "cac cap uy to chuc dang chinh quyen",
    # national directives: "các Bộ, cơ quan, địa phương", "cơ quan thanh tra", "cấp ủy, chính quyền ... các cấp"
    "cac bo co quan dia phuong", "cac bo co quan", "cac bo nganh dia phuong", "co quan thanh tra",
    "cac co quan thanh tra", "cap uy to chuc dang chinh quyen doan the cac cap",
    "cap uy chinh quyen dia phuong cac cap",
    "cac cap uy chinh quyen dia phuong", "cap uy chinh quyen cac cap", "cap uy to chuc dang cac cap",
    "ngan hang nha nuoc viet nam", "ngan hang nha nuoc",
    # bodies of the judiciary and central agencies' local offices, named in lower case after their head word
    "vien kiem sat nhan dan tinh", "toa an nhan dan tinh", "kiem toan nha nuoc", "kho bac nha nuoc", "thue tinh",
    "to chuc chinh tri xa hoi", "pho thu tuong", "cac pho thu tuong", "pho thu tuong chinh phu",
)
_PARTY_COMMITTEES = ("huyen uy thi uy thanh uy", "huyen uy thanh uy", "huyen thi uy thanh uy", "huyen thanh uy",
                     "huyen uy thi uy thanh uy dang uy truc thuoc", "huyen uy thanh uy dang uy truc thuoc")
# Head words of bodies the registry may not know; the name goes on with capitalised words.
_HEADS = {
    "so", "ban", "bao", "dai", "vien", "cuc", "vu", "bo", "hoi", "hoi dong", "to", "truong", "trung tam",
    "tong cuc", "chi cuc", "van phong", "lien hiep", "lien doan", "cong an", "kho bac", "ngan hang", "thanh tra",
    "uy ban", "quy", "doan", "dang uy", "dang doan", "tinh doan", "benh vien", "hoc vien", "dai hoc", "phong",
    "thuong truc", "cong ty", "tap doan", "tong cong ty", "bo chi huy", "bo tu lenh", "toa an", "vien kiem sat",
    "cuc thue", "hai quan", "mat tran", "tinh uy", "thanh uy", "huyen uy", "lien minh", "hiep hoi", "tieu ban",
}
_NOT_NAMES = ("to chuc", "hoi nghi", "hoi thi", "hoi thao", "truong hop", "so lieu", "bo tri", "bo sung", "vu viec",
              "quy dinh", "quy trinh", "quy che", "quy hoach", "doan ket", "phong trao", "phong chong", "dai hoi",
              "ban hanh", "bao cao", "bao dam", "bao ve", "bao ton", "dai dien", "ngan hang du lieu", "quy mo",
              "so ket", "cuc bo", "hoi vien", "van phong pham", "hoi nhap", "thanh tra kiem tra", "dang vien",
              "uy ban thuong vu quoc hoi nghi quyet")
NOISE = re.compile(r"(lien quan|co lien quan)$")


@dataclass
class Mention:
    start: int  # character span in the text
    end: int
    name: str  # as written
    known: bool


class _Tok(NamedTuple):
    start: int
    end: int
    words: tuple[str, ...]
    cap: bool




@lru_cache(maxsize=100_000)
def _is_abbreviation(written: str) -> bool:
    return " " not in written.strip() or not any(c.islower() for c in written.replace("Sở", ""))


@lru_cache(maxsize=200_000)
def _token_words(w: str) -> tuple[tuple[str, ...], bool]:
    return tuple(fold(w).split()), w[:1].isupper() or w[:1].isdigit()


def _tokens(text: str) -> list[_Tok]:
    # tuple.__new__ directly: _Tok._make's Python frame per word was a tenth of a parse.
    new, tw = tuple.__new__, _token_words
    return [new(_Tok, (m.start(), m.end(), *tw(m.group()))) for m in _TOKEN.finditer(text)]


_INNER_GAP = re.compile(r"^[\s,\-–&]*$")


class NameFinder:
    """Finds agency mentions in text using one registry (kept in memory across files)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.keys: set[tuple[str, ...]] = set()
        self.prefixes: set[tuple[str, ...]] = set()
        self._roles: dict[str, Roles] = {}
        # strict key -> (canonical name, is_group); see `strict_key` for why not registry.lookup alone.
        self.canon: dict[str, tuple[str, bool]] = {}
        full: set[str] = set()
        abbrev: set[str] = set()
        for spec in SEED:
            for written in (spec.name, *spec.aliases):
                self._add(agency_key(written))
                self.canon.setdefault(agency_key(written), (spec.name, spec.is_group))
                (abbrev if _is_abbreviation(written) else full).add(agency_key(written))
        # "KH&CN" is a name only when written short; "khoa học và công nghệ" in a sentence is a field.
        self.abbrev_only = {tuple(k.split()) for k in abbrev - full}
        for info in registry.by_id.values():
            self._add(agency_key(info.name))
            self.canon.setdefault(agency_key(info.name), (info.name, info.is_group))
        for key in _EXTRA_NAMES:
            self._add(key)
        for pc in _PARTY_COMMITTEES:
            for prefix in ("cac ", "ban thuong vu cac "):
                for suffix in ("", " tinh uy", " dang uy truc thuoc tinh uy"):
                    self._add(prefix + pc + suffix)

    def _add(self, key: str) -> None:
        words = tuple(key.split())
        if not words:
            return
        variants = [words]
        if words[-1] == "tinh" and len(words) > 2:
            variants.append(words[:-1])
        if words[0] != "cac":
            variants.append(("cac", *words))
        for v in variants:
            self.keys.add(v)
            for n in range(1, len(v) + 1):
                self.prefixes.add(v[:n])

    def canonical(self, name: str) -> tuple[str, bool] | None:
        """(registry name, is_group) for a name as written, or None for a body nobody listed."""
        key = agency_key(name)
        for k in (key, key[4:] if key.startswith("cac ") else "cac " + key, key + " tinh",
                  key[:-5] if key.endswith(" tinh") else ""):
            if k in self.canon:
                return self.canon[k]
        return None

    def mentions(self, text: str) -> list[Mention]:
        return list(_mentions(self, text))


# "Các Tổng cục, Cục, Vụ, đơn vị thuộc Bộ", "các Vụ, Cục thuộc Bộ": a group named by a list of kinds of
# body, with where they belong. Taken whole when it reaches further than any known name there.
_KINDS = (r"(?:tong cuc|chi cuc|cuc|vu|vien|don vi|co quan|so|ban|nganh|phong|trung tam|truong|to chuc(?! chinh tri)|"
          r"doan the|hoi|dia phuong)")
_KIND_LIST = re.compile(r"\bcac\s+" + _KINDS + r"(?:(?:\s*,\s*|\s+va\s+)" + _KINDS + r")*"
                        r"(?:\s+(?:truc\s+)?thuoc\s+(?:bo|tinh|so|cuc|tong cuc|huyen|thanh pho|"
                        r"uy ban nhan dan (?:tinh|huyen|thanh pho)))?\b")


def _kind_lists(text: str) -> dict[int, int]:
    sh = shadow(text)
    if "cac " not in sh:
        return {}
    return {m.start(): m.end() for m in _KIND_LIST.finditer(sh) if " " in sh[m.start() + 4:m.end()].strip()
            or "thuoc" in m.group()}


def _mentions(finder: NameFinder, text: str) -> list[Mention]:
    toks = _tokens(text)
    out: list[Mention] = []
    i = 0
    prefixes = finder.prefixes
    groups = _kind_lists(text)
    while i < len(toks):
        t = toks[i]
        if not t.words:
            i += 1
            continue
        g_end = groups.get(t.start)
        if g_end is not None:
            j = _known_at(finder, text, toks, i) if t.words[:1] in prefixes else i
            if j == i or toks[j - 1].end < g_end:
                out.append(Mention(t.start, g_end, text[t.start:g_end], True))
                while i < len(toks) and toks[i].start < g_end:
                    i += 1
                continue
        if t.words[:1] in prefixes:
            j = _known_at(finder, text, toks, i)
            if j > i:
                j = _province_tail(text, toks, j)
                out.extend(_split_if_all_known(finder, text, toks, i, j))
                i = j
                continue
        if not t.cap or t.words[0] not in _HEAD_FIRST:
            i += 1
            continue
        j = _unknown_at(text, toks, i)
        if j > i:
            out.append(Mention(toks[i].start, toks[j - 1].end, text[toks[i].start:toks[j - 1].end], False))
            i = j
            continue
        i += 1
    return out


def _known_at(finder: NameFinder, text: str, toks: list[_Tok], i: int) -> int:
    """The token index after the longest known name starting at token i (i when none)."""
    words: list[str] = []
    best = i
    for j in range(i, min(len(toks), i + MAX_WORDS)):
        if j > i and not _INNER_GAP.match(text[toks[j - 1].end:toks[j].start]):
            break
        words.extend(toks[j].words)
        if len(words) > MAX_WORDS or tuple(words) not in finder.prefixes:
            break
        if tuple(words) in finder.keys:
            if tuple(words) in finder.abbrev_only and not _written_short(text[toks[i].start:toks[j].end]):
                continue
            if words[-1] == "bo" and j > i and text[toks[j].start:toks[j].end] != "Bộ":
                continue  # "lãnh đạo bố trí": "Lãnh đạo Bộ" is written with its capital
            best = j + 1
    return best


def _written_short(span: str) -> bool:
    return "&" in span or (sum(1 for c in span if c.isupper()) >= 2 and len(span.split()) <= 2)


_LOCAL = {("thanh", "uy"), ("huyen", "uy"), ("thi", "uy"), ("quan", "uy"), ("dang", "uy"), ("thanh", "pho"),
          ("thi", "xa"), ("huyen",), ("quan",), ("xa",), ("phuong",), ("bo",)}


def _local_tail(text: str, toks: list[_Tok], j: int) -> int:
    """"Ban Tuyên giáo" + "Thành ủy", "UBND" + "thành phố Đà Lạt": the level written after a known name
    makes it another body (a city's, a district's, a ministry's: "Thanh tra Bộ"), kept whole so it is not
    read as the province's."""
    k = j
    if k + 1 < len(toks) and toks[k].words == ("truc",) and toks[k + 1].words == ("thuoc",):
        k += 2
    for size in (2, 1):
        if k + size <= len(toks) and all(text[toks[n - 1].end:toks[n].start] == " " for n in range(k, k + size)):
            words = tuple(w for t in toks[k:k + size] for w in t.words)
            if words in _LOCAL and (words != ("bo",) or text[toks[k].start:toks[k].end] == "Bộ"):  # not "bố trí"
                n = k + size
                while (n < len(toks) and n - (k + size) < 3 and toks[n].cap and toks[n].words
                       and text[toks[n - 1].end:toks[n].start] == " " and toks[n].words[0] not in _HEAD_FIRST):
                    n += 1
                return n
    return j


def _province_tail(text: str, toks: list[_Tok], j: int) -> int:
    """Take "Ninh Thuận" after "...tỉnh": a place name belongs to the body's name as written."""
    local = _local_tail(text, toks, j)
    if local > j:
        return local
    last = toks[j - 1].words[-2:]
    if last[-1:] != ("tinh",) and last not in (("tinh", "uy"), ("tinh", "doan")):
        return j
    k = j
    n = k
    while n < len(toks) and n - k < 3 and toks[n].cap and not toks[n].words[0].isdigit() \
            and text[toks[n - 1].end:toks[n].start] == " " and toks[n].words[0] not in _HEAD_FIRST:
        n += 1
    return n if n > k else j


_HEAD_FIRST = {h.split()[0] for h in _HEADS}
HEAD_WORDS = frozenset(_HEAD_FIRST)
NOT_NAMES = _NOT_NAMES  # first words that make a line no body's name ("Hội nghị", "Tổ chức")


# Words that end an unknown body's name: the verb or preposition after the subject.
_NAME_STOP = {"có", "là", "làm", "chịu", "được", "để", "của", "với", "về", "trong", "tại", "cho", "các", "những",
              "đã", "sẽ", "nhằm", "khi", "nếu", "thì", "ở", "từ", "đến", "sau", "trước", "gửi", "trình", "theo",
              "xong"}
_NAME_STOP2 = {
    "chu tri", "phoi hop", "xay dung", "to chuc", "thuc hien", "trien khai", "tham muu", "huong dan", "theo doi",
    "don doc", "bao cao", "ra soat", "nghien cuu", "tong hop", "kiem tra", "bo tri", "ban hanh", "chi dao",
    "cung cap", "hoan thanh", "hoan thien", "tiep tuc", "day manh", "tang cuong", "lanh dao", "quan triet",
    "tuyen truyen", "giam sat", "cap nhat", "dong thoi", "phan cong", "danh gia", "uu tien", "dam bao", "bao dam",
    "tao dieu", "huy dong", "ho tro", "thong bao", "phat huy", "phat dong", "dieu chinh", "de xuat", "de nghi",
    "chu dong", "can cu", "phan anh", "xu ly", "quan ly", "lam dau", "khan truong", "kip thoi", "thuong xuyen",
    "gan voi", "gan ket", "nham muc", "cham nhat", "han chot", "dinh ky", "hang nam", "hang quy", "hang thang",
    "yeu cau", "quyet dinh", "tiep thu",
}
# "... của Quốc hội", "... của Chính phủ": a national body named after one of its committees.
_OF_TOP = {("quoc", "hoi"), ("chinh", "phu")}
_STRONG_HEADS = {"to", "ban", "hoi dong", "trung tam", "doan", "quy"}


def nxt_word(toks: list[_Tok], j: int) -> str:
    """The first folded word of the token after j ("" at the end)."""
    return toks[j + 1].words[0] if j + 1 < len(toks) and toks[j + 1].words else ""


def _unknown_at(text: str, toks: list[_Tok], i: int) -> int:
    """A body the registry does not know: a head word and its name ("Báo Bình Thuận", "Vụ Kế hoạch - Tài
    chính", "Cục Sở hữu trí tuệ"), up to the verb or preposition that follows it."""
    t = toks[i]
    if not t.cap or not t.words or t.words[0] not in _HEAD_FIRST:
        return i
    first2 = " ".join(t.words + (toks[i + 1].words if i + 1 < len(toks) else ()))
    if any(first2 == n or first2.startswith(n + " ") for n in _NOT_NAMES):
        return i
    head_len, head = 0, ""
    for h in _HEADS:
        hw = h.split()
        got: list[str] = []
        k = i
        while k < len(toks) and len(got) < len(hw):
            got.extend(toks[k].words)
            k += 1
        if got == hw and k - i > head_len:
            head_len, head = k - i, h
    if not head_len:
        return i
    j = i + head_len
    if j >= len(toks) or text[toks[j - 1].end:toks[j].start] != " ":
        return i
    if not toks[j].cap and head not in _STRONG_HEADS:
        return i
    seg = j  # where the part of the name since the head or the last comma begins
    while j < len(toks) and j - i < 14:
        gap = text[toks[j - 1].end:toks[j].start]
        tok = toks[j]
        w = tok.words[0] if tok.words else ""
        if gap == ", " and _comma_goes_on(text, tok, w) and sum(t.cap for t in toks[seg:j]) <= 2:
            # "Cục Thông tin, Thống kê": a capitalised word that heads no body goes on with the name,
            # unless the part before is a whole proper name ("Công ty Điện lực Ninh Thuận, Viettel ...").
            seg = j
            j += 1
            continue
        if gap not in (" ", " - ", "-", " – "):
            break
        if gap.strip() and w == "co" and tok.cap and j + 1 < len(toks) and toks[j + 1].words[:1] == ("quan",):
            break  # "Bộ Tài chính - Cơ quan thường trực Ban Chỉ đạo": what the body is in the plan, not its name
        if tok.cap:
            level = j + 1 < len(toks) and (w, *toks[j + 1].words[:1]) in _LOCAL  # "... Thành ủy" ends the name
            if w in _HEAD_FIRST and not level and j > i + head_len and gap == " " and toks[j - 1].words != ("va",) \
                    and (w in _HEADS or f"{w} {nxt_word(toks, j)}" in _HEADS):
                break  # a new body begins ("Ban Xây dựng Đảng": "Đảng" alone heads none)
            j += 1
            continue
        if w == "va" and j + 1 < len(toks) and toks[j + 1].cap:
            after = toks[j + 1].words[0] if toks[j + 1].words else ""
            written = text[toks[j + 1].start:toks[j + 1].end]
            if head != "van phong" and not written.isupper() \
                    and (after in _HEADS or f"{after} {nxt_word(toks, j + 1)}" in _HEADS):
                # "Ban Xây dựng Đảng và Ủy ban Kiểm tra Tỉnh ủy": another body follows "và" (but "Văn phòng Đoàn
                # ĐBQH và Hội đồng nhân dân tỉnh" is one office serving both)
                break
            j += 1
            continue
        nxt = toks[j + 1].words[0] if j + 1 < len(toks) and toks[j + 1].words else ""
        if w == "cua" and j + 2 < len(toks) and toks[j + 1].cap \
                and (*toks[j + 1].words, *toks[j + 2].words) in _OF_TOP:
            j += 3  # "Ủy ban Kinh tế và Tài chính của Quốc hội": the body whose committee it is ends the name
            break
        if text[tok.start:tok.end].lower() in _NAME_STOP or f"{w} {nxt}" in _NAME_STOP2 or w.isdigit():
            break
        j += 1
    while j > i + head_len and toks[j - 1].words in (("va",),):
        j -= 1
    return j if j > i + head_len else i


# First words after a comma that begin another body (or a place) rather than go on with the name.
_LIST_HEADS = _HEAD_FIRST | {"cac", "tinh", "thanh", "huyen", "quan", "xa", "phuong", "ubnd", "hdnd", "mttq", "nha",
                             "lanh", "thu", "giam", "chu", "pho", "nguoi", "doanh"}


def _comma_goes_on(text: str, tok: _Tok, w: str) -> bool:
    written = text[tok.start:tok.end]
    return (tok.cap and not w.isdigit() and w not in _LIST_HEADS and not written.isupper()
            and written.lower() not in _NAME_STOP)


def _split_if_all_known(finder: NameFinder, text: str, toks: list[_Tok], i: int, j: int) -> list[Mention]:
    whole = Mention(toks[i].start, toks[j - 1].end, text[toks[i].start:toks[j - 1].end], True)
    parts = [p.strip() for p in re.split(r",|\bvà\b", whole.name)]
    if len(parts) > 1 and all(p and tuple(agency_key(p).split()) in finder.keys for p in parts):
        out = []
        pos = whole.start
        for p in parts:
            s = text.index(p, pos)
            out.append(Mention(s, s + len(p), p, True))
            pos = s + len(p)
        return out
    return [whole]


# ---- runs and roles --------------------------------------------------------------------------

_RUN_GAP = re.compile(r"^\s*(?:,|;|và|cùng|cùng với|,\s*và|;\s*và)?\s*(?:các\s+)?$")


def runs(mentions: list[Mention], text: str) -> list[list[Mention]]:
    """Mentions joined by commas, "và" or ";" into lists ("Sở A, Sở B và Sở C")."""
    out: list[list[Mention]] = []
    for m in mentions:
        if out and _RUN_GAP.match(text[out[-1][-1].end:m.start]):
            out[-1].append(m)
        else:
            out.append([m])
    return out


_INTRO = re.compile(r"^(can cu|tren co so|theo|trong|de |sau khi|dinh ky|hang nam|hang quy|hang thang|ngoai ra|"
                    r"dong thoi|rieng|doi voi|tuy|khi|neu|nham|cac noi dung)")
_TOPIC = re.compile(r"^ve [^:]{3,250}:\s*")
_ASSIGN = re.compile(r"^(?:giao cho|giao|de nghi|yeu cau|phan cong|khuyen khich)\s+")
# "Thủ trưởng các sở, ban, ngành chịu trách nhiệm": the head of a body answers for it.
_HEAD_OF = re.compile(r"(?:thu truong|lanh dao|nguoi dung dau|giam doc|chu tich|truong)\s+(?=cac\s)")
_NOT_AFTER_SUBJECT = re.compile(r"^\s*(?:cua|thuoc|ve|tai|cho|den)\b")


@dataclass
class Roles:
    lead: list[Mention]
    lead_end: int  # where the subject ends in the text (0 when there is none)
    coordinators: list[Mention]
    report_to: list[Mention]
    via: list[Mention]


# "Đồng chí Phó Bí thư Thường trực Huyện ủy (Trưởng Ban Chỉ đạo) chỉ đạo ...": a party plan assigns
# the work to the person holding an office; the office as written is the lead.
_COMRADE = re.compile(r"(?:dong chi|d/c|d\.c)\s+")
_OFFICE = re.compile(r"^(?:(?:pho\s+)?(?:bi thu|chu tich|chu nhiem|giam doc|truong|thu truong|uy vien|tong bi thu)"
                     r"(?:\s+thuong truc)?\s+)?$")


def _comrade_subject(text: str, sh: str, start: int, found: list[list[Mention]]) -> tuple[list[Mention], int] | None:
    for run in found:
        first = run[0]
        if first.start >= start and _OFFICE.match(sh[start:first.start]):
            tail = sh[run[-1].end:]
            if _NOT_AFTER_SUBJECT.match(tail):
                return None
            office = Mention(start, first.end, text[start:first.end], False)
            return [office, *run[1:]], run[-1].end
    # An office naming no body the finder sees ("Bí thư Huyện ủy"), or a person's name before it
    # ("Nguyễn Văn A, Phó Bí thư Huyện ủy"): the office up to the verb it governs.
    m = _OFFICE_VERB.match(sh, start)
    if m:
        return [Mention(m.start("o"), m.end("o"), text[m.start("o"):m.end("o")], False)], m.end("o")
    return None


_OFFICE_VERB = re.compile(r"(?:[^,;.()]{0,40},\s*)?(?P<o>(?:pho\s+)?(?:bi thu|chu tich|chu nhiem|giam doc|truong|"
                          r"thu truong|uy vien)\b[^,;.()]{0,60}?)\s*(?:\([^)]*\)\s*)?(?=(?:chi dao|phu trach|"
                          r"chu tri|truc tiep|lanh dao|giam sat|theo doi|huong dan|kiem tra)\b)")


def subject(text: str, sh: str, found: list[list[Mention]]) -> tuple[list[Mention], int]:
    """The agencies that are the subject of the sentence: at its start, after "Giao", or after an
    introductory clause ("Trên cơ sở ..., Sở Tài chính tổng hợp")."""
    topic = _TOPIC.match(sh)
    base = topic.end() if topic else 0  # "Về hỗ trợ kinh phí ...: Giao Bộ Tài chính ...": the point's topic first
    starts = [base]
    assign = _ASSIGN.match(sh[base:])
    if assign:
        starts = [base + assign.end()]
    elif _INTRO.match(sh[base:]):
        starts = [c.end() for c in re.finditer(r",\s*", sh[:base + 300]) if c.start() >= base]
    if len(starts) > 1:
        # "Trong quá trình thực hiện, nếu có vướng mắc, đề nghị các sở ... kịp thời báo cáo": "đề nghị" after the clause
        starts = [s + a.end() if (a := _ASSIGN.match(sh[s:s + 20])) else s for s in starts]
    heads = [s + len(p.group()) for s in starts if (p := _HEAD_OF.match(sh, s))]
    comrade = _COMRADE.match(sh)
    if comrade:
        person = _comrade_subject(text, sh, comrade.end(), found)
        if person:
            return person
    for s in starts + heads:
        for run in found:
            for idx, m in enumerate(run):
                if m.start < s or sh[s:m.start].strip():
                    continue
                tail = sh[run[-1].end:]
                if _NOT_AFTER_SUBJECT.match(tail) or (not tail.strip(" .;:") and s > 0):
                    break
                return run[idx:], run[-1].end
    return _passive_subject(sh, found), 0


# The assignee named after the work: "..., do Văn phòng Bộ chủ trì", "..., giao Sở X thực hiện",
# "... (Sở X chủ trì; Sở Y phối hợp)". The subject ends 0: the text does not open with it.
_PASSIVE_BEFORE = re.compile(r"(?:\bdo|(?:^|[,;:(]|\bdong thoi)\s*giao(?:\s+cho)?|[(;,])\s*$")
_PASSIVE_AFTER = re.compile(r"^\s*(?:(?:la\s+(?:co quan|don vi)\s+)?chu tri|thuc hien|chiu trach nhiem|dam nhiem|"
                            r"phu trach|lam dau moi)\b")
_LEADS_AFTER = re.compile(r"^\s*(?:la\s+(?:co quan|don vi)\s+)?chu tri\b")


def _passive_subject(sh: str, found: list[list[Mention]]) -> list[Mention]:
    for run in found:
        m = _PASSIVE_BEFORE.search(sh, max(0, run[0].start - 20), run[0].start)
        if m is None:
            continue
        word = m.group().strip(" ,;:(")
        after = sh[run[-1].end:]
        if word.startswith("giao"):
            if not _NOT_AFTER_SUBJECT.match(after):
                return run
        elif _PASSIVE_AFTER.match(after) if word == "do" else _LEADS_AFTER.match(after):
            return run
    return []


_COORD = re.compile(r"phoi hop(?:\s+(?:chat che|dong bo|thuong xuyen|tot|cung|trien khai))*\s*(?:voi\s+)?")
_REPORT = re.compile(r"\b(bao cao|gui|trinh|giup|de|phan anh)\b")
_REPORT_GAP = re.compile(r"^(?:\s*(?:ve|cho|len|den|toi))?\s*$|(?:\s(?:ve|cho|len|den|toi))\s*$")
_DECIDE = re.compile(r"^\s*(?:xem xet|chi dao|quyet dinh|phe duyet|ban hanh|cho y kien|theo doi|ky ban hanh)")
_VIA = re.compile(r"\(\s*qua\s+$")
# "(Sở X chủ trì; Sở Y phối hợp)", "Sở X chủ trì, Sở Y phối hợp": the verb after the name.
_COORD_AFTER = re.compile(r"\s*(?:cung\s+)?phoi hop\b(?!\s+voi)")


def roles(text: str, finder: NameFinder) -> Roles:
    """Who leads, coordinates, receives the report, and through whom, in one task's text."""
    found = finder._roles.get(text)
    if found is None:
        if len(finder._roles) > 20000:
            finder._roles.clear()
        found = finder._roles[text] = _roles(text, finder)
    return found


# "Chủ tịch Ủy ban nhân dân tỉnh quyết định ...", "Giám đốc Sở Y tế chỉ đạo ...": an office holder as the
# subject; the office as written is the lead ("Thủ trưởng các sở ..." is _HEAD_OF: the bodies lead).
OFFICE_TITLE = re.compile(r"^(?:pho\s+)?(?:chu tich|giam doc|bi thu|chi huy truong|chanh van phong|"
                          r"tong giam doc|cuc truong|vu truong|chu nhiem|truong ban|truong phong|thu truong|bo truong)"
                          r"\s+(?!cac\s)")


_GIVES = re.compile(r"\s*(?:giao(?:\s+cho)?|phan cong|yeu cau)\s+")


def _office_subject(text: str, sh: str, finder: NameFinder) -> tuple[list[Mention], int] | None:
    m = OFFICE_TITLE.match(sh)
    if m is None:
        return None
    rest = finder.mentions(text[m.end():])
    if not rest or rest[0].start != 0:
        return None
    run = runs(rest, text[m.end():])[0]
    end = m.end() + run[-1].end
    if _NOT_AFTER_SUBJECT.match(sh[end:]):
        return None
    office = Mention(0, m.end() + run[0].end, text[:m.end() + run[0].end], False)
    others = [Mention(m.end() + x.start, m.end() + x.end, x.name, x.known) for x in run[1:]]
    return [office, *others], end


def _roles(text: str, finder: NameFinder) -> Roles:
    ments = finder.mentions(text)
    sh = shadow(text)
    office = _office_subject(text, sh, finder)
    if office is not None:
        ments = [x for x in ments if x.start >= office[1]]
    found = runs(ments, text)
    if office is not None and (g := _GIVES.match(sh, office[1])) is not None:
        # "Chủ tịch UBND tỉnh giao Sở X ...": the office assigns, the body it names does the work.
        given = next((run for run in found if run[0].start == g.end()), None)
        office = (given, given[-1].end) if given else office
    lead, lead_end = office if office is not None else subject(text, sh, found)
    lead_ids = {id(m) for m in lead}
    coords: list[Mention] = []
    reports: list[Mention] = []
    via: list[Mention] = []
    for run in found:
        if id(run[0]) in lead_ids:
            continue
        before = sh[:run[0].start]
        if _VIA.search(before):
            via.extend(run)
            continue
        cms = list(_COORD.finditer(sh, max(0, run[0].start - 60), run[0].start))
        if (cms and cms[-1].end() == run[0].start) or _COORD_AFTER.match(sh, run[-1].end):
            coords.extend(m for m in run if not NOISE.search(agency_key(m.name)))
            continue
        if _is_report(sh, run):
            reports.extend(run)
    return Roles(lead, lead_end, coords, reports, via)


def _is_report(sh: str, run: list[Mention]) -> bool:
    start = run[0].start
    clause_start = max(sh.rfind(";", 0, start), sh.rfind(". ", 0, start), 0)
    window = sh[clause_start:start]
    triggers = list(_REPORT.finditer(window))
    if not triggers:
        return False
    last = triggers[-1]
    gap = window[last.end():]
    word = last.group(1)
    if word in ("giup", "de"):
        return gap.strip() == "" and (word == "giup" or bool(_DECIDE.match(sh[run[-1].end:])))
    if word == "trinh":
        return gap.strip() == ""
    return bool(_REPORT_GAP.search(gap)) and len(gap) < 80


def seed_registry() -> Registry:
    """A registry of the standard bodies without a database (for --dry-run and parsing tests)."""
    return copy.deepcopy(_seed_registry_cached())


@lru_cache(maxsize=1)
def _seed_registry_cached() -> Registry:
    reg = Registry()
    ids: dict[str, int] = {}
    for n, spec in enumerate(SEED, start=1):
        key = agency_key(spec.name)
        ids[key] = n
        reg.by_id[n] = AgencyInfo(n, spec.name, spec.kind, spec.is_group)
        reg.by_key[key] = n
        for alias in spec.aliases:
            reg.by_key.setdefault(agency_key(alias), n)
    for spec in SEED:
        info = reg.by_id[ids[agency_key(spec.name)]]
        if spec.successor:
            info.successor_id = ids[agency_key(spec.successor)]
            info.successor_since = spec.successor_since
        info.members = [ids[agency_key(m)] for m in spec.members]
    return reg


_LEADS_VERB = re.compile(r"^\s*(?:la\s+(?:co quan|don vi)\s+)?chu tri\b")
# A clause whose subject is followed by at least this many words is a sentence, not a list of names.
_SENTENCE_WORDS = 3


def clause_roles(value: str, finder: NameFinder) -> tuple[list[str], list[str]] | None:
    """A "Cơ quan thực hiện:" value written as sentences ("Sở Nội vụ chủ trì tham mưu ...; Sở Tư pháp và
    các sở ... chủ động tổ chức ..."): the bodies that "chủ trì" lead and the subjects of the other clauses
    coordinate; when no clause says "chủ trì", every clause's subject leads. None for a plain list of names."""
    subjects: list[tuple[list[str], bool]] = []
    coords: list[str] = []
    sentence = False
    for clause in re.split(r";\s*", value):
        if not clause.strip():
            continue
        r = roles(clause, finder)
        if not r.lead or not r.lead_end or r.lead[0].start != 0:
            continue
        rest = shadow(clause)[r.lead_end:]
        if len(re.findall(r"[a-z]+", rest)) >= _SENTENCE_WORDS:
            sentence = True
        subjects.append(([m.name for m in r.lead], bool(_LEADS_VERB.match(rest))))
        coords += [m.name for m in r.coordinators]
    if not sentence or not subjects:
        return None
    if any(leads for _names, leads in subjects):
        lead = [n for names, leads in subjects if leads for n in names]
        coords = [n for names, leads in subjects if not leads for n in names] + coords
    else:
        lead = [n for names, _leads in subjects for n in names]
    return lead, coords
