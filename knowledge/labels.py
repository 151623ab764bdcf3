"""How dates and long texts read everywhere (answers, reminders, digests): dd/mm/yyyy, the weekday
in Vietnamese, texts cut at a word boundary. One place, so a plan is "(25/08/2020)" in every reply."""

from __future__ import annotations

from datetime import date

WEEKDAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")


def dmy(day: date) -> str:
    """'05/01/2027'."""
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def day_label(day: date) -> str:
    """'thứ Ba 15/12/2026'."""
    return f"{WEEKDAYS[day.weekday()]} {dmy(day)}"


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary with an ellipsis: replies must stay short on a phone."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:.")
    return cut + "…"


PLAN_TITLE_CHARS = 90


def plan_label(kind: str | None, number: str | None, issued_on: date | None, title: str) -> str:
    """How replies cite a plan: "Kế hoạch 3021/KH-UBND (25/08/2020)", or its title when it has no number."""
    kind = kind or "Kế hoạch"
    when = f" ({dmy(issued_on)})" if issued_on else ""
    if number:
        return f"{kind} {number}{when}"
    title = shorten(title, PLAN_TITLE_CHARS)
    return f"{kind} “{title}”{when}" if title else f"{kind}{when}"
