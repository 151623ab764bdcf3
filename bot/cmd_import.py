"""`nhacviec import [--dry-run] [--json] FILE...`: read plans and store their tasks.

Each file is its own transaction: a refused file (empty, binary, corrupt, too large, scanned, MẬT)
prints its Vietnamese reason on stderr and the command exits non-zero, while the other files still
import. A readable document that assigns no task (a README beside the plans) is skipped with a
warning; it fails the command only when no file at all was a plan. --dry-run parses with an in-memory
registry of the standard bodies and never opens the store.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from core.clock import Clock
from core.settings import Settings
from knowledge.export import parsed_plan_json
from knowledge.importer import ImportRefused, NameFinder, NotAPlan, parse_path, seed_registry


def register(sub: Any) -> dict[str, Any]:
    p = sub.add_parser("import", help="nhập kế hoạch (.docx, .pdf, .txt) vào kho nhiệm vụ")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--dry-run", action="store_true", help="chỉ đọc và in kết quả, không ghi vào kho")
    p.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    return {"import": cmd_import}


async def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    max_bytes = settings.max_upload_mb * 1024 * 1024
    today = Clock().today()
    failed = skipped = 0
    out: list[dict[str, Any]] = []
    if args.dry_run:
        registry = seed_registry()
        finder = NameFinder(registry)
        for name in args.files:
            path = Path(name)
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
            async for path, result in importer.import_many([Path(n) for n in args.files]):
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
        finally:
            await db.close()
    if args.json:
        print(json.dumps({"plans": out}, ensure_ascii=False, indent=1))
    return 1 if failed or skipped == len(args.files) else 0
