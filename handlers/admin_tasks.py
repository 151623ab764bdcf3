"""Admins change tasks from chat; every change goes through knowledge.changes (one audit row each) in
one transaction that first raises the task's version, so two admins changing one task at once never
leave it half-changed: the second is told the task moved and nothing of theirs is written.

A task is named as handlers.task_lookup reads it: "KH 3021 II.3.a", "#57", "3" (list just shown) or words.
One-line forms:
  /suaviec KH 130 II.1                      the task with its action buttons
  /suaviec KH 130 II.1 chutri: Sở Nội vụ; Sở Y tế     (also phoihop:, baocao:, noidung:)
  /doihan KH 130 II.1 25/12/2026            set the deadline
  /xong KH 130 II.1 [20/11/2026]            done (today when no day is given)
  /molai KH 130 II.1                        reopen
  /giahan KH 130 II.1 31/01/2027 lý do      extend (the plan's day stays, the reason kept)
  /huyviec KH 130 II.1                      cancel (asks first; /hoantac brings it back)
  /xoaviec KH 130 II.1                      delete (asks first)
  /themviec KH 130 | II.5 | nội dung | Sở Tư pháp | 30/06/2027
  /hoantac                                  undo my last change
Guided: each command typed alone asks for the task, then what it needs, one step at a time; the
card's buttons ("vt:<action>:<task id>:<version>") start the same steps for that task.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import AppContext
from core.messages import Choice, Incoming, Reply
from handlers import admin_users, forms
from handlers.admin_common import (
    NOT_ADMIN,
    Refused,
    actor,
    check_day,
    confirm,
    dmy,
    find_day,
    find_plan,
    parse_day,
    plan_name,
    resolve_agency,
)
from handlers.task_lookup import Found, find_task
from knowledge import admins, agency_changes, changes, conversation, focal_points, plan_changes, status
from knowledge.agencies import Registry
from knowledge.calendar import load_calendar
from knowledge.deadlines import Deadline
from knowledge.due import due_on, load_progress, task_deadline
from knowledge.models import Plan, Task, TaskAgency
from knowledge.plans import fingerprint
from knowledge.text import fold

log = logging.getLogger(__name__)
Change = Callable[[AsyncSession], Awaitable[list[Reply] | None]]  # one change, in the caller's transaction

PREFIX = "vt:"
STALE = "Việc này vừa được người khác thay đổi nên thay đổi của bạn chưa được ghi. Đây là việc như hiện nay:"
FIELDS = {"chutri": "lead", "chu tri": "lead", "phoihop": "coordinator", "phoi hop": "coordinator",
          "baocao": "report_to", "bao cao": "report_to", "noidung": "text", "noi dung": "text"}
ROLE_VI = {"lead": "chủ trì", "coordinator": "phối hợp", "report_to": "báo cáo về"}
TEXT_MIN = 10


def _fields(arg: str) -> list[tuple[str, str | None, str]]:
    """(task words, field, new value) for "KH 130 II.1 chủ trì: Sở Nội vụ" (the field named before a colon)."""
    out: list[tuple[str, str | None, str]] = []
    for at in (i for i, ch in enumerate(arg) if ch == ":"):
        words = arg[:at].split()
        for n in (2, 1):
            if len(words) > n and (field := FIELDS.get(fold(" ".join(words[-n:]), expand=False))) is not None:
                out.append((" ".join(words[:-n]), field, arg[at + 1:]))
                break
    return out


def usage(command: str, example: str) -> Reply:
    return Reply(f"Cách dùng: /{command} {example}\n"
                 "Việc ghi bằng số kế hoạch và mục (KH 3021 II.3.a), #mã, số thứ tự trong danh sách vừa xem, "
                 f"hoặc vài từ của việc. Gõ /{command} để được hỏi từng bước.")


# ---- finding and showing -----------------------------------------------------------------------

async def _shown(ctx: AppContext, msg: Incoming) -> list[str]:
    return (await conversation.load(ctx.db, msg.channel, msg.chat_id, ctx.clock.now())).choices


async def _find(ctx: AppContext, msg: Incoming, text: str) -> Found:
    async with ctx.db.session() as s:
        return await find_task(s, text, await _shown(ctx, msg))


def _candidates(found: Found) -> Reply:
    lines = [f"Có nhiều việc khớp ({len(found.candidates)}), xin chọn một (hoặc gõ #mã):"]
    choices = []
    for n, t in enumerate(found.candidates, 1):
        text = " ".join(t.text.split())
        lines.append(f"{n}. #{t.id} {t.ref} — {text[:90]}{'…' if len(text) > 90 else ''}")
        choices.append(Choice(f"{n}. #{t.id} {t.ref}", f"{PREFIX}show:{t.id}"))
    return Reply("\n".join(lines), choices)


async def card(ctx: AppContext, task_id: int, note: str = "") -> Reply:
    """The task as it is now, with a button for each change."""
    async with ctx.db.session() as s:
        task = await s.get(Task, task_id)
        if task is None:
            return Reply("Nhiệm vụ này không còn trong kho.")
        plan = await s.get(Plan, task.plan_id)
        assert plan is not None
        st = next(x for x in await status.task_statuses(s, ctx.clock.today(), plan_ids=[plan.id],
                                                        with_cancelled=True) if x.task_id == task_id)
    lines = [note] if note else []
    lines.append(f"#{task.id} — {plan_name(plan)}, mục {task.ref or '(không số)'}")
    lines.append(" ".join(task.text.split())[:600])
    for role in ("lead", "coordinator", "report_to"):
        if st.names(role):
            lines.append(f"{ROLE_VI[role].capitalize()}: {st.names(role)}")
    deadline = task.deadline_text or "không ghi hạn"
    applied = f" — hạn áp dụng {dmy(st.due)}" if st.due and st.due != st.nominal else ""
    lines.append(f"Hạn: {deadline}{applied}")
    lines.append("Trạng thái: " + ("đã hủy" if task.status == changes.CANCELLED else status.LABELS[st.state]
                                   + (f" (xong {dmy(st.done_on)})" if st.done_on else "")))
    v = f"{task.id}:{task.version}"
    actions = [("Đổi hạn", "han"), ("Gia hạn", "giahan"), ("Đã xong", "xong"), ("Mở lại", "molai"),
               ("Đổi chủ trì", "chutri"), ("Đổi phối hợp", "phoihop"), ("Đổi báo cáo về", "baocao"),
               ("Sửa nội dung", "noidung"), ("Hủy việc", "huy"), ("Xóa việc", "xoa")]
    return Reply("\n".join(lines), [Choice(label, f"{PREFIX}{a}:{v}") for label, a in actions])


# ---- applying a change -------------------------------------------------------------------------

async def _apply(ctx: AppContext, msg: Incoming, task_id: int, seen: int | None, change: Change,
                 done: str) -> list[Reply]:
    """Run `change` in one transaction after claiming the task's version; the card after it."""
    if not ctx.is_admin(msg.channel, msg.user_id):
        return [Reply(NOT_ADMIN)]
    try:
        async with ctx.db.session() as s:
            await changes.claim(s, task_id, seen)
            extra = await change(s)
            await s.commit()
    except changes.Stale:
        return [await card(ctx, task_id, STALE)]
    except (OperationalError, IntegrityError):  # the other admin's transaction won the row
        log.info("task %s: concurrent change refused", task_id)
        return [await card(ctx, task_id, STALE)]
    except LookupError:
        return [Reply("Nhiệm vụ này không còn trong kho.")]
    except Refused as e:
        return [Reply(str(e))]
    return [await card(ctx, task_id, f"✅ {done}"), *(extra or [])]


