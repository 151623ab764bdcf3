"""A plan's header and closing: number, kind, issuer, date, title, signer, and the secrecy mark."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from datetime import date

from knowledge.importer.model import ImportRefused, ParsedPlan
from knowledge.importer.names import NameFinder
from knowledge.importer.outline import Para, ends_body
from knowledge.text import clean_markup, fold

KINDS = {"ke hoach": "Kế hoạch", "quyet dinh": "Quyết định", "chi thi": "Chỉ thị", "cong van": "Công văn",
         "thong bao": "Thông báo", "chuong trinh": "Chương trình", "chuong trinh hanh dong": "Chương trình hành động",
         "huong dan": "Hướng dẫn", "ke hoach hanh dong": "Kế hoạch hành động", "ke hoach trien khai": "Kế hoạch",
         "nghi quyet": "Nghị quyết", "cong dien": "Công điện"}
# "Số: 12/KH-UBND"; a National Assembly's header writes "Nghị quyết số: 57/2022/QH15".
_NUMBER_HEAD = r"^\s*(?:(?:Nghị quyết|NGHỊ QUYẾT|Luật|LUẬT|Pháp lệnh|PHÁP LỆNH)\s+)?(?:Số|SỐ|So|số)\s*[:.]?\s*"
_NUMBER = re.compile(_NUMBER_HEAD + r"(?P<n>\d+[\w.\-]*/[\wĐđ.\-/]+|\d+-[\wĐđ]+/[\wĐđ\-]+)")
_PARTY_NUMBER = re.compile(r"^(?P<n>\d+-[A-ZĐ]+/[A-ZĐ]+)$")
_DATE = re.compile(r"ngay\s+(\d{1,2})\s+thang\s+(\d{1,2})\s+nam\s+(\d{4})")
# "ngày    tháng 3 năm 2025", "ngày   /3/2025": signed with the day left blank (filled in by hand).
_BLANK_DAY = re.compile(r"ngay\s*(?:[._…]*\s*)?(?:thang\s+(\d{1,2})\s+nam|/\s*(\d{1,2})\s*/)\s*(\d{4})")
# "Số: 1 2 3 /QĐ-UBND": a PDF text layer spaces out the characters of the number.
_SPACED_DIGITS = re.compile(r"(?<=\d)\s+(?=\d)")
_SLASH_SPACES = re.compile(r"\s*/\s*")
_NOT_ISSUER = re.compile(r"^(cong hoa|doc lap|dang cong san|ngay |mat$|toi mat|tuyet mat|khan|hoa toc)")
# "SỐ: ..." is a number line; "SỞ Y TẾ" (folded alike) is an issuer.
_NUMBER_WORD = re.compile(r"^(?:SỐ|Số|So|SO)\b")
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


# How many header lines to look through for the kind line: a page's metadata table (thuvienphapluat.vn)
# may stand before the document's own header, one cell per line.
_KIND_SPAN = 80
# A line this long is body text: no kind line comes after it.
_BODY_LINE = 250
# A letter (công văn) has no kind line: its header ends at "V/v ..." or "Kính gửi: ...".
_LETTER = re.compile(r"^(?:v v|ve viec|kinh gui)\b")


def _kind_index(paras: list[Para]) -> int | None:
    for i, p in enumerate(paras[:_KIND_SPAN]):
        if fold(p.text) in KINDS and p.text.upper() == p.text:
            return i
        if len(p.text) > _BODY_LINE or _LETTER.match(fold(p.text)) or ends_body(p.text):
            return None
    return None


def _letter_header(paras: list[Para]) -> tuple[list[Para], str | None]:
    """A letter's header (the lines above "V/v" / "Kính gửi" / the signature) and its subject as title
    ("" for a letter without one, None when nothing shows a letter)."""
    for i, p in enumerate(paras[:_KIND_SPAN]):
        ft = fold(p.text)
        if not (_LETTER.match(ft) or ends_body(p.text)):
            continue
        if not ft.startswith(("v v", "ve viec")):
            return paras[:i], "" if _LETTER.match(ft) else None
        # "V/v triển khai ...      Hà Nội, ngày ...": the subject's column; the other columns stay header.
        cols = _columns(p)
        subject = re.sub(r"^\s*(?:V/v|V\.v|Về việc)\s*:?\s*", "", cols[0], flags=re.IGNORECASE).strip()
        for j, col in enumerate(cols[1:], start=1):
            if (m := _AFTER_DATE.search(col)) is not None:  # the subject's next line, joined after the date
                subject, cols[j] = f"{subject} {m.group(1)}", col[:m.start(1)].strip()
        header = paras[:i] + [Para(c, c) for c in cols[1:]]
        for q in paras[i + 1:i + 1 + _SUBJECT_LINES]:  # a subject wrapped over lines, up to "Kính gửi"
            if _LETTER.match(fold(q.text)) or q.text.isupper() or len(q.text) > _BODY_LINE // 2:
                break
            subject = f"{subject} {_columns(q)[0]}".strip()
        return header, subject[:1].upper() + subject[1:]
    return paras[:12], None


_SUBJECT_LINES = 2
_AFTER_DATE = re.compile(r"ngày\s.*?năm\s+\d{4}\s+(\w.*)$", re.IGNORECASE)


_SHORT_NAME_WORDS = 10


def _proper(upper: str, finder: NameFinder) -> str:
    """"ỦY BAN NHÂN DÂN TỈNH NINH THUẬN" -> "Ủy ban nhân dân tỉnh Ninh Thuận"."""
    text = upper.strip()
    known = finder.canonical(text)
    lower = text.lower()
    m = re.search(r"\b(tỉnh|thành phố|thành ủy|huyện ủy|tỉnh ủy|huyện|quận|thị xã|xã|phường|thị trấn|đặc khu)\s+"
                  r"(?!ủy|uỷ|đoàn|hội\b)(.+)$", lower)
    place = " ".join(w.capitalize() for w in m.group(2).split()) if m else ""
    if known:
        name = known[0]
        return f"{name} {place}".strip() if place and not name.endswith(place) else name
    out = lower[:1].upper() + lower[1:]
    # "BỘ KHOA HỌC VÀ CÔNG NGHỆ" -> "Bộ Khoa học và Công nghệ": each part of the name after the head word.
    if not re.match(r"^(?:ủy|uỷ) ban nhân dân\b", out, re.IGNORECASE):  # not "Ủy ban Nhân dân"
        out = re.sub(r"^((?:bộ|sở|cục|tổng cục|ban|ủy ban|uỷ ban|vụ|viện|đài|báo)\s+)(\w)",
                     lambda x: x.group(1).capitalize() + x.group(2).upper(), out, flags=re.IGNORECASE)
    if len(out.split()) <= _SHORT_NAME_WORDS and not re.match(r"(?i)ban chỉ đạo\b", out):
        # "Sở Văn hóa, Thể thao và Du lịch"; a steering committee's long name keeps its words as they are.
        out = re.sub(r"(\s(?:và|-)\s|,\s)(\w)", lambda x: x.group(1) + x.group(2).upper(), out)
    if m:
        out = out[: m.start(2)] + place
    # "THỦ TƯỚNG CHÍNH PHỦ" -> "Thủ tướng Chính phủ": names that keep their capital inside another name.
    return _capitalised(out)


# The right column's motto lines: where a PDF joined the two columns with a single space, they part them.
_MOTTO = re.compile(r"\s+(?=CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM|CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM"
                    r"|ĐẢNG CỘNG SẢN VIỆT NAM|Độc lập - Tự do - Hạnh phúc)")


_MOTTO_WORDS = re.compile(r"CỘNG H|ĐẢNG CỘNG SẢN|Độc lập - ")


_SPACED_NUMBER = re.compile(r"((?:Số|SỐ)\s*:?)\s+(\d[\d\s]*?)\s*/(?=\S)")
# Inside one header cell: rules ("-------") and a number after the issuer ("... TỈNH X Số: 12/KH-UBND").
_CELL_PARTS = re.compile(r"\s*[-_–—=]{3,}\s*|\s+(?=(?:Số|SỐ)\s*:?\s*\d)|\s+(?=(?:Loại văn bản|Nơi ban hành|Người ký|"
                         r"Ngày ban hành|Ngày hiệu lực|Ngày công báo|Số công báo|Tình trạng|Lĩnh vực)\s*:)")


def _pieces(col: str) -> list[str]:
    """The lines one header cell holds when a table or a crawl ran them together."""
    return [c for c in _CELL_PARTS.split(col) if c.strip()] if len(col) > 12 else [col]


def _columns(p: Para) -> list[str]:
    """A header line copied from a PDF holds both columns side by side ("BỘ X      CỘNG HÒA ..."):
    a run of spaces or a tab parts them, and each is read as a line of its own."""
    if "  " not in p.raw and "\t" not in p.raw and not _MOTTO_WORDS.search(p.raw):
        return [p.text]  # most lines: one column (checked cheaply, every paragraph passes here)
    raw = re.sub(r"(?i)\b(ngày)[\s._…]{2,}(tháng|/)", r"\1 \2", p.raw.strip())  # a blank day is no column gap
    # "Số:     1 7 3    /KH-UBND": the gaps of a spaced-out number are no column gaps either.
    raw = _SPACED_NUMBER.sub(lambda m: m.group(1) + " " + "".join(m.group(2).split()) + "/", raw)
    cols = [clean_markup(c) for part in re.split(r"\s{4,}|\t", raw) for c in _MOTTO.split(part)]
    return [c for c in cols if c] if len(cols) > 1 else [clean_markup(raw) if raw != p.raw.strip() else p.text]


def _number_line(t: str) -> str:
    """"Số: 1 2 3 /QĐ-UBND" -> "Số: 123/QĐ-UBND"."""
    m = re.match(_NUMBER_HEAD, t)
    if m is None:
        return t
    rest = t[m.end():]
    number = _SLASH_SPACES.sub("/", _SPACED_DIGITS.sub("", rest.split("  ")[0].strip()))
    return t[:m.end()] + _CODE_HYPHEN.sub("-", number)


# "173/KH - UBND": the hyphen of a number's code, spaced out in a PDF text layer.
_CODE_HYPHEN = re.compile(r"(?<=[A-ZĐ0-9])\s*-\s*(?=[A-ZĐ]{2})")


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


# "ĐẢNG BỘ TỈNH NGHỆ AN" / "TỈNH ỦY": the committee of the Party organisation named above it.
_BARE_COMMITTEE = re.compile(r"^(?:tinh|thanh|huyen|quan|dang) uy$")
_PARTY_ORG = re.compile(r"^ĐẢNG BỘ\s+(?:TỈNH|THÀNH PHỐ|HUYỆN|QUẬN|XÃ|PHƯỜNG)?\s*(?P<p>.+)$")
# Abbreviated heads of a header line: "UBND HUYỆN NAM ĐÀN".
_HEAD_ABBREV = (("UBND", "ỦY BAN NHÂN DÂN"), ("HĐND", "HỘI ĐỒNG NHÂN DÂN"))


def _below_superior(lines: list[str]) -> list[str]:
    lines = [next((full + line[len(short):] for short, full in _HEAD_ABBREV if line.startswith(short + " ")), line)
             for line in lines]
    for i in range(len(lines) - 1, 0, -1):
        if _BARE_COMMITTEE.match(fold(lines[i])) and (m := _PARTY_ORG.match(lines[i - 1].strip())):
            return [f"{lines[i]} {m.group('p')}"]
        if _OWN_BODY.match(fold(lines[i])):
            return lines[i:]
    return lines


# thuvienphapluat.vn pages open with a table of the document's attributes, either label / value pairs
# ("| Số hiệu: | 412/KH-UBND | Loại văn bản: | Kế hoạch |") or a row of labels over a row of values.
_PAGE_LABELS = {"so hieu": "number", "so ky hieu": "number", "so van ban": "number", "ky hieu": "number",
                "loai van ban": "kind", "hinh thuc van ban": "kind", "noi ban hanh": "issuer",
                "co quan ban hanh": "issuer", "co quan ban hanh chuc danh nguoi ky": "", "trich yeu": "",
                "ngay ky": "date", "hieu luc": "", "nguon": "", "nguon thu thap": "",
                "nguoi ky": "signer", "ngay ban hanh": "date", "ngay hieu luc": "", "ngay cong bao": "",
                "so cong bao": "", "tinh trang": "", "tinh trang hieu luc": "", "linh vuc": "", "ngay het hieu luc": "",
                "ngay dang": "", "nam ban hanh": ""}
_PAGE_LABEL = re.compile(r"^(?P<l>" + "|".join(sorted(_PAGE_LABELS, key=len, reverse=True)) + r")\s*:?\s*(?P<v>.*)$")
_UNKNOWN_VALUE = re.compile(r"^(?:dang cap nhat|da biet|khong co|chua co|con hieu luc|het hieu luc|\W*)$")
_SLASH_DATE = re.compile(r"^(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})$")


def _fits(field: str, value: str) -> bool:
    """Whether a cell can be the value of a label: a header line after a ragged table is not."""
    fv = fold(value)
    if _UNKNOWN_VALUE.match(fv):
        return True
    if field == "number":
        return bool(re.search(r"\d", value)) and not _DATE.search(fv)
    if field == "date":
        return bool(_SLASH_DATE.match(value.strip()))
    return value.upper() != value or not any(c.isalpha() for c in value)


def page_table(lines: list[str]) -> tuple[dict[str, str], set[int]]:
    """The attributes a page's metadata table gives ({"number": ..., "issuer": ..., ...}) and the indexes of
    the lines it took. Labels wait in order for their values, so label/value rows and a row of labels over a
    row of values both pair up, read row by row or column by column; a table needs two labels to count."""
    fields: dict[str, str] = {}
    used: set[int] = set()
    pending: list[tuple[str, int]] = []
    labels = 0
    for i, line in enumerate(lines):
        text = line.strip().strip("|").strip()
        m = _PAGE_LABEL.match(fold(text, expand=False)) if text else None
        if m is not None:
            labels += 1
            key = _PAGE_LABELS[m.group("l")]
            value = text[len(text) - len(m.group("v")):].strip() if m.group("v") else ""
            if value:
                if key:
                    fields.setdefault(key, value)
                used.add(i)
            else:
                pending.append((key, i))
            continue
        if not text:
            continue
        if not pending:
            if labels:
                break  # the table has ended
            continue
        key, at = pending[0]
        if not _fits(key, text):
            break
        pending.pop(0)
        used.update((at, i))
        if key and not _UNKNOWN_VALUE.match(fold(text)):
            fields.setdefault(key, text)
    if labels < 2:
        return {}, set()
    used.update(at for _, at in pending)
    return fields, used


# "Tỉnh Hòa Bình" as the place that issued a "/KH-UBND": the body is the People's Committee of that place.
_PLACE_ONLY = re.compile(r"^(tinh|thanh pho|tp\.?)\s")
_PLACE_BODY = (("HĐND", "Hội đồng nhân dân"), ("TU", "ủy"), ("UBND", "Ủy ban nhân dân"))


def _page_issuer(value: str, number: str | None, finder: NameFinder) -> str:
    """The issuer a page names, as a body: a bare place becomes the body its number's code names."""
    value = clean_markup(value)
    value = next((full.capitalize() + value[len(short):] for short, full in _HEAD_ABBREV
                  if value.upper().startswith(short + " ")), value)
    fv = fold(value)
    if _PLACE_ONLY.match(fv):
        place = re.sub(r"^(?:Tỉnh|Thành phố|TP\.?)\s+", "", value, flags=re.IGNORECASE)
        unit = "tỉnh" if fv.startswith("tinh") else "thành phố"
        code = (number or "").rsplit("/", 1)[-1].upper()
        if code in ("TU", "TƯ") or code.endswith("/TU"):
            return f"{'Tỉnh' if unit == 'tỉnh' else 'Thành'} ủy {place}"
        if "HĐND" in code:
            return f"Hội đồng nhân dân {unit} {place}"
        return f"Ủy ban nhân dân {unit} {place}"
    known = finder.canonical(value)
    return _capitalised(known[0] if known and fold(known[0]) == fv else value)


