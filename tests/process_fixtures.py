"""Processes for end-to-end tests: the fake Telegram server and `nhacviec run`, on 127.0.0.1, and a
database of their own (a SQLite file, or a fresh PostgreSQL database dropped afterwards)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from core.settings import async_url
from tests.conftest import PG_ADMIN_URL, ROOT, _admin, _pg_url
from tests.fakes.telegram_api import DEFAULT_TOKEN

LOCAL = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
WEBHOOK_SECRET = "crash-test-secret-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def store_url(kind: str, tmp: Path) -> AsyncIterator[str]:
    """A database URL nobody else uses: a SQLite file under tmp, or a new PostgreSQL database."""
    if kind == "sqlite":
        yield async_url(f"sqlite:///{tmp / 'store.db'}")
        return
    name = f"nhacviec_e2e_{uuid.uuid4().hex[:10]}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        yield async_url(_pg_url(name))
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class FakeProcess:
    """The fake Telegram server as a process, driven through its /_fake/ controls."""

    def __init__(self, proc: asyncio.subprocess.Process, url: str) -> None:
        self.proc, self.url = proc, url

    async def get(self, http: aiohttp.ClientSession, path: str) -> Any:
        async with http.get(f"{self.url}{path}") as r:
            return await r.json()

    async def post(self, http: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> Any:
        async with http.post(f"{self.url}{path}", json=body) as r:
            assert r.status == 200, await r.text()
            return await r.json()


@asynccontextmanager
async def fake_telegram(*args: str) -> AsyncIterator[FakeProcess]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "tests.fakes.telegram_api", "--port", "0",
                                                *args, cwd=ROOT, env={**os.environ, **LOCAL},
                                                stdout=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        port = int((await asyncio.wait_for(proc.stdout.readline(), 15)).split()[1])
        yield FakeProcess(proc, f"http://127.0.0.1:{port}")
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()


def bot_env(fake_url: str, db_url: str, web_port: int, tmp: Path, *, webhook: bool, **extra: str) -> dict[str, str]:
    env = {**os.environ, **LOCAL,
           "NHACVIEC_TELEGRAM_TOKEN": DEFAULT_TOKEN, "NHACVIEC_TELEGRAM_BASE_URL": f"{fake_url}/bot",
           "NHACVIEC_DATA_DIR": str(tmp), "NHACVIEC_DATABASE_URL": db_url, "NHACVIEC_LOAD_SAMPLES": "",
           "NHACVIEC_WEB_HOST": "127.0.0.1", "NHACVIEC_WEB_PORT": str(web_port), "NHACVIEC_ADMINS": "telegram:900",
           "NHACVIEC_WEBHOOK_URL": f"https://bot.example.gov.vn/tg/{web_port}" if webhook else "",
           "NHACVIEC_WEBHOOK_SECRET": WEBHOOK_SECRET if webhook else ""}
    env.update(extra)
    return env


async def start_bot(env: dict[str, str], tmp: Path, log_name: str = "bot.log") -> asyncio.subprocess.Process:
    """`nhacviec run --headless`, its stderr appended to tmp/log_name; returns once /healthz answers."""
    log = open(tmp / log_name, "ab")  # noqa: SIM115 (the child holds it; closed when the test's tmp goes)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", "--headless", cwd=tmp, env=env,
                                                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=log)
    port = env["NHACVIEC_WEB_PORT"]
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as http:
        while True:
            assert proc.returncode is None, (tmp / log_name).read_text(errors="replace")[-3000:]
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                    if r.status == 200:
                        return proc
            except aiohttp.ClientError:
                pass
            assert time.monotonic() < deadline, "the bot did not start"
            await asyncio.sleep(0.05)


async def kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()


async def stop(proc: asyncio.subprocess.Process, timeout: float = 30) -> int:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), timeout)
    return proc.returncode or 0


__all__ = ["PG_ADMIN_URL"]
