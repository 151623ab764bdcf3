"""Zalo shows plain text only: choices become numbered lines the user answers with a number."""

from __future__ import annotations

import re

from bot.chunks import split_text
from core.messages import Choice

MAX_TEXT = 2000  # Zalo refuses longer messages
PIECE = MAX_TEXT - 50  # pieces stay well under the limit: "under 2,000"


def _label(i: int, choice: Choice) -> str:
    """The label without the number a handler may already have put in front ("1. Cập nhật…")."""
    return re.sub(rf"^{i}[.)]\s*", "", choice.label)


_NUMBER = re.compile(r"^(\d+)\.")


def already_listed(text: str, choices: list[Choice]) -> bool:
    """Whether the text itself lists the choices by number (a handler's numbered answer): consecutive numbers,
    from 1 or from where a later page of a list starts ("9."), with at most a trailing "Xem tiếp" the text names."""
    starts = {line.split(" ", 1)[0] for line in text.splitlines()}
    numbers = [m.group(1) for c in choices if (m := _NUMBER.match(c.label))]
    rest = [c for c in choices if not _NUMBER.match(c.label)]
    if not numbers or (rest and (len(rest) > 1 or choices[-1] is not rest[0] or "xem tiếp" not in text.lower())):
        return False
    first = int(numbers[0])
    return all(n == str(first + i) and f"{n}." in starts for i, n in enumerate(numbers))


def numbered(text: str, choices: list[Choice] | None) -> str:
    """The text with its choices as "1. label" lines and a hint; the router maps the number back.

    A text that already lists them by number (and says "Gõ số…") is left as it is."""
    if not choices or already_listed(text, choices):
        return text
    lines = [f"{i}. {_label(i, c)}" for i, c in enumerate(choices, 1)]
    hint = "Trả lời bằng số 1 để chọn." if len(choices) == 1 else f"Trả lời bằng một số từ 1 đến {len(choices)}."
    return "\n".join([text.rstrip(), "", *lines, hint])


def pieces(text: str, choices: list[Choice] | None = None) -> list[str]:
    """What is sent, in order: the numbered text cut at line boundaries under the limit."""
    return split_text(numbered(text, choices), PIECE) or ["…"]
