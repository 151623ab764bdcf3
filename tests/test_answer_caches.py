"""What answers keep between questions for speed follows the store: the row masks phase 1 narrows with on big
stores give back exactly the posting lists they were made from (also after the index changed in place), and the
calendar and progress rows kept between answers (knowledge.due.current_dues) are read again after a write here,
at once, and after another instance's write, within DUES_RECHECK_S."""

from __future__ import annotations

import asyncio
from array import array
from datetime import date

from sqlalchemy import select, text

from core.clock import FixedClock
from core.context import AppContext
from knowledge import changes
from knowledge.calendar import set_day
from knowledge.db import Database
from knowledge.due import DUES_RECHECK_S, current_dues
from knowledge.models import Plan, Task, TaskAgency
from knowledge.plans import import_file
from knowledge.search import Index, get_index, invalidate
from tests.questions_fixtures import TODAY, load_sample
from tests.test_index_updates import KH130


def _check_masks(idx: Index) -> int:
    checked = 0
    for word in idx.postings.held_words():
        slots = idx.postings[word]
        python, numpy = idx.docs.row_mask(list(slots)), idx.docs.row_mask(array("i", slots), numpy_from=0)
        assert python == numpy, word
        assert idx.docs.slots_of(numpy) == list(slots), word
        assert idx.docs.slots_of(numpy, 2) == list(slots)[:2], word
        checked += 1
    return checked


async def test_row_masks_give_back_the_posting_lists_also_after_changes(db: Database) -> None:
    await load_sample(db)
    ctx = AppContext(db=db, clock=FixedClock.on(TODAY))
    idx = await get_index(ctx)
    assert _check_masks(idx) > 100
    # A plan added, then the first plan deleted: every later task moves to another row.
    await import_file(db, KH130)
    async with db.session() as s:
        first = (await s.scalars(select(Plan).order_by(Plan.id))).first()
        assert first is not None
        await s.delete(first)
        await s.commit()
    invalidate(ctx)
    assert await get_index(ctx) is idx and idx.updates >= 1
    assert _check_masks(idx) > 100


async def test_calendar_and_progress_kept_between_answers_follow_every_write(db: Database) -> None:
    await load_sample(db)
    ctx = AppContext(db=db, clock=FixedClock.on(TODAY))
    idx = await get_index(ctx)
    first = await current_dues(ctx, TODAY, idx)
    assert await current_dues(ctx, TODAY, idx) is first  # nothing written: the same object, no store read
    async with db.session() as s:
        task_id = int((await s.scalars(select(Task.id).join(TaskAgency).where(TaskAgency.role == "lead"))).first())
        await changes.complete(s, task_id, None, TODAY, by="t")
        await s.commit()
    done = await current_dues(ctx, TODAY, idx)  # written here: read again at once
    assert done is not first and done.progress.is_done(task_id, None)
    async with db.session() as s:
        await set_day(s, date(2026, 12, 7), working=False, note="nghỉ bù")
        await s.commit()
    off = await current_dues(ctx, TODAY, idx)
    assert not off.calendar.is_working(date(2026, 12, 7)) and off.calendar.due_day(date(2026, 12, 7)) == date(
        2026, 12, 8
    )
    # Another instance writes (plain SQL on its own connection: no session of this process sees it).
    async with db.engine.begin() as conn:
        await conn.execute(text("DELETE FROM task_progress"))
    await asyncio.sleep(DUES_RECHECK_S)
    assert not (await current_dues(ctx, TODAY, idx)).progress.is_done(task_id, None)
