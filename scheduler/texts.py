"""The words of reminders and digests, in Vietnamese: dates dd/mm/yyyy with the weekday.

A reminder answers "how long do I have" on its first line, then says who must do what, then
cites the plan and section with the plan's own deadline words, so a focal point can check it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from knowledge.labels import day_label, shorten

TASK_CHARS = 320


@dataclass(frozen=True)
class ReminderFacts:
    """Everything a reminder says, gathered by the planner."""

    kind: str  # before | due | overdue
    send_day: date
    due: date  # the day that counts (after art. 148 and extensions)
    nominal: date  # the day the plan names for this occurrence
    working_days: int  # before: working days left; overdue: working days late
    who: str  # the agency reminded, as `who_label` words it
    task_text: str
    plan_label: str  # "Kế hoạch 3021/KH-UBND (25/08/2020)"
    section: str  # "III.2" or ""
    deadline_text: str  # the plan's own words: "định kỳ trước ngày 15 tháng 12 hằng năm"
    off_reason: str | None = None  # why the nominal day is not a working day
    extended_from: date | None = None


def who_label(current: str, written: str, merged: bool, group: bool) -> str:
    """The agency reminded: "Sở TT&TT (nay là Sở KH&CN)" after a merger, the group named for a member."""
    if merged and written:
        return f"{written} (nay là {current})"
    if group and written:
        return f"{current} (thuộc {written})"
    return current


def reminder_text(f: ReminderFacts) -> str:
    if f.kind == "before":
        head = f"⏰ Còn {f.working_days} ngày làm việc: {day_label(f.due)}"
    elif f.kind == "due":
        head = f"⏰ Hôm nay là hạn: {day_label(f.due)}"
    else:
        head = f"⚠️ Đã quá hạn {f.working_days} ngày làm việc (hạn {day_label(f.due)})"
    lines = [head, f"{f.who} — {shorten(f.task_text, TASK_CHARS)}"]
    cite = f"📄 {f.plan_label}" + (f", mục {f.section}" if f.section else "")
    if f.deadline_text:
        cite += f': "{f.deadline_text}"'
    lines.append(cite)
    if f.extended_from:
        lines.append(f"Đã được gia hạn từ {day_label(f.extended_from)} đến {day_label(f.due)}.")
    elif f.nominal != f.due:
        lines.append(
            f"Hạn ghi trong kế hoạch là {day_label(f.nominal)} ({f.off_reason or 'ngày nghỉ'}), nên được tính "
            f"đến hết ngày làm việc tiếp theo: {day_label(f.due)} (Điều 148 Bộ luật Dân sự 2015)."
        )
    return "\n".join(lines)
