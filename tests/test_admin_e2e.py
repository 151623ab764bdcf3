"""Every admin command of the table end to end (issue 11): the real PTB client polling the fake Bot API
on 127.0.0.1, on SQLite and PostgreSQL. One bot per database runs a table of steps (what the admin
types or presses, what the reply must say, what the store must hold after, which audit row it wrote);
beside it the guided forms through buttons and numbered choices, the refusal of every admin command
to a non-admin (the store unchanged), the extension request answered from chat, and the downloads
opened with openpyxl, icalendar and a PNG check against the store."""

from __future__ import annotations

import asyncio
import io
import re
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.channels.telegram.channel import TelegramChannel
from bot.edge import Edge
from core.clock import FixedClock
from core.context import AppContext
from handlers.commands import COMMANDS, Audience
from knowledge import status
from knowledge.agencies import Registry
from knowledge.db import Database
from knowledge.models import (
    Agency,
    AgencyAlias,
    AuditEntry,
    FocalPoint,
    Outbox,
    Plan,
    Task,
    TaskAgency,
    TaskProgress,
)
from knowledge.plans import import_file
from scheduler import planner
from tests.fakes.telegram_api import FakeTelegram
from tests.reminder_fixtures import HOUR, TaskSpec, make_plan
from tests.test_admin_telegram import PLAN, buttons, download, focal

ADMIN = 900
USER = 11  # a stranger
ASKER = 12  # asks to become Sở Y tế's focal point
FOCAL = 501  # Sở Tài chính's focal point
GONE = 502  # Sở Tài chính's focal point who blocked the bot
MONITOR = 503  # a focal point of the monitoring agency (Sở Khoa học và Công nghệ)
TODAY = date(2026, 11, 23)
REPLY_WAIT = 15.0  # seconds: a reply on a busy shared machine (the import and the chart take the longest)
ADMIN_COMMANDS = [c.name for c in COMMANDS if c.audience is Audience.ADMIN]
MENU_WAIT = 3.0  # seconds: setMyCommands for a new admin follows the reply at once
POLL = 0.1  # seconds between two looks at the store
CANCEL_BUTTON = "adm:no"  # "Không" under a confirmation: anyone pressing it only hears nothing changed
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

Check = Callable[[Database, dict[str, int]], Awaitable[Any]]


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def ctx(db: Database) -> AppContext:
    return AppContext(db=db, clock=FixedClock.on(TODAY), admins=frozenset({f"telegram:{ADMIN}"}))


@asynccontextmanager
async def running(ctx: AppContext, tg: FakeTelegram) -> AsyncIterator[TelegramChannel]:
    """The bot polling the fake, as `nhacviec run` would."""
    b = TelegramChannel(Edge(ctx), tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url, poll_timeout=1)
    await b.start()
    try:
        yield b
    finally:
        await b.stop()


@pytest.fixture
async def bot(ctx: AppContext, tg: FakeTelegram) -> AsyncIterator[TelegramChannel]:
    async with running(ctx, tg) as b:
        yield b


# ---- reading the store ---------------------------------------------------------------------------

async def count(db: Database, model: type, *where: Any) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def task_by_ref(db: Database, ref: str) -> Task | None:
    async with db.session() as s:
        return await s.scalar(select(Task).where(Task.ref == ref))


async def agency_row(db: Database, name: str) -> Agency | None:
    async with db.session() as s:
        return await s.scalar(select(Agency).where(Agency.name == name))


async def lookup(db: Database, name: str) -> int | None:
    async with db.session() as s:
        info = (await Registry.load(s)).lookup(name)
    return info.id if info else None


async def roles_of(db: Database, ref: str) -> list[tuple[str, str]]:
    t = await task_by_ref(db, ref)
    assert t is not None
    async with db.session() as s:
        rows = (await s.scalars(select(TaskAgency).where(TaskAgency.task_id == t.id))).all()
    return sorted((r.role, r.written) for r in rows)


async def snapshot(db: Database) -> dict[str, Any]:
    """What a non-admin must never change: row counts, the deadlines and states of the tasks."""
    async with db.session() as s:
        tasks = sorted((t.ref, t.deadline_due, t.status, t.text) for t in (await s.scalars(select(Task))).all())
        plans = sorted((p.number, p.archived_at) for p in (await s.scalars(select(Plan))).all())
    counts = {m.__name__: await count(db, m) for m in (Agency, AgencyAlias, AuditEntry, FocalPoint, TaskProgress,
                                                         TaskAgency)}
    return {"tasks": tasks, "plans": plans, **counts}


# ---- talking to the bot --------------------------------------------------------------------------

@dataclass
class Step:
    """One exchange: `say` is typed (formatted with the ids of the setup), or `press` is the label of a
    button under the chat's newest message. `expect` are fragments of the first reply; `audit` the action
    of the one audit row it writes (None: it writes none); `check` reads the store after."""

    say: str = ""
    expect: tuple[str, ...] = ()
    audit: str | None = None
    check: Check | None = None
    press: str = ""
    data: str = ""  # raw callback data pressed under the chat's newest message (a reminder's button)
    who: int = ADMIN
    replies: int = 1
    others: dict[int, int] = field(default_factory=dict)  # messages other chats receive: {chat: n}

    def __str__(self) -> str:
        return self.say or f"[{self.press or self.data}]"


