"""Do two versions of the answerer give the same answers? Dumps every answer as `ask --json` shows it.

    .venv/bin/python bench/answers_same.py --out NEW.jsonl [--sizes 100000] [--against OLD.jsonl]
    .venv/bin/python bench/answers_same.py --diff OLD.jsonl NEW.jsonl

Speed work on the index (knowledge/search.py, knowledge/due.py, handlers/render.py) must not change a single
answer. This answers, in-process through `handlers.questions.answer`:
  1. every question file over the sample plans (../shared/eval/questions.yaml, tests/questions_*.yaml,
     tests/blind/seeds_*.yaml but the held-back *hold3* ones), each on its own `today`;
  2. on generated stores of the bench's sizes (bench/bench_answer.py's generator, the same seed): the bench's
     question mix plus list questions (windows, overdue, an agency's tasks with a role or deadline filter),
     then again after some tasks were marked done, extended, cancelled and a day declared off (the paths
     that date tasks one by one and the caches that must follow changes).
Each answer is one JSON line: the file or store, the question, intent, text, tasks and suggestions (long task
lists as ids plus a hash of their JSON). Run it from the version to compare (a `git archive` of it with this
file copied in): the code imported is the one beside this file.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import yaml  # noqa: E402
from sqlalchemy import select  # noqa: E402

from core.clock import FixedClock  # noqa: E402
from core.context import AppContext  # noqa: E402
from core.settings import async_url  # noqa: E402
from handlers.questions import answer  # noqa: E402
from knowledge.agencies import seed  # noqa: E402
from knowledge.calendar import set_day  # noqa: E402
from knowledge.changes import cancel, complete, extend_task  # noqa: E402
from knowledge.db import Database  # noqa: E402
from knowledge.models import Task  # noqa: E402
from knowledge.plans import import_file  # noqa: E402
from knowledge.search import invalidate  # noqa: E402

SHARED = Path(os.environ.get("NHACVIEC_TEST_SHARED", ROOT.parent / "shared"))
if not (SHARED / "seeds").is_dir():
    SHARED = Path("/work/shared")
SEEDS = SHARED / "seeds"
os.environ.setdefault("NHACVIEC_BENCH_SEEDS", str(SEEDS))  # the bench draws its words from the samples

import bench_answer  # noqa: E402  (reads NHACVIEC_BENCH_SEEDS on import)

LONG = 30  # task lists longer than this are dumped as ids and a hash
LISTS = [
    "Tháng này tôi phải làm gì?",
    "tháng này có hạn nào",
    "tuần sau có việc gì đến hạn",
    "tuần này có hạn gì",
    "việc nào quá hạn?",
    "Sở Nội vụ có việc nào quá hạn?",
    "các việc quá hạn về chuyển đổi số",
    "Sở Khoa học và Công nghệ phối hợp những việc gì?",
    "Sở Tài chính chủ trì những việc gì có hạn?",
    "Sở Thông tin và Truyền thông có những nhiệm vụ gì?",
    "Sở Nội vụ phải làm gì về thi đua?",
    "Các sở có việc gì?",
    "Ủy ban nhân dân các huyện có những nhiệm vụ gì",
    "tháng 1/2027 có hạn nào",
    "quý 1 năm 2027 có việc gì đến hạn",
    "ngày 15/12 có hạn gì",
    "hôm nay có hạn gì",
    "30 ngày tới có việc gì",
    "Sở Tài chính có việc nào đến hạn trong tháng này",
    "năm 2027 có những hạn nào",
    "việc nào sắp đến hạn",
]


def _tasks(ans_json: dict[str, Any], key: str) -> Any:
    items = ans_json[key]
    if len(items) <= LONG:
        return items
    blob = json.dumps(items, ensure_ascii=False, sort_keys=True).encode()
    return {"ids": [t["id"] for t in items], "sha": hashlib.sha256(blob).hexdigest()}


async def _ask(ctx: AppContext, where: str, question: str) -> dict[str, Any]:
    a = (await answer(ctx, question)).as_json()
    return {
        "where": where,
        "q": question,
        "intent": a["intent"],
        "answer": a["answer"],
        "tasks": _tasks(a, "tasks"),
        "suggestions": _tasks(a, "suggestions"),
    }


def question_files() -> list[Path]:
    files = [
        SHARED / "eval" / "questions.yaml",
        *sorted((ROOT / "tests").glob("questions_*.yaml")),
        *sorted((ROOT / "tests" / "blind").glob("seeds_*.yaml")),
    ]
    return [f for f in files if f.exists() and "hold3" not in f.name]


async def samples(tmp: str) -> list[dict[str, Any]]:
    db = Database(async_url(f"sqlite:///{tmp}/samples.db"))
    await db.start()
    async with db.session() as s:
        await seed(s)
        await s.commit()
    for f in sorted(SEEDS.glob("*.txt")):
        await import_file(db, f, actor="check")
    out = []
    for f in question_files():
        spec = yaml.safe_load(f.read_text(encoding="utf-8"))
        today = spec.get("today") or date(2026, 11, 23)
        ctx = AppContext(db=db, clock=FixedClock.on(today))
        for item in spec["questions"]:
            out.append(await _ask(ctx, f.name, item["q"]))
    await db.close()
    return out


async def store(tmp: str, n: int, count: int) -> list[dict[str, Any]]:
    rnd = random.Random(n)
    db = Database(async_url(f"sqlite:///{tmp}/store{n}.db"))
    await db.start()
    async with db.session() as s:
        await seed(s)
        await s.commit()
    numbers = await bench_answer.build_store(db, n, rnd)
    await import_file(db, bench_answer.FRESH_PLAN, actor="check")
    ctx = AppContext(db=db, clock=FixedClock.on(bench_answer.TODAY))
    questions = [q for _, q in bench_answer.question_mix(rnd, numbers, count)] + LISTS
    out = [await _ask(ctx, f"{n} tasks", q) for q in questions]
    # Progress and calendar rows: tasks dated one by one, caches that must follow.
    pick = random.Random(n + 1)
    async with db.session() as s:
        ids = list((await s.scalars(select(Task.id).where(Task.deadline_kind == "date"))).all())
        chosen = pick.sample(ids, min(60, len(ids)))
        for k, tid in enumerate(chosen):
            task = await s.get(Task, tid)
            assert task is not None
            occ = None  # one-off tasks: progress rows name no occurrence
            if k % 3 == 0:
                await complete(s, tid, occ, bench_answer.TODAY, by="check")
            elif k % 3 == 1:
                new = bench_answer.TODAY + timedelta(days=pick.randint(-20, 60))
                await extend_task(s, tid, occ, new, by="check", reason="check", old_due=task.deadline_due)
            else:
                await cancel(s, tid, by="check")
        await set_day(s, date(2026, 12, 4), working=False, note="check")
        await s.commit()
    # A plan imported again with a date changed, and a new plan: the index updated in place.
    text = bench_answer.FRESH_PLAN.read_text(encoding="utf-8")
    await import_file(
        db, text.replace("15/01/2027", "20/03/2027").encode(), bench_answer.FRESH_PLAN.name, actor="check"
    )
    await import_file(
        db,
        (ROOT / "tests" / "data" / "kh130_admin.txt").read_text(encoding="utf-8").replace("130/KH", "131/KH").encode(),
        "kh131.txt",
        actor="check",
    )
    invalidate(ctx)
    out += [await _ask(ctx, f"{n} tasks, changed", q) for q in questions]
    await db.close()
    return out


def diff(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> int:
    bad = 0
    if len(old) != len(new):
        print(f"different counts: {len(old)} answers before, {len(new)} after")
    for a, b in zip(old, new, strict=False):
        if a != b:
            bad += 1
            if bad <= 10:
                print(f"DIFFERENT [{a['where']}] {a['q']!r}")
                for k in a:
                    if a[k] != b.get(k):
                        print(f"  {k}: {str(a[k])[:300]!r}\n   -> {str(b.get(k))[:300]!r}")
    print(f"{len(new)} answers, {bad} different")
    return bad


def read(path: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--sizes", default="100000")
    ap.add_argument("--questions", type=int, default=320)
    ap.add_argument("--against")
    ap.add_argument("--diff", nargs=2)
    args = ap.parse_args()
    if args.diff:
        sys.exit(1 if diff(read(args.diff[0]), read(args.diff[1])) else 0)
    tmp = tempfile.mkdtemp(prefix="answers_same")
    try:
        rows = asyncio.run(samples(tmp))
        for n in (int(x) for x in args.sizes.split(",") if x):
            rows += asyncio.run(store(tmp, n, args.questions))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.out:
        Path(args.out).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    if args.against:
        sys.exit(1 if diff(read(args.against), rows) else 0)
    print(f"{len(rows)} answers")


if __name__ == "__main__":
    main()
