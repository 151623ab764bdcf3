"""Reading a plan file into blocks of text (paragraphs and tables), whatever its format.

Formats: .txt/.md (UTF-8 with or without BOM, UTF-16 by BOM, legacy Vietnamese code pages detected),
.docx (paragraphs and tables in document order), .pdf with a text layer. Anything else, or a file
that is empty, binary, corrupt, too large or scanned, is refused with a Vietnamese reason.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.importer.model import ImportRefused
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
        return _pdf_blocks(data)
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
    return lines[start:start + end]


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
    run: list[str] = []  # the lines of the pipe table being read
    lines = without_page_furniture([unspaced(ln) for ln in without_page_chrome(text.split("\n"))])
    for line in side_by_side_header(lines):
        if _PIPE_ROW.match(line) or _PIPE_CELLS.search(line) or (run and _PIPE_RULE.match(line)):
            run.append(line)
            continue
        if run:
            blocks.append(_pipe_table(run))
            run = []
        if line.count("\t") >= 2:  # a Word table pasted as text: cells between tabs
            last = blocks[-1] if blocks else None
            if not isinstance(last, Table):
                last = Table()
                blocks.append(last)
            last.rows.append([c.strip() for c in line.split("\t")])
            continue
        blocks.append(line)
    if run:
        blocks.append(_pipe_table(run))
    return blocks


def _pipe_table(lines: list[str]) -> Table:
    """The rows of a pipe table. Pipes at both ends of every row are the table's frame; without them
    (" | | Chủ trì | Phối hợp |" in a table written "TT | Nhiệm vụ | ..."), an empty first or last cell
    is a cell all the same."""
    rows = [ln.strip() for ln in lines if not _PIPE_RULE.match(ln)]
    framed = all(r.startswith("|") and r.endswith("|") for r in rows)
    out = Table()
    for r in rows:
        cells = (r[1:-1] if framed else r).split("|")
        out.rows.append([re.sub(r"<br\s*/?>", " ", c).strip() for c in cells])
    return out


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


def _docx_blocks(data: bytes) -> list[Block]:
    _check_docx_bounds(data)
    try:
        import docx
        from docx.table import Table as DocxTable

        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        raise ImportRefused("Tệp .docx bị hỏng hoặc không đúng định dạng Word.") from e
    except Exception as e:
        raise ImportRefused("Tệp .docx bị hỏng hoặc không đúng định dạng Word.") from e
    numbering = WordNumbering(document)
    blocks: list[Block] = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            for box in _text_boxes(child):  # a header laid out in text boxes: their lines come first
                blocks.extend(nfc(t) for t in box)
            blocks.extend(nfc(numbering.label(child) + _paragraph_text(child)).split("\n"))
            blocks.append("")
        elif tag == "tbl":
            t = DocxTable(child, document)
            rows = []
            for row in t.rows:
                # A merged cell repeats in each column it spans, which keeps the columns aligned.
                rows.append([nfc("\n".join(numbering.label(p._p) + _paragraph_text(p._p) for p in cell.paragraphs))
                             .strip() for cell in row.cells])
            blocks.append(Table(rows))
    return blocks


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


def _roman_numeral(n: int) -> str:
    out = ""
    for value, letters in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
                           (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out += letters
            n -= value
    return out


def _letters(n: int) -> str:
    """Word's letter numbering: a..z, then aa, bb ..."""
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1) if n > 0 else ""


_NUM_FORMAT: dict[str, Callable[[int], str]] = {
    "decimal": str, "decimalZero": lambda n: f"{n:02d}", "lowerLetter": _letters,
    "upperLetter": lambda n: _letters(n).upper(), "lowerRoman": lambda n: _roman_numeral(n).lower(),
    "upperRoman": _roman_numeral}
# A bullet drawn from a symbol font (a private-use character) reads as the dash plans write by hand.
_BULLET = "-"


