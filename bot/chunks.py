"""Splitting long answers for channels with a message-size limit (Telegram 4096, Zalo 2000)."""

from __future__ import annotations


def split_text(text: str, limit: int) -> list[str]:
    """Cut text into pieces of at most `limit` characters, at line boundaries where possible.

    Lines stay whole and in order; a single line longer than the limit is cut at the last space
    before it (or hard, when it has none). Empty pieces are dropped: platforms refuse empty messages.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit + 1)
            if cut <= 0:
                cut = limit
            head, line = line[:cut], line[cut:].lstrip(" ")
            if current:
                pieces.append(current)
                current = ""
            pieces.append(head)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
        else:
            pieces.append(current)
            current = line
    pieces.append(current)
    return [p for p in (p.strip("\n") for p in pieces) if p.strip()]
