"""Benchmark: how fast the Zalo bot answers, as started by hand against the fake Zalo server.

    .venv/bin/python bench/bench_zalo_answer.py [--questions 10] [--db URL]

The fake runs in its own process; the bot side is built from the settings exactly as the channel
registry will (NHACVIEC_ZALO_BOT_TOKEN, NHACVIEC_ZALO_BASE_URL pointing at the fake), long polling,
with the five sample plans imported and the real router answering. Each question is typed into the
fake and timed until the reply reaches it; prints the median and the slowest, exits 1 when the
median is over one second.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NO_PROXY", "127.0.0.1")

import yaml  # noqa: E402

from bot.channels.zalo.build import bot_channel  # noqa: E402
from core.clock import FixedClock  # noqa: E402
from core.context import AppContext  # noqa: E402
from core.settings import Settings, async_url  # noqa: E402
from handlers import router  # noqa: E402
from knowledge.agencies import seed  # noqa: E402
from knowledge.db import Database  # noqa: E402
from knowledge.plans import Importer  # noqa: E402
from tests.fakes.zalo_api import DEFAULT_TOKEN  # noqa: E402

SHARED = Path("/work/shared") if Path("/work/shared").exists() else ROOT.parent / "shared"


def _http(url: str, body: dict | None = None) -> dict:  # type: ignore[type-arg]
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


async def run(args: argparse.Namespace) -> int:
    fake = subprocess.Popen([sys.executable, "-m", "tests.fakes.zalo_api", "--port", "0"], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert fake.stdout is not None
    url = f"http://127.0.0.1:{int(fake.stdout.readline().split()[1])}"
    tmp = tempfile.TemporaryDirectory()
    os.environ.update(NHACVIEC_ZALO_BOT_TOKEN=DEFAULT_TOKEN, NHACVIEC_ZALO_BASE_URL=url)
    settings = Settings()
    db = Database(async_url(args.db or f"sqlite:///{tmp.name}/bench.db"))
    try:
        await db.start()
        async with db.session() as s:
            await seed(s)
            await s.commit()
        importer = await Importer.create(db, actor="bench")
        async for _path, _result in importer.import_many(sorted((SHARED / "seeds").glob("*.txt"))):
            pass
        spec = yaml.safe_load((SHARED / "eval" / "questions.yaml").read_text(encoding="utf-8"))
        ctx = AppContext(db=db, clock=FixedClock.on(date.fromisoformat(str(spec["today"]))), settings=settings)
        channel = bot_channel(settings, db, functools.partial(router.handle, ctx))
        assert channel is not None
        await channel.start_polling()
        times = []
        for i, q in enumerate(spec["questions"][: args.questions]):
            chat = f"zb{i:04d}"
            started = time.monotonic()
            await asyncio.to_thread(_http, f"{url}/_fake/message", {"chat_id": chat, "text": q["q"]})
            while not (await asyncio.to_thread(_http, f"{url}/_fake/sent?chat_id={chat}"))["messages"]:
                await asyncio.sleep(0.01)
            times.append(time.monotonic() - started)
        await channel.stop()
        median = statistics.median(times)
        print(json.dumps({"questions": len(times), "median_s": round(median, 3), "max_s": round(max(times), 3),
                          "store": db.engine.dialect.name}))
        return 0 if median <= 1.0 else 1
    finally:
        await db.close()
        fake.terminate()
        fake.wait(5)
        tmp.cleanup()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--questions", type=int, default=10)
    p.add_argument("--db", default="", help="an empty database URL (default: a fresh SQLite file)")
    sys.exit(asyncio.run(run(p.parse_args())))


if __name__ == "__main__":
    main()
