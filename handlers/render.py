"""How answers read: dates as dd/mm/yyyy with the weekday, agencies with today's successor, citations.

Pure functions over the index's rows, so every answer (chat, console, `ask --json`) reads the same.
Tone: a short first line that answers, then the evidence (plan and section), then what to do next.
Dates and cut texts come from knowledge.labels; the day a task counts as due from knowledge.due
(`Dues`), the same day reminders and the digest use.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import date
from itertools import compress, repeat
from operator import attrgetter, is_
from typing import Any, cast

from knowledge.deadlines import INVALID
from knowledge.due import SHARED_COLUMNS, Dues
from knowledge.labels import day_label as weekday_date
from knowledge.labels import dmy, shorten
from knowledge.queries import TaskDoc
from knowledge.search import Index
from knowledge.text import fold

__all__ = ["dmy", "weekday_date"]  # answers date things as knowledge.labels does
SNIPPET_CHARS = 110
TITLE_CHARS = 70  # a task's first words in a list line: one phone line, with its date and section
AGENCY_CHARS = 60  # the lead agencies after it
# an impossible date the importer kept as words ("31/4/2026"): shown as such, never as a day or "định kỳ"
INVALID_WORDS = "ngày hạn không hợp lệ trong văn bản"


def days_left(d: date, today: date) -> str:
    """ "còn 22 ngày", "hôm nay", "quá hạn 3 ngày" """
    n = (d - today).days
    if n == 0:
        return "hôm nay là hạn"
    if n == 1:
        return "còn 1 ngày (ngày mai)"
    return f"còn {n} ngày" if n > 0 else f"quá hạn {-n} ngày"


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    return shorten(text, limit)


def agency_names(idx: Index, doc: TaskDoc, role: str, today: date) -> list[str]:
    """The names a task gives for a role as written, with "(nay là …)" where the body merged since."""
    out: list[str] = []
    for aid, written in doc.roles.get(role, []):
        name = written or idx.agency_name(aid)
        info = idx.registry.by_id.get(aid)
        if info is not None and info.successor_id:
            cur = idx.registry.current(aid, today)
            if cur.id != aid:
                name = f"{name} (nay là {cur.name})"
        out.append(name)
    return out


def join_names(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " và " + names[-1]


def cite(idx: Index, doc: TaskDoc, quote: bool = True, whole: bool = False) -> str:
    """ 📄 Kế hoạch 3021/KH-UBND (25/8/2020), mục II.3.a: "…" (the whole task text in a detail view)"""
    plan = idx.plans.get(doc.plan_id)
    label = plan.label if plan else "Kế hoạch"
    where = f", mục {doc.ref}" if doc.ref else ""
    quoted = " ".join(doc.text.split()) if whole else snippet(doc.text, 160)
    text = f": “{quoted}”" if quote else ""
    return f"📄 {label}{where}{text}"


def short_cite(idx: Index, doc: TaskDoc) -> str:
    plan = idx.plans.get(doc.plan_id)
    head = plan.short if plan else "KH"
    return f"{head}, {doc.ref}" if doc.ref else head


def due_phrase(idx: Index, doc: TaskDoc, dues: Dues) -> str:
    """The deadline in the plan's words, the day that counts (knowledge.due), the weekday and the days
    left; why that day is not the plan's (an extension, art. 148); done when it was done."""
    today = dues.today
    dl = doc.deadline()
    if dl is None:
        return "không ghi thời hạn"
    words = f"“{dl.text}”" if dl.text else ""
    if dl.kind == "ongoing":
        return "thường xuyên (không có ngày cụ thể)"
    if dl.kind == INVALID:
        return f"{INVALID_WORDS}: {dl.text} (cần quản trị viên xác định)"
    if dl.kind == "periodic":
        plain = "" if fold(dl.text) in ("", "dinh ky") else f" {words}"
        return f"định kỳ{plain} (kế hoạch chưa ghi ngày cụ thể)"
    if dues.finished(doc):
        return f"{words} — đã hoàn thành".strip(" —")
    if doc.status != "open":
        return f"{words} — nhiệm vụ đã hủy".strip(" —")
    due = dues.of(doc)
    if due is None:
        return words or "không rõ ngày"
    when = f"{weekday_date(due.day)} ({days_left(due.day, today)})"
    if due.extended_from is not None:
        when += f", đã gia hạn từ {dmy(due.extended_from)}"
    elif due.moved:
        when += (f", vì {dmy(due.nominal)} là {due.off_reason or 'ngày nghỉ'} nên hạn tính đến ngày làm việc "
                 "tiếp theo (Điều 148 Bộ luật Dân sự)")
    if dl.kind in ("yearly", "quarterly", "monthly"):
        return f"{words} — lần tới: {when}".strip(" —")
    return f"{words} — {when}".strip(" —") if words else when