# Names of national bodies written in capitals in a header keep their capitals in a name.
_PROPER_WORDS = (("chính phủ", "Chính phủ"), ("quốc hội", "Quốc hội"), ("công thương", "Công Thương"),
                 ("trung ương", "Trung ương"), ("thường vụ", "Thường vụ"), ("mặt trận tổ quốc", "Mặt trận Tổ quốc"),
                 ("bộ chính trị", "Bộ Chính trị"), ("ban bí thư", "Ban Bí thư"), ("việt nam", "Việt Nam"))


def _capitalised(name: str) -> str:
    """"Thủ tướng chính phủ" -> "Thủ tướng Chính phủ", "Bộ Công thương" -> "Bộ Công Thương"."""
    for low, proper in _PROPER_WORDS:
        name = re.sub(rf"(?<!\w){low}(?!\w)", proper, name, flags=re.IGNORECASE)
    return name


# "(Ban hành kèm theo Nghị quyết số 1339/NQ-UBTVQH15 ngày 14 tháng 10 năm 2025 của Ủy ban Thường vụ
# Quốc hội)": a plan issued by another document carries that document's number, date and issuer.
_ISSUED_WITH = re.compile(r"kèm theo\s+(?:Quyết định|Nghị quyết|Chỉ thị|Thông báo|Kết luận|Công văn|Văn bản)\s+"
                          r"số\s*:?\s*(?P<n>[^\s,;()]*)\s*(?P<rest>.*)", re.IGNORECASE)