async def exchange(tg: FakeTelegram, step: Step, ids: dict[str, int]) -> list[dict[str, Any]]:
    """Send one step, wait for its replies (and the messages to other chats); return the replies."""
    before = {chat: len(tg.sent_to(chat)) for chat in (step.who, *step.others)}
    if step.data:
        tg.queue_callback(step.who, step.data, message_id=tg.sent_to(step.who)[-1]["message_id"])
    elif step.press:
        newest = tg.sent_to(step.who)[-1]
        offered = buttons(newest) if newest.get("reply_markup") else {}
        label = next((b for b in offered if b == step.press), None) or next(
            (b for b in offered if b.startswith(step.press)), None)
        if label is None:
            raise AssertionError(f"no button {step.press!r} under {text_of(newest)!r}: {list(offered)}")
        tg.queue_callback(step.who, offered[label], message_id=newest["message_id"])
    else:
        tg.queue_message(step.who, step.say.format(**ids))
    for chat, n in ((step.who, step.replies), *step.others.items()):
        await tg.wait_for_messages(before[chat] + n, chat_id=chat, timeout=REPLY_WAIT)
    return tg.sent_to(step.who)[before[step.who]:]


def text_of(message: dict[str, Any]) -> str:
    return str(message.get("text") or message.get("caption") or "")


async def audit_since(db: Database, after_id: int) -> list[AuditEntry]:
    async with db.session() as s:
        return list((await s.scalars(select(AuditEntry).where(AuditEntry.id > after_id)
                                     .order_by(AuditEntry.id))).all())


async def last_audit_id(db: Database) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.max(AuditEntry.id))) or 0)


async def run_steps(ctx: AppContext, tg: FakeTelegram, steps: list[Step], ids: dict[str, int]) -> list[str]:
    """Run the steps in order; every failure is kept (with its step) so one run shows them all."""
    failures: list[str] = []
    for step in steps:
        mark = await last_audit_id(ctx.db)
        try:
            replies = await exchange(tg, step, ids)
        except AssertionError as e:
            failures.append(f"{step}: no reply ({e})")
            continue
        text = text_of(replies[0])
        missing = [e for e in step.expect if e.format(**ids) not in text]
        if missing:
            failures.append(f"{step}: {missing} not in reply {text!r}")
        written = await audit_since(ctx.db, mark)
        wanted = [step.audit] if step.audit else []
        if [r.action for r in written] != wanted:
            failures.append(f"{step}: audit rows {[r.action for r in written]}, wanted {wanted}")
        elif written and written[0].actor != f"telegram:{step.who}":
            failures.append(f"{step}: audit actor {written[0].actor}")
        if step.check is not None:
            try:
                ok = await step.check(ctx.db, ids)
            except AssertionError as e:
                ok = f"{e}"
            if ok is not True:
                failures.append(f"{step}: store check failed ({ok})")
    return failures


async def setup_store(ctx: AppContext, tg: FakeTelegram) -> dict[str, int]:
    """KH 130 stored; Sở Tài chính has a focal point and one who blocked the bot (through the fake); the
    plan's monitoring agency has one."""
    await import_file(ctx.db, PLAN.read_bytes(), "kh130.txt", actor="cli")
    await focal(ctx.db, "Sở Tài chính", FOCAL)
    await focal(ctx.db, "Sở Tài chính", GONE)
    await focal(ctx.db, "Sở Khoa học và Công nghệ", MONITOR)  # KH 130's monitoring agency
    tg.queue_block(GONE)

    async def blocked() -> bool:
        return await count(ctx.db, FocalPoint, FocalPoint.status == "unreachable") == 1

    for _ in range(int(REPLY_WAIT / POLL)):
        if await blocked():
            break
        await asyncio.sleep(POLL)
    assert await blocked(), "the block was not recorded"
    async with ctx.db.session() as s:
        gone = await s.scalar(select(FocalPoint.id).where(FocalPoint.chat_id == str(GONE)))
        tasks = {t.ref: t.id for t in (await s.scalars(select(Task))).all()}
    return {"gone": int(gone or 0), **{f"t{ref.replace('.', '_')}": tid for ref, tid in tasks.items()}}


# ---- the table -----------------------------------------------------------------------------------

def due(ref: str, day: date | None) -> Check:
    async def check(db: Database, _ids: dict[str, int]) -> bool:
        t = await task_by_ref(db, ref)
        assert t is not None, ref
        assert t.deadline_due == day, t.deadline_due
        return True
    return check


def rows(model: type, n: int, *where: Any) -> Check:
    async def check(db: Database, _ids: dict[str, int]) -> bool:
        got = await count(db, model, *where)
        assert got == n, f"{model.__name__}: {got} rows, wanted {n}"
        return True
    return check


def check_fn(fn: Callable[[Database], Awaitable[bool]]) -> Check:
    async def check(db: Database, _ids: dict[str, int]) -> bool:
        return await fn(db)
    return check


async def _archived(db: Database) -> bool:
    async with db.session() as s:
        return await s.scalar(select(Plan.archived_at)) is not None


async def _not_archived(db: Database) -> bool:
    return not await _archived(db)


async def _local_agency(db: Database) -> bool:
    row = await agency_row(db, "UBND xã Phước Dinh")
    return row is not None and row.kind == "local"


async def _alias(db: Database) -> bool:
    row = await agency_row(db, "UBND xã Phước Dinh")
    return row is not None and await lookup(db, "xa phuoc dinh") == row.id


async def _merged(db: Database) -> bool:
    return await agency_row(db, "Ban quản lý dự án Phước Dinh") is None and (
        await lookup(db, "Ban quản lý dự án Phước Dinh") == (await agency_row(db, "UBND xã Phước Dinh") or Agency()).id)


async def _successor(db: Database) -> bool:
    health = await agency_row(db, "Sở Y tế")
    return health is not None and health.successor_since == date(2025, 7, 1) and health.successor_id == await lookup(
        db, "Sở Nội vụ")


