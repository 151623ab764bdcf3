"""Deadlines as plans write them ("trước ngày 10/10/2021", "trong quý II-2024", "thường xuyên").

`parse_deadline` finds the deadline phrase inside a task's text and says what day it means.
Dates that are not deadlines (document citations such as "Quyết định số 696/QĐ-TTg ngày 25/5/2020",
milestones such as "đến tháng 3/2022") are ignored: a date only counts after a deadline cue word
(trước, trong, hoàn thành, chậm nhất, hạn, định kỳ ...), except in a short text such as a table's
"Thời gian hoàn thành" cell, where the whole text is the time.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from knowledge.text import clean_markup, shadow

KINDS = ("date", "month", "quarter", "year", "yearly", "quarterly", "monthly", "periodic", "ongoing", "invalid")
# A deadline whose words name no real day ("31/04/2026", "15/13/2026", "10/12/2999"): the words are kept,
# no reminder is planned, and the import report asks an admin for the date.
INVALID = "invalid"
# Years a deadline may name, around the plan's own year (or today's, when the plan has no date).
YEARS_BEFORE_PLAN = 10
YEARS_AFTER_PLAN = 50
ONE_OFF = ("date", "month", "quarter", "year")
RECURRING = ("yearly", "quarterly", "monthly")
# A text this short is a table cell or a "Thời hạn:" value: bare times count without a cue.
BARE_MAX = 48


@dataclass(frozen=True)
class Deadline:
    """When a task falls due. One-off kinds carry `due`; recurring kinds carry month/day."""

    kind: str
    due: date | None
    month: int | None
    day: int | None
    text: str

    def next_due(self, today: date) -> date | None:
        """The day it falls due: one-off kinds their day, recurring kinds the next one on/after today."""
        if self.kind in ONE_OFF:
            return self.due
        if self.kind == "yearly" and self.month and self.day:
            for year in (today.year, today.year + 1):
                d = _clamped(year, self.month, self.day)
                if d >= today:
                    return d
        if self.kind == "monthly" and self.day:
            y, m = today.year, today.month
            for _ in range(2):
                d = _clamped(y, m, self.day)
                if d >= today:
                    return d
                y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        if self.kind == "quarterly" and self.day:
            # month 1..3 = which month of the quarter ("tháng đầu quý" = 1); default the last one.
            offset = (self.month or 3) if (self.month or 3) <= 3 else 3
            for year in (today.year, today.year + 1):
                for q in range(4):
                    d = _clamped(year, q * 3 + offset, self.day)
                    if d >= today:
                        return d
        return None


def deadline_json(d: Deadline | None, today: date) -> dict[str, Any] | None:
    """The import contract's deadline shape: due is the next occurrence for recurring kinds."""
    if d is None:
        return None
    due = d.next_due(today)
    return {"kind": d.kind, "due": due.isoformat() if due else None, "month": d.month, "day": d.day,
            "text": d.text}


def _clamped(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}


_shadow = shadow
_OLD_QUY = re.compile(r"\bqui\b")
_MONTH_RANGE = re.compile(r"\b(thang\s+)\d{1,2}\s*[-–]\s*(?=\d{1,2}\s*[/.\-]\s*\d{4})")
_RANGE_END = "den het "  # what a day range's start becomes: "từ ngày a đến ngày b" is due by b
_DAY_RANGE = re.compile(r"\btu\s+ngay\s+\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{4}\s*(?:den|toi)\s+(?=ngay\s+\d)")


# Pieces of patterns, written against the shadow text (lower case, no accents).
_Y = r"(?P<y>\d{4})"  # any four digits: an impossible year is flagged, not skipped
_DMY = r"(?P<d>\d{1,2})\s*[/.\-]\s*(?P<m>\d{1,2})(?:\s*[/.\-]\s*" + _Y + r")?(?![\d/])"
_DMY_WORDS = r"(?P<d>\d{1,2})\s+thang\s+(?P<m>\d{1,2})(?:\s*(?:nam|[/.\-])\s*" + _Y + r")?(?!\s*[/\d])"
_CUE_DAY = (r"(?:truoc|cham nhat(?: la| vao)?|han(?: chot)?(?: la)?|xong(?: truoc)?"
            r"|hoan thanh(?: xong)?(?: truoc| vao)?|den het|vao|thoi (?:han|gian)(?: hoan thanh| thuc hien)?\s*:)"
            r"\s*(?:ngay\s*)?")
