"""Admins change tasks from chat (issue 11, part B) through the router on SQLite and PostgreSQL: found
by plan and section, id, list number or words; deadline, done, reopen, extend, reassign, report-to,
text, cancel, delete, add; undo by replaying the audit row; two admins on one task."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.clock import FixedClock
from core.context import AppContext
from core.messages import Incoming, Reply
from handlers import router
from knowledge import focal_points
from knowledge.agencies import Registry
from knowledge.db import Database
from knowledge.models import AuditEntry, Task, TaskAgency, TaskProgress
from knowledge.plans import import_file

ADMIN, ADMIN2, USER = "900", "901", "11"
TODAY = date(2026, 11, 23)
PLAN = Path(__file__).parent / "data" / "kh130_admin.txt"


@pytest.fixture
async def ctx(db: Database) -> AppContext:
    await import_file(db, PLAN.read_bytes(), "kh130.txt")
    return AppContext(db=db, clock=FixedClock.on(TODAY), admins=frozenset({f"telegram:{ADMIN}", f"telegram:{ADMIN2}"}))


def said(user: str, text: str = "", choice: str | None = None) -> Incoming:
    return Incoming(channel="telegram", chat_id=user, user_id=user, text=text, user_name="Cán bộ", choice=choice)


async def say(ctx: AppContext, text: str, user: str = ADMIN) -> list[Reply]:
    return await router.handle(ctx, said(user, text))


async def one(ctx: AppContext, text: str, user: str = ADMIN) -> str:
    replies = await say(ctx, text, user)
    return replies[0].text


async def task(db: Database, ref: str) -> Task:
    async with db.session() as s:
        row = await s.scalar(select(Task).where(Task.ref == ref))
    assert row is not None
    return row


async def audit(db: Database, action: str) -> list[AuditEntry]:
    async with db.session() as s:
        return list((await s.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                     .order_by(AuditEntry.id))).all())


async def focal(db: Database, agency: str, chat: str) -> None:
    async with db.session() as s:
        info = (await Registry.load(s)).lookup(agency)
        assert info is not None
        await focal_points.add(s, info.id, "telegram", chat, user_id=chat, approved_by="t")
        await s.commit()


async def test_task_found_by_section_id_list_number_and_words(ctx: AppContext) -> None:
    assert "#" in await one(ctx, "/suaviec KH 130 II.2") and "Sở Nội vụ chủ trì rà soát" in await one(
        ctx, "/suaviec KH 130 II.2")
    assert "Sở Nội vụ chủ trì rà soát" in await one(ctx, "/suaviec II.2 KH 130")
    t = await task(ctx.db, "II.3")
    assert "hồ sơ sức khỏe" in await one(ctx, f"/suaviec #{t.id}")
    assert "hồ sơ sức khỏe" in await one(ctx, "/suaviec ho so suc khoe")  # words, accents optional
    several = (await say(ctx, "/suaviec chủ trì"))[0]
    assert several.text.startswith("Có nhiều việc khớp") and len(several.choices) == 3
    assert "Sở Y tế chủ trì triển khai" in await one(ctx, "/suaviec 3")  # the third of the list just shown
    assert "không có mục II.9" in await one(ctx, "/suaviec KH 130 II.9")
    assert "Không tìm thấy kế hoạch “9999”" in await one(ctx, "/suaviec KH 9999 II.1")
    assert "Không có nhiệm vụ mã #99999" in await one(ctx, "/suaviec #99999")


async def test_deadline_one_line_guided_and_bad_dates(ctx: AppContext) -> None:
    t = await task(ctx.db, "II.1")
    assert "tháng 4/2027 chỉ có 30 ngày" in await one(ctx, "/doihan KH 130 II.1 31/04/2027")
    assert "năm 2027 không phải năm nhuận" in await one(ctx, "/doihan KH 130 II.1 29/02/2027")
    assert "trước ngày ban hành Kế hoạch 130/KH-UBND (10/11/2026)" in await one(ctx, "/doihan KH 130 II.1 01/11/2026")
    assert "Cách dùng: /doihan" in await one(ctx, "/doihan KH 130 II.1")
    assert (await task(ctx.db, "II.1")).deadline_due == date(2026, 12, 31)
    assert not await audit(ctx.db, "task.set_deadline")
    assert "Chỉ quản trị viên" in await one(ctx, "/doihan KH 130 II.1 25/12/2026", USER)
    done = (await say(ctx, "/doihan KH 130 II.1 25/12/2026"))[0]
    assert done.text.startswith("✅ Đã đổi hạn thành 25/12/2026") and "Hạn: trước ngày 25/12/2026" in done.text
    assert (await task(ctx.db, "II.1")).deadline_due == date(2026, 12, 25)
    [row] = await audit(ctx.db, "task.set_deadline")
    assert row.actor == f"telegram:{ADMIN}" and row.before and row.before["deadline_due"] == "2026-12-31"
    # Guided: the task, then the day (a wrong day asked again).
    assert "Việc nào?" in await one(ctx, "/doihan")
    assert "Hạn mới?" in await one(ctx, f"#{t.id}")
    assert "31/04/2027" in await one(ctx, "31/04/2027")
    assert "Đã đổi hạn thành 10/01/2027" in await one(ctx, "10/01/2027")
    # The free-text form of the issue: "Đổi hạn việc II.1 KH 130 thành 15/01/2027".
    assert "Đã đổi hạn thành 15/01/2027" in await one(ctx, "Đổi hạn việc II.1 KH 130 thành 15/01/2027")


async def test_done_with_date_reopen_and_announced(ctx: AppContext) -> None:
    await focal(ctx.db, "Sở Tài chính", "501")  # lead
    await focal(ctx.db, "Sở Nội vụ", "502")  # coordinator
    await focal(ctx.db, "Sở Khoa học và Công nghệ", "503")  # the plan's monitoring agency
    assert "chưa tới" in await one(ctx, "/xong KH 130 II.1 30/11/2026")
    replies = await say(ctx, "/xong KH 130 II.1 20/11/2026")
    assert replies[0].text.startswith("✅ Đã ghi nhận hoàn thành ngày 20/11/2026")
    assert "Hoàn thành đúng hạn (xong 20/11/2026)" in replies[0].text
    told = {r.chat_id: r.text for r in replies[1:]}
    assert set(told) == {"501", "502", "503"} and all("Đã hoàn thành ngày 20/11/2026" in t for t in told.values())
    async with ctx.db.session() as s:
        assert await s.scalar(select(func.count(TaskProgress.id)).where(TaskProgress.status == "done")) == 1
    assert "Đã mở lại việc" in await one(ctx, "/molai KH 130 II.1")
    assert "chưa được ghi nhận hoàn thành" in await one(ctx, "/molai KH 130 II.1")
    async with ctx.db.session() as s:
        assert await s.scalar(select(func.count(TaskProgress.id))) == 0


async def test_extend_keeps_the_plan_day_and_the_reason(ctx: AppContext) -> None:
    await focal(ctx.db, "Sở Tài chính", "501")
    assert "không sau hạn hiện tại (31/12/2026)" in await one(ctx, "/giahan KH 130 II.1 30/12/2026 chậm kinh phí")
    replies = await say(ctx, "/giahan KH 130 II.1 31/01/2027 chờ dự toán được duyệt")
    assert "Đã gia hạn đến 31/01/2027" in replies[0].text and "chờ dự toán được duyệt" in replies[0].text
    assert "hạn áp dụng 01/02/2027" in replies[0].text  # 31/01/2027 is a Sunday: art. 148
    assert any(r.chat_id == "501" and "Gia hạn đến 31/01/2027" in r.text for r in replies[1:])
    t = await task(ctx.db, "II.1")
    assert t.deadline_due == date(2026, 12, 31)  # the original stays
    [row] = await audit(ctx.db, "task.extend")
    assert row.before == {"due": "2026-12-31"} and row.details["reason"] == "chờ dự toán được duyệt"
    # Guided: task, day, reason.
    await one(ctx, "/giahan")
    await one(ctx, "KH 130 II.2")
    assert "Lý do" in await one(ctx, "28/02/2027")
    assert "Đã gia hạn đến 28/02/2027" in await one(ctx, "thiếu biên chế")


async def test_reassign_report_to_text_cancel_delete_add(ctx: AppContext) -> None:
    assert "Đã đổi cơ quan chủ trì: Sở Tư pháp" in await one(ctx, "/suaviec KH 130 II.3 chutri: Sở Tư pháp")
    assert "Không tìm thấy cơ quan “Sở Không Có”" in await one(ctx, "/suaviec KH 130 II.3 phoihop: Sở Không Có")
    assert "Phối hợp: Sở Y tế, Sở Nội vụ" in await one(ctx, "/suaviec KH 130 II.3 phoihop: Sở Y tế, Sở Nội vụ")
    assert "Báo cáo về: Ủy ban nhân dân tỉnh" in await one(ctx, "/suaviec KH 130 II.3 baocao: UBND tỉnh")
    assert "Đã sửa nội dung" in await one(ctx, "/suaviec KH 130 II.3 noidung: Sở Tư pháp triển khai hồ sơ điện tử.")
    t = await task(ctx.db, "II.3")
    async with ctx.db.session() as s:
        roles = sorted((r.role, r.written) for r in (await s.scalars(select(TaskAgency).where(
            TaskAgency.task_id == t.id))).all())
    assert roles == [("coordinator", "Sở Nội vụ"), ("coordinator", "Sở Y tế"), ("lead", "Sở Tư pháp"),
                     ("report_to", "UBND tỉnh")]
    # Card buttons: the guided form of a field, for that task.
    card = (await say(ctx, "/suaviec KH 130 II.3"))[0]
    lead_button = next(c.data for c in card.choices if c.label == "Đổi chủ trì")
    assert "Cơ quan chủ trì mới?" in (await router.handle(ctx, said(ADMIN, choice=lead_button)))[0].text
    assert "Đã đổi cơ quan chủ trì: Sở Y tế" in await one(ctx, "Sở Y tế")
    # Cancel and delete ask first.
    assert "Hủy việc #" in await one(ctx, "/huyviec KH 130 II.2")
    assert "Đã hủy, không thay đổi gì" in await one(ctx, "không")
    assert (await task(ctx.db, "II.2")).status == "open"
    await say(ctx, "/huyviec KH 130 II.2")
    assert "Đã hủy việc" in await one(ctx, "có")
    assert (await task(ctx.db, "II.2")).status == "cancelled"
    await say(ctx, "/xoaviec KH 130 II.2")
    assert "Đã xóa nhiệm vụ" in await one(ctx, "có")
    async with ctx.db.session() as s:
        assert await s.scalar(select(func.count(Task.id))) == 3
    # Add by hand: one line, then guided.
    added = await one(ctx, "/themviec KH 130 | II.5 | Sở Tư pháp rà soát văn bản quy phạm pháp luật. | Sở Tư pháp "
                           "| 30/06/2027")
    assert "Đã thêm việc" in added and "mục II.5" in added and "trước ngày 30/06/2027" in added
    assert "đã có mục II.5" in await one(ctx, "/themviec KH 130 | II.5 | Việc khác hoàn toàn mới. | Sở Y tế | không")
    assert "Thêm việc vào kế hoạch nào?" in await one(ctx, "/themviec")
    await one(ctx, "1")
    await one(ctx, "II.6")
    await one(ctx, "Sở Y tế tổ chức tập huấn chuyển đổi số.")
    await one(ctx, "Sở Y tế")
    assert "Đã thêm việc" in await one(ctx, "không")
    assert len(await audit(ctx.db, "task.add")) == 2


async def test_undo_replays_the_audit_row(ctx: AppContext) -> None:
    assert "chưa có thay đổi nào" in await one(ctx, "/hoantac")
    await say(ctx, "/doihan KH 130 II.1 25/12/2026")
    await say(ctx, "/xong KH 130 II.2 20/11/2026")
    undone = await one(ctx, "/hoantac")
    assert undone.startswith("↩️ Đã hoàn tác") and "đánh dấu hoàn thành" in undone
    async with ctx.db.session() as s:
        assert await s.scalar(select(func.count(TaskProgress.id))) == 0
    undone = await one(ctx, "/hoantac")
    assert "đổi hạn" in undone and (await task(ctx.db, "II.1")).deadline_due == date(2026, 12, 31)
    assert "chưa có thay đổi nào" in await one(ctx, "/hoantac")
    assert len(await audit(ctx.db, "task.undo")) == 2
    # A later change by another admin depends on mine: refused, nothing changes.
    await say(ctx, "/doihan KH 130 II.1 20/12/2026")
    await say(ctx, "/giahan KH 130 II.1 31/12/2026 thêm thời gian", ADMIN2)
    refused = await one(ctx, "/hoantac")
    assert refused.startswith("Không hoàn tác được") and "thay đổi khác trên cùng nhiệm vụ" in refused
    assert (await task(ctx.db, "II.1")).deadline_due == date(2026, 12, 20)
    assert "Đã hoàn tác" in await one(ctx, "/hoantac", ADMIN2)  # the other admin undoes theirs first
    assert "Đã hoàn tác" in await one(ctx, "/hoantac")
    assert (await task(ctx.db, "II.1")).deadline_due == date(2026, 12, 31)


async def test_two_admins_on_one_task_never_half_change_it(ctx: AppContext) -> None:
    # Both see the card; the first change wins, the second is refused and shown the task as it is now.
    card_a = (await say(ctx, "/suaviec KH 130 II.1"))[0]
    card_b = (await say(ctx, "/suaviec KH 130 II.1", ADMIN2))[0]
    lead_a = next(c.data for c in card_a.choices if c.label == "Đổi chủ trì")
    lead_b = next(c.data for c in card_b.choices if c.label == "Đổi chủ trì")
    await router.handle(ctx, said(ADMIN, choice=lead_a))
    await router.handle(ctx, said(ADMIN2, choice=lead_b))
    assert "Đã đổi cơ quan chủ trì: Sở Y tế" in await one(ctx, "Sở Y tế")
    late = await one(ctx, "Sở Tư pháp", ADMIN2)
    assert late.startswith("Việc này vừa được người khác thay đổi") and "Chủ trì: Sở Y tế" in late
    # At the same moment: each change is whole, the task's version counts every one that was written.
    t = await task(ctx.db, "II.2")
    results = await asyncio.gather(*(say(ctx, f"/suaviec KH 130 II.2 chutri: {name}", who) for name, who in
                                     (("Sở Y tế", ADMIN), ("Sở Tư pháp", ADMIN2))))
    written = [r for r in results if "Đã đổi cơ quan chủ trì" in r[0].text]
    assert written
    async with ctx.db.session() as s:
        leads = (await s.scalars(select(TaskAgency.written).where(TaskAgency.task_id == t.id,
                                                                  TaskAgency.role == "lead"))).all()
        version = await s.scalar(select(Task.version).where(Task.id == t.id))
    assert len(leads) == 1 and version == t.version + len(written)
    assert len([r for r in await audit(ctx.db, "task.reassign") if r.target == f"task:{t.id}"]) == len(written)


async def _task_state(db: Database, task_id: int) -> tuple[object, ...]:
    """Everything a deleted task takes with it: its columns, roles, progress and reminders, by id."""
    async with db.session() as s:
        t = await s.get(Task, task_id)
        if t is None:
            return ()
        roles = sorted((r.id, r.agency_id, r.role, r.written, r.position) for r in (await s.scalars(
            select(TaskAgency).where(TaskAgency.task_id == task_id))).all())
        progress = sorted((p.id, p.agency_id, p.status, p.new_due, p.by, p.note, p.occurrence) for p in (
            await s.scalars(select(TaskProgress).where(TaskProgress.task_id == task_id))).all())
        return (t.plan_id, t.position, t.ref, t.text, t.fingerprint, t.deadline_kind, t.deadline_due,
                t.deadline_text, t.status, roles, progress)


async def test_undo_brings_a_deleted_task_back_whole(ctx: AppContext) -> None:
    await focal(ctx.db, "Sở Tài chính", "501")
    await say(ctx, "/giahan KH 130 II.1 31/01/2027 chờ dự toán")
    await say(ctx, "/suaviec KH 130 II.1 baocao: UBND tỉnh")
    t = await task(ctx.db, "II.1")
    before = await _task_state(ctx.db, t.id)
    assert before and before[-1]  # an extension recorded
    await say(ctx, "/xoaviec KH 130 II.1")
    assert "Đã xóa nhiệm vụ" in await one(ctx, "có")
    assert await _task_state(ctx.db, t.id) == ()
    undone = await one(ctx, "/hoantac")
    assert undone.startswith("↩️ Đã hoàn tác") and "xóa việc" in undone and f"#{t.id}" in undone
    assert "hạn áp dụng 01/02/2027" in undone  # the extension came back with it
    assert await _task_state(ctx.db, t.id) == before  # same id, roles, progress
    [row] = await audit(ctx.db, "task.undo")
    assert row.details["action_undone"] == "task.delete"
    # The earlier changes are undoable again, in order.
    assert "Báo cáo về" not in await one(ctx, "/hoantac")


async def test_undo_of_a_delete_after_a_hand_added_task_was_undone(ctx: AppContext) -> None:
    """A task added by hand, then deleted: the undo of the delete brings it back; the undo of the add
    (the next one) removes it again."""
    await say(ctx, "/themviec KH 130 | II.5 | Sở Tư pháp rà soát văn bản quy phạm. | Sở Tư pháp | 30/06/2027")
    t = await task(ctx.db, "II.5")
    await say(ctx, "/xoaviec KH 130 II.5")
    await one(ctx, "có")
    assert "xóa việc" in await one(ctx, "/hoantac")
    assert (await task(ctx.db, "II.5")).id == t.id
    assert "thêm việc" in await one(ctx, "/hoantac")
    async with ctx.db.session() as s:
        assert await s.get(Task, t.id) is None


def _new_version() -> bytes:
    """KH 130 re-issued: II.2's deadline moved by the file, a new fifth task; II.1 and II.3 as before."""
    text = PLAN.read_text(encoding="utf-8")
    text = text.replace("hoàn thành trước ngày 15/01/2027", "hoàn thành trước ngày 20/01/2027")
    text = text.replace("4. Tuyên truyền rộng rãi về chuyển đổi số đến người dân.",
                        "4. Tuyên truyền rộng rãi về chuyển đổi số đến người dân.\n"
                        "5. Sở Thông tin và Truyền thông chủ trì xây dựng nền tảng số, hoàn thành trước ngày "
                        "30/09/2027.")
    assert text != PLAN.read_text(encoding="utf-8")
    return text.encode()