async def _asker_approved(db: Database) -> bool:
    async with db.session() as s:
        row = await s.scalar(select(FocalPoint).where(FocalPoint.chat_id == str(ASKER)))
    return row is not None and row.status == "approved"


async def _gone_removed(db: Database) -> bool:
    async with db.session() as s:
        row = await s.scalar(select(FocalPoint).where(FocalPoint.chat_id == str(GONE)))
    return row is not None and row.status == "removed"


def _lead(ref: str, written: str) -> Check:
    async def check(db: Database, _ids: dict[str, int]) -> bool:
        leads = [w for role, w in await roles_of(db, ref) if role == "lead"]
        assert leads == [written], leads
        return True
    return check


async def _coordinators(db: Database) -> bool:
    return [w for role, w in await roles_of(db, "II.3") if role == "coordinator"] == ["Sở Nội vụ", "Sở Y tế"]


async def _report_to(db: Database) -> bool:
    return [w for role, w in await roles_of(db, "II.3") if role == "report_to"] == ["UBND tỉnh"]


async def _text(db: Database) -> bool:
    t = await task_by_ref(db, "II.3")
    return t is not None and t.text == "Sở Tư pháp triển khai hồ sơ điện tử."


async def _cancelled(db: Database) -> bool:
    t = await task_by_ref(db, "III")
    return t is not None and t.status == "cancelled"


async def _extended(db: Database) -> bool:
    async with db.session() as s:
        row = await s.scalar(select(AuditEntry).where(AuditEntry.action == "task.extend"))
    t = await task_by_ref(db, "II.1")
    return (row is not None and row.after is not None and row.after.get("due") == "2027-01-31"
            and row.details.get("reason") == "chờ dự toán được duyệt"
            and t is not None and t.deadline_due == date(2026, 12, 25))  # the original stays


async def _admin_added(db: Database) -> bool:
    async with db.session() as s:
        row = await s.scalar(select(AuditEntry).where(AuditEntry.action == "admin.add"))
    return row is not None and "777" in row.target


def _bad(text: str, *expect: str) -> Step:
    """Bad input: a precise message, no audit row, II.1 keeps its deadline."""
    return Step(text, expect, check=due("II.1", date(2026, 12, 25)))