_OF = re.compile(r"\bcủa\s+(?P<b>.+?)\s*\)?\s*$", re.IGNORECASE)
_NUMBER_TOKEN = re.compile(r"^\d[\w.\-]*/[\wĐđ.\-/]+$|^\d+-[\wĐđ]+/[\wĐđ\-]+$")


# The plan's own line stands alone under its title: "(Ban hành kèm theo ...)", "Kèm theo ...".
_OWN_ISSUE_LINE = re.compile(r"^\W*(?:ban hanh )?kem theo\b")


def _issued_with(paras: list[Para], plan: ParsedPlan, finder: NameFinder) -> None:
    """Fill what the plan's header lacks from its "(Ban hành kèm theo ... số ... ngày ... của ...)" line."""
    for p in paras:
        m = _ISSUED_WITH.search(p.text)
        if m is None or not _OWN_ISSUE_LINE.match(fold(p.text)):
            continue  # "Thực hiện Kế hoạch ban hành kèm theo Quyết định số ...": another document
        number = _SLASH_SPACES.sub("/", m.group("n")).rstrip(".")
        if plan.number is None and _NUMBER_TOKEN.match(number):
            plan.number = number
        rest = fold(m.group("rest"), expand=False)
        if plan.issued_on is None and plan.date_hint is None:
            dm = _DATE.search(rest) or _DMY.search(rest)
            if dm:
                with contextlib.suppress(ValueError):
                    plan.issued_on = date(int(dm.group(3)), int(dm.group(2)), int(dm.group(1)))
        if plan.issuer is None and (bm := _OF.search(m.group("rest"))):
            body = re.sub(r"^(?:Bộ trưởng|Thủ trưởng)\s+(?=Bộ\b|Cơ quan\b)", "", bm.group("b").strip(" .)"))
            known = finder.canonical(body)
            plan.issuer = _capitalised(known[0] if known and fold(known[0]) == fold(body) else body)
        return


