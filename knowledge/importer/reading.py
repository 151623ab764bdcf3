"""Reading a plan file into blocks of text (paragraphs and tables), whatever its format.

Formats: .txt/.md (UTF-8 with or without BOM, UTF-16 by BOM, legacy Vietnamese code pages detected),
.docx (paragraphs and tables in document order), .pdf with a text layer. Anything else, or a file
that is empty, binary, corrupt, too large or scanned, is refused with a Vietnamese reason.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.importer.model import ImportRefused
from knowledge.importer.pdf_tables import pdf_pages_text
from knowledge.text import fold, nfc

TEXT_SUFFIXES = (".txt", ".md", ".text", "")
# A .docx is a zip: a small file can expand to gigabytes of XML (a "zip bomb"). A real plan, images
# included, stays far below these; beyond them the file is refused before any XML is parsed.
MAX_DOCX_UNCOMPRESSED = 100 * 1024 * 1024
MAX_DOCX_ENTRIES = 2000
# Common Vietnamese words (folded): a decoding that yields few of them is the wrong code page.
_COMMON = {"va", "cac", "cua", "thuc", "hien", "nhiem", "vu", "tinh", "ke", "hoach", "trong", "phat", "trien",
           "co", "quan", "don", "vi", "so", "ban", "nam", "ngay", "thang", "de", "to", "chuc", "theo", "voi"}


@dataclass
class Table:
    rows: list[list[str]] = field(default_factory=list)


Block = str | Table


def _refuse_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise ImportRefused(f"Tệp quá lớn ({size / 1_048_576:.1f} MB); giới hạn là {max_bytes // 1_048_576} MB.")


def read_path(path: Path, max_bytes: int) -> tuple[bytes, str]:
    """The bytes of a file, refusing one over the limit before reading it."""
    try:
        size = path.stat().st_size
    except OSError as e:
        raise ImportRefused(f"Không mở được tệp {path.name}.") from e
    _refuse_size(size, max_bytes)
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as e:  # a folder, no permission, gone meanwhile
        raise ImportRefused(f"Không mở được tệp {path.name}.") from e
    _refuse_size(len(data), max_bytes)
    return data, path.name


def read_blocks(data: bytes, name: str, max_bytes: int) -> list[Block]:
    """Blocks of a document: paragraphs (str, NFC) and tables, in order."""
    _refuse_size(len(data), max_bytes)
    if not data.strip():
        raise ImportRefused("Tệp rỗng, không có nội dung để nhập.")
    suffix = Path(name).suffix.lower()
    if suffix == ".docx" or (data[:2] == b"PK" and suffix not in (".pdf",)):
        return _docx_blocks(data)
    if suffix == ".pdf" or data[:5] == b"%PDF-":
        return text_blocks(_pdf_text(data))
    if suffix in (".doc", ".xls", ".xlsx", ".odt", ".rtf", ".png", ".jpg", ".jpeg", ".zip"):
        raise ImportRefused(f"Chưa hỗ trợ định dạng {suffix}; hãy gửi tệp .docx, .pdf hoặc .txt.")
    return text_blocks(decode_text(data))


# ---- plain text ------------------------------------------------------------------------------

def _looks_binary(data: bytes) -> bool:
    sample = data[:4096]
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls > len(sample) * 0.05


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text saved without a BOM: NUL in every other byte, and it reads as Vietnamese."""
    sample = data[:4096]
    for enc, zeros in (("utf-16-le", sample[1::2]), ("utf-16-be", sample[0::2])):
        if zeros and zeros.count(0) > len(zeros) * 0.3:
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                continue
            if _score(text) >= 0.15:
                return nfc(text)
    return None


def _score(text: str) -> float:
    """Share of the words that are common Vietnamese words (accents folded)."""
    ws = fold(text[:20000], expand=False).split()
    if not ws:
        return 0.0
    return sum(1 for w in ws if w in _COMMON) / len(ws)


def _vietnamese_marks(text: str) -> int:
    return sum(1 for c in text[:20000] if c in "ăâđêôơưĂÂĐÊÔƠƯ" or "\u1ea0" <= c <= "\u1ef9")