_CUE_PERIOD = (r"(?:trong|truoc|hoan thanh(?: trong| truoc| vao)?|xong(?: trong| truoc)?"
               r"|cham nhat(?: la)?|vao|han(?: la)?|(?:cuoi|het)|thoi gian(?: thuc hien| hoan thanh)?\s*:)")
_REPEAT_YEAR = r"(?:hang|moi) nam"
_REPEAT_MONTH = r"(?:hang|moi) thang"
_REPEAT_QUARTER = r"(?:hang|moi) quy"


@dataclass
class _Hit:
    rank: int  # lower is better: concrete days beat vague kinds
    start: int
    end: int
    kind: str
    due: date | None = None
    month: int | None = None
    day: int | None = None
    span: bool = False  # "quý III - quý IV năm 2025": wins over a phrase that holds only its start


_Handler = Callable[[re.Match[str], str, date | None], _Hit | None]


def _year(m: re.Match[str], plan_date: date | None) -> int | None:
    y = m.groupdict().get("y")
    if y:
        return int(y)
    return plan_date.year if plan_date else None


def _impossible_year(year: int, plan_date: date | None) -> bool:
    base = (plan_date or date.today()).year
    return not base - YEARS_BEFORE_PLAN <= year <= base + YEARS_AFTER_PLAN


def _invalid(m: re.Match[str]) -> _Hit:
    return _Hit(0, m.start(), m.end(), INVALID)


def _near(shadow: str, start: int, end: int, pattern: str, before: int = 80, after: int = 40) -> bool:
    """Whether a pattern occurs in the same clause around a match (a recurrence word, "định kỳ")."""
    lo = max(0, start - before)
    left = shadow[lo:start]
    # Stay within the clause: a ";" or "." ends it.
    cut = max(left.rfind(";"), left.rfind(". "))
    if cut >= 0:
        left = left[cut + 1:]
    right = shadow[end:end + after]
    cut_r = min((i for i in (right.find(";"), right.find(". ")) if i >= 0), default=len(right))
    return re.search(pattern, left + " " + right[:cut_r]) is not None


_MORE_DAYS = re.compile(r"\s*(?:,|va)\s*(?:ngay\s*)?\d{1,2}\s*[/.\-]\s*\d{1,2}(?![\d]|\s*[/.\-]\s*\d)")


def _day_hit(m: re.Match[str], shadow: str, plan_date: date | None) -> _Hit | None:
    d, mo = int(m.group("d")), int(m.group("m"))
    if not (1 <= d <= 31 and 1 <= mo <= 12):
        # "31/04/2026", "ngày 32/12": a day that does not exist; "hoàn thành 12/15 chỉ tiêu" is no day at all.
        return _invalid(m) if m.group("y") or "ngay" in m.group(0) else None
    explicit_year = m.group("y")
    if explicit_year and _impossible_year(int(explicit_year), plan_date):
        return _invalid(m)
    if not explicit_year and _MORE_DAYS.match(shadow, m.end()):
        # "trước ngày 15/6 và 15/12": several days a year with no year written, a recurring report.
        return _Hit(1, m.start(), m.end(), "periodic")
    tail = re.match(r"\s*(?:cua\s+)?" + _REPEAT_YEAR, shadow[m.end():m.end() + 25])
    if tail or (not explicit_year and _near(shadow, m.start(), m.end(), r"dinh ky|" + _REPEAT_YEAR)):
        return _Hit(1, m.start(), m.end() + (tail.end() if tail else 0), "yearly", month=mo, day=d)
    year = _year(m, plan_date)
    if year is None:
        return _Hit(1, m.start(), m.end(), "yearly", month=mo, day=d)
    try:
        due = date(year, mo, d)
    except ValueError:
        return _invalid(m)  # 29/02 of a common year, 31/04
    return _Hit(0, m.start(), m.end(), "date", due=due)


def _monthly_hit(m: re.Match[str], shadow: str, plan_date: date | None) -> _Hit | None:
    d = int(m.group("d"))
    return _Hit(1, m.start(), m.end(), "monthly", day=d) if 1 <= d <= 31 else None


