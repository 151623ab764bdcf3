"""Benchmark: send 1,000 reminders to 500 Zalo chats through the real Dispatcher and ZaloSender,
against the fake Zalo server in its own process (tests/fakes/zalo_api.py).

    .venv/bin/python bench/bench_zalo.py [--chats 500] [--per-chat 2] [--rate 5] [--quota Q] [--db URL]

`--rate` is our own pace (NHACVIEC_ZALO_MAX_PER_SECOND, default the setting's 5/s) and the
per-chat interval is the setting's 1 s; `--quota` is the fake's limit beyond which it answers 429
(default: rate + 1, so the pace is what is measured; set it lower to watch the 429 backoff).
Prints the achieved rate and whether every reminder arrived exactly once (each reminder text
names its task, so a (chat, text) pair is one outbox row); exits 1 when anything was lost or
duplicated, or when the rate is under 90% of the pace.
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

from bot.channels.zalo.client import ZaloBotClient  # noqa: E402
from bot.channels.zalo.sender import ZaloSender  # noqa: E402
from core.settings import Settings, async_url  # noqa: E402
from knowledge.agencies import seed  # noqa: E402
from knowledge.db import Database  # noqa: E402
from knowledge.models import Outbox  # noqa: E402
from scheduler.dispatcher import Dispatcher  # noqa: E402
from tests.fakes.zalo_api import DEFAULT_TOKEN  # noqa: E402
from tests.zalo_fixtures import zalo_reminders  # noqa: E402

DAY = date(2026, 12, 10)


def _get(url: str) -> dict:  # type: ignore[type-arg]
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


async def _pending(db: Database) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count()).where(Outbox.status.in_(("pending", "claimed")))) or 0)


async def run(args: argparse.Namespace) -> int:
    settings = Settings()
    rate = args.rate or settings.zalo_max_per_second
    quota = args.quota or rate + 1
    fake = subprocess.Popen([sys.executable, "-m", "tests.fakes.zalo_api", "--port", "0", "--rate", str(quota)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert fake.stdout is not None
    url = f"http://127.0.0.1:{int(fake.stdout.readline().split()[1])}"
    tmp = tempfile.TemporaryDirectory()
    db = Database(async_url(args.db or f"sqlite:///{tmp.name}/bench.db"))
    try:
        await db.start()
        async with db.session() as s:
            await seed(s)
            await s.commit()
        clock = await zalo_reminders(db, DAY, args.per_chat, args.chats, 600001)
        total = args.chats * args.per_chat
        client = ZaloBotClient(DEFAULT_TOKEN, url)
        sender = ZaloSender(client, max_per_second=rate, per_chat_interval=settings.zalo_per_chat_interval_s)
        dispatcher = Dispatcher(db, {"zalo": sender}, clock)
        started = time.monotonic()
        stats = await dispatcher.run_once()
        while await _pending(db):  # rows told to retry later: wait for them like the service would
            await asyncio.sleep(1)
            clock.advance(timedelta(seconds=1))
            more = await dispatcher.run_once()
            stats.sent += more.sent
            stats.retried += more.retried
        elapsed = time.monotonic() - started
        await client.close()
        fstats = _get(f"{url}/_fake/stats")
        sent = _get(f"{url}/_fake/sent")["messages"]
        units = Counter((m["chat_id"], m["text"]) for m in sent)
        async with db.session() as s:
            marked = await s.scalar(select(func.count()).where(Outbox.status == "sent"))
        achieved = len(sent) / elapsed
        result = {
            "reminders": total, "chats": args.chats, "delivered_distinct": len(units),
            "duplicates": sum(n - 1 for n in units.values()), "marked_sent": marked,
            "seconds": round(elapsed, 1), "rate_msg_per_s": round(achieved, 2), "pace": rate, "quota": quota,
            "share_of_pace": round(achieved / rate, 3), "http_429": fstats.get("error_429", 0),
            "retried": stats.retried, "store": db.engine.dialect.name,
        }
        print(json.dumps(result, ensure_ascii=False))
        ok = len(units) == total == marked and len(sent) == total and (args.quota or achieved >= 0.9 * rate)
        return 0 if ok else 1
    finally:
        await db.close()
        fake.terminate()
        fake.wait(5)
        tmp.cleanup()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--chats", type=int, default=500)
    p.add_argument("--per-chat", type=int, default=2, help="reminders per chat")
    p.add_argument("--rate", type=float, default=0.0, help="our pace, messages/second (default: the setting)")
    p.add_argument("--quota", type=float, default=0.0, help="the fake's 429 threshold (default: pace + 1)")
    p.add_argument("--db", default="", help="an empty database URL (default: a fresh SQLite file)")
    sys.exit(asyncio.run(run(p.parse_args())))


if __name__ == "__main__":
    main()
