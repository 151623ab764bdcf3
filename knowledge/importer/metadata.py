"""A plan's header and closing: number, kind, issuer, date, title, signer, and the secrecy mark."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from datetime import date

from knowledge.importer.model import ImportRefused, ParsedPlan
from knowledge.importer.names import NameFinder
from knowledge.importer.outline import Para
from knowledge.text import clean_markup, fold

KINDS = {"ke hoach": "Kế hoạch", "quyet dinh": "Quyết định", "chi thi": "Chỉ thị", "cong van": "Công văn",
         "thong bao": "Thông báo", "chuong trinh": "Chương trình", "chuong trinh hanh dong": "Chương trình hành động",
         "huong dan": "Hướng dẫn", "ke hoach hanh dong": "Kế hoạch hành động", "ke hoach trien khai": "Kế hoạch",
         "nghi quyet": "Nghị quyết"}
_NUMBER = re.compile(r"^\s*(?:Số|SỐ|So|số)\s*[:.]?\s*(?P<n>\d+[\w.\-]*/[\wĐđ.\-/]+|\d+-[\wĐđ]+/[\wĐđ\-]+)")
_PARTY_NUMBER = re.compile(r"^(?P<n>\d+-[A-ZĐ]+/[A-ZĐ]+)$")
_DATE = re.compile(r"ngay\s+(\d{1,2})\s+thang\s+(\d{1,2})\s+nam\s+(\d{4})")
# "ngày    tháng 3 năm 2025", "ngày   /3/2025": signed with the day left blank (filled in by hand).
_BLANK_DAY = re.compile(r"ngay\s*(?:[._…]*\s*)?(?:thang\s+(\d{1,2})\s+nam|/\s*(\d{1,2})\s*/)\s*(\d{4})")
# "Số: 1 2 3 /QĐ-UBND": a PDF text layer spaces out the characters of the number.
_SPACED_DIGITS = re.compile(r"(?<=\d)\s+(?=\d)")
_SLASH_SPACES = re.compile(r"\s*/\s*")
_NOT_ISSUER = re.compile(r"^(cong hoa|doc lap|dang cong san|so |ngay |mat$|toi mat|tuyet mat|khan|hoa toc)")
_SECRET = re.compile(r"^\W*(?:ĐỘ MẬT\s*:?\s*)?(TUYỆT MẬT|TỐI MẬT|MẬT)\W*$", re.IGNORECASE)
_SIGN_TITLE = re.compile(r"(CHỦ TỊCH|BÍ THƯ|GIÁM ĐỐC|TRƯỞNG|T/M|TM\.|KT\.|TL\.|THỦ TRƯỞNG)")
_NAME = re.compile(r"^(?:[A-ZĐÀ-Ỹ][\wÀ-ỹ]*)(?: [A-ZĐÀ-Ỹ][\wÀ-ỹ]*){1,4}$")


def refuse_if_secret(lines: list[str]) -> None:
    """Classified plans must not go through chat: refuse a document marked Mật near its header."""
    for line in lines[:40]:
        m = _SECRET.match(line.replace("*", "").strip())
        if m:
            raise ImportRefused(f"Văn bản có dấu \"{m.group(1).upper()}\": không được nhập tài liệu mật "
                                "vào hệ thống nhắc việc qua trò chuyện.")


def _kind_index(paras: list[Para]) -> int | None:
    for i, p in enumerate(paras[:40]):
        if fold(p.text) in KINDS and p.text.upper() == p.text:
            return i
    return None


_SHORT_NAME_WORDS = 10


def _proper(upper: str, finder: NameFinder) -> str:
    """"ỦY BAN NHÂN DÂN TỈNH NINH THUẬN" -> "Ủy ban nhân dân tỉnh Ninh Thuận"."""
    text = upper.strip()
    known = finder.canonical(text)
    lower = text.lower()
    m = re.search(r"\b(tỉnh|thành phố|thành ủy|huyện ủy|tỉnh ủy|huyện|quận|thị xã)\s+(?!ủy|uỷ|đoàn)(.+)$", lower)
    place = " ".join(w.capitalize() for w in m.group(2).split()) if m else ""
    if known:
        name = known[0]
        return f"{name} {place}".strip() if place and not name.endswith(place) else name
    out = lower[:1].upper() + lower[1:]
    # "BỘ KHOA HỌC VÀ CÔNG NGHỆ" -> "Bộ Khoa học và Công nghệ": each part of the name after the head word.
    if not re.match(r"^(?:ủy|uỷ) ban nhân dân\b", out, re.IGNORECASE):  # not "Ủy ban Nhân dân"
        out = re.sub(r"^((?:bộ|sở|cục|tổng cục|ban|ủy ban|uỷ ban|vụ|viện|đài|báo)\s+)(\w)",
                     lambda x: x.group(1).capitalize() + x.group(2).upper(), out, flags=re.IGNORECASE)
    if len(out.split()) <= _SHORT_NAME_WORDS:
        # "Sở Văn hóa, Thể thao và Du lịch"; a steering committee's long name keeps its words as they are.
        out = re.sub(r"(\s(?:và|-)\s|,\s)(\w)", lambda x: x.group(1) + x.group(2).upper(), out)
    if m:
        out = out[: m.start(2)] + place
    # "THỦ TƯỚNG CHÍNH PHỦ" -> "Thủ tướng Chính phủ": names that keep their capital inside another name.
    return _PROPER_WORDS.sub(lambda x: _PROPER[x.group(0)], out)


_PROPER = {"chính phủ": "Chính phủ", "quốc hội": "Quốc hội", "việt nam": "Việt Nam"}
_PROPER_WORDS = re.compile(r"(?<=\s)(?:" + "|".join(_PROPER) + r")\b")


# The right column's motto lines: where a PDF joined the two columns with a single space, they part them.
_MOTTO = re.compile(r"\s+(?=CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM|CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM"
                    r"|ĐẢNG CỘNG SẢN VIỆT NAM|Độc lập - Tự do - Hạnh phúc)")


_MOTTO_WORDS = re.compile(r"CỘNG H|ĐẢNG CỘNG SẢN|Độc lập - ")


def _columns(p: Para) -> list[str]:
    """A header line copied from a PDF holds both columns side by side ("BỘ X      CỘNG HÒA ..."):
    a run of spaces or a tab parts them, and each is read as a line of its own."""
    if "  " not in p.raw and "\t" not in p.raw and not _MOTTO_WORDS.search(p.raw):
        return [p.text]  # most lines: one column (checked cheaply, every paragraph passes here)
    raw = re.sub(r"(?i)\b(ngày)[\s._…]{2,}(tháng|/)", r"\1 \2", p.raw.strip())  # a blank day is no column gap
    cols = [clean_markup(c) for part in re.split(r"\s{4,}|\t", raw) for c in _MOTTO.split(part)]
    return [c for c in cols if c] if len(cols) > 1 else [clean_markup(raw) if raw != p.raw.strip() else p.text]


def _number_line(t: str) -> str:
    """"Số: 1 2 3 /QĐ-UBND" -> "Số: 123/QĐ-UBND"."""
    m = re.match(r"^\s*(?:Số|SỐ|So|số)\s*[:.]?\s*", t)
    if m is None:
        return t
    rest = t[m.end():]
    return t[:m.end()] + _SLASH_SPACES.sub("/", _SPACED_DIGITS.sub("", rest.split("  ")[0].strip()))


# Lines that cite other documents, with their dates: never the plan's own date.
_CITES = re.compile(r"^(?:can cu|theo de nghi|xet de nghi|thuc hien|theo|xet)\b")


def _joined_number(lines: Iterable[str]) -> Iterator[str]:
    """"Số:" on a line of its own, the number on the next (a header table cell broken in two)."""
    held = ""
    for t in lines:
        if held:
            t, held = f"{held} {t}", ""
        elif re.fullmatch(r"(?:Số|SỐ|So|số)\s*[:.]?", t.strip()):
            held = t.strip()
            continue
        yield t
    if held:
        yield held


# A header names the body above the issuer first ("BAN CHẤP HÀNH TRUNG ƯƠNG" / "ĐẢNG ĐOÀN QUỐC HỘI",
# "UBND TỈNH X" / "SỞ Y TẾ"): a later line that opens with one of these heads is the issuer itself.
_OWN_BODY = re.compile(r"^(?:dang doan|ban can su dang|ban thuong vu|ban chi dao|ban|so|cuc|chi cuc|tong cuc|vu|"
                       r"van phong|dang uy|thanh tra|trung tam)\s")


def _below_superior(lines: list[str]) -> list[str]:
    for i in range(len(lines) - 1, 0, -1):
        if _OWN_BODY.match(fold(lines[i])):
            return lines[i:]
    return lines


def read_metadata(paras: list[Para], finder: NameFinder) -> ParsedPlan:
    plan = ParsedPlan()
    k = _kind_index(paras)
    header = paras[:k] if k is not None else paras[:12]
    if k is not None:
        plan.kind = KINDS[fold(paras[k].text)]
    issuer_lines: list[str] = []
    place = ""
    for t in _joined_number(col for p in header for col in _columns(p)):
        if (m := _NUMBER.match(_number_line(t))) or (m := _PARTY_NUMBER.match(t)):
            plan.number = plan.number or m.group("n").rstrip(".")  # the first one is the plan's own
            # "Số: 88 /KH-UBND Kon Tum, ngày 12 tháng 02 năm 2025": the date may share the line.
            t = t[m.end():].strip() if _DATE.search(fold(t[m.end():], expand=False)) else ""
            if not t:
                continue
        ft = fold(t, expand=False)
        dm = _DATE.search(ft)
        if dm and _CITES.match(ft):
            continue  # "Căn cứ Luật ... ngày 19 tháng 6 năm 2015": another document's date
        if dm:
            with contextlib.suppress(ValueError):
                # The first date line is the document's own ("Hà Nội, ngày 09 tháng 01 năm 2025").
                plan.issued_on = plan.issued_on or date(int(dm.group(3)), int(dm.group(2)), int(dm.group(1)))
            place = t.split(",")[0].strip() if "," in t else ""
            continue
        if (bm := _BLANK_DAY.search(ft)) is not None:
            with contextlib.suppress(ValueError):
                # The day is unknown: no issue date, but the month tells the year of dates written without one.
                plan.date_hint = date(int(bm.group(3)), int(bm.group(1) or bm.group(2)), 1)
            place = t.split(",")[0].strip() if "," in t else ""
            continue
        if t.upper() == t and any(c.isalpha() for c in t) and not _NOT_ISSUER.match(fold(t)):
            issuer_lines.append(t)
    rest = paras[k + 1:] if k is not None else []
    title = rest[0].text if rest else ""
    words = title.split()
    if words and fold(words[0]) == "cua" and words[0].isupper():
        # "KẾ HOẠCH / CỦA BAN THƯỜNG VỤ TỈNH ỦY / thực hiện ...": the issuer stands in the title's place.
        n = 1
        while n < len(words) and words[n].isupper():
            n += 1
        issuer_lines = [" ".join(words[1:n])]
        title = " ".join(words[n:])
        if not title and len(rest) > 1:
            rest = rest[1:]
            title = rest[0].text
    if rest:
        if len(title.split()) <= 3 and len(rest) > 1:
            title += " " + rest[1].text
        plan.title = title.strip()
    if issuer_lines:
        plan.issuer = _proper(" ".join(_below_superior(issuer_lines)), finder)
    else:
        plan.issuer = _issuer_from_preamble(rest[1:6], finder) or _issuer_from_signature(paras, finder)
    if plan.issuer and place and re.search(r"(tỉnh|Tỉnh ủy)$", plan.issuer):
        plan.issuer = f"{plan.issuer} {place}"
    plan.signer = _signer(paras)
    return plan


_ON_BEHALF = re.compile(r"^(?:T/M|TM\.?)\s+(?P<b>[A-ZĐÀ-Ỹ][^a-zà-ỹ]{3,60})$")


def _issuer_from_signature(paras: list[Para], finder: NameFinder) -> str | None:
    """"TM. ỦY BAN NHÂN DÂN", "T/M BAN THƯỜNG VỤ": the body that signs, when the header names none."""
    for p in reversed(paras):
        for col in _columns(p):
            m = _ON_BEHALF.match(col.strip())
            if m:
                return _proper(m.group("b"), finder)
    return None


def _issuer_from_preamble(paras: list[Para], finder: NameFinder) -> str | None:
    for p in paras:
        m = re.search(r"(?:^|[,;]\s*)([^,;]+?)\s+ban hành\s+(?:kế hoạch|quyết định|chỉ thị|chương trình)", p.text,
                      re.IGNORECASE)
        if m:
            ms = finder.mentions(m.group(1))
            if ms:
                return ms[-1].name
    return None


def _signer(paras: list[Para]) -> str | None:
    """The name under the last signature title ("KT. CHỦ TỊCH / PHÓ CHỦ TỊCH / Trần Văn A"). From a PDF
    the signature block stands beside "Nơi nhận" in a column of its own: its last column is read."""
    start = None
    for i, p in enumerate(paras):
        t = _columns(p)[-1]
        if t.upper() == t and _SIGN_TITLE.search(t) and len(t) < 80:
            start = i
    if start is None:
        return None
    for p in paras[start + 1:start + 6]:
        t = _columns(p)[-1].strip()
        if _NAME.match(t) and t.upper() != t:
            return t
    return None