def _quarterly_hit(m: re.Match[str], shadow: str, plan_date: date | None) -> _Hit | None:
    d = int(m.group("d"))
    which = {"dau": 1, "giua": 2, "thu hai": 2, "cuoi": 3}.get(m.group("w") or "cuoi", 3)
    return _Hit(1, m.start(), m.end(), "quarterly", month=which, day=d) if 1 <= d <= 31 else None


def _month_hit(m: re.Match[str], shadow: str, plan_date: date | None) -> _Hit | None:
    mo = int(m.group("m"))
    year = _year(m, plan_date)
    if not 1 <= mo <= 12 or (year is not None and _impossible_year(year, plan_date)):
        return _invalid(m)
    where = (m.groupdict().get("w") or "").strip()
    if year is None:
        return _Hit(2, m.start(), m.end(), "month")
    if where == "dau":
        return _Hit(0, m.start(), m.end(), "date", due=date(year, mo, 1))
    if where == "giua":
        return _Hit(0, m.start(), m.end(), "date", due=date(year, mo, 15))
    return _Hit(0, m.start(), m.end(), "month", due=_month_end(year, mo))


def _quarter_hit(m: re.Match[str], shadow: str, plan_date: date | None) -> _Hit | None:
    q = _ROMAN[m.group("q")]
    year = _year(m, plan_date)
    if year is not None and _impossible_year(year, plan_date):
        return _invalid(m)
    if year is None:
        return _Hit(2, m.start(), m.end(), "quarter")
    return _Hit(0, m.start(), m.end(), "quarter", due=_month_end(year, q * 3))


def _year_hit(m: re.Match[str], shadow: str, plan_date: date | None) -> _Hit | None:
    year = int(m.group("y2") or m.group("y"))
    first = m.group("y") if m.group("y2") else None
    if first and int(first) > year:
        return None
    return _Hit(0, m.start(), m.end(), "year", due=date(year, 12, 31))


def _part_of_year_hit(m: re.Match[str], shadow: str, plan_date: date | None) -> _Hit | None:
    year = _year(m, plan_date)
    part = m.group("p")
    month = 12 if part.startswith("cuoi") else 6
    due = _month_end(year, month) if year else None
    return _Hit(0 if due else 2, m.start(), m.end(), "date", due=due)


# "Kế hoạch phát triển kinh tế - xã hội hằng năm", "dự toán ngân sách nhà nước hàng năm": inside a sentence,
# the words name a yearly document, not when the task falls due (a short "Theo kế hoạch ... hằng năm" is one).
_YEARLY_DOCUMENT = re.compile(r"(?:ke hoach|chuong trinh|du toan|ngan sach)[^.,;:()]{0,45}$")


def _periodic_hit(m: re.Match[str], shadow: str, plan_date: date | None) -> _Hit | None:
    if m.group().startswith("hang") and len(shadow) > 2 * BARE_MAX and not shadow.startswith("theo") \
            and _YEARLY_DOCUMENT.search(shadow, max(0, m.start() - 60), m.start()) \
            and not _near(shadow, m.start(), m.end(), r"dinh ky"):
        return None
    return _Hit(3, m.start(), m.end(), "periodic")


def _ongoing_hit(m: re.Match[str], shadow: str, plan_date: date | None) -> _Hit | None:
    return _Hit(4, m.start(), m.end(), "ongoing")


def _month_span_hit(m: re.Match[str], shadow: str, plan_date: date | None) -> _Hit | None:
    hit = _month_hit(m, shadow, plan_date)
    if hit is not None:
        hit.span = True
    return hit


def _quarter_span_hit(m: re.Match[str], shadow: str, plan_date: date | None) -> _Hit | None:
    hit = _quarter_hit(m, shadow, plan_date)
    if hit is not None:
        hit.span = True
    return hit


_MONTH = r"thang\s+(?P<m>\d{1,2})(?:\s*(?:nam|[/.\-])\s*" + _Y + r")?(?![\d/])"
_QUARTER = r"quy\s+(?P<q>iv|i{1,3}|[1-4])\b(?:\s*(?:nam|[/.\-])?\s*" + _Y + r")?"
_RANGE = r"(?:(?:giai doan|tu nam|nam)\s+)?(?P<y>(?:19|20)\d\d)\s*(?:-|–|den(?: nam)?)\s*(?P<y2>(?:19|20)\d\d)"
_CUE_AFTER = r"\s*,?\s*(?:thi\s+)?(?:phai|can|se)?\s*(?:hoan thanh|xong)\b"
_PART_YEAR = r"(?P<p>6 thang dau nam|giua nam|cuoi nam)(?:\s*(?:nam\s*)?(?P<y>(?:19|20)\d\d))?"

