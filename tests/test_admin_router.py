"""Admin commands through the router on the `db` fixture (SQLite and PostgreSQL): the one-line and the
guided form of each, bad input that changes nothing, and refusals for non-admins."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.clock import FixedClock
from core.context import AppContext
from core.messages import Incoming, Reply
from handlers import router
from handlers.commands import COMMANDS, Audience
from knowledge import focal_points
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

ADMIN = "900"
USER = "11"
TODAY = date(2026, 11, 23)
PLAN = Path(__file__).parent / "data" / "kh130_admin.txt"


@pytest.fixture
def ctx(db: Database) -> AppContext:
    return AppContext(db=db, clock=FixedClock.on(TODAY), admins=frozenset({f"telegram:{ADMIN}"}))


def said(user: str, text: str = "", choice: str | None = None) -> Incoming:
    return Incoming(channel="telegram", chat_id=user, user_id=user, text=text, user_name="Cán bộ", choice=choice)


async def say(ctx: AppContext, text: str, user: str = ADMIN) -> list[Reply]:
    return await router.handle(ctx, said(user, text))


async def press(ctx: AppContext, data: str, user: str = ADMIN) -> list[Reply]:
    return await router.handle(ctx, said(user, choice=data))


async def one(ctx: AppContext, text: str, user: str = ADMIN) -> str:
    replies = await say(ctx, text, user)
    assert len(replies) == 1, replies
    return replies[0].text


async def agency(db: Database, name: str) -> int:
    async with db.session() as s:
        info = (await Registry.load(s)).lookup(name)
    assert info is not None, name
    return info.id


async def count(db: Database, model: type, *where: object) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


def test_every_admin_command_is_in_the_table_with_a_guided_form() -> None:
    names = {c.name for c in COMMANDS if c.audience is Audience.ADMIN}
    assert {"kehoach", "coquan", "daumoi", "quantri", "thongke", "bieudo", "xuat", "lich", "nhatky"} <= names


async def test_admin_help_lists_admin_commands(ctx: AppContext) -> None:
    admin_help = await one(ctx, "/help")
    user_help = await one(ctx, "/help", USER)
    for name in ("/kehoach", "/coquan", "/daumoi", "/quantri", "/thongke", "/xuat", "/lich", "/nhatky"):
        assert name in admin_help and name not in user_help


async def test_plans_list_show_archive_delete(ctx: AppContext) -> None:
    await import_file(ctx.db, PLAN.read_bytes(), "kh130.txt")
    listed = (await say(ctx, "/kehoach"))[0]
    assert "1. Kế hoạch 130/KH-UBND (10/11/2026) — 4 nhiệm vụ" in listed.text
    card = (await say(ctx, "1"))[0]  # the guided form: a typed number picks the plan
    assert "Số nhiệm vụ: 4" in card.text and [c.label for c in card.choices] == ["Lưu trữ", "Xóa"]
    assert "Không tìm thấy kế hoạch “9999”" in await one(ctx, "/kehoach luutru 9999")

    # Archived: no reminders are planned for its tasks (and pending ones stop).
    async with ctx.db.session() as s:
        await focal_points.add(s, await agency(ctx.db, "Sở Tài chính"), "telegram", "501", approved_by="t")
        await s.commit()
    assert (await one(ctx, "/kehoach luutru 130")).startswith("Đã lưu trữ Kế hoạch 130/KH-UBND")
    async with ctx.db.session() as s:
        await planner.run_planner(s, datetime(2026, 12, 20, 1, tzinfo=UTC), 8)
        await s.commit()
    assert await count(ctx.db, Outbox) == 0
    assert "đã được lưu trữ từ trước" in await one(ctx, "/kehoach luutru 130")
    assert "nhắc việc trở lại" in await one(ctx, "/kehoach boluutru 130")
    async with ctx.db.session() as s:
        await planner.run_planner(s, datetime(2026, 12, 20, 1, tzinfo=UTC), 8)
        await s.commit()
    assert await count(ctx.db, Outbox) > 0

    # Delete asks first; "không" keeps it, "có" deletes it with its tasks.
    ask = (await say(ctx, "/kehoach xoa 130"))[0]
    assert "Xóa Kế hoạch 130/KH-UBND cùng 4 nhiệm vụ" in ask.text
    assert "Đã hủy" in await one(ctx, "không")
    assert await count(ctx.db, Plan) == 1
    await say(ctx, "/kehoach xoa 130")
    assert (await one(ctx, "có")).startswith("Đã xóa Kế hoạch 130/KH-UBND và 4 nhiệm vụ")
    assert await count(ctx.db, Plan) == 0 and await count(ctx.db, Task) == 0
    assert await count(ctx.db, AuditEntry, AuditEntry.action == "plan.delete") == 1


async def test_agencies_add_alias_merge_successor(ctx: AppContext) -> None:
    assert "(cấp xã/huyện)" in await one(ctx, "/coquan them UBND xã Phước Dinh")
    async with ctx.db.session() as s:
        row = await s.scalar(select(Agency).where(Agency.name == "UBND xã Phước Dinh"))
        assert row is not None and row.kind == "local"
    assert "Đã có cơ quan" in await one(ctx, "/coquan them Ủy ban nhân dân xã Phước Dinh")
    alias = await one(ctx, "/coquan tenkhac Xã Phước Dinh => UBND xã Phước Dinh")
    assert "Đã thêm tên gọi khác “Xã Phước Dinh”" in alias
    assert await agency(ctx.db, "xa phuoc dinh") == row.id  # accents optional
    assert "Không tìm thấy cơ quan “Sở Không Có”" in await one(ctx, "/coquan tenkhac ABC => Sở Không Có")

    # Merge: the importer made two entries for one body; tasks and aliases move over.
    await one(ctx, "/coquan them Ban quản lý dự án Phước Dinh")
    async with ctx.db.session() as s:
        dup = await s.scalar(select(Agency).where(Agency.name == "Ban quản lý dự án Phước Dinh"))
        assert dup is not None
        plan = Plan(identity="x", number="1/KH", title="t", content_hash="h" * 64)
        task = Task(plan=plan, position=0, ref="1", text="Ban quản lý dự án Phước Dinh làm đường.", fingerprint="f")
        task.agencies = [TaskAgency(agency_id=dup.id, role="lead", written="Ban QLDA", position=0)]
        s.add(plan)
        await s.commit()
        dup_id = dup.id
    merged = await one(ctx, "/coquan gop Ban quản lý dự án Phước Dinh => UBND xã Phước Dinh")
    assert "Đã gộp" in merged and "1 lượt giao việc" in merged
    async with ctx.db.session() as s:
        assert await s.get(Agency, dup_id) is None
        assert await s.scalar(select(TaskAgency.agency_id)) == row.id
        assert await s.scalar(select(AgencyAlias.agency_id).where(AgencyAlias.alias == "Ban quản lý dự án Phước Dinh"))

    # Successor with a date; impossible dates change nothing.
    assert "tháng 4/2025 chỉ có 30 ngày" in await one(ctx, "/coquan kethua Sở Y tế => Sở Nội vụ 31/04/2025")
    assert "không phải năm nhuận" in await one(ctx, "/coquan kethua Sở Y tế => Sở Nội vụ 29/02/2027")
    async with ctx.db.session() as s:
        health = await s.get(Agency, await agency(ctx.db, "Sở Y tế"))
        assert health is not None and health.successor_id is None
    assert "từ 01/07/2025" in await one(ctx, "/coquan kethua Sở Y tế => Sở Nội vụ 01/07/2025")
    async with ctx.db.session() as s:
        health = await s.get(Agency, await agency(ctx.db, "Sở Y tế"))
        assert health is not None and health.successor_since == date(2025, 7, 1)
    assert "Cách dùng /coquan" in await one(ctx, "/coquan gop chỉ một tên")


async def test_agencies_guided_form(ctx: AppContext) -> None:
    first = (await say(ctx, "/coquan"))[0]
    assert first.choices[0].label == "1. Thêm cơ quan"
    ask = (await press(ctx, first.choices[3].data))[0]  # "Ghi cơ quan kế thừa"
    assert "Cơ quan cũ?" in ask.text
    assert "Không tìm thấy cơ quan “Sở Không Có”" in await one(ctx, "Sở Không Có")  # asked again, nothing kept
    assert "Cơ quan mới thay thế?" in await one(ctx, "Sở Y tế")
    assert "Từ ngày nào?" in await one(ctx, "Sở Nội vụ")
    assert "tháng 4/2026 chỉ có 30 ngày" in await one(ctx, "31/04/2026")
    assert "Sở Nội vụ thay Sở Y tế" in await one(ctx, "01/05/2026")
    # A restart in the middle keeps the form: the state is in the store.
    await say(ctx, "/coquan")
    later = AppContext(ctx.db, ctx.clock, admins=ctx.admins)
    assert "Tên cơ quan mới?" in (await router.handle(later, said(ADMIN, "1")))[0].text
    assert "Đã hủy" in (await router.handle(later, said(ADMIN, "hủy")))[0].text


async def test_focal_points_list_unreachable_remove(ctx: AppContext) -> None:
    finance = await agency(ctx.db, "Sở Tài chính")
    async with ctx.db.session() as s:
        await focal_points.add(s, finance, "telegram", "501", name="Trần Thị B", approved_by="t")
        await focal_points.add(s, finance, "telegram", "502", name="Lê Văn C", approved_by="t")
        await focal_points.mark_unreachable(s, "telegram", "502", "blocked")
        await s.commit()
    listed = (await say(ctx, "/daumoi so tai chinh"))[0]
    assert "Cán bộ đầu mối của Sở Tài chính (2)" in listed.text and "không nhận được tin" in listed.text
    gone = (await say(ctx, "/daumoi khongnhan"))[0]
    assert "1 cán bộ đầu mối không nhận được tin" in gone.text and "Lê Văn C" in gone.text
    guided = (await say(ctx, "/daumoi"))[0]
    assert "Lê Văn C" in (await press(ctx, guided.choices[0].data))[0].text
    ask = (await press(ctx, listed.choices[0].data))[0]
    assert "Gỡ Trần Thị B" in ask.text
    assert "Đã gỡ Trần Thị B" in await one(ctx, "có")
    async with ctx.db.session() as s:
        statuses = dict((r.name, r.status) for r in (await s.scalars(select(FocalPoint))).all())
    assert statuses == {"Trần Thị B": "removed", "Lê Văn C": "unreachable"}
    assert "Không tìm thấy cơ quan" in await one(ctx, "/daumoi Sở Không Có")


async def test_admins_added_removed_never_the_last(ctx: AppContext) -> None:
    assert "Đã thêm quản trị viên telegram:777" in await one(ctx, "/quantri them 777 Nguyễn Văn D")
    assert (await one(ctx, "/kehoach", "777")).startswith("Chưa có kế hoạch")  # the new admin is one at once
    listed = (await say(ctx, "/quantri"))[0]
    assert "telegram:777 — Nguyễn Văn D" in listed.text
    await say(ctx, "/quantri bot 900")
    assert "Đã bớt quản trị viên telegram:900" in await one(ctx, "có")
    assert "Chỉ quản trị viên" in await one(ctx, "/quantri")  # 900 is no longer one, even from the settings
    assert "quản trị viên cuối cùng" in await one(ctx, "/quantri bot 777", "777")
    fresh = AppContext(ctx.db, ctx.clock, admins=frozenset({f"telegram:{ADMIN}"}))  # a restart
    assert "Chỉ quản trị viên" in (await router.handle(fresh, said(ADMIN, "/quantri")))[0].text
    assert await count(ctx.db, AuditEntry, AuditEntry.action.like("admin.%")) == 2


async def test_status_in_chat_per_agency_and_plan(ctx: AppContext) -> None:
    await import_file(ctx.db, PLAN.read_bytes(), "kh130.txt")
    later = AppContext(ctx.db, FixedClock.on(date(2027, 1, 20)), admins=ctx.admins)
    text = (await router.handle(later, said(ADMIN, "/thongke tatca")))[0].text
    assert "4 nhiệm vụ" in text and "Quá hạn chưa hoàn thành: 2" in text and "Đang thực hiện trong hạn: 2" in text
    assert "• Sở Tài chính:" in text and "• KH 130/KH-UBND:" in text
    text = (await router.handle(later, said(ADMIN, "/thongke Sở Nội vụ")))[0].text
    assert "Sở Nội vụ" in text and "1 nhiệm vụ" in text and "KH 130/KH-UBND II.2: hạn 15/01/2027" in text
    assert "Không tìm thấy kế hoạch “KH 999”" in (await router.handle(later, said(ADMIN, "/thongke KH 999")))[0].text
    guided = (await say(ctx, "/thongke"))[0]
    assert guided.choices[1].label == "2. Kế hoạch 130/KH-UBND"
    assert "Tình hình thực hiện — Kế hoạch 130" in await one(ctx, "130")  # a typed plan number, not a choice


async def test_audit_log_views(ctx: AppContext) -> None:
    await import_file(ctx.db, PLAN.read_bytes(), "kh130.txt", actor="cli")
    await say(ctx, "/coquan them UBND phường Đô Vinh")
    assert "thêm cơ quan" in await one(ctx, "/nhatky toi") and "nhập kế hoạch" not in await one(ctx, "/nhatky toi")
    assert "nhập kế hoạch" in await one(ctx, "/nhatky 5")
    guided = (await say(ctx, "/nhatky"))[0]
    assert len(guided.choices) == 3
    assert "Cách dùng: /nhatky" in await one(ctx, "/nhatky linh tinh")


async def test_preview_survives_a_restart_and_bad_files_change_nothing(ctx: AppContext) -> None:
    def sent(name: str, data: bytes, user: str = ADMIN) -> Incoming:
        return Incoming("telegram", user, user, text="nhờ nhập", file_name=name, file_bytes=data)

    [preview] = await router.handle(ctx, sent("kh130.txt", PLAN.read_bytes()))
    assert "Xem trước" in preview.text and [c.label for c in preview.choices] == ["Lưu", "Hủy"]
    later = AppContext(ctx.db, ctx.clock, admins=ctx.admins)  # a restart (or another instance) between the two
    [saved] = await router.handle(later, said(ADMIN, "1"))  # a typed number presses "Lưu"
    assert saved.text.startswith("Đã lưu") and await count(ctx.db, Plan) == 1
    [same] = await router.handle(ctx, sent("kh130.txt", PLAN.read_bytes()))
    assert "nội dung không đổi" in same.text and not same.choices
    [secret] = await router.handle(ctx, sent("mat.txt", "MẬT\nKẾ HOẠCH\nSở Tài chính chủ trì rà soát.".encode()))
    assert "MẬT" in secret.text and secret.text.startswith("Không nhập được tệp mat.txt")
    [note] = await router.handle(ctx, sent("ghichu.txt", "Ghi chú họp giao ban, không có việc gì.".encode()))
    assert "ghichu.txt" in note.text and not note.choices
    [doc] = await router.handle(ctx, sent("cu.doc", b"\xd0\xcf\x11\xe0 old word"))
    assert "văn bản Word đời cũ (.doc)" in doc.text and "Lưu thành .docx" in doc.text
    [refused] = await router.handle(ctx, sent("kh130.txt", PLAN.read_bytes(), USER))
    assert "chỉ quản trị viên" in refused.text
    assert await count(ctx.db, Plan) == 1


async def test_undo_of_plan_and_agency_changes(ctx: AppContext) -> None:
    await import_file(ctx.db, PLAN.read_bytes(), "kh130.txt")
    await say(ctx, "/kehoach luutru 130")
    await say(ctx, "/coquan tenkhac Phòng Tài chính - Kế hoạch => Sở Tài chính")
    await say(ctx, "/coquan them UBND phường Đô Vinh")
    first = await one(ctx, "/hoantac")
    assert first.startswith("↩️ Đã hoàn tác") and "thêm cơ quan" in first
    async with ctx.db.session() as s:
        assert await s.scalar(select(Agency.id).where(Agency.name == "UBND phường Đô Vinh")) is None
    assert "thêm tên gọi khác" in await one(ctx, "/hoantac")
    async with ctx.db.session() as s:
        assert (await Registry.load(s)).lookup("Phòng Tài chính - Kế hoạch") is None
    assert "lưu trữ kế hoạch" in await one(ctx, "/hoantac")
    async with ctx.db.session() as s:
        assert await s.scalar(select(Plan.archived_at)) is None
    assert "chưa có thay đổi nào" in await one(ctx, "/hoantac")


async def _plan_state(db: Database) -> tuple[object, ...]:
    async with db.session() as s:
        plans = sorted((p.id, p.identity, p.number, p.issued_on, p.title, p.monitor_agency_id, p.content_hash)
                       for p in (await s.scalars(select(Plan))).all())
        tasks = sorted((t.id, t.plan_id, t.position, t.ref, t.text, t.deadline_due, t.status, t.fingerprint)
                       for t in (await s.scalars(select(Task))).all())
        roles = sorted((r.id, r.task_id, r.agency_id, r.role, r.written) for r in (await s.scalars(
            select(TaskAgency))).all())
        progress = sorted((p.id, p.task_id, p.agency_id, p.status, p.by) for p in (await s.scalars(
            select(TaskProgress))).all())
        outbox = sorted((o.id, o.task_id, o.focal_point_id, o.offset_key, o.status) for o in (await s.scalars(
            select(Outbox))).all())
    return plans, tasks, roles, progress, outbox


async def test_undo_brings_a_deleted_plan_back_with_ids_progress_and_reminders(ctx: AppContext) -> None:
    await import_file(ctx.db, PLAN.read_bytes(), "kh130.txt")
    async with ctx.db.session() as s:
        await focal_points.add(s, await agency(ctx.db, "Sở Tài chính"), "telegram", "501", approved_by="t")
        await s.commit()
    await say(ctx, "/xong KH 130 II.2 20/11/2026")
    async with ctx.db.session() as s:
        await planner.run_planner(s, datetime(2026, 12, 20, 1, tzinfo=UTC), 8)
        await s.commit()
    before = await _plan_state(ctx.db)
    assert before[3] and before[4]  # progress and reminders to bring back
    await say(ctx, "/kehoach xoa 130")
    assert (await one(ctx, "có")).startswith("Đã xóa Kế hoạch 130/KH-UBND")
    assert await count(ctx.db, Plan) == 0 and await count(ctx.db, Outbox) == 0
    undone = await one(ctx, "/hoantac")
    assert undone.startswith("↩️ Đã hoàn tác") and "xóa kế hoạch" in undone
    after = await _plan_state(ctx.db)
    assert after[:4] == before[:4]
    # Reminders come back (pending ones as cancelled, for the planner to revive): none sent twice.
    assert [o[:4] for o in after[4]] == [o[:4] for o in before[4]]
    async with ctx.db.session() as s:
        await planner.run_planner(s, datetime(2026, 12, 20, 1, tzinfo=UTC), 8)
        await s.commit()
    assert await _plan_state(ctx.db) == before
    assert "4 nhiệm vụ" in (await say(ctx, "/kehoach"))[0].text


async def test_undo_of_a_merge_splits_the_two_agencies_again(ctx: AppContext) -> None:
    await import_file(ctx.db, PLAN.read_bytes(), "kh130.txt")
    await say(ctx, "/coquan them Ban quản lý khu công nghiệp Phước Nam")
    gone = await agency(ctx.db, "Ban quản lý khu công nghiệp Phước Nam")
    await say(ctx, "/coquan tenkhac BQL KCN Phước Nam => Ban quản lý khu công nghiệp Phước Nam")
    industry = await agency(ctx.db, "Sở Công Thương")
    async with ctx.db.session() as s:
        await focal_points.add(s, gone, "telegram", "601", approved_by="t")
        await focal_points.add(s, gone, "telegram", "602", approved_by="t")
        await focal_points.add(s, industry, "telegram", "602", approved_by="t")  # one person on both
        t = await s.scalar(select(Task).order_by(Task.position.desc()).limit(1))
        assert t is not None
        s.add(TaskAgency(task_id=t.id, agency_id=gone, role="lead", written="BQL KCN Phước Nam", position=0))
        await s.commit()
    links = await _links(ctx.db)
    focal = await _focal(ctx.db)
    assert "Đã gộp" in await one(ctx, "/coquan gop Ban quản lý khu công nghiệp Phước Nam => Sở Công Thương")
    assert await agency(ctx.db, "BQL KCN Phước Nam") == industry
    undone = await one(ctx, "/hoantac")
    assert undone.startswith("↩️ Đã hoàn tác") and "gộp cơ quan" in undone
    assert await agency(ctx.db, "Ban quản lý khu công nghiệp Phước Nam") == gone  # the same id
    assert await agency(ctx.db, "BQL KCN Phước Nam") == gone  # its alias went back with it
    assert await _links(ctx.db) == links and await _focal(ctx.db) == focal
    assert "tên gọi khác" in await one(ctx, "/hoantac")  # then the changes before it


async def test_a_merge_is_not_undone_over_a_later_change(ctx: AppContext) -> None:
    await say(ctx, "/coquan them Ban quản lý khu công nghiệp Phước Nam")
    assert "Đã gộp" in await one(ctx, "/coquan gop Ban quản lý khu công nghiệp Phước Nam => Sở Công Thương")
    await say(ctx, "/quantri them 777")
    alias = await router.handle(ctx, said("777", "/coquan tenkhac Ngành công thương tỉnh nhà => Sở Công Thương"))
    assert "Đã thêm tên gọi khác" in alias[0].text
    assert "thêm quản trị viên" in await one(ctx, "/hoantac")
    refused = await one(ctx, "/hoantac")  # the other admin's alias of Sở Công Thương came after the merge
    assert refused.startswith("Không hoàn tác được") and "gộp cơ quan" in refused
    assert await agency(ctx.db, "Ban quản lý khu công nghiệp Phước Nam") == await agency(ctx.db, "Sở Công Thương")


async def _links(db: Database) -> list[tuple[object, ...]]:
    async with db.session() as s:
        return sorted((r.id, r.task_id, r.agency_id, r.role) for r in (await s.scalars(select(TaskAgency))).all())


async def _focal(db: Database) -> list[tuple[object, ...]]:
    async with db.session() as s:
        return sorted((f.id, f.agency_id, f.chat_id, f.status) for f in (await s.scalars(select(FocalPoint))).all())


async def test_undo_of_admin_added_and_removed(ctx: AppContext) -> None:
    await say(ctx, "/quantri them 777 Nguyễn Văn D")
    assert "thêm quản trị viên" in await one(ctx, "/hoantac")
    assert "Chỉ quản trị viên" in await one(ctx, "/kehoach", "777")
    await say(ctx, "/quantri them 778")
    await say(ctx, "/quantri bot 778")
    await one(ctx, "có")
    assert "bớt quản trị viên" in await one(ctx, "/hoantac")
    assert (await one(ctx, "/kehoach", "778")).startswith("Chưa có kế hoạch")  # an admin again


async def test_undo_of_a_focal_point_removed_and_of_a_plan_imported_in_chat(ctx: AppContext) -> None:
    finance = await agency(ctx.db, "Sở Tài chính")
    async with ctx.db.session() as s:
        fp = await focal_points.add(s, finance, "telegram", "501", name="Trần Thị B", approved_by="t")
        await s.commit()
        fp_id = fp.id
    await press(ctx, f"dm:rmok:{fp_id}")
    async with ctx.db.session() as s:
        assert (await s.get(FocalPoint, fp_id)).status == "removed"  # type: ignore[union-attr]
    assert "gỡ đầu mối" in await one(ctx, "/hoantac")
    async with ctx.db.session() as s:
        assert (await s.get(FocalPoint, fp_id)).status == "approved"  # type: ignore[union-attr]

    # A plan stored from chat ("Lưu" under the preview): undo takes it out again, unless changed since.
    await import_file(ctx.db, PLAN.read_bytes(), "kh130.txt", actor=f"telegram:{ADMIN}")
    assert "nhập kế hoạch" in await one(ctx, "/hoantac")
    assert await count(ctx.db, Plan) == 0 and await count(ctx.db, Task) == 0
    await import_file(ctx.db, PLAN.read_bytes(), "kh130.txt", actor=f"telegram:{ADMIN}")
    await say(ctx, "/quantri them 777")
    await router.handle(ctx, said("777", "/doihan KH 130 II.1 25/12/2026"))
    assert "thêm quản trị viên" in await one(ctx, "/hoantac")
    refused = await one(ctx, "/hoantac")
    assert refused.startswith("Không hoàn tác được") and "đã được thay đổi" in refused
    assert await count(ctx.db, Plan) == 1
    # A new version of a stored plan is not taken back by undo: the older file is sent again instead.
    newer = PLAN.read_text(encoding="utf-8").replace("trước ngày 15/01/2027", "trước ngày 20/01/2027")
    await import_file(ctx.db, newer.encode(), "kh130.txt", actor=f"telegram:{ADMIN}")
    await import_file(ctx.db, newer.encode(), "kh130.txt", actor=f"telegram:{ADMIN}")  # the same again: no change
    refused = await one(ctx, "/hoantac")
    assert refused.startswith("Không hoàn tác được") and "gửi lại tệp bản trước" in refused


async def test_undo_of_a_registration_code(ctx: AppContext) -> None:
    from knowledge.models import RegistrationCode

    await say(ctx, "/taoma Sở Tài chính")
    assert await count(ctx.db, RegistrationCode) == 1
    assert "tạo mã đăng ký" in await one(ctx, "/hoantac")
    assert await count(ctx.db, RegistrationCode) == 0
    await say(ctx, "/taoma Sở Tài chính")
    async with ctx.db.session() as s:
        code = await s.scalar(select(RegistrationCode.code))
    await router.handle(ctx, said("501", f"/start {code}"))
    refused = await one(ctx, "/hoantac")
    assert refused.startswith("Không hoàn tác được") and "đã được dùng" in refused