# "ngày 14/10/2025", folded: "ngay 14 10 2025".
_DMY = re.compile(r"ngay\s+(\d{1,2})\s*[/.\- ]\s*(\d{1,2})\s*[/.\- ]\s*(\d{4})\b")


def read_metadata(paras: list[Para], finder: NameFinder) -> ParsedPlan:
    plan = ParsedPlan()
    k = _kind_index(paras)
    subject: str | None = None
    if k is not None:
        header = paras[:k]
        plan.kind = KINDS[fold(paras[k].text)]
    else:
        header, subject = _letter_header(paras)
    lines = [piece for p in header for col in _columns(p) for piece in _pieces(clean_markup(col))]
    page, taken = page_table(lines)
    issuer_lines: list[str] = []
    place = ""
    for t in _joined_number(line for i, line in enumerate(lines) if i not in taken):
        if (m := _NUMBER.match(_number_line(t))) or (m := _PARTY_NUMBER.match(t)):
            plan.number = plan.number or m.group("n").rstrip(".")  # the first one is the plan's own
            # "Số: 88 /KH-UBND Kon Tum, ngày 12 tháng 02 năm 2025": the date may share the line.
            t = t[m.end():].strip() if _DATE.search(fold(t[m.end():], expand=False)) else ""
            if not t:
                continue
        ft = fold(t, expand=False)
        dmy = _DMY.search(ft)  # "Hà Nội, ngày 09/01/2025" (folded "ngay 09 01 2025")
        if "ngay" in ft:
            ft = _SPACED_DIGITS.sub("", ft)  # "ngày 1 2 tháng 9 năm 2025" from a PDF text layer
        dm = _DATE.search(ft) or dmy
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
        if _is_issuer_line(t):
            issuer_lines.append(t)
    rest = paras[k + 1:] if k is not None else []
    title = rest[0].text if rest else subject or ""
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
    if len(rest) > 1 and len(title.split()) <= 3 and not _ISSUED_WITH.search(rest[1].text):
        title += " " + rest[1].text
    plan.title = title.strip()
    if issuer_lines:
        plan.issuer = _capitalised(_proper(" ".join(_below_superior(issuer_lines)), finder))
    if plan.kind == "Quyết định" and (chairman := _chairman(rest[1:8], finder)) is not None:
        plan.issuer = chairman
    _fill_from_page(plan, page, finder, kind_line=k is not None)
    _issued_with(rest[:8], plan, finder)
    if plan.issuer is None:
        plan.issuer = _issuer_from_preamble(rest[1:6], finder) or _issuer_from_signature(paras, finder)
    if plan.issuer and place and re.search(r"(tỉnh|Tỉnh ủy)$", plan.issuer):
        plan.issuer = f"{plan.issuer} {place}"
    plan.signer = _signer(paras) or (clean_markup(page["signer"]) if page.get("signer") else None)
    if k is None and (subject is not None or _is_letter_number(plan.number)):
        plan.kind = "Công văn"
    return plan


