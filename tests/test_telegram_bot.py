"""End to end: the real PTB Application polling the fake Telegram Bot API on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date

import aiohttp
import pytest
from sqlalchemy import select

from bot.channels.telegram.channel import SECRET_HEADER, TelegramChannel, bot_commands
from bot.edge import ADMIN_FILES_ONLY, SORRY, Edge
from bot.web import WebServer
from core.clock import FixedClock
from core.context import AppContext
from core.messages import Incoming, Reply
from handlers.commands import COMMANDS, Audience
from knowledge import focal_points
from knowledge.agencies import Registry
from knowledge.db import Database
from knowledge.models import FocalPoint, Plan, Task, TaskAgency
from tests.conftest import SEEDS
from tests.fakes.telegram_api import FakeTelegram

ADMIN = 900
USER = 11


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


def make_ctx(db: Database) -> AppContext:
    return AppContext(db=db, clock=FixedClock.on(date(2026, 11, 23)), admins=frozenset({f"telegram:{ADMIN}"}))


@pytest.fixture
def ctx(sqlite_db: Database) -> AppContext:
    return make_ctx(sqlite_db)


async def running_bot(ctx: AppContext, tg: FakeTelegram, **kw: object) -> TelegramChannel:
    bot = TelegramChannel(Edge(ctx), tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url,
                          poll_timeout=1, **kw)  # type: ignore[arg-type]
    await bot.start()
    return bot


@pytest.fixture
async def bot(ctx: AppContext, tg: FakeTelegram) -> AsyncIterator[TelegramChannel]:
    b = await running_bot(ctx, tg)
    yield b
    await b.stop()


async def add_task(db: Database) -> None:
    """Kế hoạch 3021, II.3.a: Sở Tài chính leads, Sở KH&CN coordinates."""
    async with db.session() as s:
        reg = await Registry.load(s)
        lead, coord = reg.lookup("Sở Tài chính"), reg.lookup("Sở Khoa học và Công nghệ")
        assert lead and coord
        plan = Plan(identity="3021/KH-UBND", number="3021/KH-UBND", title="Kế hoạch thực hiện Nghị quyết 20",
                    issued_on=date(2020, 8, 25), content_hash="x" * 64, issuer="Ủy ban nhân dân tỉnh Ninh Thuận")
        task = Task(plan=plan, position=1, ref="II.3.a", fingerprint="f1",
                    text="Sở Tài chính chủ trì, phối hợp với Sở Khoa học và Công nghệ rà soát, đối chiếu các quy định "
                         "hiện hành của Trung ương, của tỉnh về tài chính cho khoa học và công nghệ.")
        task.agencies = [TaskAgency(agency_id=lead.id, role="lead", written="Sở Tài chính", position=0),
                         TaskAgency(agency_id=coord.id, role="coordinator", written="Sở Khoa học và Công nghệ",
                                    position=1)]
        others = []
        for i, (who, what) in enumerate([("Sở Nội vụ", "nghiên cứu, tham mưu sắp xếp tổ chức bộ máy"),
                                         ("Sở Y tế", "tuyên truyền phòng chống dịch bệnh trong trường học")], 2):
            info = reg.lookup(who)
            assert info
            other = Task(plan=plan, position=i, ref=f"II.{i}", fingerprint=f"f{i}", text=f"{who} {what}.")
            other.agencies = [TaskAgency(agency_id=info.id, role="lead", written=who, position=0)]
            others.append(other)
        s.add_all([plan, task, *others])
        await s.commit()


async def test_question_in_answer_out(ctx: AppContext, tg: FakeTelegram) -> None:
    await add_task(ctx.db)
    bot = await running_bot(ctx, tg)
    try:
        # The menus come from the command table: everyone's by default, the admins' in their own chat.
        assert [c["command"] for c in tg.commands] == [c.name for c in COMMANDS if c.audience is not Audience.ADMIN]
        assert all(c["description"] for c in tg.commands)
        admin_menu = tg.scoped_commands[tg.scope_key({"type": "chat", "chat_id": ADMIN})]
        assert [c["command"] for c in admin_menu] == [c.name for c in COMMANDS]
        assert {"command": "taoma", "description": bot_commands(Audience.ADMIN)[-2].description} in admin_menu
        tg.queue_message(USER, "Ai chủ trì rà soát, đối chiếu các quy định hiện hành?")
        [answer] = await tg.wait_for_messages(1, chat_id=USER)
        assert answer["text"].startswith("Sở Tài chính")
        assert "3021" in answer["text"]
        assert {"chat_id": USER, "action": "typing"} in tg.chat_actions
    finally:
        await bot.stop()


@pytest.mark.usefixtures("bot")
async def test_group_speaks_only_when_spoken_to(tg: FakeTelegram) -> None:
    group = -500
    tg.queue_message(group, "Sở Tài chính có việc gì?", user_id=USER)  # people talking among themselves
    tg.queue_message(group, "/huydangky@some_other_bot", user_id=USER)  # a command for another bot
    tg.queue_message(group, "@nhacviec_test_bot /huydangky", user_id=USER)
    [first] = await tg.wait_for_messages(1, chat_id=group)
    await asyncio.sleep(0.2)
    assert len(tg.sent_to(group)) == 1
    assert "chưa đăng ký" in first["text"]
    tg.queue_message(group, "còn việc khác?", user_id=USER, reply_to=first["message_id"])  # a reply to the bot
    tg.queue_message(group, "/huydangky@nhacviec_test_bot", user_id=USER)
    sent = await tg.wait_for_messages(3, chat_id=group)
    assert any("chưa đăng ký" in m["text"] for m in sent[1:])
    await asyncio.sleep(0.2)
    assert len(tg.sent_to(group)) == 3


async def test_registration_and_approval_by_button(tg: FakeTelegram, db: Database) -> None:
    """On SQLite and PostgreSQL: the one end-to-end test that writes the store."""
    bot = await running_bot(make_ctx(db), tg)
    try:
        tg.queue_message(USER, "/dangky so tai chinh", first_name="Trần Thị B")
        [request] = await tg.wait_for_messages(1, chat_id=ADMIN)
        [ack] = await tg.wait_for_messages(1, chat_id=USER)
        assert "Đã gửi yêu cầu" in ack["text"] and "Trần Thị B" in request["text"]
        buttons = [b for row in request["reply_markup"]["inline_keyboard"] for b in row]
        approve = next(b for b in buttons if b["text"] == "Duyệt")
        tg.queue_callback(ADMIN, approve["callback_data"], message_id=request["message_id"])
        done = await tg.wait_for_messages(2, chat_id=ADMIN)
        assert done[1]["text"].startswith("Đã duyệt")
        told = await tg.wait_for_messages(2, chat_id=USER)
        assert "đã được duyệt" in told[1]["text"]
        assert len(tg.callback_answers) == 1
        async with db.session() as s:
            [row] = (await s.scalars(select(FocalPoint))).all()
        assert row.status == "approved" and row.chat_id == str(USER) and row.name == "Trần Thị B"
    finally:
        await bot.stop()


async def test_webhook_needs_the_secret(ctx: AppContext, tg: FakeTelegram) -> None:
    url, secret = "https://nhacviec.example.gov.vn/tg/hook", "s3cret-Token_123"
    bot = await running_bot(ctx, tg, webhook_url=url, webhook_secret=secret)
    web = WebServer(ctx.db, "127.0.0.1", 0)
    bot.add_routes(web)
    web.status["telegram"] = bot.mode
    await web.start()
    try:
        assert tg.webhook == {"url": url, "secret_token": secret}
        assert bot.application.updater is None and not any(m == "getUpdates" for m, _ in tg.requests)
        update = {"update_id": 1, "message": tg.user_message(USER, "/dangky Sở Tài chính")}
        endpoint = f"http://127.0.0.1:{web.port}/tg/hook"
        async with aiohttp.ClientSession() as http:
            async with http.post(endpoint, json=update) as r:
                assert r.status == 403
            async with http.post(endpoint, json=update, headers={SECRET_HEADER: "wrong"}) as r:
                assert r.status == 403
            await asyncio.sleep(0.2)
            assert tg.sent == []
            async with http.post(endpoint, json=update, headers={SECRET_HEADER: secret}) as r:
                assert r.status == 200
            async with http.post(endpoint, data=b"{not json", headers={SECRET_HEADER: secret}) as r:
                assert r.status == 400
            bad = {"update_id": 2, "message": {"text": "no chat, no date"}}
            async with http.post(endpoint, json=bad, headers={SECRET_HEADER: secret}) as r:
                assert r.status == 400
            async with http.get(f"http://127.0.0.1:{web.port}/healthz") as r:
                assert r.status == 200
                assert await r.json() == {"status": "ok", "database": "ok", "telegram": "webhook"}
        [ack] = await tg.wait_for_messages(1, chat_id=USER)
        assert "Sở Tài chính" in ack["text"]
    finally:
        await web.stop()
        await bot.stop()


@pytest.mark.usefixtures("bot")
async def test_flood_control_reply_delivered_later(tg: FakeTelegram) -> None:
    tg.fail(USER, 429, retry_after=1)
    tg.queue_message(USER, "/huydangky")
    [reply] = await tg.wait_for_messages(1, chat_id=USER, timeout=6)
    assert "chưa đăng ký" in reply["text"]
    assert tg.stats["error_429"] == 1
    await asyncio.sleep(0.2)
    assert len(tg.sent_to(USER)) == 1


@pytest.mark.usefixtures("bot")
async def test_one_chat_answered_in_order_even_when_a_reply_waits(tg: FakeTelegram) -> None:
    tg.fail(USER, 429, retry_after=1)  # the first reply must wait a second
    tg.queue_message(USER, "/huydangky")
    tg.queue_message(USER, "/dangky")
    sent = await tg.wait_for_messages(2, chat_id=USER, timeout=6)
    assert "chưa đăng ký" in sent[0]["text"] and "/dangky <tên cơ quan>" in sent[1]["text"]


@pytest.mark.usefixtures("bot")
async def test_server_error_retried(tg: FakeTelegram) -> None:
    tg.fail(USER, 502)
    tg.fail(USER, 500)
    tg.queue_message(USER, "/huydangky")
    [reply] = await tg.wait_for_messages(1, chat_id=USER, timeout=6)
    assert "chưa đăng ký" in reply["text"]
    assert tg.stats["error_502"] == 1 and tg.stats["error_500"] == 1


async def test_blocked_user_marked_unreachable_and_admins_told(ctx: AppContext, tg: FakeTelegram,
                                                               bot: TelegramChannel) -> None:
    async with ctx.db.session() as s:
        reg = await Registry.load(s)
        agency = reg.lookup("Sở Y tế")
        assert agency
        row = await focal_points.add(s, agency.id, "telegram", USER, user_id=USER, name="Lê Văn C",
                                     approved_by=f"telegram:{ADMIN}")
        await s.commit()
    tg.fail(USER, 403, times=None)
    tg.queue_message(USER, "/huydangky Sở Tài chính")
    [notice] = await tg.wait_for_messages(1, chat_id=ADMIN)
    assert "Lê Văn C" in notice["text"] and "Sở Y tế" in notice["text"] and "chặn" in notice["text"]
    async with ctx.db.session() as s:
        assert (await s.get(FocalPoint, row.id)).status == "unreachable"  # type: ignore[union-attr]
    assert tg.sent_to(USER) == []


async def test_block_notice_marks_unreachable_without_a_send(ctx: AppContext, tg: FakeTelegram,
                                                              bot: TelegramChannel) -> None:
    async with ctx.db.session() as s:
        reg = await Registry.load(s)
        agency = reg.lookup("Sở Tư pháp")
        assert agency
        row = await focal_points.add(s, agency.id, "telegram", USER, user_id=USER, approved_by="telegram:900")
        await s.commit()
    tg.queue_block(USER)
    [notice] = await tg.wait_for_messages(1, chat_id=ADMIN)
    assert "Sở Tư pháp" in notice["text"]
    async with ctx.db.session() as s:
        assert (await s.get(FocalPoint, row.id)).status == "unreachable"  # type: ignore[union-attr]
    assert "my_chat_member" in next(p for m, p in tg.requests if m == "getUpdates")["allowed_updates"]


async def test_long_answer_split_in_order(bot: TelegramChannel, tg: FakeTelegram) -> None:
    lines = [f"{i}. Sở Tài chính chủ trì rà soát quy định tài chính — KH 3021, mục II.{i}" for i in range(1, 101)]
    text = "\n".join(lines)
    assert len(text) >= 5000
    incoming = Incoming(channel="telegram", chat_id=str(USER), user_id=str(USER))
    await bot.edge.deliver(incoming, [Reply(text)])
    sent = await tg.wait_for_messages(2, chat_id=USER)
    assert len(sent) == 2 and all(len(m["text"]) <= 4096 for m in sent)
    assert sent[0]["text"] + "\n" + sent[1]["text"] == text


@pytest.mark.usefixtures("bot")
async def test_documents_only_from_admins(tg: FakeTelegram) -> None:
    tg.queue_document(USER, "kehoach.txt", "KẾ HOẠCH".encode())
    [refusal] = await tg.wait_for_messages(1, chat_id=USER)
    assert refusal["text"] == ADMIN_FILES_ONLY
    assert not any(m == "getFile" for m, _ in tg.requests)
    tg.queue_document(ADMIN, "kehoach.txt", "KẾ HOẠCH SỐ 1".encode())
    [answer] = await tg.wait_for_messages(1, chat_id=ADMIN)
    assert any(m == "getFile" for m, _ in tg.requests)
    assert answer["text"] != ADMIN_FILES_ONLY and answer["text"] != SORRY


async def test_admin_plan_file_imported(ctx: AppContext, tg: FakeTelegram, bot: TelegramChannel) -> None:
    pytest.importorskip("knowledge.plans")  # the importer's module (another engineer's)
    seed = SEEDS / "002_49944c2a62862d7a.txt"
    tg.queue_document(ADMIN, "kh3021.txt", seed.read_bytes())
    working, answer = await tg.wait_for_messages(2, chat_id=ADMIN, timeout=15)
    assert working["text"].startswith("Đang đọc tệp kh3021.txt")  # parsing runs in a worker meanwhile
    assert "3021/KH-UBND" in answer["text"] and "nhập mới" in answer["text"]
    async with ctx.db.session() as s:
        assert (await s.scalars(select(Plan.number))).all() == ["3021/KH-UBND"]
    tg.queue_document(ADMIN, "mat.txt", "MẬT\nKẾ HOẠCH\nSở Tài chính chủ trì rà soát.".encode())
    answers = await tg.wait_for_messages(4, chat_id=ADMIN, timeout=15)
    assert answers[3]["text"].startswith("Không nhập được tệp mat.txt")


@pytest.mark.usefixtures("bot")
async def test_unexpected_error_answered_politely_and_bot_keeps_running(tg: FakeTelegram) -> None:
    tg.queue_document(ADMIN, "kehoach.txt", b"x")
    tg.files.clear()  # getFile will fail: an error inside the update's handling
    [sorry] = await tg.wait_for_messages(1, chat_id=ADMIN)
    assert sorry["text"] == SORRY
    tg.queue_message(ADMIN, "/huydangky")
    later = await tg.wait_for_messages(2, chat_id=ADMIN)
    assert "chưa đăng ký" in later[1]["text"]
