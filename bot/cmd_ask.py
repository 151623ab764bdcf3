"""`nhacviec ask [--json] [--today YYYY-MM-DD] [QUESTION]` and `nhacviec chat`: questions without a chat token.

With no QUESTION, reads one question per line on standard input and answers each (one JSON line
each with --json: question, intent, answer text, the ranked tasks in the import contract's shape).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator
from datetime import date
from typing import Any

from core.clock import Clock, FixedClock, parse_day
from core.context import AppContext
from core.settings import Settings
from handlers.questions import answer
from knowledge.text import nfc

log = logging.getLogger(__name__)


def register(sub: Any) -> dict[str, Any]:
    p = sub.add_parser("ask", help="trả lời câu hỏi (một câu, hoặc mỗi dòng của stdin một câu)")
    p.add_argument("question", nargs="*", help="câu hỏi; bỏ trống để đọc từ stdin")
    p.add_argument("--json", action="store_true", help="mỗi câu trả lời một dòng JSON")
    p.add_argument("--today", type=_day, default=None, help="coi hôm nay là ngày này (YYYY-MM-DD)")
    commands = {"ask": cmd_ask}
    if "chat" not in getattr(sub, "choices", {}):
        c = sub.add_parser("chat", help="trò chuyện trên máy (không cần token Telegram/Zalo)")
        c.add_argument("--today", type=_day, default=None, help="coi hôm nay là ngày này (YYYY-MM-DD)")
        commands["chat"] = cmd_chat
    return commands


def _day(text: str) -> date:
    try:
        return parse_day(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _stdin_lines() -> Iterator[tuple[int, str | None, bytes]]:
    """(line number, the line as text or None when it is not UTF-8, its bytes), read as bytes so one
    bad byte spoils its own line only."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:  # already text (a test's StringIO)
        yield from ((n, line, b"") for n, line in enumerate(sys.stdin, 1))
        return
    for n, raw in enumerate(buffer, 1):
        try:
            yield n, raw.decode("utf-8-sig" if n == 1 else "utf-8"), raw
        except UnicodeDecodeError:
            yield n, None, raw


def _not_utf8(n: int, raw: bytes) -> tuple[str, str]:
    """The line as far as it reads, and the Vietnamese reason it is not answered."""
    return (raw.decode("utf-8", "replace").strip(),
            f"Dòng {n} không phải văn bản UTF-8 hợp lệ nên không trả lời được; hãy lưu tệp câu hỏi dạng UTF-8.")


async def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli import open_store

    db = await open_store(settings)
    clock: Clock = FixedClock.on(args.today) if args.today else Clock()
    ctx = AppContext(db=db, clock=clock, admins=settings.admin_ids, settings=settings)
    try:
        lines = [(1, " ".join(args.question), b"")] if args.question else _stdin_lines()
        for n, raw, data in lines:
            if raw is None:  # one undecodable line gets its own error; the batch goes on
                question, error = _not_utf8(n, data)
                _print_error(args.json, question, error)
                continue
            q = nfc(raw).strip()  # a blank line is answered too: one answer per input line, always
            try:
                ans = await answer(ctx, q)
            except Exception:
                log.exception("ask: line %d not answered", n)
                _print_error(args.json, q, f"Lỗi khi trả lời câu hỏi ở dòng {n}; các câu khác vẫn được trả lời.")
                continue
            if args.json:
                print(json.dumps(ans.as_json(), ensure_ascii=False), flush=True)
            else:
                print(ans.text + "\n", flush=True)
    finally:
        await db.close()
    return 0


def _print_error(as_json: bool, question: str, error: str) -> None:
    if as_json:
        print(json.dumps({"question": question, "intent": None, "answer": error, "tasks": [], "error": error},
                         ensure_ascii=False), flush=True)
    else:
        print(error + "\n", flush=True)


async def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.channels.console.channel import run_console
    from bot.cli import open_store

    db = await open_store(settings)
    clock: Clock = FixedClock.on(args.today) if args.today else Clock()
    try:
        await run_console(AppContext(db=db, clock=clock, admins=settings.admin_ids, settings=settings))
    finally:
        await db.close()
    return 0
