"""`nhacviec focal add|list` (focal points) and `nhacviec remind` (plan and send today's reminders).

    nhacviec focal add --agency "Sở KH&CN" --channel telegram --chat 12345 [--name "Nguyễn Văn A"]
    nhacviec focal list
    nhacviec remind [--dry-run] [--json] [--today YYYY-MM-DD]

`remind --dry-run` lists the reminders of the day without writing anything; without it the
outbox is brought up to date and every reminder due by the end of that day is sent (Telegram
needs NHACVIEC_TELEGRAM_TOKEN; other channels' rows wait for `nhacviec run`).
"""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from bot.cli import open_store
from core.clock import VN, Clock, FixedClock, parse_day
from core.messages import Sender
from core.settings import Settings
from knowledge import focal_points
from knowledge.agencies import Registry
from knowledge.db import Database
from knowledge.models import FocalPoint, Outbox
from scheduler import planner
from scheduler.dispatcher import Dispatcher

CHANNELS = ("telegram", "zalo", "console")


def register(sub: Any) -> dict[str, Any]:
    f = sub.add_parser("focal", help="quản lý cán bộ đầu mối nhận nhắc việc")
    fsub = f.add_subparsers(dest="focal_command")
    add = fsub.add_parser("add", help="thêm đầu mối (được duyệt ngay)")
    add.add_argument("--agency", required=True, help="tên cơ quan, viết tắt cũng được (Sở KH&CN)")
    add.add_argument("--channel", default="telegram", help="telegram | zalo | console")
    add.add_argument("--chat", required=True, help="mã cuộc trò chuyện (chat id)")
    add.add_argument("--name", default=None, help="họ tên cán bộ")
    fsub.add_parser("list", help="liệt kê đầu mối")
    r = sub.add_parser("remind", help="lập và gửi nhắc việc của một ngày")
    r.add_argument("--dry-run", action="store_true", help="chỉ liệt kê, không ghi và không gửi")
    r.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    r.add_argument("--today", default=None, help="coi hôm nay là ngày này (YYYY-MM-DD)")
    return {"focal": cmd_focal, "remind": cmd_remind}


async def cmd_focal(args: argparse.Namespace, settings: Settings) -> int:
    if args.focal_command not in ("add", "list"):
        print("Dùng: nhacviec focal add --agency TÊN --channel telegram --chat MÃ [--name HỌ TÊN]\n"
              "     nhacviec focal list")
        return 2
    db = await open_store(settings)
    try:
        if args.focal_command == "add":
            return await _focal_add(db, args)
        return await _focal_list(db)
    finally:
        await db.close()


async def _focal_add(db: Database, args: argparse.Namespace) -> int:
    channel = args.channel.strip().lower()
    chat = str(args.chat).strip()
    if channel not in CHANNELS:
        print(f"Kênh \"{args.channel}\" không được hỗ trợ; dùng một trong: {', '.join(CHANNELS)}.")
        return 2
    if not chat or (channel == "telegram" and not chat.lstrip("-").isdigit()):
        print(f"Mã cuộc trò chuyện \"{chat}\" không hợp lệ (Telegram dùng một số, ví dụ 123456789).")
        return 2
    async with db.session() as s:
        info = (await Registry.load(s)).lookup(args.agency)
        if info is None:
            print(f"Không tìm thấy cơ quan \"{args.agency}\" trong danh mục. "
                  "Gõ `nhacviec agencies` để xem tên các cơ quan.")
            return 2
        row = await focal_points.add(s, info.id, channel, chat, name=args.name, approved_by="cli")
        await s.commit()
        print(f"Đã thêm đầu mối #{row.id}: {info.name} — {channel}:{chat}" + (f" ({row.name})" if row.name else ""))
    return 0


STATUS_VI = {"pending": "chờ duyệt", "approved": "đã duyệt", "unreachable": "không liên lạc được",
             "removed": "đã gỡ"}


async def _focal_list(db: Database) -> int:
    async with db.session() as s:
        reg = await Registry.load(s)
        rows = await focal_points.list_focal_points(s)
    if not rows:
        print("Chưa có đầu mối nào. Thêm bằng: nhacviec focal add --agency TÊN --chat MÃ")
        return 0
    for f in rows:
        agency = reg.by_id[f.agency_id].name if f.agency_id in reg.by_id else f"#{f.agency_id}"
        name = f" ({f.name})" if f.name else ""
        print(f"#{f.id}\t{STATUS_VI.get(f.status, f.status)}\t{f.channel}:{f.chat_id}\t{agency}{name}")
    return 0