STEPS: list[Step] = [
    Step("/help", tuple(f"/{n}" for n in ADMIN_COMMANDS)),
    Step("/taoma Sở Tài chính", ("Mã đăng ký cán bộ đầu mối của Sở Tài chính",), "code.create"),
    Step("/dangky Sở Y tế", (), "focal.add", who=ASKER, others={ADMIN: 1}),  # the admins are told of the request
    Step("/duyet", ("xin làm đầu mối của Sở Y tế",)),
    Step(press="Duyệt", expect=("Đã duyệt",), audit="focal.approve", check=check_fn(_asker_approved),
         others={ASKER: 1}),
    Step("/kehoach", ("1. Kế hoạch 130/KH-UBND (10/11/2026) — 4 nhiệm vụ",)),
    Step("/kehoach 130", ("Số nhiệm vụ: 4", "130/KH-UBND")),
    Step("/kehoach luutru 130", ("Đã lưu trữ Kế hoạch 130/KH-UBND",), "plan.archive", check_fn(_archived)),
    Step("/kehoach boluutru 130", ("nhắc việc trở lại",), "plan.unarchive", check_fn(_not_archived)),
    Step("/coquan them UBND xã Phước Dinh", ("(cấp xã/huyện)",), "agency.add", check_fn(_local_agency)),
    Step("/coquan tenkhac Xã Phước Dinh => UBND xã Phước Dinh", ("Đã thêm tên gọi khác “Xã Phước Dinh”",),
         "agency.alias", check_fn(_alias)),
    Step("/coquan them Ban quản lý dự án Phước Dinh", ("Ban quản lý dự án Phước Dinh",), "agency.add"),
    Step("/coquan gop Ban quản lý dự án Phước Dinh => UBND xã Phước Dinh", ("Đã gộp",), "agency.merge",
         check_fn(_merged)),
    Step("/daumoi Sở Tài chính", ("Cán bộ đầu mối của Sở Tài chính (2)", "không nhận được tin")),
    Step("/daumoi khongnhan", ("1 cán bộ đầu mối không nhận được tin",)),
    Step("/daumoi xoa {gone}", ("Gỡ",)),
    Step("có", ("Đã gỡ",), "focal.remove", check_fn(_gone_removed)),
    Step("/quantri them 777 Nguyễn Văn D", ("Đã thêm quản trị viên telegram:777",), "admin.add",
         check_fn(_admin_added)),
    Step("/quantri", ("telegram:777 — Nguyễn Văn D",)),
    Step("/quantri bot 777", ("telegram:777",)),
    Step("có", ("Đã bớt quản trị viên telegram:777",), "admin.remove"),
    Step("/thongke tatca", ("4 nhiệm vụ", "• Sở Tài chính:", "• KH 130/KH-UBND:")),
    Step("/thongke Sở Nội vụ", ("Sở Nội vụ", "1 nhiệm vụ")),
    Step("/thongke KH 130", ("Tình hình thực hiện — Kế hoạch 130",)),
    Step("/suaviec KH 130 II.2", ("Sở Nội vụ chủ trì rà soát", "#{tII_2}")),
    Step("/suaviec KH 130 II.3 chutri: Sở Tư pháp", ("Đã đổi cơ quan chủ trì: Sở Tư pháp",), "task.reassign",
         _lead("II.3", "Sở Tư pháp")),
    Step("/suaviec KH 130 II.3 phoihop: Sở Y tế, Sở Nội vụ", ("Phối hợp: Sở Y tế, Sở Nội vụ",), "task.reassign",
         check_fn(_coordinators)),
    Step("/suaviec KH 130 II.3 baocao: UBND tỉnh", ("Báo cáo về: Ủy ban nhân dân tỉnh",), "task.report_to",
         check_fn(_report_to)),
    Step("/suaviec KH 130 II.3 noidung: Sở Tư pháp triển khai hồ sơ điện tử.", ("Đã sửa nội dung",), "task.edit",
         check_fn(_text)),
    Step("/doihan KH 130 II.1 25/12/2026", ("✅ Đã đổi hạn thành 25/12/2026",), "task.set_deadline",
         due("II.1", date(2026, 12, 25))),
    _bad("/doihan KH 130 II.1 31/04/2027", "tháng 4/2027 chỉ có 30 ngày"),
    _bad("/doihan KH 130 II.1 29/02/2027", "năm 2027 không phải năm nhuận"),
    _bad("/doihan KH 130 II.1 01/11/2026", "trước ngày ban hành Kế hoạch 130/KH-UBND (10/11/2026)"),
    _bad("/doihan KH 130 II.1", "Cách dùng: /doihan"),
    _bad("/doihan KH 9999 II.1 25/12/2026", "Không tìm thấy kế hoạch “9999”"),
    _bad("/doihan KH 130 II.9 25/12/2026", "không có mục II.9"),
    _bad("/coquan tenkhac ABC => Sở Không Có", "Không tìm thấy cơ quan “Sở Không Có”"),
    _bad("/coquan kethua Sở Y tế => Sở Nội vụ 31/04/2025", "tháng 4/2025 chỉ có 30 ngày"),
    _bad("/coquan gop chỉ một tên", "Cách dùng /coquan"),
    _bad("/kehoach luutru 9999", "Không tìm thấy kế hoạch “9999”"),
    _bad("/daumoi Sở Không Có", "Không tìm thấy cơ quan"),
    _bad("/nhatky linh tinh", "Cách dùng: /nhatky"),
    Step("/giahan KH 130 II.1 31/01/2027 chờ dự toán được duyệt", ("Đã gia hạn đến 31/01/2027",), "task.extend",
         check_fn(_extended), others={FOCAL: 1, MONITOR: 1}),  # the lead and the monitoring agency hear it
    Step("/xong KH 130 II.2 20/11/2026", ("Đã ghi nhận hoàn thành ngày 20/11/2026",), "task.done",
         rows(TaskProgress, 1, TaskProgress.status == "done"), others={MONITOR: 1}),
    Step("/molai KH 130 II.2", ("Đã mở lại việc",), "task.reopen",
         rows(TaskProgress, 0, TaskProgress.status == "done")),
    Step("/huyviec KH 130 III", ("Hủy việc #{tIII}",)),
    Step("không", ("Đã hủy, không thay đổi gì",), check=rows(Task, 0, Task.status == "cancelled")),
    Step("/huyviec KH 130 III", ("Hủy việc #{tIII}",)),
    Step("có", ("Đã hủy việc",), "task.cancel", check_fn(_cancelled)),
    Step("/themviec KH 130 | II.5 | Sở Tư pháp rà soát văn bản quy phạm pháp luật. | Sở Tư pháp | 30/06/2027",
         ("Đã thêm việc", "mục II.5", "trước ngày 30/06/2027"), "task.add", rows(Task, 5)),
    Step("/hoantac", ("↩️ Đã hoàn tác", "thêm việc"), "task.undo", rows(Task, 4)),
    Step("/xoaviec KH 130 III", ("Xóa",)),
    Step("có", ("Đã xóa nhiệm vụ",), "task.delete", rows(Task, 3)),
    Step("/coquan kethua Sở Y tế => Sở Nội vụ 01/07/2025", ("từ 01/07/2025",), "agency.successor",
         check_fn(_successor)),
    Step("/nhatky 5", ("kế thừa", "xóa")),
    Step("/nhatky toi", ("đổi hạn",)),
    Step("/kehoach xoa 130", ("Xóa Kế hoạch 130/KH-UBND cùng 3 nhiệm vụ",)),
    Step("có", ("Đã xóa Kế hoạch 130/KH-UBND và 3 nhiệm vụ",), "plan.delete", rows(Plan, 0)),
]


@pytest.mark.usefixtures("bot")
async def test_every_admin_command_one_line_through_telegram(ctx: AppContext, tg: FakeTelegram) -> None:
    ids = await setup_store(ctx, tg)
    failures = await run_steps(ctx, tg, STEPS, ids)
    assert not failures, "\n".join(failures)
    heard = "\n".join(tg.texts(MONITOR))
    assert "Gia hạn đến 31/01/2027" in heard and "Đã hoàn thành ngày 20/11/2026" in heard
    # Every admin command of the table was used here or in the download test below.
    used = {s.say.split()[0][1:] for s in STEPS if s.say.startswith("/")} | {"xuat", "lich", "bieudo"}
    assert set(ADMIN_COMMANDS) <= used, set(ADMIN_COMMANDS) - used


async def _unarchived_and_alias(db: Database) -> bool:
    return not await _archived(db) and await lookup(db, "STC-NT") == await lookup(db, "Sở Tài chính")


async def _health_successor(db: Database) -> bool:
    health = await agency_row(db, "Sở Y tế")
    return health is not None and health.successor_since == date(2026, 5, 1)


async def _coordinator_health(db: Database) -> bool:
    return [w for role, w in await roles_of(db, "II.3") if role == "coordinator"] == ["Sở Y tế"]