def due_short(idx: Index, doc: TaskDoc, dues: Dues) -> str:
    """The deadline in a list line: "hạn 15/12/2026", "thường xuyên", "không ghi hạn", "đã hoàn thành"."""
    dl = doc.deadline()
    if dl is None:
        return "không ghi hạn"
    if dl.kind == "ongoing":
        return "thường xuyên"
    if dl.kind == INVALID:
        return f"{INVALID_WORDS}: {dl.text} (cần quản trị viên xác định)"
    if dues.finished(doc):
        return "đã hoàn thành"
    due = dues.of(doc)
    if due is None:
        return "định kỳ" if doc.status == "open" else "đã hủy"
    mark = " (quá hạn)" if due.day < dues.today else ""
    return f"hạn {dmy(due.day)}{mark}"


def due_tag(idx: Index, doc: TaskDoc, dues: Dues) -> str:
    """What opens a list line, the most urgent fact first: "15/12", "quá hạn 3 ngày", "thường xuyên"."""
    dl = doc.deadline()
    if dl is None:
        return "không ghi hạn"
    if dl.kind == "ongoing":
        return "thường xuyên"
    if dl.kind == INVALID:
        return "hạn không hợp lệ"
    if dues.finished(doc):
        return "đã hoàn thành"
    if doc.status != "open":
        return "đã hủy"
    due = dues.of(doc)
    return "định kỳ" if due is None else day_tag(due.day, dues.today)


def day_tag(day: date, today: date) -> str:
    """A due day as a list line opens with it: "15/12", "15/11/2027", "hôm nay", "quá hạn 7 ngày"."""
    if day < today:
        return f"quá hạn {(today - day).days} ngày"
    if day == today:
        return "hôm nay"
    return f"{day:%d/%m}" if day.year == today.year else dmy(day)


# urgency as one int (rank, then day): above every day's ordinal, so ints sort as the (rank, day) pairs do
_RANK_STEP = date.max.toordinal() + 1
URGENCY_CACHE = "urgency"  # by_urgency's key in Index.cache
SORTED_LISTS_MIN = 500  # lists this long keep their order in the cache (an agency's tasks)...
SORTED_LISTS_MAX = 32  # ... so many of them at most (about 120 kB each for 15,000 tasks)


def urgency(doc: TaskDoc, dues: Dues) -> tuple[int, date]:
    """Sort key of a list a focal point acts on: overdue, then dated (soonest first), then recurring without a
    day, then the rest; done and cancelled last."""
    dl = doc.deadline()
    if dl is None or dl.kind in ("ongoing", INVALID):
        return (3 if dl is not None else 4), date.max
    if dues.finished(doc) or doc.status != "open":
        return 5, date.max
    due = dues.of(doc)
    if due is None:
        return 2, date.max
    return (0 if due.day < dues.today else 1), due.day


