"""Layouts seen in the real corpus, third round (tests/data/layouts5, gold written first): a legal-document
site's page saved as text (its notices before the document and its footer after it, bold markers alone on
their lines, an appendix table one cell per line headed "Nội dung thực hiện"), and a plan-wide period under
"I. MỤC TIÊU" given to the tasks without a time of their own; read by the parser and stored on both databases."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from knowledge.agencies import Registry
from knowledge.db import Database
from knowledge.deadlines import deadline_json
from knowledge.export import task_json
from knowledge.importer import NameFinder, parse_path, seed_registry
from knowledge.models import Task
from knowledge.plans import Importer
from tests.import_helpers import DATA
from tests.test_import_layouts4 import TODAY, _check

FOLDER = DATA / "layouts5"
GOLD = yaml.safe_load((FOLDER / "gold.yaml").read_text(encoding="utf-8"))["plans"]


@pytest.mark.parametrize("gold", GOLD, ids=[g["file"] for g in GOLD])
def test_layout_plan_is_read_as_its_gold(gold: dict[str, Any]) -> None:
    plan = parse_path(FOLDER / gold["file"], NameFinder(seed_registry()))
    want = gold["plan"]
    assert (plan.number, plan.issued_on.isoformat() if plan.issued_on else None) == (want["number"], want["date"])
    assert plan.issuer == want["issuer"]
    tasks = [{"text": t.text, "lead": t.lead, "coordinators": t.coordinators,
              "deadline": deadline_json(t.deadline, TODAY)} for t in plan.tasks]
    _check(gold, tasks)
    assert len(tasks) == len(gold["tasks"]), [t["text"][:40] for t in tasks]  # nothing of the site's page


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