GUIDED: list[Step] = [
    Step("/kehoach", ("1. Kế hoạch 130/KH-UBND",)),
    Step("1", ("Số nhiệm vụ: 4",)),  # a typed number picks the plan
    Step(press="Lưu trữ", expect=("Đã lưu trữ Kế hoạch 130/KH-UBND",), audit="plan.archive", check=check_fn(_archived)),
    Step("/kehoach", ("1. Kế hoạch 130/KH-UBND",)),
    Step(press="1. Kế hoạch 130", expect=("Số nhiệm vụ: 4",)),  # the button picks it too
    Step(press="Bỏ lưu trữ", expect=("nhắc việc trở lại",), audit="plan.unarchive", check=check_fn(_not_archived)),
    Step("/coquan", ("Bạn muốn làm gì với danh mục cơ quan?",)),
    Step(press="1. Thêm cơ quan", expect=("Tên cơ quan mới?",)),
    Step("hủy", ("Đã hủy, không thay đổi gì",), check=rows(Agency, 0, Agency.name == "hủy")),
    Step("/coquan", ("Bạn muốn làm gì",)),
    Step("2", ("Tên gọi khác này dành cho cơ quan nào?",)),
    Step("Sở Không Có", ("Không tìm thấy cơ quan “Sở Không Có”",)),  # asked again, nothing kept
    Step("Sở Tài chính", ("Tên gọi khác",)),
    Step("STC-NT", ("Đã thêm tên gọi khác “STC-NT”",), "agency.alias", check_fn(_unarchived_and_alias)),
    Step("/daumoi", ("Xem cán bộ đầu mối của cơ quan nào?",)),
    Step(press="1. Những người không nhận được tin", expect=("1 cán bộ đầu mối không nhận được tin",)),
    Step(press="1. Gỡ", expect=("Gỡ",)),
    Step("có", ("Đã gỡ",), "focal.remove", check_fn(_gone_removed)),
    Step("/quantri", ("Có 1 quản trị viên",)),
    Step(press="Thêm quản trị viên", expect=("Mã người dùng của quản trị viên mới?",)),
    Step("778", ("Tên người này?",)),
    Step("Phạm Thị E", ("Đã thêm quản trị viên telegram:778 (Phạm Thị E)",), "admin.add"),
    Step("/quantri", ("Có 2 quản trị viên", "telegram:778 — Phạm Thị E")),
    Step(press="Bớt telegram:778", expect=("Bớt quản trị viên telegram:778?",)),
    Step(press="Bớt", expect=("Đã bớt quản trị viên telegram:778",), audit="admin.remove"),
    Step("/thongke", ("Thống kê theo cơ quan hay kế hoạch nào?",)),
    Step(press="2. Kế hoạch 130/KH-UBND", expect=("Tình hình thực hiện — Kế hoạch 130",)),
    Step("/thongke", ("Thống kê theo",)),
    Step("Sở Nội vụ", ("Sở Nội vụ", "1 nhiệm vụ")),
    Step("/nhatky", ("Xem nhật ký nào?",)),
    Step(press="2. Thay đổi của tôi", expect=("thay đổi gần nhất", "thêm quản trị viên")),
    Step("/suaviec", ("Việc nào?",)),
    Step("ho so suc khoe", ("#{tII_3}", "Sở Y tế chủ trì triển khai hồ sơ sức khỏe")),  # words, accents optional
    Step(press="Đổi chủ trì", expect=("Cơ quan chủ trì mới?",)),
    Step("Sở Tư pháp", ("Đã đổi cơ quan chủ trì: Sở Tư pháp",), "task.reassign", _lead("II.3", "Sở Tư pháp")),
    Step(press="Đổi phối hợp", expect=("Các cơ quan phối hợp?",)),
    Step("Sở Y tế", ("Phối hợp: Sở Y tế",), "task.reassign", check_fn(_coordinator_health)),
    Step(press="Đổi báo cáo về", expect=("Báo cáo về cơ quan nào?",)),
    Step("UBND tỉnh", ("Báo cáo về: Ủy ban nhân dân tỉnh",), "task.report_to", check_fn(_report_to)),
    Step(press="Sửa nội dung", expect=("Nội dung mới của việc?",)),
    Step("Sở Tư pháp triển khai hồ sơ điện tử.", ("Đã sửa nội dung",), "task.edit", check_fn(_text)),
    Step("/doihan", ("Việc nào?",)),
    Step("KH 130 II.1", ("Hạn mới?",)),
    Step("31/04/2027", ("tháng 4/2027 chỉ có 30 ngày",), check=due("II.1", date(2026, 12, 31))),
    Step("10/01/2027", ("Đã đổi hạn thành 10/01/2027",), "task.set_deadline", due("II.1", date(2027, 1, 10))),
    Step("/giahan", ("Việc nào?",)),
    Step("#{tII_1}", ("Gia hạn đến ngày nào?",)),
    Step("28/02/2027", ("Lý do",)),
    Step("thiếu biên chế", ("Đã gia hạn đến 28/02/2027",), "task.extend", others={FOCAL: 1}),
    Step("/xong", ("Việc nào?",)),
    Step("KH 130 II.2", ("Hoàn thành ngày nào?",)),
    Step(press="1. Hôm nay (23/11/2026)", expect=("Đã ghi nhận hoàn thành ngày 23/11/2026",), audit="task.done",
         check=rows(TaskProgress, 1, TaskProgress.status == "done")),
    Step("/molai", ("Việc nào?",)),
    Step("KH 130 II.2", ("Đã mở lại việc",), "task.reopen", rows(TaskProgress, 0, TaskProgress.status == "done")),
    Step("/huyviec", ("Việc nào?",)),
    Step("KH 130 III", ("Hủy việc #{tIII}",)),
    Step(press="Không", expect=("Đã hủy, không thay đổi gì",), check=rows(Task, 0, Task.status == "cancelled")),
    Step("/xoaviec", ("Việc nào?",)),
    Step("KH 130 III", ("Xóa hẳn việc #{tIII}",)),
    Step(press="Xóa việc", expect=("Đã xóa nhiệm vụ",), audit="task.delete", check=rows(Task, 3)),
    Step("/themviec", ("Thêm việc vào kế hoạch nào?",)),
    Step(press="1. Kế hoạch 130", expect=("Mục của việc?",)),
    Step("II.6", ("Nội dung việc?",)),
    Step("Sở Y tế tổ chức tập huấn chuyển đổi số.", ("Cơ quan chủ trì?",)),
    Step("Sở Không Có", ("Không tìm thấy cơ quan “Sở Không Có”",)),
    Step("Sở Y tế", ("Hạn?",)),
    Step(press="1. Không ghi hạn", expect=("Đã thêm việc", "mục II.6"), audit="task.add", check=rows(Task, 4)),
    Step("/coquan", ("Bạn muốn làm gì",)),
    Step(press="4. Ghi cơ quan kế thừa", expect=("Cơ quan cũ?",)),
    Step("Sở Y tế", ("Cơ quan mới thay thế?",)),
    Step("Sở Nội vụ", ("Từ ngày nào?",)),
    Step("31/04/2026", ("tháng 4/2026 chỉ có 30 ngày",)),
    Step("01/05/2026", ("Sở Nội vụ thay Sở Y tế",), "agency.successor", check_fn(_health_successor)),
    Step("/taoma", ("/taoma <tên cơ quan>",)),  # no guided form: its usage, with an example
    Step("/lich", ("Lịch hạn nhiệm vụ của cơ quan nào?",)),
    Step("Sở Nội vụ", ("📅 Lịch",), replies=2),
    # /xuat (a typed number) and /bieudo (a button) guided: test_admin_telegram.test_exports_downloaded_match_the_store
]