def decode_text(data: bytes) -> str:
    """Decode a text file: BOMs first, then UTF-8, then a legacy code page that reads as Vietnamese."""
    if data.startswith(b"\xef\xbb\xbf"):
        return nfc(data[3:].decode("utf-8", errors="replace"))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return nfc(data.decode("utf-16"))
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return utf16
    if _looks_binary(data):
        raise ImportRefused("Tệp không phải văn bản (dữ liệu nhị phân); hãy gửi tệp .docx, .pdf hoặc .txt.")
    try:
        return nfc(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    # Legacy font encodings first: TCVN3 and VNI bytes also decode as Windows-1258 (into mojibake that
    # still carries some Vietnamese marks), so the check must not come after the code-page score.
    legacy = legacy_font_encoding(data)
    if legacy is not None:
        raise ImportRefused(f"Tệp dùng bảng mã cũ {legacy} (phông chữ .Vn/VNI); hãy chuyển sang Unicode (UTF-8), "
                            "ví dụ bằng Unikey, rồi gửi lại.")
    candidates: dict[str, str] = {}
    for enc in ("cp1258", "windows-1258"):
        try:
            candidates["cp1258"] = nfc(data.decode(enc))
            break
        except (UnicodeDecodeError, LookupError):
            continue
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is not None and best.encoding:
            candidates.setdefault(best.encoding, nfc(str(best)))
    except Exception:
        pass
    scored = sorted(((_score(t) + min(_vietnamese_marks(t), 200) / 1000, enc, t) for enc, t in candidates.items()),
                    reverse=True)
    if scored and scored[0][0] >= 0.15:
        return scored[0][2]
    if _legacy_font_encoding(data):
        raise ImportRefused("Tệp dùng bảng mã cũ (TCVN3/VNI); hãy chuyển sang Unicode (UTF-8) rồi gửi lại.")
    raise ImportRefused("Không nhận ra bảng mã của tệp; hãy lưu lại dưới dạng Unicode (UTF-8).")


# Common Vietnamese words with their marks: a decoding that spells many of them is the right one.
_COMMON_MARKED = frozenset([
    "của", "và", "các", "thực", "hiện", "nhiệm", "vụ", "tỉnh", "kế", "hoạch", "phát", "triển", "cơ", "quan", "đơn",
    "vị", "sở", "năm", "ngày", "tháng", "để", "tổ", "chức", "với", "trong", "về", "được", "người", "dân", "những",
    "công", "tác", "chủ", "trì", "phối", "hợp", "hoàn", "thành", "trước", "quý", "ủy", "ban", "nhân", "xây",
    "dựng", "rà", "soát", "báo", "cáo", "khai", "tư", "pháp", "nội", "thời", "gian", "hành", "chính", "số", "việc",
    "theo", "đến", "có", "là", "một", "này", "cấp", "huyện", "xã", "phòng"])
# TCVN3 (ABC, the .VnTime fonts): one byte per lower-case precomposed letter, A1–A7 for the plain capitals.
_TCVN3_LETTERS = "àảãáạăằẳẵắặâầẩẫấậđèẻẽéẹêềểễếệìỉĩíịòỏõóọôồổỗốộơờởỡớợùủũúụưừửữứựỳỷỹýỵĂÂÊÔƠƯĐ"
_TCVN3_BYTES = bytes([
    0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xA8, 0xBB, 0xBC, 0xBD, 0xBE, 0xC6, 0xA9, 0xC7, 0xC8, 0xC9, 0xCA, 0xCB, 0xAE,
    0xCC, 0xCE, 0xCF, 0xD0, 0xD1, 0xAA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xDC, 0xDD, 0xDE, 0xDF, 0xE1,
    0xE2, 0xE3, 0xE4, 0xAB, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xAC, 0xEA, 0xEB, 0xEC, 0xED, 0xEE, 0xEF, 0xF1, 0xF2,
    0xF3, 0xF4, 0xAD, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5,
    0xA6, 0xA7])
_TCVN3_DECODE = {b: c for c, b in zip(_TCVN3_LETTERS, _TCVN3_BYTES, strict=True)}


def _vni_table() -> dict[str, str]:
    """VNI Windows: a base letter followed by Latin-1 bytes for its hat, breve or horn and its tone."""
    import unicodedata

    tone = {"": "", "\u0301": "ù", "\u0300": "ø", "\u0309": "û", "\u0303": "õ", "\u0323": "ï"}
    hat = {"": "â", "\u0301": "á", "\u0300": "à", "\u0309": "å", "\u0303": "ã", "\u0323": "ä"}
    breve = {"": "ê", "\u0301": "é", "\u0300": "è", "\u0309": "ú", "\u0303": "ü", "\u0323": "ë"}
    i_tone = {"\u0301": "í", "\u0300": "ì", "\u0309": "æ", "\u0303": "ó", "\u0323": "ò"}
    out = {"ñ": "đ", "Ñ": "Đ"}
    for base in "aeiouy":
        for t in tone:
            for mod, marks in (("", tone), ("\u0302", hat), ("\u0306", breve), ("\u031b", tone)):
                if (mod == "\u0302" and base not in "aeo") or (mod == "\u0306" and base != "a") \
                        or (mod == "\u031b" and base not in "ou") or (not mod and not t):
                    continue
                ch = unicodedata.normalize("NFC", base + mod + t)
                if len(ch) != 1:
                    continue
                if mod == "\u031b":
                    enc = ("ô" if base == "o" else "ö") + tone[t]
                elif base == "i" and not mod:
                    enc = i_tone[t]
                elif mod:
                    enc = base + marks[t]
                else:
                    enc = base + tone[t]
                out[enc] = ch
                out[enc.upper()] = ch.upper()
    return out


_VNI = _vni_table()
_VNI_RE = re.compile("|".join(re.escape(k) for k in sorted(_VNI, key=len, reverse=True)))


def _marked_score(text: str) -> float:
    words = re.findall(r"[^\W\d_]+", text[:20000].lower())
    return sum(1 for w in words if w in _COMMON_MARKED) / len(words) if words else 0.0


def legacy_font_encoding(data: bytes) -> str | None:
    """"TCVN3" or "VNI" when the bytes spell Vietnamese in that legacy font encoding better than in
    Windows-1258 (the code page a real legacy text file uses); None otherwise."""
    sample = data[:20000]
    latin = sample.decode("latin-1")
    tcvn3 = "".join(_TCVN3_DECODE.get(b, chr(b)) for b in sample)
    vni = _VNI_RE.sub(lambda m: _VNI[m.group(0)], latin)
    cp = sample.decode("cp1258", errors="replace")
    scores = {"TCVN3": _marked_score(tcvn3), "VNI": _marked_score(vni)}
    best = max(scores, key=lambda k: scores[k])
    if scores[best] >= _LEGACY_MIN_SCORE and scores[best] > _marked_score(nfc(cp)) + _LEGACY_MARGIN:
        return best
    return None


_LEGACY_MIN_SCORE = 0.15
_LEGACY_MARGIN = 0.05


def _legacy_font_encoding(data: bytes) -> bool:
    """TCVN3 (ABC) and VNI text: Latin-1 bytes in patterns no real Latin-1 text has."""
    text = data[:20000].decode("latin-1")
    vni = len(re.findall(r"[a-zA-Z][\xf9\xf8\xfb\xf5\xef\xe2\xe1\xe0\xe5\xe3\xe4\xe6\xe7][a-z]?", text))
    high = sum(1 for c in text if ord(c) >= 0xA1)
    return high > len(text) * 0.03 or vni > 20


_PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_PIPE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


# A line of a table written with " | " between cells, with or without pipes at its ends.
_PIPE_CELLS = re.compile(r"\|.*\|")


# A legal-document site's page saved as text (thuvienphapluat.vn): the page opens with the site's notices
# ("Bản dịch này thuộc quyền sở hữu của THƯ VIỆN PHÁP LUẬT ...", "Click vào phần bôi vàng ...") up to its
# "Đang tải văn bản..." line, then its metadata table and the document; after the document come the page's
# title again, "Văn bản này chưa cập nhật nội dung Tiếng Anh", related documents and the site's footer.
_PAGE_LOADING = re.compile(r"^dang tai van ban$")
_PAGE_HEAD_LINES = 60  # the site's notices sit in the first lines of the page
_PAGE_TAIL = re.compile(r"^(?:van ban nay chua cap nhat noi dung tieng anh|van ban lien quan"
                        r"|file duoc dinh kem theo van ban)$")
# The page's own title repeated above its tail: "Kế hoạch 980/KH-UBND năm 2025 thực hiện ...".
_PAGE_TITLE = re.compile(r"^[a-z][a-z ]{1,30} \d+(?: [a-z0-9]+){1,4} (?:nam \d{4}|ngay \d)")


def without_page_chrome(lines: list[str]) -> list[str]:
    """The document's own lines of a saved web page: the site's notices before it and its footer after
    it are not the document's (they were read as its issuer, title and tasks)."""
    start = next((i + 1 for i, ln in enumerate(lines[:_PAGE_HEAD_LINES])
                  if _PAGE_LOADING.match(fold(ln.strip(), expand=False))), 0)
    if not start:
        return lines  # no site notices: a document's own text is not folded line by line here
    folded = [fold(ln.strip(), expand=False) for ln in lines[start:]]
    end = next((i for i, f in enumerate(folded) if _PAGE_TAIL.match(f)), len(folded))
    if 0 < end < len(folded) and _PAGE_TITLE.match(folded[end - 1]):
        end -= 1
    kept = lines[start:start + end]
    summary = _site_summary(folded[:end])
    return kept if summary is None else kept[:summary[0]] + kept[summary[1]:]


# The site's summary of the document, between its metadata table and the document ("Nghiên cứu ứng dụng ...
# Ngày 19/11/2025, Thủ tướng ... Xem chi tiết tại Quyết định 2530/QĐ-TTg có hiệu lực từ ngày 19/11/2025."):
# read as the document, its long lines hid the header below it.
_SUMMARY_END = re.compile(r"^xem chi tiet tai ")
_TABLE_LAST_LABELS = re.compile(r"^\W*(?:tinh trang|so cong bao|ngay cong bao|ngay hieu luc)\b")
_SUMMARY_SPAN = 200  # lines: the summary stands right after the page's metadata table


def _site_summary(folded: list[str]) -> tuple[int, int] | None:
    """Where the site's summary stands in a saved page's lines (start, end), or None."""
    end = next((i for i, f in enumerate(folded[:_SUMMARY_SPAN]) if _SUMMARY_END.match(f)), None)
    if end is None:
        return None
    label = next((i for i in range(end - 1, -1, -1) if _TABLE_LAST_LABELS.match(folded[i])), None)
    if label is None:
        return None
    value = next((i for i in range(label + 1, end) if folded[i].strip("| ")), None)  # the label's value
    return None if value is None else (value + 1, end + 1)


class _PipeRun:
    """The lines of one pipe table being read, and whether its last row is still open: a row whose cells
    hold line breaks is written over several lines ("| 1 | Xây dựng ... | Sở A" / "| Sở B | Quý II |"), so a
    row ends only at a line ending in "|" once it has as many pipes as the header row."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.need = 0  # pipes of the header row (0: the header is not framed, rows are lines)
        self.open = 0  # pipes so far of the row not yet closed

    def takes(self, line: str) -> bool:
        """Whether the line belongs to this table."""
        if _PIPE_ROW.match(line) or _PIPE_CELLS.search(line):
            return True
        if not self.lines:
            return False
        one = line.count("|") == 1
        # One pipe: the rest of an open row, or a framed table's row opening ("| Nghị quyết ..." then its cells).
        return bool(_PIPE_RULE.match(line)) or (one and (self.open > 0 or (self.need > 0 and line.lstrip()[:1] == "|")))

    def add(self, line: str) -> None:
        s = line.strip()
        if not self.lines:
            self.need = s.count("|") if s.startswith("|") and s.endswith("|") else 0
        elif self.need and not _PIPE_RULE.match(line):
            self.open += s.count("|")
            if s.endswith("|") and self.open >= self.need:
                self.open = 0
        self.lines.append(line)


# Ligatures a PDF's text layer keeps as one character ("ﬁ"): the letters they stand for.
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
                            "\ufb05": "st", "\ufb06": "st"})
_LIGATURE = re.compile("[\ufb00-\ufb06]")
# A title set with its letters spaced out ("K Ế H O Ạ C H", "C H Ư Ơ N G  T R Ì N H"): the text layer has a
# space between every two letters. At least this many letters, nearly all alone, make such a line.
_SPACED_MIN_LETTERS = 4
_SPACED_SHARE = 0.8
_SPACED_MAX = 200
_WIDE_GAP = re.compile(r"\s{2,}")
# The words such a line spells, when the layer keeps no wider gap between words: "KẾHOẠCH" -> "KẾ HOẠCH".
_SPACED_WORDS = ("ke hoach", "quyet dinh", "chuong trinh", "chuong trinh hanh dong", "ke hoach hanh dong",
                 "thong bao", "nghi quyet", "chi thi", "cong dien", "ket luan", "huong dan", "bao cao", "to trinh",
                 "de an", "phu luc", "cong van")
_SPACED_FOLDED = {w.replace(" ", ""): w for w in _SPACED_WORDS}


def unspaced(line: str) -> str:
    """"K Ế H O Ạ C H" -> "KẾ HOẠCH": the letters of a spaced-out title made one word again (a wider gap, or a
    known title word, tells where a word ends); any other line is returned as it is."""
    spaces = line.count(" ")
    if spaces < _SPACED_MIN_LETTERS - 1 or len(line) > _SPACED_MAX or spaces * 3 < len(line):
        return line  # most lines: words of several letters (checked cheaply, every line passes here)
    tokens = line.split()
    singles = sum(1 for t in tokens if len(t) == 1 and t.isupper())
    if singles < _SPACED_MIN_LETTERS or singles < len(tokens) * _SPACED_SHARE:
        return line
    words = [w.replace(" ", "") for w in _WIDE_GAP.split(line.strip())]
    if len(words) == 1:
        joined = words[0]
        known = _SPACED_FOLDED.get(fold(joined, expand=False))
        if known is not None:  # fold keeps one character per letter: the spaces fall at the same places
            words, at = [], 0
            for part in known.split():
                words.append(joined[at:at + len(part)])
                at += len(part)
    return line[:len(line) - len(line.lstrip())] + " ".join(words)


# A page number on a line of its own ("2", "- 3 -", "Trang 4", "5/12") and the running header or footer next to
# it ("Kế hoạch số 172/KH-UBND"): the page's furniture, not the document's text, in a PDF's text layer.
_PAGE_NUMBER = re.compile(r"^\s*(?:[-–—]\s*)?(?:trang\s+)?\d{1,3}(?:\s*/\s*\d{1,3})?(?:\s*[-–—])?\s*$",
                          re.IGNORECASE)
_RUNNING_MAX = 120  # a running header is one short line
_RUNNING_MIN_PAGES = 2
_RUNNING_LINE = re.compile(r"[^\W\d_]{2}")  # words, not a rule or another number


def without_page_furniture(lines: list[str]) -> list[str]:
    """Lines without the running headers and footers a PDF repeats by its page numbers. A running line is one
    that stands next to a page number (blank lines aside) at least twice, the same each time but for its
    digits; the page numbers themselves stay (the outline reader skips them and knows a page broke there)."""
    numbers = [i for i, ln in enumerate(lines) if _PAGE_NUMBER.match(ln)]
    if len(numbers) < _RUNNING_MIN_PAGES:
        return lines
    neighbours: dict[str, list[int]] = {}
    for i in numbers:
        for step in (-1, 1):
            j = i + step
            while 0 <= j < len(lines) and not lines[j].strip():
                j += step
            if 0 <= j < len(lines) and _RUNNING_LINE.search(lines[j]) and len(lines[j]) <= _RUNNING_MAX \
                    and "|" not in lines[j] and "\x00" not in lines[j]:  # a row number in a table is none
                key = re.sub(r"\d+", "0", lines[j].strip())
                neighbours.setdefault(key, []).append(j)
    # By most page numbers, not by some: a table's cells copied one per line stand by its row numbers too, and
    # the same deadline ("Thường xuyên") comes back by a few of them.
    least = max(_RUNNING_MIN_PAGES, len(numbers) // 2)
    drop = {j for key, at in neighbours.items() if len(set(at)) >= least for j in at}
    return [ln for i, ln in enumerate(lines) if i not in drop] if drop else lines


# The header's right column (motto, place and date) where a PDF's text layer runs it on after the left column's
# line: "ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI ...", "Số: Hà Nam, ngày 14 tháng 3 năm 2026".
_RIGHT_COLUMN = re.compile(r"\s(?=CỘNG HÒA XÃ HỘI|CỘNG HOÀ XÃ HỘI|ĐẢNG CỘNG SẢN VIỆT NAM|Độc lập\s*[-–]"
                           r"|[A-ZĐÀ-Ỹ][a-zà-ỹđ]+(?:\s[\wà-ỹÀ-Ỹđ]+){0,4},\s*ngày\b)")
_FULL_DATE = re.compile(r"năm\s+\d{4}|\d{1,2}/\d{1,2}/\d{4}")
_DATE_TAIL = 40  # the wrapped end of a place and date line
_HEAD_LINES = 20  # the header block stands in the first lines, above the kind line


def side_by_side_header(lines: list[str]) -> list[str]:
    """The header's two columns parted again, above the kind line ("KẾ HOẠCH"): where a line holds a left part
    and a right part, the left part stays and the right part goes after the header's last line, so "Số:" meets
    its number on the next line again. Lines of one column, and a crawl's header table ("|"), stay as they are."""
    end = next((i for i, ln in enumerate(lines[:_HEAD_LINES])
                if fold(ln.strip(" *#"), expand=False) in _SPACED_WORDS), None)
    if end is None or any("|" in ln for ln in lines[:end]):
        return lines
    head: list[str] = []
    moved: list[str] = []
    for ln in lines[:end]:
        if moved and ", ngày" in moved[-1] and not _FULL_DATE.search(moved[-1]) and ln.strip() \
                and len(ln) < _DATE_TAIL:
            moved[-1] += " " + ln.strip()  # "..., ngày 18 tháng 11 năm" / "2025": the place and date wrapped
            continue
        m = _RIGHT_COLUMN.search(ln)
        left = ln[:m.start()].split() if m is not None else []
        right = [ln[m.end():]] if m is not None else []
        while left and left[-1].isalpha() and left[-1][:1].isupper() and not left[-1].isupper():
            right.insert(0, left.pop())  # "Nghệ An, ngày": the place's first words are the right column's too
        if not left:
            head.append(ln)
            continue
        head.append(" ".join(left))
        moved.append(" ".join(right))
    return [*head, *moved, *lines[end:]] if moved else lines


def text_blocks(text: str) -> list[Block]:
    """Lines of a text file as blocks; runs of "| a | b |" (or "a | b | c") lines become tables."""
    if _LIGATURE.search(text):  # rare: translating every character of a large file costs more than the search
        text = text.translate(_LIGATURES)
    text = nfc(text).replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    blocks: list[Block] = []
    run = _PipeRun()  # the lines of the pipe table being read
    lines = without_page_furniture([unspaced(ln) for ln in without_page_chrome(text.split("\n"))])
    for line in side_by_side_header(lines):
        if run.takes(line):
            run.add(line)
            continue
        if run.lines:
            blocks.append(_pipe_table(run.lines))
            run = _PipeRun()
        if line.count("\t") >= 2:  # a Word table pasted as text: cells between tabs
            last = blocks[-1] if blocks else None
            if not isinstance(last, Table):
                last = Table()
                blocks.append(last)
            last.rows.append([c.strip() for c in line.split("\t")])
            continue
        blocks.append(line)
    if run.lines:
        blocks.append(_pipe_table(run.lines))
    return blocks


# A row of a broken table longer than this many lines is no row: the lines are read one row each.
_MAX_ROW_LINES = 40


def _pipe_table(lines: list[str]) -> Table:
    """The rows of a pipe table. Pipes at both ends of every row are the table's frame; without them
    (" | | Chủ trì | Phối hợp |" in a table written "TT | Nhiệm vụ | ..."), an empty first or last cell
    is a cell all the same. A framed table some of whose lines are no whole row (a cell's line breaks
    kept) is read row by row counting pipes: a row ends at a line ending in "|" once it has as many as the
    header row."""
    rows = [ln.strip() for ln in lines if not _PIPE_RULE.match(ln)]
    framed = all(r.startswith("|") and r.endswith("|") for r in rows)
    need = rows[0].count("|") if rows and rows[0].startswith("|") and rows[0].endswith("|") else 0
    if not framed and need and len(rows) > 1:
        return Table([_broken_row_cells(r) for r in _broken_rows(rows, need)])
    out = Table()
    for r in rows:
        cells = (r[1:-1] if framed else r).split("|")
        out.rows.append([re.sub(r"<br\s*/?>", " ", c).strip() for c in cells])
    return out


def _broken_rows(rows: list[str], need: int) -> list[str]:
    """The logical rows (their lines joined) of a framed table whose rows run over several lines."""
    out: list[str] = []
    cur: list[str] = []
    pipes = 0
    for r in rows:
        cur.append(r)
        pipes += r.count("|")
        if (r.endswith("|") and pipes >= need) or len(cur) >= _MAX_ROW_LINES:
            out.append("\n".join(cur))
            cur, pipes = [], 0
    if cur:
        out.append("\n".join(cur))
    return out


def _broken_row_cells(row: str) -> list[str]:
    """The cells of one logical row: its frame pipes dropped, line breaks inside a cell read as spaces."""
    cells = row.split("|")
    if row.startswith("|"):
        cells = cells[1:]
    if row.endswith("|"):
        cells = cells[:-1]
    return [" ".join(re.sub(r"<br\s*/?>", " ", c).split()) for c in cells]


# ---- docx ------------------------------------------------------------------------------------

def _check_docx_bounds(data: bytes) -> None:
    """Refuse a .docx whose parts would expand beyond the bounds, from the zip's directory alone."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise ImportRefused("Tệp .docx bị hỏng hoặc không đúng định dạng Word.") from e
    if len(infos) > MAX_DOCX_ENTRIES:
        raise ImportRefused(f"Tệp .docx có quá nhiều thành phần ({len(infos)}; giới hạn {MAX_DOCX_ENTRIES}); "
                            "hãy lưu lại văn bản rồi gửi lại.")
    total = sum(i.file_size for i in infos)
    if total > MAX_DOCX_UNCOMPRESSED:
        raise ImportRefused(f"Tệp .docx khi giải nén quá lớn ({total / 1_048_576:.0f} MB; giới hạn "
                            f"{MAX_DOCX_UNCOMPRESSED // 1_048_576} MB); hãy gửi bản .docx bình thường hoặc .pdf.")


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_ROMAN_DIGITS = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"), (40, "xl"),
                 (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_MAX_LIST_LEVELS = 9
_MAX_STYLE_DEPTH = 10  # how far a style's "based on" chain is followed for its list numbering
_NESTED_ROW_SEP = "; "


def _roman(n: int) -> str:
    out = ""
    for value, digits in _ROMAN_DIGITS:
        while n >= value:
            out, n = out + digits, n - value
    return out


def _format_number(n: int, fmt: str) -> str:
    """One level's number in Word's format ("decimal", "lowerLetter", "upperRoman", ...)."""
    if fmt in ("lowerLetter", "upperLetter"):
        s = ""
        while n > 0:
            n, r = divmod(n - 1, len(_LETTERS))
            s = _LETTERS[r] + s
        return s.upper() if fmt == "upperLetter" else s
    if fmt in ("lowerRoman", "upperRoman"):
        return _roman(n).upper() if fmt == "upperRoman" else _roman(n)
    if fmt == "decimalZero":
        return f"{n:02d}"
    return str(n)


class _WordNumbering:
    """The numbers Word draws before list paragraphs ("1.", "a)", "II."): they are in numbering.xml, not in
    the paragraph's text, yet the outline's numbering is what tells a task from its sub-items."""

    def __init__(self, document: object) -> None:
        # numId -> level -> (format, text pattern "%1.%2.", start); counters per list
        self.levels: dict[str, dict[int, tuple[str, str, int]]] = {}
        self.counts: dict[str, list[int]] = {}
        # Lists of one definition count on together ("I.", "II." under two numIds), unless one restarts
        # its numbers (a startOverride): then it counts on its own.
        self.counter_of: dict[str, str] = {}
        self.style_num: dict[str, tuple[str, int] | None] = {}
        self.document = document
        try:
            root = document.part.numbering_part.element  # type: ignore[attr-defined]
        except (NotImplementedError, KeyError, AttributeError):
            return
        abstract: dict[str, dict[int, tuple[str, str, int]]] = {}
        for an in root.iter(f"{_W}abstractNum"):
            abstract[an.get(f"{_W}abstractNumId", "")] = self._lvls(an)
        for num in root.iter(f"{_W}num"):
            aid = num.find(f"{_W}abstractNumId")
            aid_val = aid.get(f"{_W}val", "") if aid is not None else ""
            levels = dict(abstract.get(aid_val, {}))
            nid = num.get(f"{_W}numId", "")
            restarts = num.find(f"{_W}lvlOverride/{_W}startOverride") is not None
            self.counter_of[nid] = f"num{nid}" if restarts else f"abs{aid_val}"
            for ov in num.iter(f"{_W}lvlOverride"):
                ilvl = int(ov.get(f"{_W}ilvl", "0"))
                lvl = ov.find(f"{_W}lvl")
                if lvl is not None:
                    levels.update(self._lvls(ov))
                so = ov.find(f"{_W}startOverride")
                if so is not None and ilvl in levels:
                    fmt, text, _ = levels[ilvl]
                    levels[ilvl] = (fmt, text, int(so.get(f"{_W}val", "1")))
            self.levels[nid] = levels

    @staticmethod
    def _lvls(parent: object) -> dict[int, tuple[str, str, int]]:
        out: dict[int, tuple[str, str, int]] = {}
        for lvl in parent.iter(f"{_W}lvl"):  # type: ignore[attr-defined]
            def val(tag: str, default: str, lvl: object = lvl) -> str:
                el = lvl.find(f"{_W}{tag}")  # type: ignore[attr-defined]
                return el.get(f"{_W}val", default) if el is not None else default
            out[int(lvl.get(f"{_W}ilvl", "0"))] = (val("numFmt", "decimal"), val("lvlText", ""),
                                                    int(val("start", "1") or 1))
        return out

    def _style_numpr(self, style_id: str | None) -> tuple[str, int] | None:
        """The list a paragraph style numbers its paragraphs with (heading styles often do)."""
        if not style_id:
            return None
        if style_id in self.style_num:
            return self.style_num[style_id]
        found: tuple[str, int] | None = None
        try:
            styles = self.document.styles.element  # type: ignore[attr-defined]
        except Exception:
            return None
        sid: str | None = style_id
        for _ in range(_MAX_STYLE_DEPTH):
            st = next((x for x in styles.iter(f"{_W}style") if x.get(f"{_W}styleId") == sid), None)
            if st is None:
                break
            numpr = st.find(f"{_W}pPr/{_W}numPr")
            if numpr is not None:
                found = self._read_numpr(numpr, None)
                break
            based = st.find(f"{_W}basedOn")
            sid = based.get(f"{_W}val") if based is not None else None
        self.style_num[style_id] = found
        return found

    @staticmethod
    def _read_numpr(numpr: object, default_level: int | None) -> tuple[str, int] | None:
        nid = numpr.find(f"{_W}numId")  # type: ignore[attr-defined]
        lvl = numpr.find(f"{_W}ilvl")  # type: ignore[attr-defined]
        if nid is None:
            return None
        level = int(lvl.get(f"{_W}val", "0")) if lvl is not None else (default_level or 0)
        return nid.get(f"{_W}val", ""), level

    def label(self, p: object) -> str:
        """The number Word shows before paragraph `p` ("" when it is no list item); counts it."""
        ppr = p.find(f"{_W}pPr")  # type: ignore[attr-defined]
        numpr = ppr.find(f"{_W}numPr") if ppr is not None else None
        found = self._read_numpr(numpr, None) if numpr is not None else None
        if found is None and ppr is not None:
            style = ppr.find(f"{_W}pStyle")
            found = self._style_numpr(style.get(f"{_W}val") if style is not None else None)
        if found is None:
            return ""
        num_id, level = found
        levels = self.levels.get(num_id)
        if not levels or num_id == "0" or level not in levels or level >= _MAX_LIST_LEVELS:
            return ""
        fmt, text, _ = levels[level]
        if fmt == "bullet":
            return "-"
        if fmt == "none":
            return ""
        counts = self.counts.setdefault(self.counter_of.get(num_id, num_id), [0] * _MAX_LIST_LEVELS)
        if counts[level] == 0:
            counts[level] = levels[level][2] - 1
        counts[level] += 1
        for deeper in range(level + 1, _MAX_LIST_LEVELS):
            counts[deeper] = 0

        def number(m: re.Match[str]) -> str:
            k = int(m.group(1)) - 1
            lvl = levels.get(k)
            n = counts[k] if counts[k] else (lvl[2] if lvl else 1)
            return _format_number(n, lvl[0] if lvl else "decimal")

        return re.sub(r"%(\d)", number, text).strip()


def _docx_blocks(data: bytes) -> list[Block]:
    _check_docx_bounds(data)
    try:
        import docx

        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        raise ImportRefused("Tệp .docx bị hỏng hoặc không đúng định dạng Word.") from e
    except Exception as e:
        raise ImportRefused("Tệp .docx bị hỏng hoặc không đúng định dạng Word.") from e
    blocks: list[Block] = []
    _docx_children(document.element.body, document, _WordNumbering(document), blocks)
    return blocks


def _docx_children(parent: object, document: object, numbering: _WordNumbering, blocks: list[Block],
                   in_cell: bool = False) -> None:
    """Paragraphs and tables under a body or a table cell, in order. A table of one column is a frame
    around text (a whole plan set inside a box): its cells' contents are read as the document's own."""
    from docx.table import Table as DocxTable

    for child in parent.iterchildren():  # type: ignore[attr-defined]
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            for box in _text_boxes(child):  # a header laid out in text boxes: their lines come first
                blocks.extend(nfc(t) for t in box)
            text = nfc(_paragraph_text(child))  # runs, tabs and breaks; not the boxes anchored in it
            label = numbering.label(child)  # Word counts an empty list paragraph too
            if label and (text.strip() or in_cell) and not text.lstrip().startswith(label):
                text = f"{label} {text.lstrip()}".rstrip()  # an empty one shows its number alone in a cell
            blocks.extend(text.split("\n"))
            blocks.append("")
        elif tag == "tbl":
            t = DocxTable(child, document)  # type: ignore[arg-type]
            if all(len(tr.findall(f"{_W}tc")) == 1 for tr in child.findall(f"{_W}tr")):
                for tc in child.iter(f"{_W}tc"):
                    if tc.getparent().getparent() is child:
                        _docx_children(tc, document, numbering, blocks, in_cell)
                continue
            rows = []
            seen: dict[object, str] = {}  # a merged cell is read (and its list numbers counted) once
            for row in t.rows:
                # A merged cell repeats in each column it spans, and down the rows it spans (python-docx
                # gives the top cell again), which keeps the columns aligned and carries a merged
                # "Thời gian" or "Chủ trì" value down to each row.
                cells = []
                for cell in row.cells:
                    key = cell._tc  # the element itself: kept alive here, its identity stays its own
                    if key not in seen:
                        seen[key] = _cell_text(cell, document, numbering)
                    cells.append(seen[key])
                rows.append(cells)
            blocks.append(Table(rows))
        elif tag == "sdt":  # a content control wrapping paragraphs and tables
            content = child.find(f"{_W}sdtContent")
            if content is not None:
                _docx_children(content, document, numbering, blocks, in_cell)


def _cell_text(cell: object, document: object, numbering: _WordNumbering) -> str:
    """A cell's text, a table nested in it included (its rows one per line, cells between "; ")."""
    inner: list[Block] = []
    _docx_children(cell._tc, document, numbering, inner, in_cell=True)  # type: ignore[attr-defined]
    lines: list[str] = []
    for b in inner:
        if isinstance(b, Table):
            lines.extend(_NESTED_ROW_SEP.join(c for c in r if c) for r in b.rows)
        elif b.strip():
            lines.append(b)
    return nfc("\n".join(lines)).strip()


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TXBX = ".//" + _W + "txbxContent"
# A text box is stored twice (mc:Choice for new Word, mc:Fallback for old): the Fallback copy is skipped.
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def _paragraph_text(p: Any) -> str:
    """A paragraph's own text: its runs' text, tabs and breaks, not the text of boxes anchored in it."""
    out: list[str] = []
    for el in p.iter(_W + "t", _W + "tab", _W + "br", _W + "cr", _W + "txbxContent"):
        if el.tag == _W + "t":
            if _in_box(el, p):
                continue
            out.append(el.text or "")
        elif el.tag == _W + "tab":
            if not _in_box(el, p) and el.getparent() is not None and el.getparent().tag == _W + "r":
                out.append("\t")
        elif el.tag in (_W + "br", _W + "cr") and not _in_box(el, p):
            out.append("\n")
    return "".join(out)


def _in_box(el: Any, p: Any) -> bool:
    node = el.getparent()
    while node is not None and node is not p:
        if node.tag == _W + "txbxContent":
            return True
        node = node.getparent()
    return False


def _text_boxes(p: Any) -> list[list[str]]:
    """The lines of the text boxes anchored in a paragraph (a header's issuer and motto often stand in two)."""
    boxes: list[list[str]] = []
    for box in p.iterfind(_TXBX):
        if any(a.tag == _FALLBACK for a in box.iterancestors()):
            continue
        boxes.append([_paragraph_text(q) for q in box.iter(_W + "p")])
    return boxes


# ---- pdf -------------------------------------------------------------------------------------

def _pdf_text(data: bytes) -> str:
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception as e:
                raise ImportRefused("Tệp PDF có mật khẩu; hãy gửi bản không khóa.") from e
        pages = pdf_pages_text(list(reader.pages))  # ruled tables as pipe rows
    except ImportRefused:
        raise
    except Exception as e:
        raise ImportRefused("Tệp PDF bị hỏng, không đọc được.") from e
    text = "\n\n".join(pages)
    if len(re.sub(r"\s+", "", text)) < 20:
        raise ImportRefused("Tệp PDF không có lớp chữ (có thể là bản scan); hãy gửi bản .docx hoặc PDF có chữ.")
    return text