async def _task_and_plan(ctx: AppContext, task_id: int) -> tuple[Task, Plan]:
    async with ctx.db.session() as s:
        task = await s.get(Task, task_id)
        if task is None:
            raise Refused("Nhiệm vụ này không còn trong kho.")
        plan = await s.get(Plan, task.plan_id)
        assert plan is not None
        return task, plan


def _not_before_plan(day: date, plan: Plan, what: str) -> None:
    if plan.issued_on is not None and day < plan.issued_on:
        raise Refused(f"{what} {dmy(day)} trước ngày ban hành {plan_name(plan)} ({dmy(plan.issued_on)}); "
                      "không thay đổi gì.")


async def _current_due(ctx: AppContext, task: Task) -> tuple[date | None, date | None]:
    """(occurrence key, the day that counts now) of the task's current occurrence."""
    async with ctx.db.session() as s:
        calendar = await load_calendar(s)
        progress = await load_progress(s, [task.id])
    due = due_on(task.id, task.status, task_deadline(task), ctx.clock.today(), calendar, progress)
    return (due.occurrence, due.day) if due else (None, None)


async def announce(ctx: AppContext, msg: Incoming, task_id: int, text: str) -> list[Reply]:
    """The task's focal points (lead and coordinators) and the plan's monitoring agency's hear of it."""
    async with ctx.db.session() as s:
        task = await s.get(Task, task_id)
        if task is None:
            return []
        plan = await s.get(Plan, task.plan_id)
        ids = list((await s.scalars(select(TaskAgency.agency_id).where(
            TaskAgency.task_id == task_id, TaskAgency.role.in_(("lead", "coordinator"))))).all())
        if plan is not None and plan.monitor_agency_id:
            ids.append(plan.monitor_agency_id)
        fps = await focal_points.approved_for(s, ids)
    seen = {(msg.channel, msg.chat_id)}
    out = []
    for fp in fps:
        if (fp.channel, fp.chat_id) not in seen:
            seen.add((fp.channel, fp.chat_id))
            out.append(Reply(text, chat_id=fp.chat_id, channel=fp.channel))
    return out


