"""Layouts seen in the real corpus, second round (tests/data/layouts4, gold written first): each plan read right
by the parser, and the same tasks stored on both databases."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from knowledge.agencies import Registry, agency_key
from knowledge.db import Database
from knowledge.deadlines import deadline_json
from knowledge.export import task_json
from knowledge.importer import NameFinder, parse_path, seed_registry
from knowledge.models import Task
from knowledge.plans import Importer
from knowledge.text import fold
from tests.import_helpers import DATA

FOLDER = DATA / "layouts4"
GOLD = yaml.safe_load((FOLDER / "gold.yaml").read_text(encoding="utf-8"))["plans"]
TODAY = date(2026, 1, 5)


def _words(name: str) -> set[str]:
    return set(agency_key(name).split())


def _same(a: str, b: str) -> bool:
    """One body written longer or shorter ("các Đoàn thể" / "Các đoàn thể")."""
    return agency_key(a) == agency_key(b) or _words(a) <= _words(b) or _words(b) <= _words(a)


def _check(gold: dict[str, Any], tasks: list[dict[str, Any]]) -> None:
    for g in gold["tasks"]:
        key = fold(g["key"])
        hits = [t for t in tasks if key in fold(t["text"])]
        assert hits, f"{g['ref']}: no task holds {g['key']!r}"
        t = hits[0]
        assert len(t["lead"]) == len(g["lead"]) and all(
            any(_same(w, x) for x in t["lead"]) for w in g["lead"]), (g["ref"], g["lead"], t["lead"])
        for c in g.get("coordinators") or []:
            assert any(_same(c, x) for x in t["coordinators"]), (g["ref"], c, t["coordinators"])
        want, got = g["deadline"], t["deadline"]
        if want is None:
            assert got is None, (g["ref"], got)
        elif want["kind"] in ("ongoing", "periodic"):
            assert got and got["kind"] in ("ongoing", "periodic"), (g["ref"], got)
        else:
            assert got and got["due"] == want["due"], (g["ref"], want, got)


@pytest.mark.parametrize("gold", GOLD, ids=[g["file"] for g in GOLD])
def test_layout_plan_is_read_as_its_gold(gold: dict[str, Any]) -> None:
    plan = parse_path(FOLDER / gold["file"], NameFinder(seed_registry()))
    want = gold["plan"]
    assert (plan.number, plan.issued_on.isoformat() if plan.issued_on else None) == (want["number"], want["date"])
    assert plan.issuer and plan.issuer.startswith(want["issuer"])  # a place may follow "... tỉnh"
    tasks = [{"text": t.text, "lead": t.lead, "coordinators": t.coordinators,
              "deadline": deadline_json(t.deadline, TODAY)} for t in plan.tasks]
    _check(gold, tasks)


async def test_layout_plans_are_stored_as_read_on_both_databases(db: Database) -> None:
    importer = await Importer.create(db)
    for gold in GOLD:
        r = await importer.import_path(FOLDER / gold["file"])
        assert r.status == "new"
    async with db.session() as s:
        registry = await Registry.load(s)
        stored = (await s.scalars(select(Task).order_by(Task.position)
                                  .options(selectinload(Task.agencies), selectinload(Task.plan)))).all()
    by_plan: dict[str, list[dict[str, Any]]] = {}
    for task in stored:
        by_plan.setdefault(task.plan.number or "", []).append(task_json(task, registry, TODAY))
    for gold in GOLD:
        _check(gold, by_plan[gold["plan"]["number"]])

