"""The console channel: the product on a terminal, a channel like the others.

One chat (the person at the keyboard, chat id = user id). Its lines go through the Edge like any
channel's messages; it shows only replies addressed to its own chat. A reply for another console
chat (an admin's approval request, say) is not printed: the Edge records it as undelivered.
Choices are shown as numbered lines; typing the number picks one (handlers.router).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from bot.edge import Edge
from bot.web import WebServer
from core.context import AppContext
from core.messages import Attachment, Choice, DeliveryError, Incoming, Reply
from core.settings import Settings

CHANNEL = "console"
USER = "console"
MAX_TEXT = 1_000_000  # a terminal takes any length: replies are never split
WELCOME = "Nhắc việc — trò chuyện trên máy (gõ câu hỏi; /help để xem hướng dẫn; “thoát” để kết thúc)."
GOODBYE = "Tạm biệt!"
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


class ConsoleSender:
    """Prints what is addressed to the console's own chat; anything else is not deliverable here."""

    channel = CHANNEL

    def __init__(self, writer: TextIO, chat_id: str) -> None:
        self.writer = writer
        self.chat_id = chat_id

    async def send(self, chat_id: str, text: str, choices: list[Choice] | None = None) -> str:
        if chat_id != self.chat_id:
            raise DeliveryError(f"chat {chat_id} không ở trên máy này")
        self.writer.write(format_reply(Reply(text, list(choices or []))) + "\n")
        self.writer.flush()
        return ""

    async def send_file(self, chat_id: str, attachment: Attachment, caption: str = "") -> str:
        """A terminal shows no file: it is written to a temporary folder and its path printed."""
        if chat_id != self.chat_id:
            raise DeliveryError(f"chat {chat_id} không ở trên máy này")
        path = Path(tempfile.mkdtemp(prefix="nhacviec-")) / attachment.name
        path.write_bytes(attachment.data)
        self.writer.write(f"{caption}\n📎 Tệp đã lưu tại: {path}\n" if caption else f"📎 Tệp đã lưu tại: {path}\n")
        self.writer.flush()
        return ""


class ConsoleChannel:
    name = CHANNEL
    max_text = MAX_TEXT
    status = "on"
    connected = True  # a terminal is there or the channel is not started

    def __init__(self, edge: Edge, reader: TextIO = sys.stdin, writer: TextIO = sys.stdout,
                 user: str = USER) -> None:
        self.edge = edge
        self.reader, self.writer, self.user = reader, writer, user
        self.sender = ConsoleSender(writer, user)
        self._task: asyncio.Task[None] | None = None
        edge.add(self)

    @classmethod
    def from_settings(cls, edge: Edge, settings: Settings) -> ConsoleChannel | None:
        """The channel when NHACVIEC_CONSOLE is set (`nhacviec run` sets it on a terminal without a token)."""
        return cls(edge) if settings.console else None

    def health(self) -> dict[str, Any]:
        return {}

    def add_routes(self, web: WebServer) -> None:
        """A terminal has no webhook."""

    async def start(self) -> None:
        self._task = asyncio.create_task(self.run())
        self._task.add_done_callback(lambda _: self.edge.closed.set())

    async def stop(self) -> None:
        # stdin is read in a thread that cannot be interrupted: the task is left to the process's end.
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def run(self) -> None:
        """Read lines until end of input (or "thoát"), answer each through the Edge."""
        self.writer.write(WELCOME + "\n")
        while True:
            self.writer.write("> ")
            self.writer.flush()
            line = await asyncio.to_thread(self.reader.readline)
            if not line:
                break
            text = line.strip()
            if text.lower() in QUIT:
                break
            if text:
                await self.edge.receive(Incoming(channel=CHANNEL, chat_id=self.user, user_id=self.user, text=text))
        self.writer.write(GOODBYE + "\n")
        self.writer.flush()


async def run_console(ctx: AppContext, reader: TextIO = sys.stdin, writer: TextIO = sys.stdout,
                      user: str = USER) -> None:
    """A console chat on its own (`nhacviec chat`, tests): an Edge with only this channel."""
    await ConsoleChannel(Edge(ctx), reader, writer, user).run()
