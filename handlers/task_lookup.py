"""Finding the task an admin means: by plan and section ("KH 3021 II.3.a", "II.1 KH 125", "130 II.1"),
by its id ("#57"), by its number in the list shown last in this chat ("3"), or by words of its text.
Returns the task and what is left of the text (a date, a reason, a new name)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.admin_common import Refused, find_plan, plan_name
from knowledge.models import Plan, Task
from knowledge.text import fold

_ID = re.compile(r"(?<!\w)#(\d+)\b")
_PLAN = re.compile(r"(?:\bKH|\bkế hoạch|\bke hoach)\s*(?:số\s*|so\s*)?(\d+(?:/[\w\-]+)?)", re.I)
_LEADING_NUMBER = re.compile(r"^\s*(\d+(?:/[\w\-]+)?)\s+(?=[IVXLC\d])")
_REF = re.compile(r"(?<![\w/.])((?:[IVXLC]+|\d+)(?:\.(?:[IVXLC]+|\d+|[a-zđ]))+|[IVXLC]+)(?![\w/])")
_NOISE = re.compile(r"^(?:việc|viec|nhiệm vụ|nhiem vu|mục|muc|của|cua|thành|thanh|là|la|đến|den|sang)\s+", re.I)
_TASK_DATA = re.compile(r"^(?:q:\w+|vt:\w+):(\d+)$")  # choices that name a task (answers' and ours)
MAX_CANDIDATES = 8
MIN_WORD = 2


@dataclass
class Found:
    task: Task | None
    rest: str
    candidates: list[Task] = field(default_factory=list)


def strip_noise(text: str) -> str:
    text = text.strip(" :,-")
    while (m := _NOISE.match(text)) is not None:
        text = text[m.end():].strip(" :,-")
    return text


async def find_task(session: AsyncSession, text: str, shown: list[str] | None = None) -> Found:
    """The task `text` names, and the rest of the text. Refused when nothing (or an unknown plan or
    section) matches; several candidates when words match more than one task."""
    raw = text.strip()
    if not raw:
        raise Refused("Xin cho biết việc nào: số kế hoạch và mục (ví dụ KH 3021 II.3.a), #mã, hoặc vài từ của việc.")
    m = _ID.search(raw)
    if m:
        task = await session.get(Task, int(m.group(1)))
        if task is None:
            raise Refused(f"Không có nhiệm vụ mã #{m.group(1)}.")
        return Found(task, strip_noise(raw[:m.start()] + raw[m.end():]))
    head, _, tail = raw.partition(" ")
    if head.isdigit() and shown is not None and not _REF.match(tail.strip()):
        n = int(head)
        if not 1 <= n <= len(shown):
            raise Refused(f"Danh sách vừa xem không có số {n}." if shown else
                          "Chưa có danh sách nào vừa xem; xin gõ số kế hoạch và mục (ví dụ KH 3021 II.3.a).")
        dm = _TASK_DATA.match(shown[n - 1])
        task = await session.get(Task, int(dm.group(1))) if dm else None
        if task is None:
            raise Refused(f"Mục {n} của danh sách vừa xem không phải một nhiệm vụ.")
        return Found(task, strip_noise(tail))
    plan_m = _PLAN.search(raw) or _LEADING_NUMBER.match(raw)
    if plan_m:
        plan = await find_plan(session, plan_m.group(1))
        rest = raw[:plan_m.start()] + " " + raw[plan_m.end():]
        ref_m = _REF.search(rest)
        if ref_m is None:
            raise Refused(f"Xin cho biết mục của việc trong {plan_name(plan)}, ví dụ: KH {plan_m.group(1)} II.1.")
        ref = ref_m.group(1)
        task = await _by_ref(session, plan, ref)
        return Found(task, strip_noise(rest[:ref_m.start()] + " " + rest[ref_m.end():]))
    return await _search(session, raw)


async def _by_ref(session: AsyncSession, plan: Plan, ref: str) -> Task:
    tasks = list((await session.scalars(select(Task).where(Task.plan_id == plan.id).order_by(Task.position))).all())
    wanted = fold(ref, expand=False).replace(" ", "").rstrip(".")
    hits = [t for t in tasks if fold(t.ref, expand=False).replace(" ", "").rstrip(".") == wanted]
    if not hits:
        refs = ", ".join(t.ref for t in tasks[:12] if t.ref) or "không có mục nào"
        raise Refused(f"{plan_name(plan)} không có mục {ref}. Các mục có: {refs}.")
    return hits[0]


async def _search(session: AsyncSession, raw: str) -> Found:
    words = [w for w in fold(strip_noise(raw), expand=False).split() if len(w) >= MIN_WORD]
    if not words:
        raise Refused("Xin cho biết việc nào: số kế hoạch và mục (ví dụ KH 3021 II.3.a), #mã, hoặc vài từ của việc.")
    rows = (await session.execute(select(Task.id, Task.text).order_by(Task.plan_id, Task.position))).all()
    ids = [tid for tid, text in rows if all(w in fold(text, expand=False).split() for w in words)]
    if not ids:
        raise Refused(f"Không tìm thấy việc nào có “{raw}”. Thử số kế hoạch và mục, ví dụ KH 3021 II.3.a.")
    tasks = [t for t in [await session.get(Task, i) for i in ids[:MAX_CANDIDATES]] if t is not None]
    if len(ids) == 1:
        return Found(tasks[0], "")
    return Found(None, "", tasks)