@pytest.mark.usefixtures("bot")
async def test_guided_forms_buttons_and_numbers_through_telegram(ctx: AppContext, tg: FakeTelegram) -> None:
    ids = await setup_store(ctx, tg)
    failures = await run_steps(ctx, tg, GUIDED, ids)
    assert not failures, "\n".join(failures)
    assert tg.sent_to(ADMIN)[-1]["document"]["file_name"].endswith(".ics")


# What a non-admin types: each admin command with arguments that would change the store for an admin.
REFUSED_SAMPLES = {
    "taoma": "Sở Tài chính", "duyet": "", "kehoach": "xoa 130", "coquan": "them UBND xã Phước Dinh",
    "daumoi": "xoa {gone}", "quantri": "them 12345", "thongke": "tatca", "bieudo": "tatca", "xuat": "130",
    "lich": "Sở Nội vụ", "suaviec": "KH 130 II.1 chutri: Sở Y tế", "doihan": "KH 130 II.1 25/12/2026",
    "giahan": "KH 130 II.1 31/01/2027 chờ kinh phí", "xong": "KH 130 II.1 20/11/2026", "molai": "KH 130 II.1",
    "huyviec": "KH 130 II.1", "xoaviec": "KH 130 II.1", "themviec": "KH 130 | II.5 | Việc mới. | Sở Tư pháp | không",
    "hoantac": "", "nhatky": "",
}


@pytest.mark.usefixtures("bot")
async def test_non_admin_refused_every_admin_command_and_button(ctx: AppContext, tg: FakeTelegram) -> None:
    assert set(REFUSED_SAMPLES) == set(ADMIN_COMMANDS)  # a new admin command needs its sample here
    ids = await setup_store(ctx, tg)
    # The admin's own buttons (a task card, a plan card, the admins list, a confirmation) ...
    admin_steps = [Step("/suaviec KH 130 II.1", ("#{tII_1}",)), Step("/kehoach", ("Kế hoạch 130",)),
                   Step(press="1. Kế hoạch 130", expect=("Số nhiệm vụ: 4",)), Step("/quantri", ("quản trị viên",)),
                   Step("/xoaviec KH 130 II.1", ("Xóa",))]
    assert not await run_steps(ctx, tg, admin_steps, ids)
    data = [b["callback_data"] for m in tg.sent_to(ADMIN) if m.get("reply_markup")
            for row in m["reply_markup"]["inline_keyboard"] for b in row]
    assert len(data) >= 15
    before = await snapshot(ctx.db)
    # ... then a non-admin types every admin command, presses those buttons, confirms, sends a plan.
    steps = [Step(f"/{name} {arg}".strip(), (f"Chỉ quản trị viên mới dùng được lệnh /{name}",), who=USER)
             for name, arg in REFUSED_SAMPLES.items()]
    steps.append(Step("có", (), who=USER))
    steps.append(Step("Đổi hạn việc II.1 KH 130 thành 25/12/2026", (), who=USER))
    failures = await run_steps(ctx, tg, steps, ids)
    for d in data:
        n = len(tg.sent_to(USER))
        tg.queue_callback(USER, d, message_id=tg.sent_to(USER)[-1]["message_id"])
        await tg.wait_for_messages(n + 1, chat_id=USER, timeout=REPLY_WAIT)
        said = text_of(tg.sent_to(USER)[-1])
        if "quản trị viên" not in said and not (d == CANCEL_BUTTON and said.startswith("Đã hủy, không thay đổi")):
            failures.append(f"button {d}: {said!r}")
    n = len(tg.sent_to(USER))
    tg.queue_document(USER, "kh130.txt", PLAN.read_bytes(), caption="KH 130 mới ban hành, nhờ nhập giúp")
    [told] = (await tg.wait_for_messages(n + 1, chat_id=USER, timeout=REPLY_WAIT))[n:]
    assert "quản trị viên" in text_of(told)
    assert not failures, "\n".join(failures)
    assert await snapshot(ctx.db) == before
    assert not [m for m in tg.sent_to(USER) if m.get("document") or m.get("photo")]
    assert not any(m == "getFile" for m, _ in tg.requests)  # the non-admin's file was never downloaded


