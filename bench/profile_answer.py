"""CPU time per kind of question and a cProfile, over a generated store kept on disk between runs.

    .venv/bin/python bench/profile_answer.py [--tasks 100000] [--kind agency] [--profile] [--top 30]

The store (bench/bench_answer.py's generator, same seed) is written once to $TMPDIR/nhacviec_profile_<n>.db and
copied for each run, so a run costs the index build and the questions only. CPU time (time.process_time: the
database thread counts too) is the figure to compare on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("NHACVIEC_BENCH_SEEDS", "/work/shared/seeds")

import bench_answer  # noqa: E402
from answers_same import LISTS  # noqa: E402

from core.clock import FixedClock  # noqa: E402
from core.context import AppContext  # noqa: E402
from core.settings import async_url  # noqa: E402
from handlers.questions import answer  # noqa: E402
from knowledge.agencies import seed  # noqa: E402
from knowledge.db import Database  # noqa: E402
from knowledge.plans import import_file  # noqa: E402
from knowledge.search import get_index  # noqa: E402


async def make_store(path: Path, n: int) -> list[str]:
    db = Database(async_url(f"sqlite:///{path}"))
    await db.start()
    async with db.session() as s:
        await seed(s)
        await s.commit()
    numbers = await bench_answer.build_store(db, n, random.Random(n))
    await import_file(db, bench_answer.FRESH_PLAN, actor="bench")
    await db.close()
    return numbers


async def run(n: int, kind: str | None, profile: bool, top: int, rounds: int) -> None:
    kept = Path(tempfile.gettempdir()) / f"nhacviec_profile_{n}.db"
    if not kept.exists():
        await make_store(kept, n)
    numbers = [f"{1000 + p}/KH-UBND" for p in range((n + bench_answer.PER_PLAN - 1) // bench_answer.PER_PLAN)]
    tmp = tempfile.mkdtemp()
    shutil.copy(kept, f"{tmp}/p.db")
    db = Database(async_url(f"sqlite:///{tmp}/p.db"))
    await db.start()
    ctx = AppContext(db=db, clock=FixedClock.on(bench_answer.TODAY))
    t0, c0 = time.perf_counter(), time.process_time()
    await get_index(ctx)
    print(f"build {time.perf_counter() - t0:.1f} s wall, {time.process_time() - c0:.1f} s CPU")
    await answer(ctx, "xin chào")
    rnd = random.Random(n)
    qs = bench_answer.question_mix(rnd, numbers, 320) + [("list", q) for q in LISTS]
    if kind:
        qs = [(k, q) for k, q in qs if k == kind]
    prof = cProfile.Profile() if profile else None
    cpu: dict[str, list[float]] = {}
    slowest: list[tuple[float, str]] = []
    load0 = os.getloadavg()[0]
    for _ in range(rounds):
        for k, q in qs:
            c = time.process_time()
            if prof:
                prof.enable()
            await answer(ctx, q)
            if prof:
                prof.disable()
            cpu.setdefault(k, []).append((time.process_time() - c) * 1000)
            slowest.append((cpu[k][-1], q))
    every = sorted(v for vs in cpu.values() for v in vs)
    print(
        f"load {load0:.1f} -> {os.getloadavg()[0]:.1f}; CPU ms p50 {statistics.median(every):.1f} "
        f"p95 {bench_answer.pct(every, 0.95):.1f} mean {statistics.mean(every):.2f}"
    )
    for k, vs in sorted(cpu.items()):
        print(
            f"  {k:8} n={len(vs):3} mean {statistics.mean(vs):6.2f} p50 {statistics.median(vs):6.2f} "
            f"p95 {bench_answer.pct(vs, 0.95):6.2f} max {max(vs):6.2f}"
        )
    for ms, q in sorted(slowest, reverse=True)[:12]:
        print(f"  {ms:6.1f} ms  {q}")
    if prof:
        pstats.Stats(prof).sort_stats("tottime").print_stats(top)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(top)
    await db.close()
    shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--kind")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    asyncio.run(run(args.tasks, args.kind, args.profile, args.top, args.rounds))


if __name__ == "__main__":
    main()
