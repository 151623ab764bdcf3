"""The buttons under a reminder and the admins' answer to an extension request: built by the
scheduler (texts), read by handlers.reminder_actions; one protocol, declared once.

Choice data: "rem:done:<outbox id>", "rem:later:<id>", "rem:ext:<id>", "rem:grant:<id>:<yyyy-mm-dd>",
"rem:deny:<id>", "rem:pick:<id>" (grant, the day typed), "rem:ask:<id>" (ask the focal point for more).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.messages import Choice

PREFIX = "rem:"
DONE, LATER, EXTEND, GRANT, DENY = "done", "later", "ext", "grant", "deny"
PICK, ASK = "pick", "ask"  # the admin grants with a day typed, or asks the focal point for more
ACTIONS = (DONE, LATER, EXTEND, GRANT, DENY, PICK, ASK)


@dataclass(frozen=True)
class Pressed:
    action: str
    outbox_id: int
    day: date | None = None  # the day granted (GRANT only; None when unreadable)


def reminder_choices(outbox_id: int) -> list[Choice]:
    """The three buttons under every reminder."""
    return [
        Choice("Đã hoàn thành", f"{PREFIX}{DONE}:{outbox_id}"),
        Choice("Nhắc lại sau", f"{PREFIX}{LATER}:{outbox_id}"),
        Choice("Xin gia hạn", f"{PREFIX}{EXTEND}:{outbox_id}"),
    ]


def grant_choice(outbox_id: int, day: date) -> Choice:
    return Choice(f"Đồng ý đến {day:%d/%m/%Y}", f"{PREFIX}{GRANT}:{outbox_id}:{day.isoformat()}")


def deny_choice(outbox_id: int) -> Choice:
    return Choice("Từ chối", f"{PREFIX}{DENY}:{outbox_id}")


def pick_choice(outbox_id: int) -> Choice:
    return Choice("Đồng ý, chọn ngày khác", f"{PREFIX}{PICK}:{outbox_id}")


def ask_choice(outbox_id: int) -> Choice:
    return Choice("Hỏi thêm", f"{PREFIX}{ASK}:{outbox_id}")


def is_reminder_button(data: str | None) -> bool:
    return bool(data) and data.startswith(PREFIX)  # type: ignore[union-attr]


def parse(data: str) -> Pressed | None:
    """What a pressed reminder button asks; None for data that is not one (or is malformed)."""
    parts = data.split(":")
    if len(parts) < 3 or parts[0] + ":" != PREFIX or parts[1] not in ACTIONS or not parts[2].isdigit():
        return None
    day = None
    if parts[1] == GRANT:
        try:
            day = date.fromisoformat(parts[3])
        except (IndexError, ValueError):
            day = None  # the handler says the day is not valid
    return Pressed(parts[1], int(parts[2]), day)
