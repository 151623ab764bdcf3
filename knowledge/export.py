"""Tasks as JSON: the shape `nhacviec import --json` prints and `ask --json` reuses.

Names: an agency the registry knows (not a group) by its full registry name; groups and bodies the
registry does not know by the name as the plan wrote it, cleaned.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from knowledge.agencies import Registry
from knowledge.deadlines import deadline_json
from knowledge.due import task_deadline
from knowledge.importer.model import ParsedPlan, ParsedTask
from knowledge.importer.names import OFFICE_TITLE, NameFinder, shadow
from knowledge.models import Task
from knowledge.text import clean_markup

_FINDERS: dict[int, NameFinder] = {}


def _finder(registry: Registry) -> NameFinder:
    """One NameFinder per registry object (building one indexes every name)."""
    f = _FINDERS.get(id(registry))
    if f is None or f.registry is not registry:
        f = NameFinder(registry)
        _FINDERS.clear()
        _FINDERS[id(registry)] = f
    return f


def display_name(written: str, finder: NameFinder) -> str:
    """The name to show for an agency as written (see the module docstring)."""
    written = clean_markup(written)
    if OFFICE_TITLE.match(shadow(written)):
        return written[:1].upper() + written[1:]  # "Chủ tịch UBND tỉnh" is the office, not the body
    known = finder.canonical(written)
    if known and not known[1]:
        return known[0]
    return written[:1].upper() + written[1:]


def _names(written: list[str], finder: NameFinder) -> list[str]:
    out: list[str] = []
    for w in written:
        n = display_name(w, finder)
        if n not in out:
            out.append(n)
    return out


def parsed_task_json(t: ParsedTask, registry: Registry, today: date) -> dict[str, Any]:
    f = _finder(registry)
    out = {"ref": t.ref, "text": t.text, "lead": _names(t.lead, f), "coordinators": _names(t.coordinators, f),
           "report_to": _names(t.report_to, f), "deadline": deadline_json(t.deadline, today)}
    if t.problems:  # only then: a sound task keeps the contract's shape
        out["problems"] = list(t.problems)
    return out


def parsed_plan_json(plan: ParsedPlan, file: str, registry: Registry, today: date) -> dict[str, Any]:
    return {"file": file, "number": plan.number, "kind": plan.kind, "issuer": plan.issuer,
            "date": plan.issued_on.isoformat() if plan.issued_on else None, "title": plan.title,
            "signer": plan.signer, "tasks": [parsed_task_json(t, registry, today) for t in plan.tasks],
            "problems": list(plan.problems),
            "left_out": [{"ref": x.ref, "text": x.text, "reason": x.reason} for x in plan.left_out]}


def task_json(task: Task, registry: Registry, today: date) -> dict[str, Any]:
    """A stored task (with .agencies and .plan loaded) in the import contract's shape, plus id and plan."""
    f = _finder(registry)
    by_role: dict[str, list[str]] = {"lead": [], "coordinator": [], "report_to": [], "via": []}
    for ta in task.agencies:
        by_role.setdefault(ta.role, []).append(ta.written)
    plan = task.plan
    return {"id": task.id, "ref": task.ref, "text": task.text, "lead": _names(by_role["lead"], f),
            "coordinators": _names(by_role["coordinator"], f), "report_to": _names(by_role["report_to"], f),
            "via": _names(by_role["via"], f), "deadline": deadline_json(task_deadline(task), today),
            "plan": {"number": plan.number, "title": plan.title} if plan is not None else None}
