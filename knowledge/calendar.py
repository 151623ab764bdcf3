"""Working days in Viet Nam: weekends and public holidays off, admins' overrides on top. Answers,
reminders and the digest count with the same calendar (knowledge.due).

Public holidays (lunar Tết and Giỗ Tổ included, and the swapped working Saturdays the
Government decides) come from the `holidays` package, country VN; an admin adds or removes a
day with a CalendarDay row. Civil Code 2015 art. 148: a period whose last day is a day off ends
at the end of the next working day; `due_day` applies that rule.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import holidays
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.models import AuditEntry, CalendarDay

_ONE = timedelta(days=1)


@lru_cache(maxsize=1)
def _public_holidays() -> Any:
    """Viet Nam's public holidays, shared: answers build a calendar per question."""
    return holidays.country_holidays("VN")


class WorkCalendar:
    """Answers "is this a working day" and counts working days, with overrides applied first."""

    def __init__(self, overrides: dict[date, bool] | None = None, notes: dict[date, str] | None = None) -> None:
        self.overrides = dict(overrides or {})
        self.notes = dict(notes or {})
        self._public = _public_holidays()
        self._due: dict[date, date] = {}  # due_day memo: lists date thousands of tasks on few days

    @property
    def version(self) -> tuple[tuple[date, bool], ...]:
        """The admins' overrides: two calendars with the same ones count days alike."""
        return tuple(sorted(self.overrides.items()))

    def is_working(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return bool(self._public.is_working_day(day))

    def holiday_name(self, day: date) -> str | None:
        """Why a day is off, in Vietnamese where we can say it (for the art. 148 sentence)."""
        if day in self.overrides and not self.overrides[day]:
            return self.notes.get(day) or "ngày nghỉ"
        if day in self._public:
            return "ngày lễ, Tết"
        if day.weekday() == 5:
            return "thứ Bảy"
        if day.weekday() == 6:
            return "Chủ nhật"
        return None

    def due_day(self, day: date) -> date:
        """The day itself when working, else the next working day (Civil Code art. 148)."""
        found = self._due.get(day)
        if found is None:
            found = day
            while not self.is_working(found):
                found += _ONE
            self._due[day] = found
        return found

    def minus_working_days(self, day: date, n: int) -> date:
        """The working day n working days before `day` (n = 0: `day` itself)."""
        while n > 0:
            day -= _ONE
            if self.is_working(day):
                n -= 1
        return day

    def plus_working_days(self, day: date, n: int) -> date:
        """The working day n working days after `day` (n = 0: `day` itself)."""
        while n > 0:
            day += _ONE
            if self.is_working(day):
                n -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (negative when end < start)."""
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += _ONE
            if self.is_working(day):
                count += 1
        return count

    def next_working(self, day: date) -> date:
        """The first working day strictly after `day`."""
        return self.plus_working_days(day, 1)


async def load_calendar(session: AsyncSession) -> WorkCalendar:
    """The calendar with the admins' overrides from the store."""
    rows = (await session.scalars(select(CalendarDay))).all()
    return WorkCalendar({r.day: r.working for r in rows}, {r.day: r.note for r in rows})


async def set_day(session: AsyncSession, day: date, working: bool, note: str = "", by: str = "admin") -> None:
    """An admin declares a day off (working=False) or a working day (a swapped Saturday)."""
    row = await session.get(CalendarDay, day)
    if row is None:
        session.add(CalendarDay(day=day, working=working, note=note))
    else:
        row.working, row.note = working, note
    session.add(AuditEntry(actor=by, action="calendar.set", target=day.isoformat(),
                           details={"working": working, "note": note}))
    await session.flush()


async def clear_day(session: AsyncSession, day: date, by: str = "admin") -> None:
    """Drop an admin's override: the day is back to what the public calendar says."""
    await session.execute(delete(CalendarDay).where(CalendarDay.day == day))
    session.add(AuditEntry(actor=by, action="calendar.clear", target=day.isoformat()))
    await session.flush()