async def test_reimport_keeps_hand_added_tasks_and_admin_edits(ctx: AppContext) -> None:
    from knowledge.preview import dry_run

    await say(ctx, "/themviec KH 130 | II.9 | Sở Tư pháp rà soát văn bản quy phạm pháp luật. | Sở Tư pháp | 30/06/2027")
    hand = await task(ctx.db, "II.9")
    await say(ctx, "/doihan KH 130 II.1 25/12/2026")  # the file keeps saying 31/12: the admin's day stays
    edited = "Sở Tài chính bố trí đủ kinh phí chuyển đổi số năm 2027 cho các sở."
    await say(ctx, f"/suaviec KH 130 II.1 noidung: {edited}")  # the file's words unchanged: the admin's stay
    await say(ctx, "/xong KH 130 II.2 20/11/2026")
    await say(ctx, "/doihan KH 130 II.2 10/01/2027")  # the new file says 20/01/2027: the file's day, said so
    await say(ctx, "/giahan KH 130 II.3 31/07/2027 chờ kinh phí")
    await say(ctx, "/suaviec KH 130 II.3 chutri: Sở Tư pháp")

    async def state() -> dict[str, tuple[object, ...]]:
        async with ctx.db.session() as s:
            rows = (await s.scalars(select(Task).order_by(Task.id))).all()
            out = {}
            for t in rows:
                leads = (await s.scalars(select(TaskAgency.written).where(TaskAgency.task_id == t.id,
                                                                          TaskAgency.role == "lead"))).all()
                progress = sorted((p.id, p.status) for p in (await s.scalars(
                    select(TaskProgress).where(TaskProgress.task_id == t.id))).all())
                out[t.ref] = (t.id, t.status, t.deadline_due, tuple(leads), tuple(progress))
            return out

    before = await state()
    # The same file again: nothing changes.
    await import_file(ctx.db, PLAN.read_bytes(), "kh130.txt")
    assert await state() == before

    preview = (await dry_run(ctx.db, _new_version(), "kh130_v2.txt", "test", 10 * 2**20)).text("kh130_v2.txt")
    assert "Xóa: II.9" not in preview and "xóa 0 nhiệm vụ" in preview
    assert "Giữ việc thêm tay: II.9" in preview
    assert "Giữ thay đổi của quản trị viên: II.1 (hạn, nội dung), II.3 (chủ trì, phối hợp)" in preview
    assert "Sửa II.1" not in preview and "Sửa II.3" not in preview
    assert "II.2: hạn quản trị viên đặt “trước ngày 10/01/2027” → theo tệp mới “" in preview
    assert "Thêm: II.5" in preview

    await import_file(ctx.db, _new_version(), "kh130_v2.txt")
    after = await state()
    assert after["II.9"] == before["II.9"] and after["II.9"][0] == hand.id  # the hand-added task stays
    assert after["II.1"][2] == date(2026, 12, 25)  # the admin's day, not the file's unchanged 31/12
    assert (await task(ctx.db, "II.1")).text == edited
    assert after["II.2"][2] == date(2027, 1, 20) and after["II.2"][4] == before["II.2"][4]  # file's day, done kept
    assert after["II.3"][3] == ("Sở Tư pháp",) and after["II.3"][4] == before["II.3"][4]  # lead and extension kept
    assert "II.5" in after
    [row] = await audit(ctx.db, "task.file_update")
    assert row.target == f"task:{after['II.2'][0]}" and row.before and row.before["deadline_due"] == "2027-01-10"
    assert row.after and row.after["deadline_due"] == "2027-01-20"
    # A third import of the same new version: the admin's edits still stand.
    await import_file(ctx.db, _new_version() + b"\n", "kh130_v2b.txt")
    assert await state() == after
    # The admin's deadline of II.2 was replaced by the file: undoing it would write back an old day.
    await one(ctx, "/hoantac")  # the lead of II.3
    await one(ctx, "/hoantac")  # the extension of II.3
    refused = await one(ctx, "/hoantac")
    assert refused.startswith("Không hoàn tác được") and "đổi hạn" in refused and "bản mới của tệp" in refused


