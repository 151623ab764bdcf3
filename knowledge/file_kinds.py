"""What a file sent in chat is, named for an admin: a plan the importer reads, or something else
(a spreadsheet, a photo, an old Word file...) told by its name and its first bytes, before any
parsing, so an .xlsx is called a spreadsheet and not "a corrupt .docx"."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

PLAN_SUFFIXES = (".docx", ".pdf", ".txt")
IMAGE = "ảnh"
_BY_SUFFIX = {
    ".xlsx": "bảng tính Excel", ".xls": "bảng tính Excel", ".ods": "bảng tính", ".csv": "bảng số liệu CSV",
    ".doc": "văn bản Word đời cũ (.doc)", ".odt": "văn bản OpenDocument (.odt)", ".rtf": "văn bản RTF",
    ".jpg": "ảnh", ".jpeg": "ảnh", ".png": "ảnh", ".gif": "ảnh", ".webp": "ảnh", ".heic": "ảnh", ".bmp": "ảnh",
    ".pptx": "bản trình chiếu", ".ppt": "bản trình chiếu", ".zip": "tệp nén", ".rar": "tệp nén", ".7z": "tệp nén",
    ".mp4": "video", ".mov": "video", ".mp3": "tệp âm thanh", ".m4a": "tệp âm thanh",
}
_ZIP_PARTS = (("word/", None), ("xl/", "bảng tính Excel"), ("ppt/", "bản trình chiếu"))
HINT = "Hãy gửi kế hoạch dạng .docx, .pdf hoặc .txt (với tệp .doc: mở bằng Word, chọn Lưu thành .docx)."


def not_a_plan(name: str, head: bytes = b"") -> str | None:
    """What the file is when it cannot be a plan ("bảng tính Excel", "ảnh"); None when it may be one."""
    suffix = Path(name).suffix.lower()
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG", b"GIF8")):
        return "ảnh"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "tệp Office đời cũ (.doc/.xls)"
    if head.startswith(b"PK"):
        try:
            names = zipfile.ZipFile(io.BytesIO(head)).namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return None  # a truncated head: the importer decides
        for prefix, kind in _ZIP_PARTS:
            if any(n.startswith(prefix) for n in names):
                return kind
        return "tệp nén"
    return None


def refusal(name: str, kind: str) -> str:
    return f"Tệp {name} là {kind}, không phải kế hoạch nên không nhập được. {HINT}"
