"""What the importer makes of a document: a plan with its tasks, before anything is stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from knowledge.deadlines import Deadline


class ImportRefused(Exception):
    """A file the importer will not take; `message_vi` is what the user is told."""

    def __init__(self, message_vi: str) -> None:
        super().__init__(message_vi)
        self.message_vi = message_vi


class NotAPlan(ImportRefused):
    """A readable document that assigns no task (a README, a letter): skipped, not bad input.

    In a batch it is only a warning, so a folder of plans with a note beside them still imports.
    """


@dataclass
class ParsedTask:
    ref: str
    text: str
    lead: list[str] = field(default_factory=list)  # names as written
    coordinators: list[str] = field(default_factory=list)
    report_to: list[str] = field(default_factory=list)
    via: list[str] = field(default_factory=list)
    deadline: Deadline | None = None
    problems: list[str] = field(default_factory=list)  # what an admin must settle (Vietnamese)


@dataclass
class LeftOut:
    """A paragraph or table row that looks like work but could not be read with confidence."""

    ref: str
    text: str
    reason: str  # Vietnamese, for the admin


@dataclass
class ParsedPlan:
    kind: str = "Kế hoạch"
    number: str | None = None
    issuer: str | None = None
    issued_on: date | None = None
    date_hint: date | None = None  # the month when the day was left blank ("ngày    tháng 3 năm 2025")
    title: str = ""
    signer: str | None = None
    monitor: str | None = None  # the body given "theo dõi, đôn đốc" of the whole plan, as written
    tasks: list[ParsedTask] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "II.3: ..." for each task with a problem
    left_out: list[LeftOut] = field(default_factory=list)
