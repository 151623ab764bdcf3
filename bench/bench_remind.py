"""Benchmark: send 3,000 reminders to 1,000 chats through the fake Telegram server, which enforces
30 messages/s overall and 1 message/s per chat and answers 429 beyond that.

    .venv/bin/python bench/bench_remind.py [--chats 1000] [--per-chat 3] [--rate 30] [--db URL]

The fake runs in its own process (tests/fakes/telegram_api.py); the bot side is the real
Dispatcher with the real TelegramSender (python-telegram-bot), on a fresh SQLite store by default
or on an empty PostgreSQL database given with --db. Prints the achieved rate, the 429 answers
and whether every reminder arrived exactly once; exits 1 when the rate is under 90% of the limit
or anything was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NO_PROXY", "127.0.0.1")

from sqlalchemy import func, select  # noqa: E402
from telegram import Bot  # noqa: E402

from bot.channels.telegram.sender import TelegramSender  # noqa: E402
from core.clock import FixedClock  # noqa: E402
from core.settings import async_url  # noqa: E402
from knowledge.agencies import seed  # noqa: E402
from knowledge.db import Database  # noqa: E402
from knowledge.models import Outbox  # noqa: E402
from scheduler.dispatcher import Dispatcher  # noqa: E402
from tests.fakes.telegram_api import DEFAULT_TOKEN  # noqa: E402
from tests.reminder_fixtures import due_batch  # noqa: E402

DAY = date(2026, 12, 10)


def _get(url: str) -> dict:  # type: ignore[type-arg]
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


async def prepare(db: Database, chats: int, per_chat: int) -> FixedClock:
    """One agency with `chats` focal points and `per_chat` tasks due today: chats × per_chat rows."""
    await db.start()
    async with db.session() as s:
        await seed(s)
        await s.commit()
    return await due_batch(db, DAY, per_chat, chats, 500001, by="bench")


async def _pending(db: Database) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count()).where(Outbox.status.in_(("pending", "claimed")))) or 0)


async def run(args: argparse.Namespace) -> int:
    fake = subprocess.Popen([sys.executable, "-m", "tests.fakes.telegram_api", "--port", "0",
                             "--rate", str(args.rate), "--per-chat", "1"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert fake.stdout is not None
    port = int(fake.stdout.readline().split()[1])
    url = f"http://127.0.0.1:{port}"
    tmp = tempfile.TemporaryDirectory()
    db = Database(async_url(args.db or f"sqlite:///{tmp.name}/bench.db"))
    try:
        clock = await prepare(db, args.chats, args.per_chat)
        total = args.chats * args.per_chat
        bot = Bot(DEFAULT_TOKEN, base_url=f"{url}/bot")
        await bot.initialize()
        dispatcher = Dispatcher(db, {"telegram": TelegramSender(bot)}, clock)
        dispatcher.pacers["telegram"].per_second = args.rate
        started = time.monotonic()
        stats = await dispatcher.run_once()
        while await _pending(db):  # rows told to retry later: wait for them like the service would
            await asyncio.sleep(1)
            clock.advance(timedelta(seconds=1))  # the store's clock moves with the real one
            more = await dispatcher.run_once()
            stats.sent += more.sent
            stats.retried += more.retried
        elapsed = time.monotonic() - started
        await bot.shutdown()
        fstats = _get(f"{url}/_fake/stats")
        sent = _get(f"{url}/_fake/sent")["messages"]
        ids = Counter(m["reply_markup"]["inline_keyboard"][0][0]["callback_data"] for m in sent)
        async with db.session() as s:
            marked = await s.scalar(select(func.count()).where(Outbox.status == "sent"))
        rate = len(sent) / elapsed
        result = {
            "reminders": total, "chats": args.chats, "delivered_distinct": len(ids),
            "duplicates": sum(n - 1 for n in ids.values()), "marked_sent": marked,
            "seconds": round(elapsed, 1), "rate_msg_per_s": round(rate, 2), "limit": args.rate,
            "share_of_limit": round(rate / args.rate, 3),
            "http_429": fstats.get("error_429", 0), "flood_overall": fstats.get("flood_overall", 0),
            "flood_per_chat": fstats.get("flood_per_chat", 0), "retried": stats.retried,
            "store": db.engine.dialect.name,
        }
        print(json.dumps(result, ensure_ascii=False))
        ok = len(ids) == total and marked == total and rate >= 0.9 * args.rate
        return 0 if ok else 1
    finally:
        await db.close()
        fake.terminate()
        fake.wait(5)
        tmp.cleanup()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--chats", type=int, default=1000)
    p.add_argument("--per-chat", type=int, default=3, help="reminders per chat")
    p.add_argument("--rate", type=float, default=30.0, help="the fake's overall limit, messages/second")
    p.add_argument("--db", default="", help="an empty database URL (default: a fresh SQLite file)")
    sys.exit(asyncio.run(run(p.parse_args())))


if __name__ == "__main__":
    main()
