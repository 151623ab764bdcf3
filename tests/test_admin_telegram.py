"""Admins keep the store current from Telegram (issue 11), end to end: the real PTB client polling the
fake Bot API on 127.0.0.1, files uploaded by the admin and files the bot sends downloaded back, on
SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.channels.telegram.channel import TelegramChannel
from bot.edge import Edge
from core.clock import FixedClock
from core.context import AppContext
from knowledge import focal_points, status
from knowledge.agencies import Registry
from knowledge.db import Database
from knowledge.models import AuditEntry, Plan, Task, TaskProgress
from knowledge.plans import import_file
from tests.fakes.telegram_api import FakeTelegram

ADMIN = 900
USER = 11
FOCAL = 501  # Sở Tài chính's focal point
TODAY = date(2026, 11, 23)
PLAN = Path(__file__).parent / "data" / "kh130_admin.txt"
CAPTION = "KH 130 mới ban hành, nhờ nhập giúp"


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def ctx(db: Database) -> AppContext:
    return AppContext(db=db, clock=FixedClock.on(TODAY), admins=frozenset({f"telegram:{ADMIN}"}))


@pytest.fixture
async def bot(ctx: AppContext, tg: FakeTelegram) -> AsyncIterator[TelegramChannel]:
    b = TelegramChannel(Edge(ctx), tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url, poll_timeout=1)
    await b.start()
    yield b
    await b.stop()


async def focal(db: Database, agency: str, chat: int) -> None:
    async with db.session() as s:
        info = (await Registry.load(s)).lookup(agency)
        assert info is not None
        await focal_points.add(s, info.id, "telegram", chat, user_id=chat, name="Cán bộ", approved_by="test")
        await s.commit()


async def download(tg: FakeTelegram, file_id: str) -> bytes:
    """The bot's file fetched back as a user's app would: getFile, then the file route."""
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{tg.base_url}{tg.token}/getFile", json={"file_id": file_id}) as r:
            path = (await r.json())["result"]["file_path"]
        async with http.get(f"{tg.base_file_url}{tg.token}/{path}") as r:
            assert r.status == 200
            return await r.read()


def buttons(message: dict[str, Any]) -> dict[str, str]:
    return {b["text"]: b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row}


async def plan_count(db: Database) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count(Plan.id))) or 0)


@pytest.mark.usefixtures("bot")
async def test_plan_with_caption_previewed_then_saved_and_leads_told(ctx: AppContext, tg: FakeTelegram) -> None:
    await focal(ctx.db, "Sở Tài chính", FOCAL)
    tg.queue_document(ADMIN, "kh130.txt", PLAN.read_bytes(), caption=CAPTION)
    [preview] = await tg.wait_for_messages(1, chat_id=ADMIN, timeout=15)
    text = preview["text"]
    for expected in ("130/KH-UBND", "Ủy ban nhân dân tỉnh Ninh Thuận", "10/11/2026",
                     "Triển khai chuyển đổi số", "Số nhiệm vụ: 4", "Sở Tài chính", "31/12/2026",
                     "Không ghi hạn (1): III", "Kế hoạch mới"):
        assert expected in text, expected
    assert "Không tìm thấy nhiệm vụ" not in text  # the caption was not read as a question
    assert await plan_count(ctx.db) == 0  # a dry run: nothing stored yet
    tg.queue_callback(ADMIN, buttons(preview)["Lưu"])
    saved = (await tg.wait_for_messages(2, chat_id=ADMIN, timeout=15))[1]
    assert saved["text"].startswith("Đã lưu") and "4 nhiệm vụ" in saved["text"]
    [told] = await tg.wait_for_messages(1, chat_id=FOCAL)
    assert "Sở Tài chính có 1 nhiệm vụ mới" in told["text"] and "II.1" in told["text"]
    assert await plan_count(ctx.db) == 1
    # A second press of the same button finds the file answered: nothing is stored twice.
    tg.queue_callback(ADMIN, buttons(preview)["Lưu"])
    again = (await tg.wait_for_messages(3, chat_id=ADMIN))[2]
    assert "đã được xử lý" in again["text"]

    # A new version shows what changed; "Hủy" drops it and changes nothing.
    v2 = PLAN.read_text().replace("15/01/2027", "28/02/2027").replace(
        "4. Tuyên truyền", "4. Sở Tư pháp chủ trì rà soát văn bản quy phạm pháp luật, hoàn thành trước ngày "
        "30/06/2027.\n5. Tuyên truyền")
    tg.queue_document(ADMIN, "kh130_v2.txt", v2.encode())
    preview2 = (await tg.wait_for_messages(4, chat_id=ADMIN, timeout=15))[3]
    assert "bản mới: thêm 1, sửa 1, xóa 0" in preview2["text"]
    assert "II.2: hạn “hoàn thành trước ngày 15/01/2027” → “hoàn thành trước ngày 28/02/2027”" in preview2["text"]
    tg.queue_callback(ADMIN, buttons(preview2)["Hủy"])
    dropped = (await tg.wait_for_messages(5, chat_id=ADMIN))[4]
    assert dropped["text"].startswith("Đã hủy")
    async with ctx.db.session() as s:
        assert await s.scalar(select(func.count(Task.id))) == 4


@pytest.mark.usefixtures("bot")
async def test_files_that_are_not_plans_named_for_what_they_are(ctx: AppContext, tg: FakeTelegram) -> None:
    xlsx = io.BytesIO()
    import openpyxl

    openpyxl.Workbook().save(xlsx)
    tg.queue_document(ADMIN, "baocao.xlsx", xlsx.getvalue(), caption="nhờ nhập giúp")
    tg.queue_document(ADMIN, "kehoach.docx", xlsx.getvalue())  # a spreadsheet under a Word name
    first, second = await tg.wait_for_messages(2, chat_id=ADMIN, timeout=15)
    assert "baocao.xlsx là bảng tính Excel, không phải kế hoạch" in first["text"]
    assert "kehoach.docx là bảng tính Excel" in second["text"] and "hỏng" not in second["text"]
    assert sum(1 for m, _ in tg.requests if m == "getFile") == 1  # the .xlsx by name was never downloaded
    assert await plan_count(ctx.db) == 0


async def test_non_admin_refused_and_nothing_changes(ctx: AppContext, tg: FakeTelegram, bot: TelegramChannel) -> None:
    await import_file(ctx.db, PLAN.read_bytes(), "kh130.txt")
    async with ctx.db.session() as s:
        plan_id = await s.scalar(select(Plan.id))
    for text in ("/kehoach xoa 130", "/quantri them 12345", "/xuat", "/coquan them UBND xã Phước Dinh"):
        tg.queue_message(USER, text)
    refusals = await tg.wait_for_messages(4, chat_id=USER)
    assert all(m["text"].startswith("Chỉ quản trị viên mới dùng được lệnh") for m in refusals)
    tg.queue_callback(USER, f"kh:delok:{plan_id}")
    tg.queue_document(USER, "kh130.txt", PLAN.read_bytes())
    more = await tg.wait_for_messages(6, chat_id=USER)
    assert "quản trị viên" in more[4]["text"] and "quản trị viên" in more[5]["text"]
    assert await plan_count(ctx.db) == 1
    assert not [d for m, d in tg.requests if m in ("sendDocument", "sendPhoto")]


@pytest.mark.usefixtures("bot")
async def test_exports_downloaded_match_the_store(ctx: AppContext, tg: FakeTelegram) -> None:
    import icalendar
    import openpyxl

    await import_file(ctx.db, PLAN.read_bytes(), "kh130.txt")
    async with ctx.db.session() as s:
        tasks = {t.ref: t for t in (await s.scalars(select(Task))).all()}
        registry = await Registry.load(s)
        finance = registry.lookup("Sở Tài chính")
        assert finance is not None
        s.add(TaskProgress(task_id=tasks["II.1"].id, agency_id=finance.id, status="done", by="test"))
        await s.commit()
        sts = await status.task_statuses(s, TODAY)
    tg.queue_message(ADMIN, "/xuat")
    [ask] = await tg.wait_for_messages(1, chat_id=ADMIN)
    assert "Xuất bảng tính" in ask["text"]
    tg.queue_message(ADMIN, "1")  # the guided form: "Tất cả kế hoạch"
    sent = await tg.wait_for_messages(3, chat_id=ADMIN, timeout=15)
    document = sent[2]["document"]
    assert document["file_name"].endswith(".xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(await download(tg, document["file_id"])))
    sheet, summary = wb["Nhiệm vụ"], wb["Tổng hợp"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    assert sheet.max_row - 1 == len(tasks) == len(sts)
    states = [row[8] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert states.count(status.LABELS[status.DONE_ON_TIME]) == 1
    totals = {row[0]: row[-1] for row in summary.iter_rows(min_row=2, values_only=True)}
    assert totals["Sở Tài chính"] == 1 and sum(totals.values()) == sum(len(st.roles.get("lead", [])) for st in sts)

    tg.queue_message(ADMIN, "/lich Sở Nội vụ")
    sent = await tg.wait_for_messages(5, chat_id=ADMIN, timeout=15)
    cal = icalendar.Calendar.from_ical(await download(tg, sent[4]["document"]["file_id"]))
    events = [e for e in cal.walk("VEVENT")]
    # Sở Nội vụ leads II.2 (15/01/2027) and coordinates II.1 (31/12/2026): one event per dated deadline.
    assert sorted(e.decoded("dtstart") for e in events) == [date(2026, 12, 31), date(2027, 1, 15)]

    tg.queue_message(ADMIN, "/bieudo")
    [ask] = (await tg.wait_for_messages(6, chat_id=ADMIN))[5:]
    tg.queue_callback(ADMIN, buttons(ask)["1. Tất cả kế hoạch"])
    sent = await tg.wait_for_messages(8, chat_id=ADMIN, timeout=20)
    photo = sent[7]["photo"][0]
    assert (await download(tg, photo["file_id"])).startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.usefixtures("bot")
async def test_audit_log_shows_admin_changes(ctx: AppContext, tg: FakeTelegram) -> None:
    await import_file(ctx.db, PLAN.read_bytes(), "kh130.txt")
    tg.queue_message(ADMIN, "/kehoach luutru 130")
    tg.queue_message(ADMIN, "/nhatky 5")
    first, log = await tg.wait_for_messages(2, chat_id=ADMIN)
    assert first["text"].startswith("Đã lưu trữ Kế hoạch 130/KH-UBND")
    assert f"telegram:{ADMIN} · lưu trữ kế hoạch" in log["text"] and "nhập kế hoạch" in log["text"]
    async with ctx.db.session() as s:
        row = await s.scalar(select(AuditEntry).where(AuditEntry.action == "plan.archive"))
        assert row is not None and row.actor == f"telegram:{ADMIN}"


@pytest.mark.usefixtures("bot")
async def test_change_then_undo_with_audit_rows(ctx: AppContext, tg: FakeTelegram) -> None:
    await import_file(ctx.db, PLAN.read_bytes(), "kh130.txt")
    tg.queue_message(ADMIN, "Đổi hạn việc II.1 KH 130 thành 25/12/2026")  # the sentence of the issue
    [changed] = await tg.wait_for_messages(1, chat_id=ADMIN)
    assert changed["text"].startswith("✅ Đã đổi hạn thành 25/12/2026")
    tg.queue_message(ADMIN, "/hoantac")
    [undone] = (await tg.wait_for_messages(2, chat_id=ADMIN))[1:]
    assert undone["text"].startswith("↩️ Đã hoàn tác") and "đổi hạn" in undone["text"]
    assert "Hạn: hoàn thành trước ngày 31/12/2026" in undone["text"]
    tg.queue_message(ADMIN, "/nhatky viec")
    [log] = (await tg.wait_for_messages(3, chat_id=ADMIN))[2:]
    assert log["text"].index("hoàn tác") < log["text"].index("đổi hạn")  # newest first
    async with ctx.db.session() as s:
        rows = (await s.scalars(select(AuditEntry).where(AuditEntry.action.like("task.%"))
                                .order_by(AuditEntry.id))).all()
        task = await s.scalar(select(Task).where(Task.ref == "II.1"))
    assert [r.action for r in rows] == ["task.set_deadline", "task.undo"]
    assert rows[0].before and rows[0].before["deadline_due"] == "2026-12-31"
    assert rows[0].after and rows[0].after["deadline_due"] == "2026-12-25"
    assert rows[1].details["undid"] == rows[0].id and rows[1].after == rows[0].before
    assert task is not None and task.deadline_due == date(2026, 12, 31)
    tg.queue_message(USER, "/hoantac")
    [refused] = await tg.wait_for_messages(1, chat_id=USER)
    assert refused["text"].startswith("Chỉ quản trị viên")


@pytest.mark.usefixtures("bot")
async def test_photos_an_admin_is_told_a_user_is_answered(ctx: AppContext, tg: FakeTelegram) -> None:
    tg.queue_message(ADMIN, "nhờ nhập kế hoạch này", photo=b"\xff\xd8\xff\xe0 not really a jpeg")
    [told] = await tg.wait_for_messages(1, chat_id=ADMIN)
    assert "là ảnh, không phải kế hoạch" in told["text"]
    tg.queue_message(USER, "Ai chủ trì bố trí kinh phí chuyển đổi số?", photo=b"\xff\xd8\xff\xe0")
    [answer] = await tg.wait_for_messages(1, chat_id=USER)
    assert "quản trị viên" not in answer["text"]  # a user's caption is a question, as before
    assert not any(m == "getFile" for m, _ in tg.requests)


@pytest.mark.usefixtures("bot")
async def test_admin_added_in_chat_gets_the_admin_menu_at_once(ctx: AppContext, tg: FakeTelegram) -> None:
    """No restart needed: the new admin's chat gets the admin menu (setMyCommands, scope chat) as soon as
    they are added, and loses it when removed."""
    new_admin = 902
    scope = tg.scope_key({"type": "chat", "chat_id": new_admin})
    assert scope not in tg.scoped_commands
    tg.queue_message(ADMIN, f"/quantri them {new_admin} Chị Lan")
    [added] = await tg.wait_for_messages(1, chat_id=ADMIN)
    assert added["text"].startswith(f"Đã thêm quản trị viên telegram:{new_admin}")
    menu = {c["command"] for c in tg.scoped_commands.get(scope, [])}
    assert {"hoantac", "doihan", "quantri"} <= menu
    tg.queue_message(ADMIN, f"/quantri bot {new_admin}")
    [ask] = (await tg.wait_for_messages(2, chat_id=ADMIN))[1:]
    tg.queue_callback(ADMIN, buttons(ask)["Bớt"])
    [removed] = (await tg.wait_for_messages(3, chat_id=ADMIN))[2:]
    assert removed["text"].startswith(f"Đã bớt quản trị viên telegram:{new_admin}")
    assert scope not in tg.scoped_commands
