"""The answerer's vocabulary, kept as data: synonyms, role words and short forms (knowledge/data/).

People describe a task in other words than the plan ("kéo chuyên gia" for "thu hút", "gom gọn" for
"sắp xếp, tinh gọn", "Ai lo ..." for "chủ trì"); the groups of knowledge/data/synonyms.json say which
words mean the same, so ranking can credit a task for the meaning a question asks about. Short forms
(TP.HCM, ĐHQG, BCĐ) come from knowledge/data/abbreviations.json and from each plan's own definitions
("Ban Chỉ đạo tỉnh (sau đây gọi tắt là BCĐ)"), learned when the index is built. Loaded once per process.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from knowledge.text import fold, strip_accents

DATA = Path(__file__).with_name("data")
MAX_SHORT = 8  # letters of a short form a plan may define ("BCĐ", "BMNN", "KH&CN" folded)


def _load(name: str) -> dict[str, object]:
    with (DATA / name).open(encoding="utf-8") as fh:
        data: dict[str, object] = json.load(fh)
    return data


@cache
def synonym_groups() -> tuple[tuple[str, ...], ...]:
    """Each group of words with one meaning, folded ("thu hut", "keo", "moi goi", ...)."""
    raw = _load("synonyms.json")["groups"]
    assert isinstance(raw, list)
    return tuple(tuple(dict.fromkeys(fold(w, expand=False) for w in group)) for group in raw)


@cache
def synonym_raw() -> tuple[tuple[str, ...], ...]:
    """The groups as written (accented): which accents a table word has."""
    raw = _load("synonyms.json")["groups"]
    assert isinstance(raw, list)
    return tuple(tuple(group) for group in raw)


@cache
def role_cues() -> dict[str, tuple[str, ...]]:
    """The ways people ask who does a task, by role ("lead": "chu tri", "dung ra", "lo", ...), folded."""
    raw = _load("synonyms.json")["roles"]
    assert isinstance(raw, dict)
    return {role: tuple(fold(w, expand=False) for w in words) for role, words in raw.items()}


@cache
def provinces() -> tuple[str, ...]:
    """Provinces and big cities, folded (knowledge/data/places.json)."""
    raw = _load("places.json")
    return tuple(str(p) for p in raw["places"])  # type: ignore[attr-defined]


@cache
def abbreviations() -> dict[str, str]:
    """Built-in short forms, folded -> folded words."""
    raw = _load("abbreviations.json")
    return {k: str(v) for k, v in raw.items() if not k.startswith("_")}


def shorthand_pattern(table: dict[str, str]) -> re.Pattern[str] | None:
    """One regex for a table of folded short forms, longest first."""
    if not table:
        return None
    return re.compile(r"\b(" + "|".join(re.escape(k) for k in sorted(table, key=len, reverse=True)) + r")\b")


# "(sau đây gọi tắt là BCĐ)", "(viết tắt là BMNN)", "(gọi tắt là: NCC)"
_DEFINITION = re.compile(
    r"([^()]{3,200}?)\s*\(\s*\*?\s*(?:sau đây\s+)?(?:được\s+)?(?:gọi|viết)\s+tắt\s+(?:là\s*)?:?\s*"
    r"[“\"]?([^()“”\"*]{1,40}?)[”\"]?\s*\*?\s*\)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[\wĐđ]+")


def learn_abbreviations(texts: list[str]) -> dict[str, str]:
    """Short forms a plan defines, folded -> the folded words they stand for.

    Only initialisms are learned ("BCĐ" after "... Ban Chỉ đạo tỉnh"): the long form is the shortest
    run of words before the bracket whose initials spell the short form. A short form made of plain
    words ("Quyết định số 696") needs no learning: its words are in the plan already."""
    found: dict[str, str] = {}
    for text in texts:
        for m in _DEFINITION.finditer(text):
            short = m.group(2).strip()
            letters = strip_accents(short).replace("&", "").replace(".", "").replace("-", "").replace(" ", "")
            if not (2 <= len(letters) <= MAX_SHORT and letters.isalpha() and short.upper() == short):
                continue
            long_form = _expansion(letters.lower(), _WORD.findall(m.group(1)))
            if long_form:
                found.setdefault(fold(short, expand=False), long_form)
    return found


_GLUE = frozenset(("va", "cua", "cac", "ve", "cho", "tren", "trong", "thuoc"))


def _expansion(letters: str, words: list[str]) -> str:
    """The words, read backwards from the bracket, whose initials (glue words optional) spell `letters`."""
    folded = [w for w in (fold(w, expand=False) for w in words) if w]
    for end in (len(folded), len(folded) - 1):  # "Ban Chỉ đạo tỉnh (BCĐ)": a place may trail
        for start in range(end - 1, max(-1, end - 3 * len(letters) - 1), -1):
            run = folded[start:end]
            initials = "".join(w[0] for w in run)
            core = "".join(w[0] for w in run if w not in _GLUE)
            if letters in (initials, core):
                return " ".join(run)
    return ""