async def _senders(settings: Settings) -> tuple[dict[str, Sender], list[Any]]:
    """The channels this command can send on (Telegram with a token), and what to close after."""
    if not settings.telegram_token:
        return {}, []
    from telegram import Bot

    from bot.channels.telegram.sender import TelegramSender

    bot = Bot(settings.telegram_token, base_url=settings.telegram_base_url)
    await bot.initialize()
    return {"telegram": TelegramSender(bot)}, [bot]


def _item(p: planner.Planned | None = None, *, row: Outbox | None = None, fp: FocalPoint | None = None,
          agency: str = "", due: date | None = None) -> dict[str, Any]:
    if p is not None:
        return {"task_id": p.task_id, "channel": p.channel, "chat": p.chat_id, "agency": p.agency,
                "due": p.due.isoformat(), "kind": p.kind, "text": p.text}
    assert row is not None and fp is not None
    return {"task_id": row.task_id, "channel": fp.channel, "chat": fp.chat_id, "agency": agency,
            "due": due.isoformat() if due else row.occurrence.isoformat(), "kind": row.kind, "text": row.text}


async def cmd_remind(args: argparse.Namespace, settings: Settings) -> int:
    try:
        day = parse_day(args.today) if args.today is not None else None
    except ValueError as e:
        print(e)
        return 2
    real = Clock()
    day = day or real.today()
    db = await open_store(settings)
    try:
        if args.dry_run:
            async with db.session() as s:
                snap = await planner.load_snapshot(s, settings.reminder_hour)
            start = datetime(day.year, day.month, day.day, tzinfo=VN)
            items = [_item(p) for p in planner.plan_window(snap, day, day, start)]
            _print(items, args.json, day, dry=True)
            return 0
        # Act as of the end of that day (or now, for today): everything due by then goes out.
        now = real.now() if args.today is None else FixedClock(datetime(day.year, day.month, day.day, 23, 59,
                                                                         tzinfo=VN)).now()
        clock = FixedClock(now)
        async with db.session() as s:
            await planner.run_planner(s, now, settings.reminder_hour)
            await s.commit()
        senders, closers = await _senders(settings)
        try:
            dispatcher = Dispatcher(db, senders, clock, claim_timeout=settings.claim_timeout_s,
                                    max_per_second=settings.reminder_max_per_second or None)
            stats = await dispatcher.run_once() if senders else None
        finally:
            for c in closers:
                await c.shutdown()
        items = []
        if stats and stats.sent_ids:
            async with db.session() as s:
                reg = await Registry.load(s)
                rows = (await s.execute(_sent_query(stats.sent_ids))).all()
                items = [_item(row=o, fp=f, agency=reg.by_id[o.agency_id].name) for o, f in rows]
        _print(items, args.json, day, dry=False)
        if not senders and not args.json:
            print("Chưa có kênh gửi (đặt NHACVIEC_TELEGRAM_TOKEN); các nhắc việc đã được lập và chờ gửi.")
        if stats and not args.json and (stats.retried or stats.failed or stats.unreachable):
            print(f"Chờ gửi lại: {stats.retried}; lỗi: {stats.failed}; không liên lạc được: {stats.unreachable}.")
        return 0
    finally:
        await db.close()


def _sent_query(ids: list[int]) -> Any:
    return (select(Outbox, FocalPoint).join(FocalPoint, FocalPoint.id == Outbox.focal_point_id)
            .where(Outbox.id.in_(ids)).order_by(Outbox.sent_at, Outbox.id))


def _print(items: list[dict[str, Any]], as_json: bool, day: date, dry: bool) -> None:
    if as_json:
        print(json.dumps({"reminders": items}, ensure_ascii=False, indent=1))
        return
    verb = "Sẽ gửi" if dry else "Đã gửi"
    print(f"{verb} {len(items)} nhắc việc ngày {day:%d/%m/%Y}.")
    for it in items:
        print(f"\n→ {it['channel']}:{it['chat']} ({it['agency']})\n{it['text']}")
