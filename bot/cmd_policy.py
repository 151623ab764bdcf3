"""`nhacviec policy` and `nhacviec calendar`: the admin's reminder settings from the command line.

    nhacviec policy show
    nhacviec policy set [--plan ID | --task ID] [--offsets 7,3,1,0] [--hour 8] [--overdue-every 3]
                        [--overdue-max 5] [--coordinators yes|no]
    nhacviec policy clear [--plan ID | --task ID]
    nhacviec calendar list
    nhacviec calendar off|work DD/MM/YYYY [--note "..."]     (a day off, or a swapped working Saturday)
    nhacviec calendar clear DD/MM/YYYY

Each change is audited (actor "cli") and takes effect at the planner's next tick.
"""

from __future__ import annotations

import argparse
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from bot.cli import open_store
from core.settings import Settings
from knowledge.calendar import clear_day, set_day
from knowledge.models import CalendarDay, Plan, ReminderPolicy, Task
from knowledge.policy import clear_policy, set_policy


def register(sub: Any) -> dict[str, Any]:
    p = sub.add_parser("policy", help="lịch nhắc: số ngày làm việc nhắc trước hạn, giờ nhắc")
    psub = p.add_subparsers(dest="policy_command")
    psub.add_parser("show", help="xem các chính sách nhắc")
    for name, text in (("set", "đặt chính sách nhắc"), ("clear", "bỏ chính sách riêng, dùng lại mức chung")):
        q = psub.add_parser(name, help=text)
        scope = q.add_mutually_exclusive_group()
        scope.add_argument("--plan", type=int, help="mã kế hoạch trong kho (id)")
        scope.add_argument("--task", type=int, help="mã nhiệm vụ trong kho (id)")
        if name == "set":
            q.add_argument("--offsets", help="số ngày làm việc nhắc trước hạn, ví dụ 7,3,1,0 (0 là ngày hạn)")
            q.add_argument("--hour", type=int, help="giờ nhắc (0–23, giờ Việt Nam)")
            q.add_argument("--overdue-every", type=int, help="khi quá hạn: nhắc mỗi bao nhiêu ngày làm việc")
            q.add_argument("--overdue-max", type=int, help="khi quá hạn: nhắc tối đa bao nhiêu lần")
            q.add_argument("--coordinators", choices=["yes", "no"], help="nhắc cả cơ quan phối hợp")
    c = sub.add_parser("calendar", help="ngày nghỉ, ngày làm bù do quản trị viên đặt")
    csub = c.add_subparsers(dest="calendar_command")
    csub.add_parser("list", help="xem các ngày đã đặt")
    for name, text in (("off", "đặt một ngày nghỉ"), ("work", "đặt một ngày làm việc (làm bù)"),
                       ("clear", "bỏ ngày đã đặt")):
        q = csub.add_parser(name, help=text)
        q.add_argument("day", help="ngày dd/mm/yyyy")
        if name != "clear":
            q.add_argument("--note", default="", help="ghi chú (ví dụ: nghỉ bù Quốc khánh)")
    return {"policy": cmd_policy, "calendar": cmd_calendar}


def _parse_offsets(text: str) -> list[int]:
    try:
        return [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise ValueError("Số ngày nhắc phải là các số nguyên cách nhau bằng dấu phẩy, ví dụ 7,3,1,0.") from None


def _parse_day(text: str) -> date:
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(f"Ngày \"{text}\" không hợp lệ; viết theo dạng dd/mm/yyyy, ví dụ 02/01/2027.")


def _describe(row: ReminderPolicy) -> str:
    scope = {"store": "Toàn bộ", "plan": f"Kế hoạch #{row.scope_id}", "task": f"Nhiệm vụ #{row.scope_id}"}[row.scope]
    before = ", ".join("ngày hạn" if o == 0 else f"{o} ngày" for o in row.offsets)
    return (f"{scope}: nhắc trước {before}, lúc {row.hour:02d}:00; quá hạn nhắc mỗi {row.overdue_every} ngày "
            f"làm việc, tối đa {row.overdue_max} lần; "
            f"nhắc cả phối hợp: {'có' if row.include_coordinators else 'không'}")


async def cmd_policy(args: argparse.Namespace, settings: Settings) -> int:
    if args.policy_command not in ("show", "set", "clear"):
        print("Dùng: nhacviec policy show | set [--plan ID | --task ID] [--offsets 7,3,1,0] [--hour 8] ... | clear")
        return 2
    db = await open_store(settings)
    try:
        async with db.session() as s:
            if args.policy_command == "show":
                rows = (await s.scalars(select(ReminderPolicy).order_by(ReminderPolicy.id))).all()
                print("\n".join(_describe(r) for r in rows) if rows else
                      "Đang dùng mặc định: nhắc trước 7, 3, 1 ngày làm việc và ngày hạn, lúc 08:00; "
                      "quá hạn nhắc mỗi 3 ngày làm việc, tối đa 5 lần.")
                return 0
            scope, scope_id = (("plan", args.plan) if args.plan else ("task", args.task) if args.task
                               else ("store", None))
            model = Plan if scope == "plan" else Task
            if scope_id is not None and await s.get(model, scope_id) is None:
                print(f"Không có {'kế hoạch' if scope == 'plan' else 'nhiệm vụ'} #{scope_id} trong kho.")
                return 2
            try:
                if args.policy_command == "clear":
                    await clear_policy(s, scope, scope_id, by="cli")
                    message = "Đã bỏ chính sách riêng; áp dụng lại mức chung."
                else:
                    row = await set_policy(
                        s, scope, scope_id,
                        offsets=_parse_offsets(args.offsets) if args.offsets else None,
                        hour=args.hour, overdue_every=args.overdue_every, overdue_max=args.overdue_max,
                        include_coordinators=None if args.coordinators is None else args.coordinators == "yes",
                        by="cli")
                    message = "Đã lưu. " + _describe(row)
            except ValueError as e:
                await s.rollback()
                print(str(e))
                return 2
            await s.commit()
            print(message)
            return 0
    finally:
        await db.close()


async def cmd_calendar(args: argparse.Namespace, settings: Settings) -> int:
    if args.calendar_command not in ("list", "off", "work", "clear"):
        print("Dùng: nhacviec calendar list | off DD/MM/YYYY | work DD/MM/YYYY | clear DD/MM/YYYY")
        return 2
    day = None
    if args.calendar_command != "list":
        try:
            day = _parse_day(args.day)
        except ValueError as e:
            print(str(e))
            return 2
    db = await open_store(settings)
    try:
        async with db.session() as s:
            if day is None:
                rows = (await s.scalars(select(CalendarDay).order_by(CalendarDay.day))).all()
                for r in rows:
                    print(f"{r.day:%d/%m/%Y}: {'làm việc' if r.working else 'nghỉ'}{' — ' + r.note if r.note else ''}")
                if not rows:
                    print("Chưa đặt ngày nào; dùng lịch nghỉ lễ chung của Việt Nam.")
                return 0
            if args.calendar_command == "clear":
                await clear_day(s, day, by="cli")
                message = f"Đã bỏ ngày {day:%d/%m/%Y}; theo lịch chung."
            else:
                working = args.calendar_command == "work"
                await set_day(s, day, working, args.note, by="cli")
                message = f"Đã đặt {day:%d/%m/%Y} là ngày {'làm việc' if working else 'nghỉ'}."
            await s.commit()
            print(message)
            return 0
    finally:
        await db.close()