# Spans: "từ tháng 3 đến tháng 6/2025", "quý III - quý IV năm 2025" fall due at their end.
_MONTH_SPAN = (r"thang\s+\d{1,2}(?:\s*(?:nam|[/.\-])\s*\d{4})?\s*(?:den(?:\s+het)?|-|–)\s*(?:thang\s+)?"
               + _MONTH)
_QUARTER_SPAN = r"quy\s+(?:iv|i{1,3}|[1-4])\s*(?:den(?:\s+het)?|-|–)\s*" + _QUARTER
# "tháng 9/2025 và thường xuyên": the first day that matters is the month's end.
_MONTH_THEN_ONGOING = _MONTH + r"\s*(?:,|va)\s*(?:thuc hien\s+)?(?:thuong xuyen|hang nam|lien tuc)"

# "Năm 2025 và các năm tiếp theo", "Quý IV năm 2025 và các năm tiếp theo": work that starts then and goes on.
_THEN_ON = (r"(?:" + _CUE_PERIOD + r"\s+)?(?:(?:tu|trong)\s+)?(?:quy\s+(?:iv|i{1,3}|[1-4])\s*(?:nam|[/.\-])?\s*|"
            r"thang\s+\d{1,2}\s*(?:nam|[/.\-])\s*)?(?:nam\s+|giai doan\s+)?\d{4}(?:\s*[-–]\s*\d{4})?\s*,?\s*"
            r"(?:va|den)\s+(?:cac|nhung)\s+nam\s+(?:tiep theo|sau)")

# (pattern with cue, pattern allowed bare in a short text, handler)
_RULES: list[tuple[str, str | None, _Handler]] = [
    (_THEN_ON, None, _ongoing_hit),
    (_MONTH_SPAN, r"(?:tu\s+)?" + _MONTH_SPAN, _month_span_hit),
    (_QUARTER_SPAN, r"(?:tu\s+)?" + _QUARTER_SPAN, _quarter_span_hit),
    (_MONTH_THEN_ONGOING, None, _month_hit),
    (r"truoc\s+(?:ngay\s+)?(?P<d>\d{1,2})\s+" + _REPEAT_MONTH, None, _monthly_hit),
    (_REPEAT_MONTH + r"\s*,?\s*(?:truoc|cham nhat)\s+(?:ngay\s+)?(?P<d>\d{1,2})(?!\s*(?:[/.\-]|thang)\s*\d)",
     None, _monthly_hit),
    (r"truoc\s+(?:ngay\s+)?(?P<d>\d{1,2})\s+(?:cua\s+)?thang\s+(?P<w>dau|giua|thu hai|cuoi)\s+(?:moi\s+)?quy",
     None, _quarterly_hit),
    (_REPEAT_QUARTER + r"\s*,?\s*(?:truoc|cham nhat)\s+(?:ngay\s+)?(?P<d>\d{1,2})(?!\s*(?:[/.\-]|thang)\s*\d)"
     r"(?:\s+(?:cua\s+)?thang\s+(?P<w>dau|giua|thu hai|cuoi)\s+quy)?", None, _quarterly_hit),
    (_CUE_DAY + _DMY_WORDS, r"(?:ngay\s+)?" + _DMY_WORDS, _day_hit),
    (_CUE_DAY + _DMY, r"(?:ngay\s+)?" + _DMY + r"(?:\s+(?:hang|moi) nam)?", _day_hit),
    (_CUE_PERIOD + r"\s+(?:(?P<w>dau|giua|cuoi)\s+)?" + _MONTH, r"(?:(?P<w>dau|giua|cuoi)\s+)?" + _MONTH, _month_hit),
    (r"(?P<w>dau|giua|cuoi)\s+" + _MONTH, None, _month_hit),
    (_CUE_PERIOD + r"\s+(?:trong\s+)?" + _QUARTER, _QUARTER, _quarter_hit),
    (_CUE_PERIOD + r"\s+(?:trong\s+)?" + _PART_YEAR, _PART_YEAR, _part_of_year_hit),
    # The cue after the period: "6 tháng đầu năm phải hoàn thành", "quý III/2026 xong".
    (_PART_YEAR + _CUE_AFTER, None, _part_of_year_hit),
    (_QUARTER + _CUE_AFTER, None, _quarter_hit),
    (_CUE_PERIOD + r"\s+" + _RANGE, _RANGE, _year_hit),
    (_CUE_PERIOD + r"\s+(?:(?:trong|cua)\s+)?nam\s+(?P<y>(?:19|20)\d\d)(?P<y2>)",
     r"(?:nam\s+)?(?P<y>(?:19|20)\d\d)(?P<y2>)", _year_hit),
    (r"dinh ky|" + _REPEAT_YEAR + "|" + _REPEAT_QUARTER + "|" + _REPEAT_MONTH + r"|hang tuan|6 thang mot lan", None,
     _periodic_hit),
    # Not "kinh phí chi thường xuyên" (a budget line) nor "vùng thường xuyên bị ngập" (a place).
    (r"(?<!chi )(?<!nguon )thuong xuyen(?! bi| xay ra)|lien tuc|hang ngay", None, _ongoing_hit),
]
# A word each rule cannot match without (checked first: most texts skip most rules).
_NEEDS = ["nam", "thang", "quy", "thang",
          "thang", "thang", "quy", "quy", "thang", "", "thang", "thang", "quy", "nam", "nam", "quy", "", "", "", ""]
