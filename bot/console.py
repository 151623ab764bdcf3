"""The console chat: the product without any chat token, through the same router as the channels."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from core.context import AppContext
from core.messages import Incoming, Reply
from handlers import router

WELCOME = "Nhắc việc — trò chuyện trên máy (gõ câu hỏi; /help để xem hướng dẫn; “thoát” để kết thúc)."
QUIT = frozenset({"thoat", "thoát", "exit", "quit", "/thoat", "/exit", "/quit"})


def format_reply(reply: Reply) -> str:
    """A reply as console text: its choices as numbered lines the user can answer with a number
    (unless the text already lists them numbered, as answers with choices do)."""
    lines = [reply.text]
    if reply.choices and any(line.startswith("1. ") for line in reply.text.splitlines()):
        return reply.text
    for n, choice in enumerate(reply.choices, 1):
        label = choice.label
        lines.append(f"  {label}" if label[:1].isdigit() else f"  {n}. {label}")
    return "\n".join(lines)


async def run_console(ctx: AppContext, reader: TextIO = sys.stdin, writer: TextIO = sys.stdout,
                      user: str = "console") -> None:
    """Read lines until end of input (or "thoát"), answer each through the router."""
    writer.write(WELCOME + "\n")
    while True:
        writer.write("> ")
        writer.flush()
        line = await asyncio.to_thread(reader.readline)
        if not line:
            break
        text = line.strip()
        if text.lower() in QUIT:
            break
        if not text:
            continue
        replies = await router.handle(ctx, Incoming(channel="console", chat_id=user, user_id=user, text=text))
        for reply in replies:
            writer.write(format_reply(reply) + "\n")
        writer.flush()
    writer.write("Tạm biệt!\n")
    writer.flush()