REPORT = TaskSpec("Tổng hợp báo cáo tình hình, kết quả thực hiện gửi UBND tỉnh.", ["Sở Khoa học và Công nghệ"],
                  kind="yearly", month=12, day=15, deadline_text="định kỳ trước ngày 15 tháng 12 hằng năm")


async def _granted(db: Database) -> bool:
    async with db.session() as s:
        row = await s.scalar(select(AuditEntry).where(AuditEntry.action == "task.extend"))
    return row is not None and row.after is not None and row.after["due"] == "2026-12-28"


async def test_extension_request_answered_from_chat(db: Database, tg: FakeTelegram) -> None:
    """A focal point asks from a reminder; the admin asks for more, refuses, then grants a typed day;
    the focal point hears each outcome."""
    await make_plan(db, [REPORT])
    await focal(db, "Sở Khoa học và Công nghệ", FOCAL)
    ctx = AppContext(db, FixedClock.on(date(2026, 12, 10), 9), admins=frozenset({f"telegram:{ADMIN}"}))
    async with db.session() as s:
        await planner.run_planner(s, ctx.clock.now(), HOUR)
        await s.commit()
        reminder = await s.scalar(select(Outbox.id).where(Outbox.offset_key == "b3"))
    async with running(ctx, tg):
        steps = [
            Step("/viec", (), who=FOCAL),  # a message in the chat to press the reminder's button under
            Step(data=f"rem:ext:{reminder}", expect=("lý do",), who=FOCAL),
            Step("Chờ số liệu quý IV, xin đến 31/12/2026", ("Đã gửi đề nghị gia hạn",), "task.extension_request",
                 who=FOCAL, others={ADMIN: 1}),
            Step(press="Hỏi thêm", expect=("hỏi thêm gì",)),
            Step("Số liệu nào, đến bao giờ?", (), others={FOCAL: 1}),
            Step("Số liệu quý IV, xin đến 30/12/2026", ("Đã gửi đề nghị gia hạn",), "task.extension_request",
                 who=FOCAL, others={ADMIN: 1}),
            Step(press="Từ chối", expect=("Đã từ chối đề nghị gia hạn.",), audit="task.extension_denied",
                 others={FOCAL: 1}),
            Step(data=f"rem:ext:{reminder}", expect=("lý do",), who=FOCAL),
            Step("Xin thêm hai tuần", ("Đã gửi đề nghị gia hạn",), "task.extension_request", who=FOCAL,
                 others={ADMIN: 1}),
            Step(press="Đồng ý, chọn ngày khác", expect=("ngày",)),
            Step("31/11/2026", ("tháng 11/2026 chỉ có 30 ngày",)),
            Step("28/12/2026", ("Đã gia hạn đến thứ Hai 28/12/2026.",), "task.extend", check_fn(_granted),
                 others={FOCAL: 1}),
        ]
        failures = await run_steps(ctx, tg, steps, {})
    assert not failures, "\n".join(failures)
    request = next(text_of(m) for m in tg.sent_to(ADMIN) if "Lý do" in text_of(m))
    for shown in ("Sở Khoa học và Công nghệ", "Kế hoạch 3021/KH-UBND, mục", REPORT.text, "31/12/2026"):
        assert shown in request, shown  # the agency, the task (plan, section, text), the day proposed
    told = tg.texts(FOCAL)
    assert any("Số liệu nào, đến bao giờ?" in t for t in told) and "được gia hạn" in told[-1]
    assert any("chưa được đồng ý" in t for t in told)