class WordNumbering:
    """The labels Word draws before numbered paragraphs ("1.", "a)", "II.") and does not store in their text:
    without them a docx plan loses the outline its text copy has. Counters run per list (numId) and level;
    a level restarts when a shallower one of its list advances, as Word does by default."""

    def __init__(self, document: Any) -> None:
        self.levels: dict[str, dict[int, tuple[int, str, str]]] = {}  # numId -> ilvl -> (start, format, text)
        self.counters: dict[str, dict[int, int]] = {}
        self.style_num: dict[str, tuple[str, int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstracts: dict[str, dict[int, tuple[int, str, str]]] = {}
        for ab in root.iterfind(_W + "abstractNum"):
            abstracts[ab.get(_W + "abstractNumId")] = {
                int(lvl.get(_W + "ilvl", "0")): (int(_val(lvl, "start") or 1), _val(lvl, "numFmt") or "decimal",
                                                 _val(lvl, "lvlText") or "")
                for lvl in ab.iterfind(_W + "lvl")}
        for num in root.iterfind(_W + "num"):
            levels = dict(abstracts.get(_val(num, "abstractNumId") or "", {}))
            for override in num.iterfind(_W + "lvlOverride"):
                ilvl = int(override.get(_W + "ilvl", "0"))
                start = _val(override, "startOverride")
                if start is not None and ilvl in levels:
                    levels[ilvl] = (int(start), *levels[ilvl][1:])
            self.levels[num.get(_W + "numId")] = levels
        for style in document.styles.element.iterfind(_W + "style"):
            num_pr = style.find(f"{_W}pPr/{_W}numPr")
            if num_pr is not None and (num_id := _val(num_pr, "numId")):
                self.style_num[style.get(_W + "styleId")] = (num_id, int(_val(num_pr, "ilvl") or 0))

    def label(self, p: Any) -> str:
        """"1. " / "a) " for a numbered paragraph (its counter advanced), "" otherwise."""
        if not self.levels:
            return ""
        num_pr = p.find(f"{_W}pPr/{_W}numPr")
        if num_pr is not None:
            num_id, ilvl = _val(num_pr, "numId"), int(_val(num_pr, "ilvl") or 0)
        else:
            style = p.find(f"{_W}pPr/{_W}pStyle")
            num_id, ilvl = self.style_num.get(style.get(_W + "val") if style is not None else "", ("", 0))
        levels = self.levels.get(num_id or "")
        if not levels or ilvl not in levels:
            return ""  # numId 0 switches numbering off
        counters = self.counters.setdefault(num_id or "", {})
        start, fmt, text = levels[ilvl]
        counters[ilvl] = counters[ilvl] + 1 if ilvl in counters else start
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        if fmt == "bullet":
            return (text if text and text.isprintable() and not "\ue000" <= text <= "\uf8ff" else _BULLET) + " "
        if fmt == "none" or not text:
            return ""

        def level_value(m: re.Match[str]) -> str:
            k = int(m.group(1)) - 1
            lvl = levels.get(k)
            value = counters.get(k, lvl[0] if lvl else 1)
            return _NUM_FORMAT.get(lvl[1] if lvl else "decimal", str)(value)

        return re.sub(r"%(\d)", level_value, text).strip() + " "


def _val(el: Any, child: str) -> str | None:
    found = el.find(_W + child)
    return None if found is None else found.get(_W + "val")


# ---- pdf -------------------------------------------------------------------------------------

def _pdf_blocks(data: bytes) -> list[Block]:
    """Blocks of a PDF's text layer: its text, and its ruled tables rebuilt cell by cell (a plain text layer
    gives a table's cells one line each, wrapped, with nothing to tell where a cell ends)."""
    text, tables = _pdf_text(data)
    blocks = text_blocks(text)
    if not tables:
        return blocks
    out: list[Block] = []
    since_table: list[Block] = []  # blank lines and page numbers after the last table
    for b in blocks:
        m = _TABLE_MARK.fullmatch(b.strip()) if isinstance(b, str) else None
        if m is None:
            out.append(b)
            if since_table is not None and isinstance(b, str) and (not b.strip() or _PAGE_NUMBER.match(b)):
                since_table.append(b)
            else:
                since_table = None  # type: ignore[assignment]
            continue
        table = tables[int(m.group(1))]
        last = out[-len(since_table) - 1] if since_table is not None and len(out) > len(since_table) else None
        if isinstance(last, Table) and last.rows and table.rows and len(last.rows[0]) == len(table.rows[0]):
            # The same table going on over a page break: its rows join the rows above, the header repeated
            # on the new page (as Word repeats it) left out.
            last.rows.extend(table.rows[1:] if table.rows[0] == last.rows[0] else table.rows)
        else:
            out.append(table)
        since_table = []
    return out


# Where a rebuilt table stands in the page's text; a line no document holds.
_TABLE_MARK = re.compile("\x00table(\\d+)\x00")
_STROKE = frozenset({b"S", b"s", b"B", b"B*", b"b", b"b*"})
_FILL = frozenset({b"f", b"F", b"f*"})
_MIN_COLUMNS = 2
_MIN_CELL = 4.0  # points: a rectangle smaller in either way is a rule, larger a cell's box
_RULE_SLACK = 1.5  # points a rule may miss the cell's corner by
# A line of a cell that starts an item of its own ("- Sở A" / "+ ..."), not the wrap of the line above.
_CELL_ITEM = re.compile(r"^\s*[-–—+•●▪]\s")


class _PageLayout:
    """The text chunks of one PDF page with their positions, and the ruled cells they fall in."""

    def __init__(self) -> None:
        self.chunks: list[tuple[str, float, float]] = []
        self.vertical: list[tuple[float, float, float]] = []  # x, bottom, top
        self.horizontal: list[tuple[float, float, float]] = []  # y, left, right
        self._pen: tuple[float, float] | None = None
        self._path: list[tuple[float, float, float, float]] = []

    def operand(self, op: bytes, args: list[Any], cm: list[float], tm: list[float]) -> None:
        """Path operators: rectangles and lines kept until the path is painted. A stroked box is a cell's
        border; a filled one only when thin (a rule); a clipping path or a filled area is no border."""
        try:
            if op == b"re" and len(args) == 4:
                x, y = _apply(cm, float(args[0]), float(args[1]))
                x2, y2 = _apply(cm, float(args[0]) + float(args[2]), float(args[1]) + float(args[3]))
                self._path.append((min(x, x2), min(y, y2), max(x, x2), max(y, y2)))
            elif op == b"m" and len(args) == 2:
                self._pen = _apply(cm, float(args[0]), float(args[1]))
            elif op == b"l" and len(args) == 2 and self._pen is not None:
                x, y = self._pen
                x2, y2 = _apply(cm, float(args[0]), float(args[1]))
                self._path.append((min(x, x2), min(y, y2), max(x, x2), max(y, y2)))
                self._pen = (x2, y2)
            elif op in _STROKE or op in _FILL:
                for x, y, x2, y2 in self._path:
                    self._paint(x, y, x2, y2, stroked=op in _STROKE)
                self._path = []
            elif op == b"n":
                self._path = []
        except (TypeError, ValueError):
            self._path = []

    def _paint(self, x: float, y: float, x2: float, y2: float, stroked: bool) -> None:
        if x2 - x >= _MIN_CELL and y2 - y >= _MIN_CELL:
            if stroked:
                self.vertical += [(x, y, y2), (x2, y, y2)]
                self.horizontal += [(y, x, x2), (y2, x, x2)]
        elif y2 - y >= _MIN_CELL:
            self.vertical.append(((x + x2) / 2, y, y2))
        elif x2 - x >= _MIN_CELL:
            self.horizontal.append(((y + y2) / 2, x, x2))

    def text(self, text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if text:
            x, y = _apply(cm, tm[4], tm[5])
            self.chunks.append((text, x, y))

    def cell(self, x: float, y: float) -> tuple[float, float, float, float] | None:
        """The ruled box around a point (left, right, bottom, top), or None outside any table."""
        s = _RULE_SLACK
        left = max((v[0] for v in self.vertical if v[0] <= x + s and v[1] - s <= y <= v[2] + s), default=None)
        right = min((v[0] for v in self.vertical if v[0] > x + s and v[1] - s <= y <= v[2] + s), default=None)
        if left is None or right is None:
            return None
        mid = (left + right) / 2
        below = max((h[0] for h in self.horizontal if h[0] <= y and h[1] - s <= mid <= h[2] + s), default=None)
        above = min((h[0] for h in self.horizontal if h[0] > y and h[1] - s <= mid <= h[2] + s), default=None)
        if below is None or above is None:
            return None
        return round(left, 1), round(right, 1), round(below, 1), round(above, 1)

    def render(self, tables: list[Table], plain: str) -> str:
        """The page's text with each table's place marked; the tables, cell by cell, appended to `tables`.
        A page without a ruled table keeps the text layer's own reading (`plain`)."""
        if not self.vertical or not self.horizontal or not any(
                self.cell(x, y) for t, x, y in self.chunks if t.strip()):
            return plain
        runs: list[list[tuple[str, tuple[float, float, float, float], float]]] = []  # the tables' chunks in order
        inside = False
        for text, x, y in self.chunks:
            box = self.cell(x, y) if text.strip() else None
            if box is None:
                inside = inside and not text.strip()
                continue
            if not inside:
                runs.append([])
                inside = True
            runs[-1].append((text, box, y))
        # Each table's text cut out of the layer's own reading (the chunks stand in it in order) and its mark put
        # in its place; the text around keeps the reading pypdf gave it.
        out: list[str] = []
        at = 0
        for run in runs:
            start = end = plain.find(run[0][0], at)
            for text, _, _ in run:
                found = plain.find(text, end)
                if found < 0:
                    return plain  # the layer's reading does not hold the chunks as drawn: left as it is
                end = found + len(text)
            cells: dict[tuple[float, float, float, float], list[tuple[str, float]]] = {}
            for text, box, y in run:
                cells.setdefault(box, []).append((text, y))
            out.append(plain[at:start])
            out.append(_flush(cells, tables))
            at = end
        out.append(plain[at:])
        return "".join(out)


def _flush(cells: dict[tuple[float, float, float, float], list[tuple[str, float]]], tables: list[Table]) -> str:
    """A run of ruled cells as a table's mark; one column of boxes (a framed note) is text again."""
    table = _grid(cells)
    if table is None:
        return "\n" + "\n".join(_cell_text(parts) for parts in cells.values()) + "\n"
    tables.append(table)
    return f"\n\x00table{len(tables) - 1}\x00\n"


def _apply(cm: list[float], x: float, y: float) -> tuple[float, float]:
    return cm[0] * x + cm[2] * y + cm[4], cm[1] * x + cm[3] * y + cm[5]


def _cell_text(parts: list[tuple[str, float]]) -> str:
    """A cell's lines: a wrapped line runs on with a space, a line that starts an item keeps its own line."""
    joined, last_y = "", None
    for text, y in parts:
        joined += ("\n" if last_y is not None and abs(y - last_y) > 1 else "") + text
        last_y = y
    lines = [ln.strip() for ln in joined.split("\n") if ln.strip()]
    out = ""
    for ln in lines:
        out += ("\n" if _CELL_ITEM.match(ln) else " ") + ln if out else ln
    return out


def _grid(cells: dict[tuple[float, float, float, float], list[tuple[str, float]]]) -> Table | None:
    """Rows top to bottom, columns left to right; a cell merged over several columns or rows stands in each
    (as a Word table's merged cell does when read)."""
    lefts = sorted({round(b[0]) for b in cells})
    if len(lefts) < _MIN_COLUMNS:
        return None
    tops = sorted({round(b[3]) for b in cells}, reverse=True)
    rows = [[""] * len(lefts) for _ in tops]
    for (left, right, bottom, top), parts in cells.items():
        text = _cell_text(parts)
        for r, t in enumerate(tops):
            if bottom + 1 < t <= top + 1:
                for c, lx in enumerate(lefts):
                    if left - 1 <= lx < right - 1:
                        rows[r][c] = text
    return Table([row for row in rows if any(row)])


def _pdf_text(data: bytes) -> tuple[str, list[Table]]:
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception as e:
                raise ImportRefused("Tệp PDF có mật khẩu; hãy gửi bản không khóa.") from e
        tables: list[Table] = []
        pages = []
        for page in reader.pages:
            layout = _PageLayout()
            plain = page.extract_text(visitor_operand_before=layout.operand, visitor_text=layout.text) or ""
            pages.append(layout.render(tables, plain))
    except ImportRefused:
        raise
    except Exception as e:
        raise ImportRefused("Tệp PDF bị hỏng, không đọc được.") from e
    text = "\n\n".join(pages)
    if len(re.sub(r"\s+", "", text)) + sum(len(r) for t in tables for r in t.rows) < 20:
        raise ImportRefused("Tệp PDF không có lớp chữ (có thể là bản scan); hãy gửi bản .docx hoặc PDF có chữ.")
    return text, tables