def _label(task: Task, plan: Plan) -> str:
    text = " ".join(task.text.split())
    return f"{plan_name(plan)}, mục {task.ref}: “{text[:100]}{'…' if len(text) > 100 else ''}”"


# ---- the changes --------------------------------------------------------------------------------

async def set_deadline(ctx: AppContext, msg: Incoming, task_id: int, day: date, seen: int | None) -> list[Reply]:
    _task, plan = await _task_and_plan(ctx, task_id)
    try:
        _not_before_plan(day, plan, "Hạn")
    except Refused as e:
        return [Reply(str(e))]

    async def change(s: AsyncSession) -> None:
        await changes.set_deadline(s, task_id, Deadline("date", day, None, None, f"trước ngày {dmy(day)}"),
                                   actor(msg))
    return await _apply(ctx, msg, task_id, seen, change, f"Đã đổi hạn thành {dmy(day)}.")


async def mark_done(ctx: AppContext, msg: Incoming, task_id: int, day: date, seen: int | None) -> list[Reply]:
    task, plan = await _task_and_plan(ctx, task_id)
    try:
        _not_before_plan(day, plan, "Ngày hoàn thành")
        if day > ctx.clock.today():
            raise Refused(f"Ngày hoàn thành {dmy(day)} chưa tới; không thay đổi gì.")
    except Refused as e:
        return [Reply(str(e))]
    occurrence, _day = await _current_due(ctx, task)
    if task.status != changes.OPEN:
        return [Reply("Việc này không còn mở (đã hủy hoặc đã xong); không ghi nhận thêm.")]

    async def change(s: AsyncSession) -> list[Reply]:
        await changes.complete(s, task_id, occurrence, day, actor(msg))
        return await announce(ctx, msg, task_id, f"✅ Đã hoàn thành ngày {dmy(day)}: {_label(task, plan)}")
    return await _apply(ctx, msg, task_id, seen, change, f"Đã ghi nhận hoàn thành ngày {dmy(day)}.")


async def reopen(ctx: AppContext, msg: Incoming, task_id: int, seen: int | None) -> list[Reply]:
    async def change(s: AsyncSession) -> None:
        n = await changes.reopen(s, task_id, None, None, actor(msg))
        if not n:
            raise Refused("Việc này chưa được ghi nhận hoàn thành nên không cần mở lại.")
    return await _apply(ctx, msg, task_id, seen, change, "Đã mở lại việc.")


