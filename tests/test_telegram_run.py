"""`nhacviec run` as a process against the fake Telegram server (also a process): answers fast, stops clean.

Run as a script to print the question→reply latency figures:
    .venv/bin/python -m tests.test_telegram_run [N]
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import statistics
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from tests.conftest import ROOT, SEEDS

TOKEN = "7000000001:TEST-token-for-the-fake"
QUESTIONS = [
    "Ai chủ trì rà soát quy định tài chính cho khoa học và công nghệ?",
    "han bao cao cua so khcn len ubnd tinh",
    "Sở TT&TT có việc gì?",
    "Ai tuyên truyền nghị quyết 20?",
    "Ai chủ trì xây dựng cảng Cà Ná?",
    "/quahan",
    "/saphan",
    "Sở Nội vụ có những nhiệm vụ gì?",
    "Tháng này có hạn nào?",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def processes(tmp: Path) -> AsyncIterator[tuple[str, int, asyncio.subprocess.Process]]:
    """The fake Telegram server and the bot, both as processes; yields (fake URL, web port, bot)."""
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    fake = await asyncio.create_subprocess_exec(sys.executable, "-m", "tests.fakes.telegram_api", "--port", "0",
                                                cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE)
    bot: asyncio.subprocess.Process | None = None
    try:
        assert fake.stdout is not None
        port = int((await asyncio.wait_for(fake.stdout.readline(), 15)).split()[1])
        url = f"http://127.0.0.1:{port}"
        web_port = free_port()
        env.update({
            "NHACVIEC_TELEGRAM_TOKEN": TOKEN,
            "NHACVIEC_TELEGRAM_BASE_URL": f"{url}/bot",
            "NHACVIEC_DATA_DIR": str(tmp),
            "NHACVIEC_DATABASE_URL": "",
            "NHACVIEC_WEBHOOK_URL": "",
            "NHACVIEC_LOAD_SAMPLES": str(SEEDS) if SEEDS.is_dir() else "",
            "NHACVIEC_WEB_HOST": "127.0.0.1",
            "NHACVIEC_WEB_PORT": str(web_port),
            "NHACVIEC_ADMINS": "telegram:900",
        })
        bot = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=tmp, env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        yield url, web_port, bot
    finally:
        for proc in (bot, fake):
            if proc is not None and proc.returncode is None:
                proc.kill()
                await proc.wait()


async def get_json(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as r:
        return await r.json()


async def wait_ready(http: aiohttp.ClientSession, url: str, web_port: int, timeout: float = 60.0) -> None:
    """Until the bot polls the fake and answers /healthz."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = await get_json(http, f"{url}/_fake/stats")
        if stats.get("getUpdates", 0) >= 1:
            async with http.get(f"http://127.0.0.1:{web_port}/healthz") as r:
                if r.status == 200:
                    return
        await asyncio.sleep(0.05)
    raise AssertionError("the bot did not start polling in time")


async def ask(http: aiohttp.ClientSession, url: str, chat_id: int, question: str) -> tuple[float, str]:
    """Seconds from the update being queued to the first reply in that chat, and the reply."""
    before = len((await get_json(http, f"{url}/_fake/sent?chat_id={chat_id}"))["messages"])
    started = time.perf_counter()
    async with http.post(f"{url}/_fake/message", json={"chat_id": chat_id, "text": question}) as r:
        assert r.status == 200
    while True:
        sent = (await get_json(http, f"{url}/_fake/sent?chat_id={chat_id}"))["messages"]
        if len(sent) > before:
            return time.perf_counter() - started, sent[before]["text"]
        if time.perf_counter() - started > 10:
            raise AssertionError(f"no reply to {question!r} within 10s")
        await asyncio.sleep(0.005)