def by_urgency(docs: Iterable[TaskDoc], dues: Dues, cache: dict[str, Any] | None = None) -> list[TaskDoc]:
    """`docs` in `urgency` order (a stable sort: ties keep their order). An agency's thousands of tasks share a
    few hundred deadlines: each distinct one (`Dues.sharing`) is dated once, and the keys are plain ints.
    `cache` (the index's): keeps the dated deadlines for the next list while the day and the calendar stay."""
    memo: dict[Hashable, int] = {}
    by_id: dict[int, int] = {}  # an untouched task's key by its id: the next list reads it with one lookup
    lists: dict[tuple[int, ...], tuple[Dues, list[TaskDoc]]] = {}  # long lists sorted for this very Dues
    if cache is not None:
        held = cache.get(URGENCY_CACHE)
        if held is None or held[0] != dues.shared_version:
            held = cache[URGENCY_CACHE] = (dues.shared_version, {}, {}, {})
        memo, by_id, lists = held[1], held[2], held[3]
    docs = list(docs)
    ids = list(map(_task_id, docs))
    # The same long list asked again (an agency's tasks) with the same Dues object (knowledge.due.current_dues
    # keeps one while no progress or calendar row changes): the order found before.
    whole = tuple(ids) if len(ids) >= SORTED_LISTS_MIN else None
    if whole is not None and (found_list := lists.get(whole)) is not None and found_list[0] is dues:
        return list(found_list[1])
    own: dict[Hashable, int] = {}  # tasks with progress rows (keyed by their id): this answer's alone
    sharing, touched = dues.sharing, dues.touched

    def key(doc: TaskDoc) -> int:
        # The index's cache is emptied whenever a task changes, so a task id names the same deadline
        # columns while the memo lives; a task with progress rows is keyed afresh each answer.
        shared = sharing(doc)
        table = own if shared.__class__ is int else memo
        found = table.get(shared)
        if found is None:
            rank, day = urgency(doc, dues)
            found = table[shared] = rank * _RANK_STEP + day.toordinal()
        if table is memo:
            by_id[doc.id] = found
        return found

    # Known keys looked up in C (map over the ids), the rest worked out one by one; then the positions sorted
    # by key: the same stable order as sorting the tasks by `key`, without a Python call per task.
    keys = list(map(by_id.get, ids))
    missing = _missing(keys, ids, touched)
    if missing:  # the columns of the tasks not keyed yet read in C; a deadline seen before is one lookup
        known_cols = list(map(memo.get, map(SHARED_COLUMNS, map(docs.__getitem__, missing))))
        for n, found in zip(missing, known_cols, strict=True):
            tid = ids[n]
            if found is None or tid in touched:
                keys[n] = key(docs[n])
            else:
                keys[n] = by_id[tid] = found
    known = cast(list[int], keys)
    ordered = list(map(docs.__getitem__, sorted(range(len(docs)), key=known.__getitem__)))
    if whole is not None and cache is not None:
        if len(lists) >= SORTED_LISTS_MAX:
            lists.clear()
        lists[whole] = (dues, ordered)
        return list(ordered)
    return ordered


_task_id = attrgetter("id")


def _missing(keys: list[int | None], ids: list[int], touched: frozenset[int]) -> list[int]:
    """Positions whose key must be worked out: not kept yet, or a task with progress rows (never kept)."""
    found = list(compress(range(len(keys)), map(is_, keys, repeat(None))))
    if touched:
        found = sorted(set(found) | set(compress(range(len(ids)), map(touched.__contains__, ids))))
    return found


def who_line(idx: Index, doc: TaskDoc, today: date) -> str:
    """ "Sở Tài chính chủ trì, phối hợp Sở Khoa học và Công nghệ." """
    leads = agency_names(idx, doc, "lead", today)
    coords = agency_names(idx, doc, "coordinator", today)
    line = f"{join_names(leads)} chủ trì" if leads else "Kế hoạch không ghi rõ cơ quan chủ trì"
    if coords:
        line += f", phối hợp {join_names(coords)}"
    return line + "."


def report_line(idx: Index, doc: TaskDoc, today: date) -> str:
    to = agency_names(idx, doc, "report_to", today)
    via = agency_names(idx, doc, "via", today)
    if not to:
        return ""
    line = f"Báo cáo gửi {join_names(to)}"
    if via:
        line += f" (qua {join_names(via)})"
    return line + "."


def task_card(idx: Index, doc: TaskDoc, dues: Dues) -> str:
    """Everything about one task, for a picked choice or a plain question: its whole text, not cut."""
    lines = [who_line(idx, doc, dues.today), cite(idx, doc, whole=True)]
    rep = report_line(idx, doc, dues.today)
    if rep:
        lines.append(rep)
    lines.append(f"Hạn: {due_phrase(idx, doc, dues)}.")
    return "\n".join(lines)


def list_line(idx: Index, n: int, doc: TaskDoc, dues: Dues, with_lead: bool = True, note: str = "",
              tag: str = "") -> str:
    """ "3. 15/12 · Tổng hợp báo cáo tình hình… — KH 3021, III.2 — Sở Khoa học và Công nghệ": a phone line,
    the deadline or state first (`tag`: the day a dated list counts), a short title, the agencies after
    (`note` too: "phối hợp")."""
    parts = [f"{n}. {tag or due_tag(idx, doc, dues)} · {snippet(doc.text, TITLE_CHARS)}", short_cite(idx, doc)]
    if with_lead:
        leads = agency_names(idx, doc, "lead", dues.today)
        if leads:
            parts.append(snippet(", ".join(leads), AGENCY_CHARS))
    if note:
        parts.append(note)
    return " — ".join(parts)
