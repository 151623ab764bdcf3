"""`nhacviec backup FILE` and `nhacviec restore FILE [--force]`: the whole store in one portable file.

The file (gzipped JSON lines, knowledge/backup.py) restores on SQLite or PostgreSQL whichever wrote
it. Restore refuses a store holding anything beyond the standard agencies unless --force; stop the
bot first (its search index and planner would not see the restored store until restarted).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from core.settings import Settings
from knowledge.backup import BackupError, backup, restore
from knowledge.db import Database


def register(sub: Any) -> dict[str, Any]:
    b = sub.add_parser("backup", help="sao lưu toàn bộ kho vào một tệp (.jsonl.gz)")
    b.add_argument("file", metavar="FILE")
    r = sub.add_parser("restore", help="khôi phục kho từ tệp sao lưu (kho phải trống, trừ khi --force)")
    r.add_argument("file", metavar="FILE")
    r.add_argument("--force", action="store_true", help="xóa hết dữ liệu hiện có rồi khôi phục")
    return {"backup": cmd_backup, "restore": cmd_restore}


async def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.file)
    if path.is_dir() or not path.parent.is_dir():
        print(f"Không ghi được tệp {path}: thư mục không tồn tại hoặc đó là một thư mục.", file=sys.stderr)
        return 2
    db = Database(settings.db_url)
    try:
        await db.start()  # the schema is current: a backup names the revision it was taken at
        summary = await backup(db, path)
    except OSError as e:
        print(f"Không ghi được tệp {path}: {e.strerror or e}.", file=sys.stderr)
        return 1
    finally:
        await db.close()
    print(summary.text_vi("Đã sao lưu kho vào"))
    return 0


async def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"Không tìm thấy tệp {path}.", file=sys.stderr)
        return 2
    db = Database(settings.db_url)
    try:
        await db.start()  # migrated, not seeded: the registry comes from the backup
        summary = await restore(db, path, force=args.force)
    except BackupError as e:
        print(e.message_vi, file=sys.stderr)
        return 1
    finally:
        await db.close()
    print(summary.text_vi("Đã khôi phục kho từ"))
    return 0