async def measure(tmp: Path, rounds: int = 2) -> dict[str, Any]:
    """Start both processes, ask every question `rounds` times, stop the bot with SIGTERM."""
    async with processes(tmp) as (url, web_port, bot), aiohttp.ClientSession() as http:
        started = time.monotonic()
        await wait_ready(http, url, web_port)
        startup = time.monotonic() - started
        first, first_reply = await ask(http, url, 11, QUESTIONS[0])  # builds the search index
        times = []
        for r in range(rounds):
            for i, q in enumerate(QUESTIONS):
                seconds, _ = await ask(http, url, 100 + i + r * len(QUESTIONS), q)
                times.append(seconds)
        health = await get_json(http, f"http://127.0.0.1:{web_port}/healthz")
        commands = await get_json(http, f"{url}/_fake/stats")
        bot.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        code = await asyncio.wait_for(bot.wait(), 20)
        stop_seconds = time.monotonic() - stopped
        assert bot.stderr is not None
        stderr = (await bot.stderr.read()).decode(errors="replace")
    return {"startup_s": startup, "first_s": first, "first_reply": first_reply, "times": times,
            "median_s": statistics.median(times), "max_s": max(times), "health": health,
            "set_commands": commands.get("setMyCommands", 0), "exit_code": code, "stop_s": stop_seconds,
            "stderr": stderr}


async def test_run_answers_within_a_second_and_stops_cleanly(tmp_path: Path) -> None:
    result = await measure(tmp_path, rounds=1)
    assert result["exit_code"] == 0, result["stderr"]
    assert result["health"]["database"] == "ok" and result["health"]["telegram"] == "polling"
    assert result["set_commands"] == 2  # everyone's menu, and the admin's (telegram:900) in their chat
    assert result["first_reply"].strip()
    assert result["median_s"] < 1.0, result
    assert "Traceback" not in result["stderr"], result["stderr"]


if __name__ == "__main__":
    import tempfile

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory() as d:
        res = asyncio.run(measure(Path(d), rounds=n))
    print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in res.items()
                      if k not in ("times", "stderr")}, ensure_ascii=False, indent=1))
    print("all question→reply times (s):", " ".join(f"{t:.3f}" for t in res["times"]))
    if res["stderr"].strip():
        print("--- bot stderr ---\n" + res["stderr"][-3000:])


async def test_run_without_token_is_the_console_chat(tmp_path: Path) -> None:
    env = {**os.environ, "NHACVIEC_TELEGRAM_TOKEN": "", "NHACVIEC_DATA_DIR": str(tmp_path), "NHACVIEC_DATABASE_URL": "",
           "NHACVIEC_LOAD_SAMPLES": "", "NHACVIEC_WEB_HOST": "127.0.0.1", "NHACVIEC_WEB_PORT": str(free_port())}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
                                                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate("/dangky Sở Tài chính\nthoát\n".encode()), 60)
    text = out.decode()
    assert proc.returncode == 0, err.decode()
    assert "Sở Tài chính" in text and "Tạm biệt" in text


async def test_run_headless_when_stdin_is_null_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "NHACVIEC_TELEGRAM_TOKEN": "", "NHACVIEC_DATA_DIR": str(tmp_path), "NHACVIEC_DATABASE_URL": "",
           "NHACVIEC_LOAD_SAMPLES": "", "NHACVIEC_WEB_HOST": "127.0.0.1", "NHACVIEC_WEB_PORT": str(port)}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
                                                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    health = await get_json(http, f"http://127.0.0.1:{port}/healthz")
                    break
                except aiohttp.ClientConnectionError:
                    assert proc.returncode is None and time.monotonic() < deadline, "bot exited or never served"
                    await asyncio.sleep(0.1)
        assert health["status"] == "ok" and health["database"] == "ok" and health["telegram"] == "off"
        assert health["channels"] == {} and health["planner"]["alive"] and health["dispatcher"]["alive"]
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 20)
        assert proc.returncode == 0, err.decode()
        assert "chỉ nhắc việc" in out.decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
