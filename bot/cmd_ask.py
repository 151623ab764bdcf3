"""`nhacviec ask [--json] [--today YYYY-MM-DD] [QUESTION]` and `nhacviec chat`: questions without a chat token.

With no QUESTION, reads one question per line on standard input and answers each (one JSON line
each with --json: question, intent, answer text, the ranked tasks in the import contract's shape).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from core.clock import Clock, FixedClock
from core.context import AppContext
from core.settings import Settings
from handlers.questions import answer
from knowledge.text import nfc


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
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"ngày không hợp lệ: {text!r} (cần YYYY-MM-DD)") from exc


async def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli import open_store

    db = await open_store(settings)
    clock: Clock = FixedClock.on(args.today) if args.today else Clock()
    ctx = AppContext(db=db, clock=clock, admins=settings.admin_ids, settings=settings)
    try:
        questions = [" ".join(args.question)] if args.question else (line for line in sys.stdin)
        for raw in questions:
            q = nfc(raw).strip()  # a blank line is answered too: one answer per input line, always
            ans = await answer(ctx, q)
            if args.json:
                print(json.dumps(ans.as_json(), ensure_ascii=False), flush=True)
            else:
                print(ans.text + "\n", flush=True)
    finally:
        await db.close()
    return 0


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
