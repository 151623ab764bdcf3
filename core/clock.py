"""Time, injectable: the product reasons in Asia/Ho_Chi_Minh and stores UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")


class Clock:
    """The real clock; tests pass a FixedClock or move one."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().astimezone(VN).date()


class FixedClock(Clock):
    """A clock that stands still until moved (tests, `--today`)."""

    def __init__(self, at: datetime) -> None:
        self.at = at if at.tzinfo else at.replace(tzinfo=VN)

    @classmethod
    def on(cls, day: date, hour: int = 9) -> FixedClock:
        return cls(datetime(day.year, day.month, day.day, hour, tzinfo=VN))

    def now(self) -> datetime:
        return self.at.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self.at = self.at + delta


# The days the product reasons about: a plan's deadlines, "--today" of the commands. Beyond them
# date arithmetic (reminders weeks ahead, "12 tháng tới") overflows Python's dates.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2199, 12, 31)


def parse_day(text: str) -> date:
    """A day typed as YYYY-MM-DD, within FIRST_DAY..LAST_DAY; ValueError with a Vietnamese reason."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"Ngày \"{text}\" không hợp lệ; dùng dạng YYYY-MM-DD, ví dụ 2026-12-10.") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"Ngày {day.day:02d}/{day.month:02d}/{day.year:04d} nằm ngoài khoảng nhacviec xử lý được "
                         f"({FIRST_DAY:%d/%m/%Y} – {LAST_DAY:%d/%m/%Y}).")
    return day
