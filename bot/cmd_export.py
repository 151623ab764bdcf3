"""`nhacviec export`: the admins' files from the command line, the same as /xuat and /lich in chat.

    nhacviec export xlsx FILE [--plan 3021] [--agency "Sở Tài chính"] [--today YYYY-MM-DD]
    nhacviec export ics FILE --agency "Sở Tài chính" [--today YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from bot.cli import open_store
from core.clock import Clock, FixedClock
from core.settings import Settings
from handlers.admin_common import Refused, find_plan, resolve_agency
from knowledge import reports, status
from knowledge.agencies import Registry


def register(sub: Any) -> dict[str, Any]:
    p = sub.add_parser("export", help="xuất bảng tính nhiệm vụ (.xlsx) hoặc lịch hạn của một cơ quan (.ics)")
    p.add_argument("format", choices=("xlsx", "ics"), help="xlsx: bảng tính; ics: lịch")
    p.add_argument("file", metavar="FILE", type=Path, help="tệp sẽ ghi ra")
    p.add_argument("--plan", default="", help="chỉ một kế hoạch (số, ví dụ 3021)")
    p.add_argument("--agency", default="", help="chỉ một cơ quan (chủ trì; với ics: chủ trì và phối hợp)")
    p.add_argument("--today", type=date.fromisoformat, default=None, help="tính trạng thái theo ngày này")
    return {"export": cmd_export}


async def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    if args.format == "ics" and not args.agency:
        print("Lịch .ics cần --agency <tên cơ quan>.", file=sys.stderr)
        return 2
    clock = FixedClock.on(args.today) if args.today else Clock()
    db = await open_store(settings)
    try:
        async with db.session() as s:
            plan_ids = agency_ids = None
            about = "tất cả kế hoạch"
            try:
                if args.plan:
                    plan = await find_plan(s, args.plan)
                    plan_ids, about = [plan.id], plan.number or plan.title[:40]
                if args.agency:
                    registry = await Registry.load(s)
                    info = resolve_agency(registry, args.agency)
                    agency_ids = [info.id] + [p.id for p in registry.predecessors(info.id)]
                    about = info.name if not args.plan else f"{about}, {info.name}"
            except Refused as e:
                print(str(e), file=sys.stderr)
                return 2
            roles = ("lead", "coordinator") if args.format == "ics" else ("lead",)
            sts = await status.task_statuses(s, clock.today(), plan_ids=plan_ids, agency_ids=agency_ids, roles=roles)
    finally:
        await db.close()
    if args.format == "xlsx":
        data = reports.workbook(sts, f"Nhiệm vụ — {about}")
        what = f"{len(sts)} nhiệm vụ"
    else:
        dated = [st for st in sts if st.due is not None]
        data = reports.calendar(dated, about, clock.now())
        what = f"{len(dated)} hạn nhiệm vụ"
    args.file.parent.mkdir(parents=True, exist_ok=True)
    args.file.write_bytes(data)
    print(f"Đã ghi {args.file} ({what} — {about}).")
    return 0
