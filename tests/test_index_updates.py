"""The search index follows the store plan by plan (knowledge.store_changes): a change shows in the next
answer without a rebuild, other instances see it within RECHECK_S, and an index updated through a series
of changes is the index a fresh build of the same store makes (same slots, lists, figures and answers)."""

from __future__ import annotations

import asyncio
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from core.clock import FixedClock
from core.context import AppContext
from handlers.questions import answer
from knowledge import changes
from knowledge.db import Database
from knowledge.deadlines import Deadline
from knowledge.models import Agency, Plan, Task
from knowledge.plans import import_file
from knowledge.search import RECHECK_S, Index, builds, get_index, invalidate
from tests.conftest import SEEDS, needs_seeds
from tests.questions_fixtures import TODAY, load_sample

HERE = Path(__file__).resolve().parent
KH130 = HERE / "data" / "kh130_admin.txt"
BUDGET_Q = "Sở Tài chính bố trí kinh phí chuyển đổi số hạn khi nào?"
STAFF_Q = "rà soát sắp xếp biên chế cán bộ phụ trách công nghệ thông tin hạn khi nào?"


async def _task_id(db: Database, words: str) -> int:
    async with db.session() as s:
        return int((await s.scalars(select(Task.id).where(Task.text.like(f"%{words}%")))).one())


async def test_an_import_and_a_deadline_change_show_in_the_next_answer_without_a_rebuild(db: Database) -> None:
    await load_sample(db)
    ctx = AppContext(db=db, clock=FixedClock.on(TODAY))
    other = AppContext(db=db, clock=FixedClock.on(TODAY))  # another instance on the same store
    idx, other_idx = await get_index(ctx), await get_index(other)
    assert "31/12/2026" not in (await answer(ctx, BUDGET_Q)).text

    await import_file(db, KH130)
    invalidate(ctx)
    assert "31/12/2026" in (await answer(ctx, BUDGET_Q)).text

    async with db.session() as s:
        await changes.set_deadline(s, await _task_id(db, "bố trí kinh phí chuyển đổi số"),
                                   Deadline("date", date(2027, 9, 17), None, None, "trước ngày 17/9/2027"), by="t")
        await s.commit()
    invalidate(ctx)
    ans = await answer(ctx, BUDGET_Q)
    assert ans.text.startswith("Hạn: “trước ngày 17/9/2027” — thứ Sáu 17/09/2027"), ans.text
    assert await get_index(ctx) is idx and builds(ctx) == 1 and idx.updates == 2

    # The other instance was told nothing: it reads the store's change log within RECHECK_S.
    await asyncio.sleep(RECHECK_S)
    assert "17/09/2027" in (await answer(other, BUDGET_Q)).text
    assert await get_index(other) is other_idx and builds(other) == 1 and other_idx.updates == 1

    # A re-import with a new date, and a plan deleted: still in place.
    await import_file(db, KH130.read_text(encoding="utf-8").replace("15/01/2027", "20/03/2027").encode(),
                      "kh130.txt")
    invalidate(ctx)
    assert "20/03/2027" in (await answer(ctx, STAFF_Q)).text
    async with db.session() as s:
        plan = (await s.scalars(select(Plan).where(Plan.number == "130/KH-UBND"))).one()
        await s.delete(plan)
        await s.commit()
    invalidate(ctx)
    assert "20/03/2027" not in (await answer(ctx, STAFF_Q)).text
    assert builds(ctx) == 1 and not [d for d in idx.docs if "biên chế cán bộ phụ trách" in d.text]


def _snapshot(idx: Index) -> dict[str, Any]:
    """Everything a question reads from an index, by value."""
    terms: set[str] = set()
    for d in idx.docs:
        toks = idx.folded[idx.by_id[d.id]].split()
        terms.update(toks)
        terms.update(f"{a} {b}" for a, b in pairwise(toks))
    return {
        "slots": list(idx.docs.slots), "docs": [(d.id, d.text, d.roles, d.deadline(), d.status) for d in idx.docs],
        "folded": list(idx.docs.texts), "by_id": idx.by_id, "plans": list(idx.plans.items()),
        "postings": {t: list(idx.postings.get(t, ())) for t in sorted(terms)},
        "held": sorted(idx.postings.held_words()), "avg_len": idx.avg_len, "vocab": idx.vocab, "dated": idx.dated,
        "recurring": idx.recurring, "by_agency": idx.by_agency, "by_doer": idx.by_doer, "by_lead": idx.by_lead,
        "by_coord": idx.by_coord, "learned": idx.learned, "titles": idx._titles, "numbers": idx._numbers,
    }


@needs_seeds
async def test_an_updated_index_ranks_as_a_fresh_build(db: Database) -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        await import_file(db, path)
    spec = yaml.safe_load((HERE / "questions_extra.yaml").read_text(encoding="utf-8"))
    ctx = AppContext(db=db, clock=FixedClock.on(spec["today"]))
    idx = await get_index(ctx)
    async with db.session() as s:
        ids = list((await s.scalars(select(Task.id).order_by(Task.id))).all())
        agencies = {a.name: a.id for a in (await s.scalars(select(Agency))).all()}

    async def step(change: Any) -> None:
        async with db.session() as s:
            await change(s)
            await s.commit()
        invalidate(ctx)
        await get_index(ctx)

    await import_file(db, KH130)
    invalidate(ctx)
    await get_index(ctx)
    await step(lambda s: changes.set_deadline(s, ids[3], Deadline("date", date(2027, 2, 26), None, None,
                                                                   "trước ngày 26/02/2027"), by="t"))
    await step(lambda s: changes.edit_text(s, ids[7], "Sở Nội vụ chủ trì kéo chuyên gia giỏi về tỉnh làm việc.",
                                           by="t"))
    await step(lambda s: changes.delete_task(s, ids[11], by="t"))
    await step(lambda s: changes.reassign(s, ids[15], {"lead": [(agencies["Sở Y tế"], "Sở Y tế")]}, by="t"))
    await step(lambda s: changes.complete(s, ids[20], None, date(2026, 11, 20), by="t"))  # progress only
    await step(lambda s: changes.cancel(s, ids[25], by="t"))

    async def add(s: Any) -> None:
        plan_id = (await s.get(Task, ids[30])).plan_id
        await changes.add_task(s, plan_id, "IV.9", "Sở Xây dựng nạo vét luồng cảng cá Cà Ná trước ngày 30/6/2027.",
                               {"lead": [(agencies["Sở Xây dựng"], "Sở Xây dựng")]},
                               Deadline("date", date(2027, 6, 30), None, None, "trước ngày 30/6/2027"), by="t",
                               fingerprint="bench-added")
    await step(add)
    text = KH130.read_text(encoding="utf-8").replace("15/01/2027", "20/03/2027")
    await import_file(db, "\n".join(x for x in text.splitlines() if not x.startswith("3. ")).encode(), "kh130.txt")
    invalidate(ctx)
    assert await get_index(ctx) is idx and builds(ctx) == 1 and idx.updates == 8

    fresh = AppContext(db=db, clock=FixedClock.on(spec["today"]))
    assert _snapshot(idx) == _snapshot(await get_index(fresh))
    for q in spec["questions"]:
        a, b = await answer(ctx, q["q"]), await answer(fresh, q["q"])
        assert (a.text, [t.id for t in a.tasks]) == (b.text, [t.id for t in b.tasks]), q["q"]