async def extend(ctx: AppContext, msg: Incoming, task_id: int, day: date, reason: str,
                 seen: int | None) -> list[Reply]:
    task, plan = await _task_and_plan(ctx, task_id)
    occurrence, current = await _current_due(ctx, task)
    try:
        _not_before_plan(day, plan, "Ngày gia hạn")
        if task.status != changes.OPEN:
            raise Refused("Việc này không còn mở (đã hủy hoặc đã xong); không gia hạn được.")
        if current is None and task.deadline_kind is None:
            raise Refused("Việc này không ghi hạn nên không gia hạn được; dùng /doihan để đặt hạn.")
        if current is not None and day <= current:
            raise Refused(f"Ngày gia hạn {dmy(day)} không sau hạn hiện tại ({dmy(current)}); không thay đổi gì.")
    except Refused as e:
        return [Reply(str(e))]
    reason = reason.strip() or "không ghi lý do"

    async def change(s: AsyncSession) -> list[Reply]:
        await changes.extend_task(s, task_id, occurrence, day, actor(msg), reason, current)
        return await announce(ctx, msg, task_id, f"📅 Gia hạn đến {dmy(day)} (lý do: {reason}): {_label(task, plan)}")
    return await _apply(ctx, msg, task_id, seen, change,
                        f"Đã gia hạn đến {dmy(day)} (hạn gốc giữ nguyên trong kế hoạch; lý do: {reason}).")


async def set_field(ctx: AppContext, msg: Incoming, task_id: int, field: str, value: str,
                    seen: int | None) -> list[Reply]:
    value = value.strip()
    if field == "text":
        if len(value) < TEXT_MIN:
            return [Reply(f"Nội dung mới quá ngắn (ít nhất {TEXT_MIN} ký tự); không thay đổi gì.")]

        async def edit(s: AsyncSession) -> None:
            await changes.edit_text(s, task_id, value, actor(msg))
        return await _apply(ctx, msg, task_id, seen, edit, "Đã sửa nội dung.")
    names = [n.strip() for n in value.replace(";", ",").split(",") if n.strip()]
    if not names and field == "lead":
        return [Reply("Xin cho biết cơ quan chủ trì; không thay đổi gì.")]
    async with ctx.db.session() as s:
        registry = await Registry.load(s)
    try:
        agencies = [(resolve_agency(registry, n).id, n) for n in names]
    except Refused as e:
        return [Reply(f"{e} Không thay đổi gì.")]

    async def reassign(s: AsyncSession) -> None:
        if field == "report_to":
            await changes.set_report_to(s, task_id, agencies, actor(msg))
        else:
            await changes.reassign(s, task_id, {field: agencies}, actor(msg))
    shown = ", ".join(n for _, n in agencies) or "không có"
    return await _apply(ctx, msg, task_id, seen, reassign,
                        f"Đã đổi cơ quan {ROLE_VI[field]}: {shown}.")


async def cancel(ctx: AppContext, msg: Incoming, task_id: int, reason: str, seen: int | None) -> list[Reply]:
    async def change(s: AsyncSession) -> None:
        await changes.cancel(s, task_id, actor(msg), reason)
    return await _apply(ctx, msg, task_id, seen, change, "Đã hủy việc: không nhắc nữa.")


async def delete(ctx: AppContext, msg: Incoming, task_id: int, seen: int | None) -> list[Reply]:
    if not ctx.is_admin(msg.channel, msg.user_id):
        return [Reply(NOT_ADMIN)]
    try:
        async with ctx.db.session() as s:
            await changes.claim(s, task_id, seen)
            await changes.delete_task(s, task_id, actor(msg))
            await s.commit()
    except changes.Stale:
        return [await card(ctx, task_id, STALE)]
    except LookupError:
        return [Reply("Nhiệm vụ này không còn trong kho.")]
    return [Reply(f"Đã xóa nhiệm vụ #{task_id}.")]


# ---- commands -----------------------------------------------------------------------------------

async def _resolve(ctx: AppContext, msg: Incoming, text: str) -> Found | Reply:
    try:
        found = await _find(ctx, msg, text)
    except Refused as e:
        return Reply(str(e))
    return _candidates(found) if found.task is None else found