@pytest.mark.usefixtures("bot")
async def test_downloads_open_and_match_the_store(ctx: AppContext, tg: FakeTelegram) -> None:
    """/xuat of a plan (openpyxl), /lich of an agency (icalendar), /bieudo (a PNG) downloaded back through
    getFile and matched with the store read directly."""
    import icalendar
    import openpyxl

    ids = await setup_store(ctx, tg)
    steps = [Step("/xong KH 130 II.1 20/11/2026", ("Đã ghi nhận hoàn thành",), "task.done",
                  others={FOCAL: 1, MONITOR: 1}),
             Step("/xuat 130", ("📎 Bảng tính 4 nhiệm vụ",), replies=2),
             Step("/lich Sở Nội vụ", ("📅 Lịch 2 hạn nhiệm vụ của Sở Nội vụ",), replies=2),
             Step("/bieudo 130", (), replies=2)]
    failures = await run_steps(ctx, tg, steps, ids)
    assert not failures, "\n".join(failures)
    assert all("Đã hoàn thành ngày 20/11/2026" in tg.texts(chat)[-1] for chat in (FOCAL, MONITOR))
    sent = tg.sent_to(ADMIN)
    xlsx, ics, chart = sent[-5]["document"], sent[-3]["document"], sent[-1]["photo"][-1]

    async with ctx.db.session() as s:
        plan_tasks = (await s.scalars(select(Task).where(Task.plan_id == select(Plan.id).scalar_subquery()))).all()
        done = set((await s.scalars(select(TaskProgress.task_id).where(TaskProgress.status == "done"))).all())
        leads = (await s.execute(select(Agency.name, func.count()).join(TaskAgency, TaskAgency.agency_id == Agency.id)
                                 .where(TaskAgency.role == "lead").group_by(Agency.name))).all()
        home = await lookup(ctx.db, "Sở Nội vụ")
        dated = (await s.execute(select(Task.ref, Task.deadline_due).join(TaskAgency, TaskAgency.task_id == Task.id)
                                 .where(TaskAgency.agency_id == home, TaskAgency.role.in_(("lead", "coordinator")),
                                        Task.deadline_due.is_not(None)))).all()

    assert xlsx["file_name"].endswith(".xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(await download(tg, xlsx["file_id"])))
    sheet, summary = wb["Nhiệm vụ"], wb["Tổng hợp"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    header = [c.value for c in sheet[1]]
    rows_ = list(sheet.iter_rows(min_row=2, values_only=True))
    assert sorted(r[header.index("Mục")] for r in rows_) == sorted(t.ref for t in plan_tasks)
    states = [r[header.index("Trạng thái")] for r in rows_]
    assert states.count(status.LABELS[status.DONE_ON_TIME]) == len(done) == 1
    totals = {r[0]: r[-1] for r in summary.iter_rows(min_row=2, values_only=True)}
    assert totals == dict(leads)

    cal = icalendar.Calendar.from_ical(await download(tg, ics["file_id"]))
    events = list(cal.walk("VEVENT"))
    assert sorted(e.decoded("dtstart") for e in events) == sorted(d for _r, d in dated) and len(dated) == 2

    png = await download(tg, chart["file_id"])
    assert png.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (chart["width"], chart["height"]) and width > 0 and height > 0


# ---- undo of deletions and merges, hand-added tasks across re-import, the admin menu at once ----


async def _task_back(db: Database) -> bool:
    return await task_by_ref(db, "II.2") is not None and [r for r, _w in await roles_of(db, "II.2")] == ["lead"]


async def _dup_back(db: Database) -> bool:
    return await agency_row(db, "Ban quản lý dự án Phước Dinh") is not None


@pytest.mark.usefixtures("bot")
async def test_undo_of_a_deleted_task_and_a_merge(ctx: AppContext, tg: FakeTelegram) -> None:
    ids = await setup_store(ctx, tg)
    steps = [Step("/xoaviec KH 130 II.2", ("Xóa",)),
             Step("có", ("Đã xóa nhiệm vụ",), "task.delete", rows(Task, 3)),
             Step("/hoantac", ("↩️ Đã hoàn tác",), "task.undo", check_fn(_task_back)),
             Step("/coquan them Ban quản lý dự án Phước Dinh", ("Ban quản lý dự án Phước Dinh",), "agency.add"),
             Step("/coquan gop Ban quản lý dự án Phước Dinh => Sở Xây dựng", ("Đã gộp",), "agency.merge"),
             Step("/hoantac", ("↩️ Đã hoàn tác",), "agency.undo", check_fn(_dup_back))]
    failures = await run_steps(ctx, tg, steps, ids)
    assert not failures, "\n".join(failures)


@pytest.mark.usefixtures("bot")
async def test_a_task_added_by_hand_survives_a_new_version_of_the_plan(ctx: AppContext, tg: FakeTelegram) -> None:
    ids = await setup_store(ctx, tg)
    steps = [Step("/themviec KH 130 | II.5 | Sở Tư pháp rà soát văn bản quy phạm pháp luật. | Sở Tư pháp | 30/06/2027",
                  ("Đã thêm việc",), "task.add", rows(Task, 5))]
    assert not await run_steps(ctx, tg, steps, ids)
    n = len(tg.sent_to(ADMIN))
    tg.queue_document(ADMIN, "kh130_v2.txt", PLAN.read_text().replace("15/01/2027", "28/02/2027").encode(),
                      caption="KH 130 sửa hạn, nhờ nhập lại")
    await tg.wait_for_messages(n + 1, chat_id=ADMIN, timeout=REPLY_WAIT)
    failures = await run_steps(ctx, tg, [Step(press="Lưu", expect=("Đã lưu",), audit="import")], ids)
    assert not failures, "\n".join(failures)
    assert await task_by_ref(ctx.db, "II.5") is not None
    assert (await task_by_ref(ctx.db, "II.2") or Task()).deadline_due == date(2027, 2, 28)


@pytest.mark.usefixtures("bot")
async def test_an_admin_added_in_chat_gets_the_admin_menu(ctx: AppContext, tg: FakeTelegram) -> None:
    ids = await setup_store(ctx, tg)
    failures = await run_steps(ctx, tg, [Step("/quantri them 777 Nguyễn Văn D", ("Đã thêm",), "admin.add")], ids)
    assert not failures, "\n".join(failures)
    await tg.wait_for(lambda: any('"777"' in key for key in tg.scoped_commands), timeout=MENU_WAIT)
    menu = next(v for key, v in tg.scoped_commands.items() if '"777"' in key)
    assert {c["command"] for c in menu} >= set(ADMIN_COMMANDS)


def test_readme_admin_section_shows_every_admin_command_with_an_example() -> None:
    """The README's "Admin" table: a row for every admin command of the table, each with a one-line example."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Admin\n", 1)[1].split("\n## ", 1)[0]
    rows_ = [line for line in section.splitlines() if line.startswith("| `/")]
    missing = []
    for name in ADMIN_COMMANDS:
        row = next((r for r in rows_ if f"`/{name}`" in r.split(" | ")[0]), None)
        example = row.split(" | ")[1] if row else ""
        if not re.search(rf"`/{name}(\s[^`]*)?`", example):
            missing.append(name)
    assert not missing, f"admin commands without a README row and example: {missing}"