_COMPILED = [(re.compile(r"\b" + cue), re.compile(r"^\s*(?:" + bare + r")\s*[.;]?\s*$") if bare else None, fn, need)
             for (cue, bare, fn), need in zip(_RULES, _NEEDS, strict=True)]


# Every rule needs a digit or one of these words: texts without any are skipped at once.
_ANY_CUE = re.compile(r"\d|dinh ky|hang (?:nam|quy|thang|tuan|ngay)|moi (?:nam|quy|thang)|thuong xuyen|lien tuc|"
                      r"cuoi nam|giua nam|dau nam")


_NEEDS_CLEANING = re.compile(r"[*_\u00a0\u200b]|\s\s|\n")


def parse_deadline(text: str, plan_date: date | None = None) -> Deadline | None:
    """The deadline a task's text sets, or None when it gives no time at all.

    The most concrete phrase wins ("thường xuyên ...; hoàn thành trong quý II-2024" is the quarter);
    among equals the first one. `plan_date` supplies the year when the text leaves it out.
    """
    text = clean_markup(text) if _NEEDS_CLEANING.search(text) or not unicodedata.is_normalized("NFC", text) \
        else text.strip()
    if not text:
        return None
    shadow = _OLD_QUY.sub("quy", _shadow(text))  # "Quí IV-2025": the older spelling, same length
    # A span's end is its time: "tháng 11 - 12/2025" is "tháng 12/2025", "từ ngày 01/01/2026 đến ngày
    # 31/3/2026" is "ngày 31/3/2026"; the start is blanked, so offsets into `text` stay right.
    shadow = _MONTH_RANGE.sub(lambda m: m.group(1) + " " * (len(m.group(0)) - len(m.group(1))), shadow)
    shadow = _DAY_RANGE.sub(lambda m: _RANGE_END + " " * (len(m.group(0)) - len(_RANGE_END)), shadow)
    if not _ANY_CUE.search(shadow):
        return None
    hits: list[_Hit] = []
    short = len(text) <= BARE_MAX
    for cue_re, bare_re, fn, need in _COMPILED:
        if need and need not in shadow:
            continue
        if short and bare_re is not None:
            bm = bare_re.match(shadow)
            if bm:
                hit = fn(bm, shadow, plan_date)
                if hit:
                    hits.append(hit)
        for m in cue_re.finditer(shadow):
            if any(h.start <= m.start() < h.end for h in hits):
                continue
            hit = fn(m, shadow, plan_date)
            if hit:
                hits.append(hit)
    if not hits:
        return None
    spans = [h for h in hits if h.span]
    if spans:  # "thời gian: quý III - quý IV": the span, not "thời gian: quý III" that overlaps it
        hits = [h for h in hits if h.span or not any(h.start < s.end and s.start < h.end for s in spans)]
    best = min(hits, key=lambda h: (h.rank, h.start))
    phrase = text[best.start:best.end].strip(" ,;.")
    return Deadline(best.kind, best.due, best.month, best.day, phrase)
