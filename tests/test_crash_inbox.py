"""Crash safety of questions (issue 14 item 1): `nhacviec run` is SIGKILLed three times while questions
from many users arrive — through the fake Telegram server's getUpdates (polling), or posted to the
webhook as Telegram does (sending again until it gets a 200) — on SQLite and PostgreSQL. Every question
is answered; at most one answer per kill is sent twice (the one on its way when the process died:
bot.edge sends one answer at a time and marks it answered before the next).

A process start takes most of a run's time, so every test run covers both modes and both stores in two
runs (SQLite polling, PostgreSQL webhook) of 120 questions from 40 users; NHACVIEC_CRASH_FULL=1 runs the
issue's full size (500 questions from 100 users) on all four pairs, as does the script for the figures
(bench/bench_reliability.py prints the table):
.venv/bin/python -m tests.test_crash_inbox [sqlite|postgres] [polling|webhook] [full]
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.process_fixtures import (
    WEBHOOK_SECRET,
    FakeProcess,
    bot_env,
    fake_telegram,
    free_port,
    kill,
    start_bot,
    stop,
    store_url,
)

FEED_EVERY = 0.01  # seconds between two questions arriving: 100 a second
ECHO = re.compile(r"“(câu hỏi \d+ \d+)”")


@dataclass(frozen=True)
class Load:
    """How many users ask how many questions each, and after how many sent messages each kill comes."""

    users: int
    per_user: int
    kill_at: tuple[int, ...]

    def questions(self) -> list[tuple[int, str]]:
        return [(1000 + u, f"câu hỏi {1000 + u} {n}") for n in range(self.per_user) for u in range(self.users)]


FULL = Load(100, 5, (60, 180, 300))  # the issue's: 500 questions from 100 users, three kills
CI = Load(40, 3, (20, 50, 80))  # the same story, small enough for every test run
BURST = Load(50, 4, ())  # 200 questions from 50 users, nobody killed: how fast they are answered
FULL_RUN = bool(os.environ.get("NHACVIEC_CRASH_FULL"))
PAIRS = [("sqlite", "polling"), ("sqlite", "webhook"), ("postgres", "polling"), ("postgres", "webhook")]
BURST_WITHIN = 40.0  # seconds (measured 16 s on the shared 2-core machine; Telegram allows 200 in 6.7 s)


def webhook_update(update_id: int, chat_id: int, text: str) -> dict[str, Any]:
    user = {"id": chat_id, "is_bot": False, "first_name": "Cán bộ"}
    return {"update_id": update_id, "message": {"message_id": update_id, "date": int(time.time()), "text": text,
                                                "chat": {"id": chat_id, "type": "private", "first_name": "Cán bộ"},
                                                "from": user}}


async def feed_polling(http: aiohttp.ClientSession, fake: FakeProcess, load: Load) -> None:
    for chat_id, text in load.questions():
        await fake.post(http, "/_fake/message", {"chat_id": chat_id, "text": text})
        await asyncio.sleep(FEED_EVERY)


async def feed_webhook(http: aiohttp.ClientSession, url: str, load: Load) -> None:
    """As Telegram does: each update posted until the bot answers 200 (it may be dead meanwhile)."""
    pending: asyncio.Queue[tuple[int, dict[str, Any]]] = asyncio.Queue()

    async def worker() -> None:
        while True:
            _, update = await pending.get()
            while True:
                try:
                    async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
                                         timeout=aiohttp.ClientTimeout(total=10)) as r:
                        if r.status == 200:
                            break
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(0.1)
            pending.task_done()

    workers = [asyncio.create_task(worker()) for _ in range(8)]
    for i, (chat_id, text) in enumerate(load.questions(), 1):
        await pending.put((i, webhook_update(i, chat_id, text)))
        await asyncio.sleep(FEED_EVERY)
    await pending.join()
    for w in workers:
        w.cancel()


def answered(sent: list[dict[str, Any]]) -> Counter[str]:
    found: Counter[str] = Counter()
    for m in sent:
        hit = ECHO.search(m.get("text", ""))
        if hit and hit.group(1).split()[2] == str(m["chat"]["id"]):
            found[hit.group(1)] += 1
    return found


async def crash_run(kind: str, mode: str, tmp: Path, load: Load = FULL) -> dict[str, Any]:
    async with store_url(kind, tmp) as db_url, fake_telegram() as fake, aiohttp.ClientSession() as http:
        port = free_port()
        env = bot_env(fake.url, db_url, port, tmp, webhook=mode == "webhook",
                      NHACVIEC_LOAD_SAMPLES="demo")  # a store with plans: an empty one answers without echoing
        started = time.monotonic()
        bot = await start_bot(env, tmp)
        hook = f"http://127.0.0.1:{port}/tg/{port}"
        fed_at = time.monotonic()
        feeder = asyncio.create_task(feed_polling(http, fake, load) if mode == "polling"
                                     else feed_webhook(http, hook, load))
        kills = 0
        for at in load.kill_at:
            waited = time.monotonic()  # (questions lost would leave the count short: bounded wait)
            while (await fake.get(http, "/_fake/stats"))["sent"] < at and time.monotonic() - waited < 30:
                await asyncio.sleep(0.01)
            await kill(bot)
            kills += 1
            bot = await start_bot(env, tmp)
        await asyncio.wait_for(feeder, 120)
        wanted = {q for _, q in load.questions()}
        deadline = time.monotonic() + 60
        while True:
            got = answered((await fake.get(http, "/_fake/sent"))["messages"])
            if wanted <= set(got) or time.monotonic() > deadline:
                answer_seconds = time.monotonic() - fed_at
                break
            await asyncio.sleep(0.1)
        elapsed = time.monotonic() - started
        await asyncio.sleep(1.0)  # anything sent twice would come now
        sent = (await fake.get(http, "/_fake/sent"))["messages"]
        got = answered(sent)
        code = await stop(bot)
    return {"kind": kind, "mode": mode, "questions": len(wanted), "answered": len(wanted & set(got)),
            "missing": sorted(wanted - set(got))[:10], "duplicates": sum(n - 1 for n in got.values()),
            "messages": len(sent), "kills": kills, "seconds": round(elapsed, 1),
            "answer_seconds": round(answer_seconds, 1), "exit_code": code,
            "log": (tmp / "bot.log").read_text(errors="replace")}


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "mode"), PAIRS if FULL_RUN else [PAIRS[0], PAIRS[3]])
async def test_sigkill_three_times_while_questions_arrive(kind: str, mode: str, tmp_path: Path) -> None:
    load = FULL if FULL_RUN else CI
    r = await crash_run(kind, mode, tmp_path, load)
    print(f"\ncrash test {kind}/{mode}: {r['answered']}/{r['questions']} answered, {r['duplicates']} duplicates, "
          f"{r['messages']} messages, {r['kills']} kills, {r['seconds']} s")
    assert r["kills"] == len(load.kill_at)
    assert r["answered"] == r["questions"], f"not answered: {r['missing']}\n{r['log'][-3000:]}"
    # Only the answer on its way at a kill can be sent again (its "answered" mark was not yet stored);
    # the answers are short, so each is one message. Before the one-at-a-time sending: 6 to 33.
    assert r["duplicates"] <= r["kills"], r
    assert r["exit_code"] == 0, r["log"][-3000:]


@pytest.mark.slow
async def test_a_burst_of_questions_is_answered_quickly(tmp_path: Path) -> None:
    """One answer on its way at a time keeps the pace: 200 questions from 50 users, all answered, none
    twice, in a bounded time (16 s measured both before and after answers went out one at a time)."""
    r = await crash_run("sqlite", "polling", tmp_path, BURST)
    print(f"\nburst: {r['answered']}/{r['questions']} answered in {r['answer_seconds']} s after the first question")
    assert r["answered"] == r["questions"] and r["duplicates"] == 0, r
    assert r["answer_seconds"] < BURST_WITHIN, r


if __name__ == "__main__":
    import json
    import tempfile

    kinds = [a for a in sys.argv[1:] if a in ("sqlite", "postgres")] or ["sqlite", "postgres"]
    modes = [a for a in sys.argv[1:] if a in ("polling", "webhook")] or ["polling", "webhook"]
    size = FULL if "full" in sys.argv[1:] else BURST if "burst" in sys.argv[1:] else CI
    for k in kinds:
        for m in modes:
            with tempfile.TemporaryDirectory() as d:
                res = asyncio.run(crash_run(k, m, Path(d), size))
            res.pop("log")
            print(json.dumps(res, ensure_ascii=False))