async def _dump(db: Database) -> tuple[object, ...]:
    """The store as the admin commands can change it: tasks, roles, progress, plans, agencies, audit rows."""
    from knowledge.models import Agency, AgencyAlias, Plan

    async with db.session() as s:
        tasks = sorted((t.id, t.ref, t.text, t.deadline_due, t.deadline_text, t.status, t.version)
                       for t in (await s.scalars(select(Task))).all())
        roles = sorted((r.task_id, r.agency_id, r.role, r.written) for r in (await s.scalars(select(TaskAgency))).all())
        progress = sorted((p.task_id, p.status, p.new_due) for p in (await s.scalars(select(TaskProgress))).all())
        plans = sorted((p.id, p.archived_at) for p in (await s.scalars(select(Plan))).all())
        agencies = sorted((a.id, a.name, a.successor_id) for a in (await s.scalars(select(Agency))).all())
        aliases = int(await s.scalar(select(func.count(AgencyAlias.id))) or 0)
        audits = int(await s.scalar(select(func.count(AuditEntry.id))) or 0)
    return tasks, roles, progress, plans, agencies, aliases, audits


BAD_INPUT = [
    ("/doihan KH 130 II.1 31/04/2027", "tháng 4/2027 chỉ có 30 ngày"),
    ("/doihan KH 130 II.1 29/02/2027", "năm 2027 không phải năm nhuận"),
    ("/doihan KH 130 II.1 01/11/2026", "trước ngày ban hành Kế hoạch 130/KH-UBND (10/11/2026)"),
    ("/doihan KH 130 II.1 32/12/2026", "tháng 12/2026 chỉ có 31 ngày"),
    ("/doihan KH 130 II.1 15/13/2026", "tháng phải từ 1 đến 12"),
    ("/doihan KH 9999 II.1 25/12/2026", "Không tìm thấy kế hoạch “9999”"),
    ("/doihan KH 130 II.9 25/12/2026", "không có mục II.9"),
    ("/xong KH 130 II.1 31/04/2026", "tháng 4/2026 chỉ có 30 ngày"),
    ("/xong KH 130 II.1 05/11/2026", "trước ngày ban hành"),
    ("/xong KH 130 II.7", "không có mục II.7"),
    ("/giahan KH 130 II.1 29/02/2027 chờ kinh phí", "không phải năm nhuận"),
    ("/giahan KH 130 II.1 01/10/2026 chờ kinh phí", "trước ngày ban hành"),
    ("/giahan KH 77 II.1 31/01/2027 chờ kinh phí", "Không tìm thấy kế hoạch “77”"),
    ("/suaviec KH 130 II.1 chutri: Sở Không Có", "Không tìm thấy cơ quan “Sở Không Có”"),
    ("/suaviec KH 130 II.1 baocao: Ban Vô Danh", "Không tìm thấy cơ quan “Ban Vô Danh”"),
    ("/suaviec KH 130 II.8 chutri: Sở Y tế", "không có mục II.8"),
    ("/molai KH 130 II.1", "chưa được ghi nhận hoàn thành"),
    ("/themviec KH 9999 | II.5 | Sở Tư pháp rà soát văn bản. | Sở Tư pháp | 30/06/2027",
     "Không tìm thấy kế hoạch “KH 9999”"),
    ("/themviec KH 130 | II.5 | Sở Tư pháp rà soát văn bản. | Sở Không Có | 30/06/2027",
     "Không tìm thấy cơ quan “Sở Không Có”"),
    ("/themviec KH 130 | II.5 | Sở Tư pháp rà soát văn bản. | Sở Tư pháp | 31/06/2027", "tháng 6/2027 chỉ có 30 ngày"),
    ("/themviec KH 130 | II.5 | Sở Tư pháp rà soát văn bản. | Sở Tư pháp | 01/01/2026", "trước ngày ban hành"),
    ("/themviec KH 130 | II.5 | Sở Tư pháp rà soát văn bản.", "Cách dùng: /themviec"),
    ("/coquan kethua Sở Y tế => Sở Nội vụ 31/04/2025", "tháng 4/2025 chỉ có 30 ngày"),
    ("/coquan gop Sở Không Có => Sở Y tế", "Không tìm thấy cơ quan “Sở Không Có”"),
    ("/coquan tenkhac Sở YT => Sở Không Có", "Không tìm thấy cơ quan “Sở Không Có”"),
    ("/kehoach luutru 9999", "Không tìm thấy kế hoạch “9999”"),
]


