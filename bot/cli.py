"""The `nhacviec` command line. Each sub-command lives in the module named for what it does."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from bot import logs
from core.settings import Settings, load
from knowledge.agencies import Registry, seed
from knowledge.db import Database

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


async def open_store(settings: Settings) -> Database:
    """The store, migrated and seeded with the standard agencies."""
    db = Database(settings.db_url)
    await db.start(seed=seed)  # under the store's set-up lock: instances may start together
    return db


async def cmd_agencies(args: argparse.Namespace, settings: Settings) -> int:
    db = await open_store(settings)
    try:
        async with db.session() as s:
            reg = await Registry.load(s)
        for a in sorted(reg.by_id.values(), key=lambda a: (a.kind, a.name)):
            extra = ""
            if a.successor_id:
                extra = f" (nay là {reg.by_id[a.successor_id].name})"
            if a.is_group and a.members:
                extra += f" [nhóm: {len(a.members)} cơ quan]"
            print(f"{a.name}{extra}")
    finally:
        await db.close()
    return 0


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Command]]:
    parser = argparse.ArgumentParser(prog="nhacviec", description="Nhắc việc: theo dõi nhiệm vụ trong kế hoạch")
    sub = parser.add_subparsers(dest="command")
    commands: dict[str, Command] = {}
    sub.add_parser("agencies", help="liệt kê danh mục cơ quan")
    commands["agencies"] = cmd_agencies
    # Each module adds its own sub-commands; kept apart so each can grow on its own.
    from bot import cmd_ask, cmd_backup, cmd_export, cmd_import, cmd_policy, cmd_remind, cmd_run, cmd_settings

    for module in (cmd_import, cmd_ask, cmd_remind, cmd_policy, cmd_run, cmd_backup, cmd_settings, cmd_export):
        commands.update(module.register(sub))
    return parser, commands


def main(argv: list[str] | None = None) -> int:
    settings = load()
    logs.setup(settings.log_json)
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8")
    parser, commands = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        args = parser.parse_args(["run"])
    return asyncio.run(commands[args.command](args, settings))