def _is_issuer_line(t: str) -> bool:
    """An issuer line is in capitals and is no number ("/KH-SNNMT" of a number left blank), motto or mark."""
    if t.upper() != t or not any(c.isalpha() for c in t) or _NOT_ISSUER.match(fold(t)) or _NUMBER_WORD.match(t):
        return False
    return "/" not in t


# A letter's number carries no kind code: "6225/BVHTTDL-VP", "1234/UBND-KT" (not "/KH-", "/QĐ-", "-KH/").
_KIND_CODES = {"KH", "QĐ", "NQ", "CT", "CTR", "TB", "BC", "HD", "KL", "TTR", "QC", "QĐI", "TT", "NĐ", "ĐA", "PA"}
_NUMBER_CODE_LETTER = re.compile(r"^\d+/(?P<c>[A-ZĐa-z]+)-[A-ZĐ0-9-]+$")


def _is_letter_number(number: str | None) -> bool:
    m = _NUMBER_CODE_LETTER.match(number or "")
    return m is not None and m.group("c").upper() not in _KIND_CODES
# "CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI" under a decision's title: the Chairman decides, not the
# Committee (a different body for the scorer and for the law). A minister's decision stays the ministry's.
_CHAIRMAN = re.compile(r"^chu tich (?:uy ban nhan dan|ubnd)\b")


