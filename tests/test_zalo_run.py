"""`nhacviec run` with only a Zalo token, from something that looks like a terminal (stdin a pipe, not
/dev/null): Zalo runs, the console chat does not open unless asked, the start line names the channel,
/healthz reports it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import aiohttp

from bot.cmd_run import has_chat_channel, start_line
from core.settings import Settings
from tests.fakes.zalo_api import FakeZalo
from tests.test_telegram_run import free_port, get_json


def test_a_chat_channel_is_any_platform() -> None:
    assert not has_chat_channel(Settings())
    assert has_chat_channel(Settings(zalo_bot_token="1:x"))
    assert has_chat_channel(Settings(zalo_oa_app_id="a", zalo_oa_secret_key="k"))
    assert not has_chat_channel(Settings(zalo_oa_app_id="a"))
    assert "chỉ nhắc việc" in start_line([])


async def test_zalo_only_run_opens_no_console_and_names_its_channels(tmp_path: Path) -> None:
    port = free_port()
    async with FakeZalo(max_poll_timeout=1.0) as zalo:
        env = {**os.environ, "NHACVIEC_TELEGRAM_TOKEN": "", "NHACVIEC_ZALO_BOT_TOKEN": zalo.token,
               "NHACVIEC_ZALO_BASE_URL": zalo.url, "NHACVIEC_DATA_DIR": str(tmp_path), "NHACVIEC_DATABASE_URL": "",
               "NHACVIEC_LOAD_SAMPLES": "", "NHACVIEC_WEB_HOST": "127.0.0.1", "NHACVIEC_WEB_PORT": str(port),
               "NO_PROXY": "127.0.0.1"}
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
                                                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        try:
            assert proc.stdin is not None
            proc.stdin.write("/dangky Sở Tài chính\n".encode())  # a console would answer this
            await proc.stdin.drain()
            async with aiohttp.ClientSession() as http:
                deadline = time.monotonic() + 30
                while True:
                    try:
                        health = await get_json(http, f"http://127.0.0.1:{port}/healthz")
                        break
                    except aiohttp.ClientConnectionError:
                        assert proc.returncode is None and time.monotonic() < deadline, "bot exited or never served"
                        await asyncio.sleep(0.1)
            zalo.queue_message("zr1", "/start")
            [hello] = await zalo.wait_for_messages(1, "zr1")
            proc.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(proc.communicate(), 20)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    text = out.decode()
    assert proc.returncode == 0, err.decode()
    assert health["zalo"] == "polling" and health["telegram"] == "off" and "console" not in health
    assert "Xin chào" in hello
    assert "đang chạy trên Zalo" in text and "(polling)" in text and "trò chuyện trên máy" not in text
    assert "Đã gửi yêu cầu" not in text  # the console did not read stdin
