"""Crash and scale-out figures for the README's Reliability section, in one run.

    .venv/bin/python bench/bench_reliability.py [--skip-scale]

Runs the end-to-end scenarios of tests/test_crash_inbox.py (SIGKILL `nhacviec run` three times while 500
questions from 100 users arrive; polling and webhook; SQLite and PostgreSQL) and tests/test_scale_out.py
(two webhook instances on one PostgreSQL, 500 questions and 1,000 reminders, one instance SIGKILLed and
restarted midway, the fake Telegram server at 30 messages/s). Needs the machine's PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_crash_inbox import crash_run
from tests.test_scale_out import STEADY, scale_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-scale", action="store_true")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    print("| store | mode | answered | duplicates | kills | seconds |\n| --- | --- | --- | --- | --- | --- |")
    for kind in ("sqlite", "postgres"):
        for mode in ("polling", "webhook"):
            with tempfile.TemporaryDirectory() as d:
                r = asyncio.run(crash_run(kind, mode, Path(d)))
            print(f"| {kind} | {mode} | {r['answered']}/{r['questions']} | {r['duplicates']} | {r['kills']} | "
                  f"{r['seconds']} |", flush=True)
    if not args.skip_scale:
        with tempfile.TemporaryDirectory() as d:
            r = asyncio.run(scale_run(Path(d)))
        print(f"\ntwo instances: reminders {r['reminders_delivered']}/{r['due']} "
              f"({r['reminder_duplicates']} duplicates), "
              f"questions {r['answered']}/{r['questions']} ({r['answer_duplicates']} duplicates), "
              f"{r['rate_per_s']} msg/s over the run, {r['steady_rate_per_s']} msg/s over the best {STEADY} s, "
              f"max {r['max_in_one_second']} in one second, {r['http_429']} × 429, {r['seconds']} s")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