@pytest.mark.parametrize(("command", "said_back"), BAD_INPUT)
async def test_bad_input_gets_a_precise_message_and_changes_nothing(ctx: AppContext, command: str,
                                                                    said_back: str) -> None:
    before = await _dump(ctx.db)
    replies = await say(ctx, command)
    assert len(replies) == 1 and said_back in replies[0].text, replies[0].text
    assert "Traceback" not in replies[0].text
    assert await _dump(ctx.db) == before


async def test_a_change_waits_for_another_admins_open_change_on_postgres(ctx: AppContext) -> None:
    """Two admins on one task at the same moment, on PostgreSQL's row locks: the second change waits while
    the first is being written; the first committed, the second is refused whole; the first rolled back
    (it failed half-way), the second is written whole."""
    from knowledge import changes
    from knowledge.deadlines import Deadline

    if not ctx.db.is_postgres:
        pytest.skip("row locks: PostgreSQL")
    t = await task(ctx.db, "II.1")
    new_day = Deadline("date", date(2026, 12, 20), None, None, "trước ngày 20/12/2026")
    async with ctx.db.session() as s:
        await changes.claim(s, t.id, t.version)
        await changes.set_deadline(s, t.id, new_day, f"telegram:{ADMIN}")
        other = asyncio.create_task(say(ctx, "/suaviec KH 130 II.1 chutri: Sở Y tế", ADMIN2))
        await asyncio.sleep(1.0)
        assert not other.done()  # waiting on the row, not writing beside it
        await s.commit()
    late = (await other)[0].text
    assert late.startswith("Việc này vừa được người khác thay đổi") and "Chủ trì: Sở Tài chính" in late
    now = await task(ctx.db, "II.1")
    assert now.deadline_due == date(2026, 12, 20) and now.version == t.version + 1
    assert not await audit(ctx.db, "task.reassign")

    async with ctx.db.session() as s:
        await changes.claim(s, t.id, now.version)
        await changes.set_deadline(s, t.id, None, f"telegram:{ADMIN}")
        other = asyncio.create_task(say(ctx, "/suaviec KH 130 II.1 chutri: Sở Y tế", ADMIN2))
        await asyncio.sleep(1.0)
        assert not other.done()
        await s.rollback()  # the first change failed half-way: none of it stays
    assert "Đã đổi cơ quan chủ trì: Sở Y tế" in (await other)[0].text
    last = await task(ctx.db, "II.1")
    assert last.deadline_due == date(2026, 12, 20) and last.version == now.version + 1
    assert len(await audit(ctx.db, "task.set_deadline")) == 1 and len(await audit(ctx.db, "task.reassign")) == 1


