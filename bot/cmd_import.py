"""`nhacviec import [--dry-run] [--json] FILE|DIR...`: read plans and store their tasks.

A folder stands for its plan files (.docx, .pdf, .txt, .md), in name order; a folder without any is
reported and fails the command, the other files still import.

Each file is its own transaction: a refused file (empty, binary, corrupt, too large, scanned, MẬT)
prints its Vietnamese reason on stderr and the command exits non-zero, while the other files still
import. A readable document that assigns no task (a README beside the plans) is skipped with a
warning; it fails the command only when no file at all was a plan. --dry-run parses with an in-memory
registry of the standard bodies and never opens the store.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from core.clock import Clock
from core.settings import Settings
from knowledge.export import parsed_plan_json
from knowledge.importer import ImportRefused, NameFinder, NotAPlan, parse_path, seed_registry
from knowledge.plans import UNEXPECTED_VI

log = logging.getLogger(__name__)


def register(sub: Any) -> dict[str, Any]:
    p = sub.add_parser("import", help="nhập kế hoạch (.docx, .pdf, .txt) vào kho nhiệm vụ")
    p.add_argument("files", nargs="+", metavar="FILE", help="tệp kế hoạch, hoặc thư mục chứa các tệp kế hoạch")
    p.add_argument("--dry-run", action="store_true", help="chỉ đọc và in kết quả, không ghi vào kho")
    p.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    return {"import": cmd_import}


# The files of a folder that are read as plans; the others there are left alone.
PLAN_SUFFIXES = (".docx", ".pdf", ".txt", ".md")


def expand(names: list[str]) -> tuple[list[Path], int]:
    """The files to import: each file named, and each plan file of a folder named (in name order,
    hidden files and sub-folders left out). The count is of folders holding no plan file."""
    paths: list[Path] = []
    empty = 0
    for name in names:
        path = Path(name)
        if not path.is_dir():
            paths.append(path)
            continue
        found = sorted(p for p in path.iterdir()
                       if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in PLAN_SUFFIXES)
        if not found:
            empty += 1
            print(f"{path.name}: thư mục không có tệp kế hoạch nào (.docx, .pdf, .txt, .md).", file=sys.stderr)
        paths.extend(found)
    return paths, empty


async def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    max_bytes = settings.max_upload_mb * 1024 * 1024
    today = Clock().today()
    skipped = 0
    paths, failed = expand(args.files)
    out: list[dict[str, Any]] = []
    if args.dry_run:
        registry = seed_registry()
        finder = NameFinder(registry)
        for path in paths:
            try:
                plan = parse_path(path, finder, max_bytes)
            except NotAPlan as e:
                skipped += 1
                print(f"{path.name}: bỏ qua — {e.message_vi}", file=sys.stderr)
                continue
            except ImportRefused as e:
                failed += 1
                print(f"{path.name}: {e.message_vi}", file=sys.stderr)
                continue
            except Exception:  # a fault of ours on one file must not stop the others
                failed += 1
                log.exception("import --dry-run: %s", path)
                print(f"{path.name}: {UNEXPECTED_VI}", file=sys.stderr)
                continue
            if args.json:
                out.append(parsed_plan_json(plan, path.name, registry, today))
            else:
                print(f"{path.name}: {len(plan.tasks)} nhiệm vụ (chạy thử, chưa ghi vào kho).")
    else:
        from bot.cli import open_store
        from knowledge.plans import Importer

        db = await open_store(settings)
        try:
            importer = await Importer.create(db, actor="cli", max_bytes=max_bytes)
            async for path, result in importer.import_many(paths):
                if isinstance(result, NotAPlan):
                    skipped += 1
                    print(f"{path.name}: bỏ qua — {result.message_vi}", file=sys.stderr)
                    continue
                if isinstance(result, ImportRefused):
                    failed += 1
                    print(f"{path.name}: {result.message_vi}", file=sys.stderr)
                    continue
                if args.json:
                    out.append(parsed_plan_json(result.parsed, path.name, importer.registry, today))
                else:
                    print(f"{path.name}: {result.summary_vi()}")
                    for problem in result.parsed.problems:
                        print(f"{path.name}: cần xem lại — {problem}", file=sys.stderr)
        finally:
            await db.close()
    if args.json:
        print(json.dumps({"plans": out}, ensure_ascii=False, indent=1))
    return 1 if failed or skipped == len(paths) else 0
