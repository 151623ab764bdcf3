"""Changes to the agency registry by an admin: add a body (district and commune bodies included:
since the 2025 reform UBND xã/phường is the local level), add an alias, merge two, record a dated
successor. Each writes one audit row. Functions take a session and flush; the caller commits."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge import snapshot
from knowledge.agencies import Registry, agency_key
from knowledge.changes import CannotUndo, later_changes
from knowledge.models import (
    Agency,
    AgencyAlias,
    AuditEntry,
    FocalPoint,
    GroupMember,
    Outbox,
    Plan,
    RegistrationCode,
    TaskAgency,
    TaskProgress,
)
from knowledge.text import fold, nfc

_LOCAL = re.compile(r"^(ubnd|uy ban nhan dan|hdnd|hoi dong nhan dan|dang uy|cong an) "
                    r"(xa|phuong|thi tran|huyen|quan|thi xa|thanh pho|dac khu)\b")


class AgencyError(ValueError):
    """A change the registry refuses; the message is Vietnamese, for the admin."""


def kind_of(name: str) -> str:
    """department | local | group | other, from how the name begins."""
    key = fold(name)
    if key.startswith("cac "):
        return "group"
    if key.startswith("so "):
        return "department"
    if _LOCAL.match(key):
        return "local"
    return "other"


def _clean(name: str) -> str:
    name = " ".join(nfc(name).split())
    return name[:1].upper() + name[1:]


async def add(session: AsyncSession, registry: Registry, name: str, by: str) -> Agency:
    name = _clean(name)
    if len(name) < 3:
        raise AgencyError("Tên cơ quan quá ngắn.")
    known = registry.lookup(name)
    if known is not None:
        raise AgencyError(f"Đã có cơ quan “{known.name}” trong danh mục.")
    kind = kind_of(name)
    row = Agency(name=name, key=agency_key(name), kind=kind, is_group=kind == "group", seeded=False)
    session.add(row)
    await session.flush()
    session.add(AuditEntry(actor=by, action="agency.add", target=f"agency:{row.id}", before=None,
                           after={"name": name, "kind": kind}))
    await session.flush()
    return row


async def add_alias(session: AsyncSession, registry: Registry, agency_id: int, alias: str, by: str) -> AgencyAlias:
    alias = " ".join(nfc(alias).split())
    key = agency_key(alias)
    if len(key) < 2:
        raise AgencyError("Tên gọi khác quá ngắn.")
    known = registry.by_key.get(key)
    if known is not None:
        raise AgencyError(f"“{alias}” đã là tên của {registry.by_id[known].name}.")
    row = AgencyAlias(agency_id=agency_id, alias=alias, key=key)
    session.add(row)
    session.add(AuditEntry(actor=by, action="agency.alias", target=f"agency:{agency_id}", before=None,
                           after={"alias": alias}))
    await session.flush()
    return row


async def set_successor(session: AsyncSession, old_id: int, new_id: int, since: date, by: str) -> None:
    """From `since` on, `new` answers for `old` (a merger, a renaming): answers and reminders follow."""
    if old_id == new_id:
        raise AgencyError("Một cơ quan không thể kế thừa chính nó.")
    old = await session.get(Agency, old_id)
    assert old is not None
    since_before = old.successor_since.isoformat() if old.successor_since else None
    before = {"successor_id": old.successor_id, "since": since_before}
    old.successor_id, old.successor_since = new_id, since
    session.add(AuditEntry(actor=by, action="agency.successor", target=f"agency:{old_id}",
                           before=before, after={"successor_id": new_id, "since": since.isoformat()}))
    await session.flush()


def _key_of(model: Any) -> Any:
    """The primary key column of a one-column-key table."""
    return next(iter(model.__table__.primary_key.columns))


async def _ids(session: AsyncSession, column: Any, gone_id: int) -> list[Any]:
    """The keys of the rows whose `column` names the agency going away (to move them back on undo)."""
    return list((await session.scalars(select(_key_of(column.class_)).where(column == gone_id))).all())


MOVED: dict[str, tuple[Any, str]] = {"task_agencies": (TaskAgency, "agency_id"), "outbox": (Outbox, "agency_id"),
         "task_progress": (TaskProgress, "agency_id"), "codes": (RegistrationCode, "agency_id"),
         "plans": (Plan, "monitor_agency_id"), "successors": (Agency, "successor_id"),
         "aliases": (AgencyAlias, "agency_id")}


async def merge(session: AsyncSession, gone_id: int, into_id: int, by: str) -> int:
    """Two entries for one body: everything of `gone` moves to `into`, whose alias `gone`'s name becomes.
    Returns how many task links moved. The audit row keeps `gone` and what moved, so /hoantac splits them
    again with the same ids."""
    if gone_id == into_id:
        raise AgencyError("Hai tên này đã là một cơ quan.")
    gone = await session.get(Agency, gone_id)
    into = await session.get(Agency, into_id)
    assert gone is not None and into is not None
    kept: dict[str, Any] = {"agency": snapshot.dump(gone)}
    for name, (model, attr) in MOVED.items():
        kept[name] = await _ids(session, getattr(model, attr), gone_id)
    kept["focal"] = snapshot.dump_all((await session.scalars(
        select(FocalPoint).where(FocalPoint.agency_id == gone_id))).all())
    cancelled: list[int] = []
    moved = (await session.execute(update(TaskAgency).where(TaskAgency.agency_id == gone_id)
                                   .values(agency_id=into_id))).rowcount  # type: ignore[attr-defined]
    taken = {(f.channel, f.chat_id) for f in (await session.scalars(
        select(FocalPoint).where(FocalPoint.agency_id == into_id))).all()}
    for fp in (await session.scalars(select(FocalPoint).where(FocalPoint.agency_id == gone_id))).all():
        if (fp.channel, fp.chat_id) in taken:
            cancelled += (await session.scalars(select(Outbox.id).where(
                Outbox.focal_point_id == fp.id, Outbox.status.in_(("pending", "claimed"))))).all()
            await session.execute(update(Outbox).where(Outbox.focal_point_id == fp.id).values(status="cancelled"))
            fp.status = "removed"
            fp.chat_id = f"{fp.chat_id}#gop{fp.id}"  # keeps the unique key apart; history stays
        fp.agency_id = into_id
    kept["cancelled"] = cancelled
    for table, column in ((Outbox, Outbox.agency_id), (TaskProgress, TaskProgress.agency_id),
                          (RegistrationCode, RegistrationCode.agency_id), (Plan, Plan.monitor_agency_id),
                          (Agency, Agency.successor_id)):
        await session.execute(update(table).where(column == gone_id).values({column.key: into_id}))
    await session.execute(update(AgencyAlias).where(AgencyAlias.agency_id == gone_id).values(agency_id=into_id))
    involved = (GroupMember.group_id == gone_id) | (GroupMember.member_id == gone_id)
    members = (await session.execute(select(GroupMember.group_id, GroupMember.member_id).where(involved))).all()
    kept["members"] = [[g, m] for g, m in members]
    await session.execute(delete(GroupMember).where(involved))
    existing = {(r[0], r[1]) for r in await session.execute(select(GroupMember.group_id, GroupMember.member_id))}
    added: list[list[int]] = []
    for g, m in members:
        pair = (into_id if g == gone_id else g, into_id if m == gone_id else m)
        if pair[0] != pair[1] and pair not in existing:
            session.add(GroupMember(group_id=pair[0], member_id=pair[1]))
            existing.add(pair)
            added.append(list(pair))
    kept["members_added"] = added
    name, key = gone.name, gone.key
    await session.flush()
    await session.delete(gone)
    await session.flush()
    if await session.scalar(select(AgencyAlias.id).where(AgencyAlias.key == key)) is None and key != into.key:
        alias = AgencyAlias(agency_id=into_id, alias=name, key=key)
        session.add(alias)
        await session.flush()
        kept["alias_added"] = alias.id
    session.add(AuditEntry(actor=by, action="agency.merge", target=f"agency:{into_id}",
                           before={"gone_id": gone_id, "gone": name, "snapshot": kept}, after={"into": into.name},
                           details={"task_links": moved}))
    await session.flush()
    return int(moved or 0)


async def _unmerge(session: AsyncSession, entry: AuditEntry, into_id: int) -> None:
    """Split a merge: the agency that went comes back with its id, and every row that moved goes back to it."""
    kept = (entry.before or {}).get("snapshot")
    if not kept:
        raise CannotUndo("Lần gộp này được ghi trước khi nhật ký giữ bản sao; hãy thêm lại cơ quan và sửa các việc.")
    gone = kept["agency"]
    gone_id = gone["id"]
    if await session.get(Agency, gone_id) is not None:
        raise CannotUndo("Cơ quan đã gộp nay lại có trong danh mục; không tách lại được.")
    if await session.scalar(select(Agency.id).where(Agency.key == gone["key"])) is not None:
        raise CannotUndo(f"Danh mục đã có lại cơ quan “{gone['name']}”; không tách lại được.")
    if kept.get("alias_added"):
        await session.execute(delete(AgencyAlias).where(AgencyAlias.id == kept["alias_added"]))
    if gone.get("successor_id") and not await snapshot.existing(session, Agency.id, [gone["successor_id"]]):
        gone = {**gone, "successor_id": None, "successor_since": None}
    await snapshot.restore(session, Agency, [gone])
    for name, (model, attr) in MOVED.items():
        ids = kept.get(name) or []
        if ids:
            key = _key_of(model)
            await session.execute(update(model).where(key.in_(ids), getattr(model, attr) == into_id)
                                  .values({attr: gone_id}))
    for fp in kept.get("focal") or []:
        await session.execute(update(FocalPoint).where(FocalPoint.id == fp["id"]).values(
            agency_id=gone_id, status=fp["status"], chat_id=fp["chat_id"]))
    if kept.get("cancelled"):  # the planner plans them again for today's state
        await session.execute(update(Outbox).where(Outbox.id.in_(kept["cancelled"]), Outbox.status == "cancelled")
                              .values(last_error="đã hoàn tác gộp cơ quan"))
    for g, m in kept.get("members_added") or []:
        await session.execute(delete(GroupMember).where(GroupMember.group_id == g, GroupMember.member_id == m))
    present = {(r[0], r[1]) for r in await session.execute(select(GroupMember.group_id, GroupMember.member_id))}
    for g, m in kept.get("members") or []:
        if (g, m) not in present:
            session.add(GroupMember(group_id=g, member_id=m))
    await session.flush()


UNDOABLE = ("agency.add", "agency.alias", "agency.successor", "agency.merge")


async def undo(session: AsyncSession, entry: AuditEntry, by: str) -> None:
    """Take back an agency added (when nothing uses it yet), an alias, a successor recorded, or a merge
    (the two entries split again, with their ids, task links, focal points and progress)."""
    if await later_changes(session, entry, UNDOABLE):
        raise CannotUndo("Sau thay đổi này cơ quan đã được thay đổi tiếp (gộp cơ quan); "
                         "hãy hoàn tác thay đổi sau trước.")
    agency_id = int(entry.target.split(":", 1)[1])
    agency = await session.get(Agency, agency_id)
    if agency is None:
        raise CannotUndo("Cơ quan này không còn trong danh mục (đã gộp vào cơ quan khác).")
    after, before = entry.after or {}, entry.before or {}
    if entry.action == "agency.merge":
        await _unmerge(session, entry, agency_id)
    elif entry.action == "agency.alias":
        await session.execute(delete(AgencyAlias).where(AgencyAlias.agency_id == agency_id,
                                                        AgencyAlias.alias == after.get("alias")))
    elif entry.action == "agency.successor":
        since = before.get("since")
        agency.successor_id = before.get("successor_id")
        agency.successor_since = date.fromisoformat(since) if since else None
    elif entry.action == "agency.add":
        used = await session.scalar(select(TaskAgency.id).where(TaskAgency.agency_id == agency_id).limit(1)) or \
            await session.scalar(select(FocalPoint.id).where(FocalPoint.agency_id == agency_id).limit(1))
        if used:
            raise CannotUndo(f"{agency.name} đã được giao việc hoặc có cán bộ đầu mối; không xóa được.")
        await session.delete(agency)
    session.add(AuditEntry(actor=by, action="agency.undo", target=entry.target, before=entry.after,
                           after=entry.before, details={"undid": entry.id, "action_undone": entry.action}))
    await session.flush()