async def test_a_reimport_waits_for_an_admins_open_change_on_postgres(ctx: AppContext) -> None:
    """A new version of the plan stored while an admin is changing one of its tasks: the import waits for
    the admin's change, then sees it (the file's new day replaces the admin's, said so) — never a silent
    overwrite of a change it did not see."""
    from knowledge import changes
    from knowledge.deadlines import Deadline

    if not ctx.db.is_postgres:
        pytest.skip("row locks: PostgreSQL")
    t = await task(ctx.db, "II.2")
    async with ctx.db.session() as s:
        await changes.claim(s, t.id, t.version)
        await changes.set_deadline(s, t.id, Deadline("date", date(2027, 1, 10), None, None, "trước ngày 10/01/2027"),
                                   f"telegram:{ADMIN}")
        importing = asyncio.create_task(import_file(ctx.db, _new_version(), "kh130_v2.txt"))
        await asyncio.sleep(1.0)
        assert not importing.done()
        await s.commit()
    result = await importing
    assert result.admin_overridden and result.admin_overridden[0].startswith("II.2: hạn quản trị viên đặt")
    [row] = await audit(ctx.db, "task.file_update")
    assert row.before and row.before["deadline_due"] == "2027-01-10"
    now = await task(ctx.db, "II.2")
    assert now.deadline_due == date(2027, 1, 20) and now.version == t.version + 2  # the admin's, then the file's


async def test_undo_pressed_twice_at_once_restores_a_deleted_task_once(ctx: AppContext) -> None:
    t = await task(ctx.db, "II.3")
    await say(ctx, "/xoaviec KH 130 II.3")
    await one(ctx, "có")
    results = await asyncio.gather(say(ctx, "/hoantac"), say(ctx, "/hoantac"))
    texts = sorted(r[0].text for r in results)
    assert sum(x.startswith("↩️ Đã hoàn tác") for x in texts) == 1, texts
    # The other is told why, by whichever way it lost the race: nothing left to undo, busy (try again), or
    # refused because the plan has the task again (it read the deletion before the first undo committed).
    assert any("chưa có thay đổi nào" in x or "thử lại" in x or x.startswith("Không hoàn tác được")
               for x in texts), texts
    assert (await task(ctx.db, "II.3")).id == t.id and len(await audit(ctx.db, "task.undo")) == 1
