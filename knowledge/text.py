"""Vietnamese text normalisation: the one place that decides how text is compared.

Everything that enters the product goes through `nfc`; everything that is matched goes
through `fold` (accents, case, punctuation and common abbreviations removed), so that
"Sở KH&CN", "so khcn" and "Sở Khoa học và Công nghệ" compare equal. The importer's patterns run
on `shadow` (the same folding, one character per character, so spans map back), fingerprints on
`fold_fast`; questions add their shorthands on top of `fold` (knowledge.search.fold_query).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w]+")

# Abbreviations as people type them, folded (no accents, lower case), with "&", "-" and "."
# already turned into spaces by `_basic_fold`. Longer keys first so "kh cn" wins over "kh".
_ABBREVIATIONS: dict[str, str] = {
    "ubnd": "uy ban nhan dan",
    "hdnd": "hoi dong nhan dan",
    "ubmttq": "uy ban mat tran to quoc",
    "ubmt": "uy ban mat tran",
    "mttq": "mat tran to quoc",
    "mt tq": "mat tran to quoc",
    "vptu": "van phong tinh uy",
    "vpub": "van phong uy ban nhan dan",
    "btv": "ban thuong vu",
    "btgtu": "ban tuyen giao tinh uy",
    "btg": "ban tuyen giao",
    "bcsd": "ban can su dang",
    "lhh": "lien hiep cac hoi khoa hoc va ky thuat",
    "skhcn": "so khoa hoc va cong nghe",
    "kh cn": "khoa hoc va cong nghe",
    "khcn": "khoa hoc va cong nghe",
    "kh va cn": "khoa hoc va cong nghe",
    "tt tt": "thong tin va truyen thong",
    "tttt": "thong tin va truyen thong",
    "tt va tt": "thong tin va truyen thong",
    "kh dt": "ke hoach va dau tu",
    "khdt": "ke hoach va dau tu",
    "kh va dt": "ke hoach va dau tu",
    "skhdt": "so ke hoach va dau tu",
    "ld tb xh": "lao dong thuong binh va xa hoi",
    "ldtbxh": "lao dong thuong binh va xa hoi",
    "ld tb va xh": "lao dong thuong binh va xa hoi",
    "nn ptnt": "nong nghiep va phat trien nong thon",
    "nnptnt": "nong nghiep va phat trien nong thon",
    "nn va ptnt": "nong nghiep va phat trien nong thon",
    "tn mt": "tai nguyen va moi truong",
    "tnmt": "tai nguyen va moi truong",
    "tn va mt": "tai nguyen va moi truong",
    "nn mt": "nong nghiep va moi truong",
    "nnmt": "nong nghiep va moi truong",
    "nn va mt": "nong nghiep va moi truong",
    "vh tt dl": "van hoa the thao va du lich",
    "vhttdl": "van hoa the thao va du lich",
    "vh tt va dl": "van hoa the thao va du lich",
    "gd dt": "giao duc va dao tao",
    "gddt": "giao duc va dao tao",
    "gd va dt": "giao duc va dao tao",
    "gtvt": "giao thong van tai",
    "ptth": "phat thanh va truyen hinh",
    "pt th": "phat thanh va truyen hinh",
    "kt xh": "kinh te xa hoi",
    "ktxh": "kinh te xa hoi",
    "qd": "quyet dinh",
    "nq": "nghi quyet",
    "kl": "ket luan",
    "ct": "chi thi",
    "kh": "ke hoach",
    "pct": "pho chu tich",
}
_ABBREV_RE = re.compile(
    r"\b(" + "|".join(re.escape(k) for k in sorted(_ABBREVIATIONS, key=len, reverse=True)) + r")\b"
)


def nfc(text: str) -> str:
    """Compose to NFC: some keyboards send Vietnamese decomposed, and stored text must compare."""
    return unicodedata.normalize("NFC", text)


def unaccented(text: str) -> str:
    """`strip_accents` without its cache: for a long text read once (a task's whole text while the index is
    built), which would otherwise stay in the cache with its copy (65,536 task texts: 65 MB at 100,000 tasks)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


@lru_cache(maxsize=65536)
def strip_accents(text: str) -> str:
    """Remove Vietnamese diacritics, keeping case ("Sở Nội vụ" -> "So Noi vu")."""
    return unaccented(text)


def _basic_fold(text: str) -> str:
    text = strip_accents(text).lower().replace("&", " va ")
    return _SPACES.sub(" ", _NON_WORD.sub(" ", text)).strip()


@lru_cache(maxsize=65536)
def fold(text: str, expand: bool = True) -> str:
    """Fold for matching: no accents, lower case, words only, abbreviations expanded.

    "Sở KH&CN" -> "so khoa hoc va cong nghe"; "UBND tỉnh" -> "uy ban nhan dan tinh".
    """
    folded = _basic_fold(text)
    if expand:
        # "&" became " va ": "kh va cn" is in the table, so both spellings expand.
        folded = _ABBREV_RE.sub(lambda m: _ABBREVIATIONS[m.group(1)], folded)
    return folded


def _shadow_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for cp in range(0x80, 0x2000):
        c = chr(cp)
        s = strip_accents(c).lower()
        table[cp] = s if len(s) == 1 else (c.lower()[:1] or " ")
    for cp in range(0x41, 0x5B):
        table[cp] = chr(cp + 32)
    table[0x1E9E] = "s"
    return table


_SHADOW = _shadow_table()


@lru_cache(maxsize=4096)
def shadow(text: str) -> str:
    """Lower case without accents, one character per character, so match spans map back to `text`.

    Cached: the importer asks for the same paragraph's shadow several times (roles, deadline, layout),
    and translating Vietnamese text through a dict is the slowest step of a parse.
    """
    return text.translate(_SHADOW)


def fold_fast(text: str) -> str:
    """The same words as `fold(text, expand=False)`, computed fast for whole task texts (fingerprints)."""
    return _NON_WORD.sub(" ", shadow(text).replace("đ", "d")).strip()


def clean_markup(text: str) -> str:
    """Drop markdown emphasis and stray spacing left by PDF/Word copies; keep the words."""
    text = nfc(text).replace("\u00a0", " ").replace("\u200b", "")
    text = re.sub(r"(?<!\w)[*_]{1,3}|[*_]{1,3}(?!\w)", "", text)
    return _SPACES.sub(" ", text).strip()
