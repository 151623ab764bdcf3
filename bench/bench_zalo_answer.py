"""Benchmark: how fast the Zalo bot answers when started by hand against the fake Zalo server.

    .venv/bin/python bench/bench_zalo_answer.py [--questions 10]

Runs the fake (tests/fakes/zalo_api.py) and `nhacviec run --headless` as two processes, the bot
pointed at the fake with NHACVIEC_ZALO_BOT_TOKEN and NHACVIEC_ZALO_BASE_URL, the five sample plans
loaded (NHACVIEC_LOAD_SAMPLES), a fresh SQLite store. Each question of ../shared/eval/questions.yaml
is typed into the fake and timed until the reply reaches it. Prints the median and the slowest;
exits 1 when the median is over one second.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NHACVIEC_TEST_SHARED") or ROOT.parent / "shared")
TOKEN = "5000000001:FAKE-zalo-secret"  # tests.fakes.zalo_api.DEFAULT_TOKEN
START_TIMEOUT_S = 120.0


def _http(url: str, body: dict | None = None) -> dict:  # type: ignore[type-arg]
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


def _wait(what: str, ready: object, timeout: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not ready():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--questions", type=int, default=10)
    args = p.parse_args()
    spec = yaml.safe_load((SHARED / "eval" / "questions.yaml").read_text(encoding="utf-8"))
    env = {**os.environ, "NO_PROXY": "127.0.0.1"}
    fake = subprocess.Popen([sys.executable, "-m", "tests.fakes.zalo_api", "--port", "0"], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True, env=env)
    assert fake.stdout is not None
    url = f"http://127.0.0.1:{int(fake.stdout.readline().split()[1])}"
    with tempfile.TemporaryDirectory() as tmp:
        bot_env = {**env, "NHACVIEC_ZALO_BOT_TOKEN": TOKEN, "NHACVIEC_ZALO_BASE_URL": url,
                   "NHACVIEC_DATA_DIR": tmp, "NHACVIEC_LOAD_SAMPLES": str(SHARED / "seeds"), "NHACVIEC_WEB_PORT": "0"}
        bot = subprocess.Popen([str(ROOT / ".venv" / "bin" / "nhacviec"), "run", "--headless"], cwd=tmp, env=bot_env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait("the bot's first poll", lambda: _http(f"{url}/_fake/stats").get("getUpdates", 0) > 0)
            times = []
            for i, q in enumerate(spec["questions"][: args.questions]):
                chat = f"zb{i:04d}"
                started = time.monotonic()
                _http(f"{url}/_fake/message", {"chat_id": chat, "text": q["q"]})
                _wait("an answer", lambda c=chat: _http(f"{url}/_fake/sent?chat_id={c}")["messages"], 30)
                times.append(time.monotonic() - started)
        finally:
            bot.terminate()
            bot.wait(30)
            fake.terminate()
            fake.wait(5)
    median = statistics.median(times)
    print(json.dumps({"questions": len(times), "median_s": round(median, 3), "max_s": round(max(times), 3),
                      "store": "sqlite"}))
    sys.exit(0 if median <= 1.0 else 1)


if __name__ == "__main__":
    main()
