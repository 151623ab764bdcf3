"""`nhacviec run`: the bot. Every channel whose settings are present (Telegram with
NHACVIEC_TELEGRAM_TOKEN, Zalo with NHACVIEC_ZALO_BOT_TOKEN, Zalo OA with its app id and secret key);
with none, the console chat when someone is at the terminal. With a chat channel the console is
opened only when asked (`--console` or NHACVIEC_CONSOLE=true): a Zalo-only bot started from a terminal
must not also read the terminal. The start line names every channel started and how it takes updates.

All run with the reminder service and the web server (/healthz; webhooks). SIGINT/SIGTERM stop
everything cleanly (bot.app.App.stop); the console chat also ends on "thoát" or end of input.
Without a token and with nobody at stdin (/dev/null: Docker, systemd) it runs headless: reminders
and /healthz only, until a signal.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from typing import Any

from bot.app import App
from bot.channels import Channel
from bot.channels.console.channel import ConsoleChannel
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.zalo.channel import ZaloChannel
from bot.channels.zalo.oa import ZaloOaChannel
from core.settings import Settings

log = logging.getLogger(__name__)


def register(sub: Any) -> dict[str, Any]:
    p = sub.add_parser("run", help="chạy bot: Telegram nếu có NHACVIEC_TELEGRAM_TOKEN, không thì trò chuyện trên máy")
    p.add_argument("--headless", action="store_true",
                   help="không mở trò chuyện trên máy khi không có token (chỉ nhắc việc và /healthz)")
    p.add_argument("--console", action="store_true",
                   help="mở cả trò chuyện trên máy khi đã có kênh Telegram/Zalo")
    p.add_argument("-v", "--verbose", action="store_true", help="ghi nhật ký chi tiết (INFO)")
    return {"run": cmd_run}


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on every platform
            loop.add_signal_handler(sig, stop.set)


def _stdin_is_null() -> bool:
    """Docker without -i and systemd give /dev/null as stdin: no one to chat with, run headless."""
    try:
        st, null = os.fstat(sys.stdin.fileno()), os.stat(os.devnull)
    except (OSError, ValueError, AttributeError):
        return True
    return (st.st_dev, st.st_ino) == (null.st_dev, null.st_ino)


def has_chat_channel(settings: Settings) -> bool:
    """Whether the settings start a chat platform (the console then opens only when asked)."""
    return bool(settings.telegram_token or settings.zalo_bot_token
                or (settings.zalo_oa_app_id and settings.zalo_oa_secret_key))


def describe(channel: Channel) -> str:
    """One channel as the start line names it: "Telegram @bot (polling)", "Zalo Tên bot (webhook)"."""
    if isinstance(channel, TelegramChannel):
        return f"Telegram @{channel.username} ({channel.mode})"
    if isinstance(channel, ZaloChannel):
        return f"Zalo {channel.bot_name} ({channel.mode})".replace("  ", " ")
    if isinstance(channel, ZaloOaChannel):
        return f"Zalo OA ({channel.status})"
    if isinstance(channel, ConsoleChannel):
        return "trò chuyện trên máy"
    return f"{channel.name} ({channel.status})"


def start_line(channels: list[Channel]) -> str:
    if not channels:
        return "Nhắc việc: chạy không có kênh trò chuyện (chỉ nhắc việc). Nhấn Ctrl+C để dừng."
    return f"Nhắc việc: đang chạy trên {', '.join(describe(c) for c in channels)}. Nhấn Ctrl+C để dừng."


async def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if getattr(args, "verbose", False):
        logging.getLogger().setLevel(logging.INFO)
    wanted = getattr(args, "console", False) or settings.console
    if (wanted or not has_chat_channel(settings)) and not getattr(args, "headless", False) and not _stdin_is_null():
        settings = settings.model_copy(update={"console": True})
    app = await App.create(settings)
    stop = asyncio.Event()
    _stop_on_signals(stop)
    try:
        await app.start()
        print(start_line(app.channels), flush=True)
        closed = asyncio.create_task(app.edge.closed.wait())
        closed.add_done_callback(lambda _: stop.set())
        await stop.wait()
        closed.cancel()
    finally:
        await app.stop()
    if app.edge.closed.is_set() or any(isinstance(c, ConsoleChannel) for c in app.channels):
        # The console reads stdin in a thread that cannot be interrupted; everything is closed: leave.
        sys.stdout.flush()
        os._exit(0)
    return 0