async def cmd_show(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    for head, field, value in _fields(arg):
        if field is not None:
            found = await _resolve(ctx, msg, head)
            if isinstance(found, Reply):
                return [found]
            assert found.task is not None
            return await set_field(ctx, msg, found.task.id, field, value, None)
    found = await _resolve(ctx, msg, arg)
    if isinstance(found, Reply):
        return [found]
    assert found.task is not None
    return [await card(ctx, found.task.id)]


async def _with_day(ctx: AppContext, msg: Incoming, arg: str, command: str, example: str,
                    required: bool) -> tuple[Found, date | None] | list[Reply]:
    try:
        day, rest = find_day(arg)
    except Refused as e:
        return [Reply(f"{e} Không thay đổi gì.")]
    if required and day is None:
        return [usage(command, example)]
    found = await _resolve(ctx, msg, rest)
    if isinstance(found, Reply):
        return [found]
    return found, day


async def cmd_deadline(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    got = await _with_day(ctx, msg, arg, "doihan", "KH 3021 II.3.a 25/12/2026", True)
    if isinstance(got, list):
        return got
    found, day = got
    assert found.task is not None and day is not None
    return await set_deadline(ctx, msg, found.task.id, day, None)


async def cmd_done(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    got = await _with_day(ctx, msg, arg, "xong", "KH 3021 II.3.a [dd/mm/yyyy]", False)
    if isinstance(got, list):
        return got
    found, day = got
    assert found.task is not None
    return await mark_done(ctx, msg, found.task.id, day or ctx.clock.today(), None)


async def cmd_reopen(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    found = await _resolve(ctx, msg, arg)
    if isinstance(found, Reply):
        return [found]
    assert found.task is not None
    return await reopen(ctx, msg, found.task.id, None)


async def cmd_extend(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    try:
        day, rest = find_day(arg)
    except Refused as e:
        return [Reply(f"{e} Không thay đổi gì.")]
    if day is None:
        return [usage("giahan", "KH 3021 II.3.a 31/01/2027 <lý do>")]
    try:
        async with ctx.db.session() as s:
            found = await find_task(s, rest, await _shown(ctx, msg))
    except Refused as e:
        return [Reply(str(e))]
    if found.task is None:
        return [_candidates(found)]
    return await extend(ctx, msg, found.task.id, day, found.rest, None)


async def cmd_cancel(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    try:
        async with ctx.db.session() as s:
            found = await find_task(s, arg, await _shown(ctx, msg))
    except Refused as e:
        return [Reply(str(e))]
    if found.task is None:
        return [_candidates(found)]
    return await _ask_cancel(ctx, msg, found.task.id, found.task.version)


async def _ask_cancel(ctx: AppContext, msg: Incoming, task_id: int, version: int) -> list[Reply]:
    question = f"Hủy việc #{task_id}? Việc đã hủy không được nhắc nữa (hoàn tác được bằng /hoantac)."
    return await confirm(ctx, msg, question, "Hủy việc", f"{PREFIX}huyok:{task_id}:{version}")


async def cmd_delete(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    found = await _resolve(ctx, msg, arg)
    if isinstance(found, Reply):
        return [found]
    assert found.task is not None
    task = found.task
    return await confirm(ctx, msg, f"Xóa hẳn việc #{task.id} ({task.ref}) cùng tiến độ và lịch nhắc? "
                         "(/hoantac đưa lại được.)", "Xóa việc", f"{PREFIX}xoaok:{task.id}:{task.version}")


async def cmd_add(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    parts = [p.strip() for p in arg.split("|")]
    if len(parts) != 5:
        return [usage("themviec", "KH 130 | II.5 | <nội dung> | <cơ quan chủ trì> | <dd/mm/yyyy hoặc không>")]
    return await add(ctx, msg, dict(zip(("plan", "ref", "text", "lead", "due"), parts, strict=True)))


async def add(ctx: AppContext, msg: Incoming, v: dict[str, str]) -> list[Reply]:
    if not ctx.is_admin(msg.channel, msg.user_id):
        return [Reply(NOT_ADMIN)]
    try:
        async with ctx.db.session() as s:
            plan = await find_plan(s, v["plan"])
            registry = await Registry.load(s)
            leads = [(resolve_agency(registry, n).id, n.strip()) for n in v["lead"].replace(";", ",").split(",")
                     if n.strip()]
            if not leads:
                raise Refused("Xin cho biết cơ quan chủ trì.")
            if len(v["text"].strip()) < TEXT_MIN:
                raise Refused(f"Nội dung việc quá ngắn (ít nhất {TEXT_MIN} ký tự).")
            ref = v["ref"].strip()
            if not ref:
                raise Refused("Xin cho biết mục của việc (ví dụ II.5).")
            exists = await s.scalar(select(Task.id).where(Task.plan_id == plan.id, Task.ref == ref))
            if exists is not None:
                raise Refused(f"{plan_name(plan)} đã có mục {ref} (#{exists}); hãy dùng /suaviec để sửa.")
            deadline = None
            if fold(v["due"], expand=False) not in ("khong", "", "-"):
                day = parse_day(v["due"])
                _not_before_plan(day, plan, "Hạn")
                deadline = Deadline("date", day, None, None, f"trước ngày {dmy(day)}")
            task = await changes.add_task(s, plan.id, ref, v["text"].strip(), {"lead": leads}, deadline, actor(msg),
                                          fingerprint(v["text"]))
            await s.commit()
            task_id = task.id
    except Refused as e:
        return [Reply(f"{e} Không thêm việc nào.")]
    except IntegrityError:
        return [Reply("Kế hoạch đã có một việc cùng nội dung; không thêm việc nào.")]
    return [await card(ctx, task_id, "✅ Đã thêm việc.")]


async def cmd_undo(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    """Revert this admin's last change (a task's, a plan's, an agency's, an admin's, a focal point's, a plan
    stored) from its audit row; refused, with the reason, when a later change to the same thing depends on it."""
    if not ctx.is_admin(msg.channel, msg.user_id):
        return [Reply(NOT_ADMIN)]
    from handlers.admin_audit import describe

    task_id: int | None = None
    try:
        async with ctx.db.session() as s:
            entry = await changes.last_undoable(s, actor(msg), UNDOABLE)
            if entry is None:
                return [Reply("Bạn chưa có thay đổi nào để hoàn tác.")]
            what = describe(entry)
            kind = entry.action.split(".", 1)[0]
            if kind == "task":
                task_id = int(entry.target.split(":", 1)[1])
                if await s.get(Task, task_id) is not None:
                    await changes.claim(s, task_id, None)
                await changes.undo(s, entry, actor(msg))
            elif kind == "plan":
                await plan_changes.undo(s, entry, actor(msg))
            elif kind == "admin":
                await admins.undo(s, entry, actor(msg), admin_users.base(ctx))
            elif kind == "focal":
                await focal_points.undo(s, entry, actor(msg))
            elif kind == "import":
                await plan_changes.undo_import(s, entry, actor(msg))
            elif kind == "code":
                await focal_points.undo_code(s, entry, actor(msg))
            else:
                await agency_changes.undo(s, entry, actor(msg))
            await s.commit()
    except changes.CannotUndo as e:
        return [Reply(f"Không hoàn tác được thay đổi gần nhất của bạn:\n{what}\n{e}")]
    except (changes.Stale, OperationalError, IntegrityError):  # another admin undid or changed it meanwhile
        return [Reply("Việc này đang được người khác thay đổi; xin thử lại sau giây lát.")]
    if kind == "admin":
        await admin_users.refresh(ctx)
    back = await card(ctx, task_id) if task_id is not None and entry.action != "task.add" else Reply("")
    return [Reply(f"↩️ Đã hoàn tác: {what}" + (f"\n\n{back.text}" if back.text else ""), back.choices)]


# Every change /hoantac takes back, newest first: tasks, plans, agencies, admins.
UNDOABLE = (*changes.UNDOABLE, *plan_changes.UNDOABLE, *agency_changes.UNDOABLE, *admins.UNDOABLE,
            *focal_points.UNDOABLE, "import", "code.create")


# ---- buttons and guided forms ------------------------------------------------------------------

async def on_choice(ctx: AppContext, msg: Incoming) -> list[Reply]:
    if not ctx.is_admin(msg.channel, msg.user_id):
        return [Reply(NOT_ADMIN)]
    parts = (msg.choice or "").split(":")
    if len(parts) < 3 or not parts[2].isdigit():
        return [Reply("Lựa chọn không hợp lệ.")]
    action, task_id = parts[1], int(parts[2])
    version = int(parts[3]) if len(parts) > 3 and parts[3].isdigit() else None
    seen = {"task": f"#{task_id}", "version": str(version if version is not None else "")}
    if action == "show":
        return [await card(ctx, task_id)]
    if action == "molai":
        return await reopen(ctx, msg, task_id, version)
    if action == "huy":
        return await _ask_cancel(ctx, msg, task_id, version or 0)
    if action == "huyok":
        return await cancel(ctx, msg, task_id, "", version)
    if action == "xoa":
        return await confirm(ctx, msg, f"Xóa hẳn việc #{task_id} cùng tiến độ và lịch nhắc? (/hoantac đưa lại "
                             "được.)", "Xóa việc", f"{PREFIX}xoaok:{task_id}:{version}")
    if action == "xoaok":
        return await delete(ctx, msg, task_id, version)
    form = {"han": "viec.han", "xong": "viec.xong", "giahan": "viec.giahan", "chutri": "viec.chutri",
            "phoihop": "viec.phoihop", "baocao": "viec.baocao", "noidung": "viec.noidung"}.get(action)
    if form is None:
        return [Reply("Lựa chọn không hợp lệ.")]
    return await forms.start(ctx, msg, form, seen)


async def _check_task(ctx: AppContext, value: str, _values: dict[str, str]) -> str | None:
    try:
        async with ctx.db.session() as s:
            found = await find_task(s, value, None)
    except Refused as e:
        return str(e)
    if found.task is None:
        return "\n".join(_candidates(found).text.splitlines()[:1] + [
            f"#{t.id} {t.ref} — {' '.join(t.text.split())[:80]}" for t in found.candidates]) + "\nXin gõ #mã của việc."
    return None


async def _task_of(ctx: AppContext, v: dict[str, str]) -> tuple[int, int | None]:
    async with ctx.db.session() as s:
        found = await find_task(s, v["task"], None)
    assert found.task is not None
    seen = v.get("version", "")
    return found.task.id, int(seen) if seen.isdigit() else None


async def _today_option(ctx: AppContext, _v: dict[str, str]) -> list[tuple[str, str]]:
    today = ctx.clock.today()
    return [(f"Hôm nay ({dmy(today)})", dmy(today))]


def _form(name: str, steps: tuple[forms.Step, ...], finish: forms.Finish) -> None:
    task_step = forms.Step("task", "Việc nào? Gõ số kế hoạch và mục (ví dụ KH 3021 II.3.a), #mã, hoặc vài từ của việc.",
                           check=_check_task)
    forms.register(forms.Form(name, (task_step, *steps), finish))


async def _finish_show(ctx: AppContext, msg: Incoming, v: dict[str, str]) -> list[Reply]:
    task_id, _ = await _task_of(ctx, v)
    return [await card(ctx, task_id)]


async def _finish_deadline(ctx: AppContext, msg: Incoming, v: dict[str, str]) -> list[Reply]:
    task_id, seen = await _task_of(ctx, v)
    return await set_deadline(ctx, msg, task_id, parse_day(v["day"]), seen)


async def _finish_done(ctx: AppContext, msg: Incoming, v: dict[str, str]) -> list[Reply]:
    task_id, seen = await _task_of(ctx, v)
    return await mark_done(ctx, msg, task_id, parse_day(v["day"]), seen)


async def _finish_reopen(ctx: AppContext, msg: Incoming, v: dict[str, str]) -> list[Reply]:
    task_id, seen = await _task_of(ctx, v)
    return await reopen(ctx, msg, task_id, seen)


async def _finish_extend(ctx: AppContext, msg: Incoming, v: dict[str, str]) -> list[Reply]:
    task_id, seen = await _task_of(ctx, v)
    return await extend(ctx, msg, task_id, parse_day(v["day"]), v["reason"], seen)


async def _finish_cancel(ctx: AppContext, msg: Incoming, v: dict[str, str]) -> list[Reply]:
    task_id, seen = await _task_of(ctx, v)
    return await _ask_cancel(ctx, msg, task_id, seen or 0)


async def _finish_delete(ctx: AppContext, msg: Incoming, v: dict[str, str]) -> list[Reply]:
    task_id, seen = await _task_of(ctx, v)
    return await confirm(ctx, msg, f"Xóa hẳn việc #{task_id} cùng tiến độ và lịch nhắc? (/hoantac đưa lại được.)",
                         "Xóa việc", f"{PREFIX}xoaok:{task_id}:{seen if seen is not None else ''}")


def _field_finish(field: str) -> forms.Finish:
    async def finish(ctx: AppContext, msg: Incoming, v: dict[str, str]) -> list[Reply]:
        task_id, seen = await _task_of(ctx, v)
        return await set_field(ctx, msg, task_id, field, v["value"], seen)
    return finish


_form("viec.show", (), _finish_show)
_form("viec.han", (forms.Step("day", "Hạn mới? (dd/mm/yyyy)", check=check_day),), _finish_deadline)
_form("viec.xong", (forms.Step("day", "Hoàn thành ngày nào? (dd/mm/yyyy)", _today_option, check=check_day),),
      _finish_done)
_form("viec.molai", (), _finish_reopen)
_form("viec.giahan", (forms.Step("day", "Gia hạn đến ngày nào? (dd/mm/yyyy)", check=check_day),
                      forms.Step("reason", "Lý do gia hạn?")), _finish_extend)
_form("viec.huy", (), _finish_cancel)
_form("viec.xoa", (), _finish_delete)
_form("viec.chutri", (forms.Step("value", "Cơ quan chủ trì mới? (nhiều cơ quan: cách nhau bằng dấu phẩy)"),),
      _field_finish("lead"))
_form("viec.phoihop", (forms.Step("value", "Các cơ quan phối hợp? (cách nhau bằng dấu phẩy)"),),
      _field_finish("coordinator"))
_form("viec.baocao", (forms.Step("value", "Báo cáo về cơ quan nào?"),), _field_finish("report_to"))
_form("viec.noidung", (forms.Step("value", "Nội dung mới của việc?"),), _field_finish("text"))


async def _plans_offered(ctx: AppContext, _v: dict[str, str]) -> list[tuple[str, str]]:
    async with ctx.db.session() as s:
        plans = await plan_changes.list_plans(s)
    return [(plan_name(p), f"#{p.id}") for p, _n in plans[:8]]


async def _check_plan(ctx: AppContext, value: str, _v: dict[str, str]) -> str | None:
    try:
        async with ctx.db.session() as s:
            await find_plan(s, value)
    except Refused as e:
        return str(e)
    return None


async def _no_deadline(_ctx: AppContext, _v: dict[str, str]) -> list[tuple[str, str]]:
    return [("Không ghi hạn", "không")]


async def _check_due(ctx: AppContext, value: str, v: dict[str, str]) -> str | None:
    return None if fold(value, expand=False) == "khong" else await check_day(ctx, value, v)


async def _check_lead(ctx: AppContext, value: str, _v: dict[str, str]) -> str | None:
    async with ctx.db.session() as s:
        registry = await Registry.load(s)
    try:
        for n in value.replace(";", ",").split(","):
            if n.strip():
                resolve_agency(registry, n)
    except Refused as e:
        return str(e)
    return None


forms.register(forms.Form("viec.them", (
    forms.Step("plan", "Thêm việc vào kế hoạch nào?", _plans_offered, check=_check_plan),
    forms.Step("ref", "Mục của việc? (ví dụ II.5)"),
    forms.Step("text", "Nội dung việc?"),
    forms.Step("lead", "Cơ quan chủ trì?", check=_check_lead),
    forms.Step("due", "Hạn? (dd/mm/yyyy)", _no_deadline, check=_check_due)), add))
