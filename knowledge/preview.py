"""A plan file read as a dry run, for the admin to check before it is stored ("Lưu") or dropped.

What it shows: number, issuer, date, title; how many tasks; the leads and deadlines found; the tasks
with no lead or no deadline; what the importer left out and why; and for a new version of a stored
plan, which tasks are added, changed (how) and removed. Nothing is written: the store is read in a
transaction that is rolled back (knowledge.plans.Importer with dry_run).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from knowledge.db import Database
from knowledge.importer import ParsedPlan, ParsedTask
from knowledge.models import Task
from knowledge.plans import Importer, ImportResult

MAX_NAMES = 6  # leads and deadlines listed by name; the rest are counted
MAX_REFS = 8  # sections listed for "no lead" and the like
MAX_CHANGES = 8


@dataclass
class Preview:
    result: ImportResult
    added: list[str] = field(default_factory=list)  # refs
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # "II.3: hạn 31/12/2026 → 15/01/2027"

    @property
    def parsed(self) -> ParsedPlan:
        return self.result.parsed

    def text(self, file_name: str) -> str:
        p = self.parsed
        head = f"{p.kind} {p.number}" if p.number else f"{p.kind} (không có số)"
        lines = [f"📄 Xem trước tệp {file_name}: {head}"]
        lines.append(f"Cơ quan ban hành: {p.issuer or 'không đọc được'}")
        lines.append(f"Ngày ban hành: {_dmy(p.issued_on) if p.issued_on else 'không đọc được'}")
        lines.append(f"Trích yếu: {_cut(p.title, 160) or 'không đọc được'}")
        n = len(p.tasks)
        with_lead = sum(1 for t in p.tasks if t.lead)
        with_deadline = sum(1 for t in p.tasks if t.deadline is not None)
        lines.append(f"Số nhiệm vụ: {n} (có chủ trì: {with_lead}, có hạn: {with_deadline})")
        if p.monitor:
            lines.append(f"Cơ quan theo dõi, đôn đốc: {p.monitor}")
        leads = Counter(name for t in p.tasks for name in t.lead)
        if leads:
            lines.append("Chủ trì: " + _counted(leads))
        deadlines = Counter(_deadline_label(t) for t in p.tasks if t.deadline is not None)
        if deadlines:
            lines.append("Hạn: " + _counted(deadlines))
        no_lead = [t.ref or "?" for t in p.tasks if not t.lead]
        if no_lead:
            lines.append(f"Chưa rõ chủ trì ({len(no_lead)}): {_refs(no_lead)}")
        no_deadline = [t.ref or "?" for t in p.tasks if t.deadline is None]
        if no_deadline:
            lines.append(f"Không ghi hạn ({len(no_deadline)}): {_refs(no_deadline)}")
        left_out = list(getattr(p, "left_out", []) or [])
        if left_out:
            lines.append(f"Bỏ qua ({len(left_out)}):")
            for x in left_out[:MAX_REFS]:
                ref, text, reason = getattr(x, "ref", "") or "?", getattr(x, "text", ""), getattr(x, "reason", "")
                lines.append(f"• {ref}: {_cut(text, 60)} — {reason}")
        else:
            lines.append("Bỏ qua: không có đoạn nào.")
        lines.append(self._version_line())
        lines.append('Bấm "Lưu" để nhập vào kho, "Hủy" để bỏ.')
        return "\n".join(lines)

    def _version_line(self) -> str:
        r = self.result
        if r.status == "new":
            return "Kế hoạch mới, chưa có trong kho."
        if r.status == "unchanged":
            return "Kế hoạch này đã có trong kho, nội dung không đổi."
        parts = [f"Đã có bản cũ trong kho; bản mới: thêm {len(self.added)}, sửa {len(self.changed)}, "
                 f"xóa {len(self.removed)} nhiệm vụ."]
        if self.added:
            parts.append(f"Thêm: {_refs(self.added)}")
        if self.removed:
            parts.append(f"Xóa: {_refs(self.removed)}")
        parts += [f"Sửa {c}" for c in self.changed[:MAX_CHANGES]]
        if len(self.changed) > MAX_CHANGES:
            parts.append(f"… và {len(self.changed) - MAX_CHANGES} việc sửa khác.")
        if r.hand_kept:
            parts.append(f"Giữ việc thêm tay: {_refs(r.hand_kept)}")
        if r.admin_kept:
            parts.append(f"Giữ thay đổi của quản trị viên: {', '.join(r.admin_kept[:MAX_REFS])}"
                         + (f", … (+{len(r.admin_kept) - MAX_REFS})" if len(r.admin_kept) > MAX_REFS else ""))
        parts += [f"⚠️ {c}" for c in r.admin_overridden[:MAX_CHANGES]]
        return "\n".join(parts)


def _dmy(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def _cut(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def _counted(counter: Counter[str]) -> str:
    items = counter.most_common()
    shown = ", ".join(f"{name} ({n})" if n > 1 else name for name, n in items[:MAX_NAMES])
    return shown + (f" và {len(items) - MAX_NAMES} khác" if len(items) > MAX_NAMES else "")


def _refs(refs: list[str]) -> str:
    return ", ".join(refs[:MAX_REFS]) + (f", … (+{len(refs) - MAX_REFS})" if len(refs) > MAX_REFS else "")


def _deadline_label(t: ParsedTask) -> str:
    d = t.deadline
    assert d is not None
    if d.due is not None and d.kind == "date":
        return _dmy(d.due)
    return _cut(d.text, 40) or d.kind


async def dry_run(db: Database, data: bytes, name: str, actor: str, max_bytes: int,
                  worker_seconds: float | None = None) -> Preview:
    """Read a file as the importer would store it, store nothing. ImportRefused for bad files.
    With `worker_seconds` the parse runs in a worker process, so the bot keeps answering meanwhile."""
    importer = await Importer.create(db, actor=actor, max_bytes=max_bytes)
    result = await importer.import_bytes(data, name, dry_run=True, worker_seconds=worker_seconds)
    preview = Preview(result)
    if result.status != "updated" or result.plan_id is None:
        return preview
    async with db.session() as s:
        old_tasks = (await s.scalars(select(Task).where(Task.plan_id == result.plan_id)
                                     .options(selectinload(Task.agencies)).order_by(Task.position))).all()
        old = {t.ref or f"#{t.position}": (" ".join(t.text.split()),
                                           [ta.written for ta in t.agencies if ta.role == "lead"],
                                           (t.deadline_text or "")) for t in old_tasks}
    new = {t.ref or f"#{i}": (" ".join(t.text.split()), list(t.lead), t.deadline.text if t.deadline else "")
           for i, t in enumerate(result.parsed.tasks)}
    kept = {k.split(" (", 1)[0]: k for k in result.admin_kept}  # the admin's value stays: not a change
    overridden = {c.split(":", 1)[0] for c in result.admin_overridden}  # said apart, with the admin's value
    preview.added = [r for r in new if r not in old]
    preview.removed = [r for r in old if r not in new and r not in result.hand_kept]
    for ref in new:
        if ref not in old or new[ref] == old[ref]:
            continue
        (t_old, l_old, d_old), (t_new, l_new, d_new) = old[ref], new[ref]
        what = []
        if d_old != d_new and "hạn" not in kept.get(ref, "") and ref not in overridden:
            what.append(f"hạn “{d_old or 'không ghi'}” → “{d_new or 'không ghi'}”")
        if l_old != l_new and "chủ trì" not in kept.get(ref, ""):
            what.append(f"chủ trì {', '.join(l_old) or '—'} → {', '.join(l_new) or '—'}")
        if t_old != t_new and "nội dung" not in kept.get(ref, ""):
            what.append("nội dung")
        if what:
            preview.changed.append(f"{ref}: {'; '.join(what)}")
    return preview