def _chairman(paras: list[Para], finder: NameFinder) -> str | None:
    for p in paras:
        t = clean_markup(p.text)
        if _CITES.match(fold(t)):
            return None
        if t.isupper() and _CHAIRMAN.match(fold(t)):
            return "Chủ tịch " + _proper(t.split(None, 2)[2], finder)
    return None


def _fill_from_page(plan: ParsedPlan, page: dict[str, str], finder: NameFinder, kind_line: bool) -> None:
    """What the document's own header left out, taken from the page's metadata table."""
    if not page:
        return
    number = _CODE_HYPHEN.sub("-", _SLASH_SPACES.sub("/", _SPACED_DIGITS.sub("", clean_markup(page.get("number", "")))))
    if plan.number is None and _NUMBER_TOKEN.match(number):
        plan.number = number
    if plan.issued_on is None and (dm := _SLASH_DATE.match(page.get("date", "").strip())):
        with contextlib.suppress(ValueError):
            plan.issued_on = date(int(dm.group(3)), int(dm.group(2)), int(dm.group(1)))
    if plan.issuer is None and page.get("issuer"):
        plan.issuer = _page_issuer(page["issuer"], plan.number, finder)
    kind = KINDS.get(fold(page.get("kind", "")))
    if kind and not kind_line:
        plan.kind = kind


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
