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
