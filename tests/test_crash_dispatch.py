"""Crash safety: SIGKILL the sending process again and again; every reminder still arrives, with
at most one duplicate per kill (one send in flight; claims of a dead process are reclaimed).
The fake Telegram server runs in its own process (no rate limit) so only the bot dies; the bot
process is `nhacviec remind`, which runs the same Dispatcher as `nhacviec run`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.settings import async_url
from knowledge.agencies import seed
from knowledge.db import Database
from knowledge.models import Outbox
from tests.conftest import ROOT, run_sync
from tests.fakes.telegram_api import DEFAULT_TOKEN
from tests.reminder_fixtures import due_batch

DAY = date(2026, 12, 10)
CHATS, TASKS, KILLS = 500, 4, 4


@pytest.fixture
def fake_telegram() -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.telegram_api", "--port", "0"], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("PORT "), line
    yield f"http://127.0.0.1:{int(line.split()[1])}"
    proc.terminate()
    proc.wait(5)


def _get(url: str) -> dict:  # type: ignore[type-arg]
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


async def _prepare(url: str) -> None:
    db = Database(url)
    await db.start()
    async with db.session() as s:
        await seed(s)
        await s.commit()
    await due_batch(db, DAY, TASKS, CHATS, 100001, plan=False)
    await db.close()


async def _outbox(url: str) -> Counter[str]:
    db = Database(url)
    async with db.session() as s:
        rows = (await s.execute(select(Outbox.status, func.count()).group_by(Outbox.status))).all()
    await db.close()
    return Counter({status: n for status, n in rows})


@pytest.mark.slow
def test_sigkill_while_dispatching_loses_nothing(tmp_path: Path, fake_telegram: str) -> None:
    url = async_url(f"sqlite:///{tmp_path / 'crash.db'}")
    run_sync(_prepare(url))
    env = {**os.environ, "NHACVIEC_DATABASE_URL": url, "NHACVIEC_TELEGRAM_TOKEN": DEFAULT_TOKEN,
           "NHACVIEC_TELEGRAM_BASE_URL": f"{fake_telegram}/bot",
           "NHACVIEC_REMINDER_MAX_PER_SECOND": "2000", "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    cmd = [str(ROOT / ".venv" / "bin" / "nhacviec"), "remind", "--today", DAY.isoformat()]
    if not Path(cmd[0]).exists():
        cmd = [sys.executable, "-m", "bot", *cmd[1:]]
    kills = 0
    started = time.monotonic()
    while kills < KILLS:
        before = _get(f"{fake_telegram}/_fake/stats")["sent"]
        proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # Kill it in the middle of sending: once it has sent a few hundred more.
        while _get(f"{fake_telegram}/_fake/stats")["sent"] < before + 150 + 60 * kills:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1  # its claims are taken back at once by the next run: same host, process gone
    final = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, timeout=120)
    assert final.returncode == 0, final.stderr.decode()
    elapsed = time.monotonic() - started

    sent = _get(f"{fake_telegram}/_fake/sent")["messages"]
    ids = Counter(m["reply_markup"]["inline_keyboard"][0][0]["callback_data"] for m in sent)
    duplicates = sum(n - 1 for n in ids.values())
    assert len(ids) == CHATS * TASKS, "every reminder arrives"
    assert duplicates <= kills, f"{duplicates} duplicates after {kills} kills"
    assert run_sync(_outbox(url)) == Counter({"sent": CHATS * TASKS})
    print(f"\ncrash test: {len(sent)} messages, {len(ids)} reminders, {kills} kills, {duplicates} duplicates, "
          f"{elapsed:.1f}s")
