"""Storing imported plans: one transaction per file, re-import by identity, task ids kept across versions.

A plan is known by its number and issuer ("3021/KH-UBND" of UBND tỉnh Ninh Thuận), or by issuer and
title when it has no number. Importing
the same content again changes nothing; a new version updates the plan in place: a task whose text
is unchanged (same fingerprint) or only slightly changed (same ref and similar text) keeps its id,
so reminders and progress stay attached; tasks that vanished are deleted.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import os
import random
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from rapidfuzz import fuzz
from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from knowledge import changes
from knowledge.agencies import AgencyInfo, Registry, agency_key, ensure_agency
from knowledge.db import RACE_BACKOFF_S, RACE_RETRIES, Database, lost_race
from knowledge.importer import (
    DEFAULT_MAX_BYTES,
    ImportRefused,
    NameFinder,
    ParsedPlan,
    ParsedTask,
    parse_bytes,
    seed_registry,
)
from knowledge.importer.reading import read_path
from knowledge.models import AuditEntry, Base, Plan, Task, TaskAgency
from knowledge.text import fold, fold_fast

log = logging.getLogger(__name__)
SIMILAR = 85  # rapidfuzz ratio above which a task with the same ref is the same task, reworded


@dataclass
class ImportResult:
    parsed: ParsedPlan
    identity: str
    status: str  # new | updated | unchanged
    plan_id: int | None = None
    added: int = 0
    changed: int = 0
    removed: int = 0
    kept: int = 0
    task_ids: list[int] = field(default_factory=list)
    hand_kept: list[str] = field(default_factory=list)  # refs of tasks an admin added by hand, kept
    admin_kept: list[str] = field(default_factory=list)  # "II.1 (hạn)": an admin's edit the file left alone
    admin_overridden: list[str] = field(default_factory=list)  # an admin's edit the new file changed

    def summary_vi(self) -> str:
        n = len(self.parsed.tasks)
        name = self.parsed.number or (self.parsed.title[:60] + ("…" if len(self.parsed.title) > 60 else ""))
        if self.status == "unchanged":
            return f"{self.parsed.kind} {name}: {n} nhiệm vụ, không có thay đổi."
        verb = "đã nhập mới" if self.status == "new" else "đã cập nhật"
        return (f"{self.parsed.kind} {name}: {verb}, {n} nhiệm vụ "
                f"(thêm {self.added}, sửa {self.changed}, xóa {self.removed}).")


def plan_identity(parsed: ParsedPlan) -> str:
    """The re-import key: number and issuer when the plan has a number, else issuer and title (folded).

    Two provinces (or a ministry and a province) may both issue a "12/KH-UBND": the issuer keeps them
    apart. Its key is the folded name with abbreviations expanded and the province kept ("UBND tỉnh
    Bình Định" = "Ủy ban nhân dân tỉnh Bình Định"); agency_key would drop the province.
    """
    if parsed.number:
        key = "so:" + fold(parsed.number, expand=False)
        return key + "|" + fold(parsed.issuer) if parsed.issuer else key
    key = fold(parsed.issuer or "", expand=False) + "|" + fold(parsed.title, expand=False)
    if len(key) > 380:
        key = key[:320] + "#" + hashlib.sha256(key.encode()).hexdigest()[:40]
    return key


def legacy_identity(parsed: ParsedPlan) -> str | None:
    """The key plans stored before the issuer joined it had ("so:<number>"), to update them in place."""
    return "so:" + fold(parsed.number, expand=False) if parsed.number and parsed.issuer else None


async def _find_plan(s: AsyncSession, parsed: ParsedPlan, identity: str) -> Plan | None:
    """The stored plan with this identity, or one stored under the number alone by the same issuer
    (its identity is rewritten to the new key)."""
    load = selectinload(Plan.tasks).selectinload(Task.agencies)
    plan = await s.scalar(select(Plan).where(Plan.identity == identity).options(load))
    legacy = legacy_identity(parsed)
    if plan is None and legacy is not None:
        old = await s.scalar(select(Plan).where(Plan.identity == legacy).options(load))
        if old is not None and (old.issuer is None or fold(old.issuer) == fold(parsed.issuer or "")):
            old.identity = identity
            plan = old
    return plan


def fingerprint(text: str) -> str:
    return hashlib.sha256(fold_fast(text).encode()).hexdigest()[:40]


def _deadline_fields(t: ParsedTask) -> dict[str, Any]:
    d = t.deadline
    if d is None:
        return {"deadline_kind": None, "deadline_due": None, "deadline_month": None, "deadline_day": None,
                "deadline_text": None}
    return {"deadline_kind": d.kind, "deadline_due": d.due, "deadline_month": d.month, "deadline_day": d.day,
            "deadline_text": d.text}


# Core tables for the bulk path (the ORM's bulk insert splits rows by which values are NULL).
_TASKS = Base.metadata.tables["tasks"]
_TASK_AGENCIES = Base.metadata.tables["task_agencies"]
_ROLE_FIELDS = (("lead", "lead"), ("coordinators", "coordinator"), ("report_to", "report_to"), ("via", "via"))


class Importer:
    """Imports files into one store, keeping the agency registry in memory across the files of a run."""

    def __init__(self, db: Database, registry: Registry, actor: str, max_bytes: int,
                 identities: set[str] | None = None) -> None:
        self.db = db
        # Plans already in the store: a plan not among them needs no lookup before its insert.
        self.identities = identities if identities is not None else set()
        self.registry = registry
        self.finder = NameFinder(registry)
        self.actor = actor
        self.max_bytes = max_bytes

    @classmethod
    async def create(cls, db: Database, actor: str = "cli", max_bytes: int = DEFAULT_MAX_BYTES) -> Importer:
        async with db.session() as s:
            registry = await Registry.load(s)
            identities = set((await s.scalars(select(Plan.identity))).all())
        return cls(db, registry, actor, max_bytes, identities)

    async def import_path(self, path: Path, dry_run: bool = False) -> ImportResult:
        data, name = read_path(path, self.max_bytes)
        return await self.import_bytes(data, name, dry_run=dry_run)

    async def import_bytes(self, data: bytes, name: str, dry_run: bool = False,
                           worker_seconds: float | None = None) -> ImportResult:
        """Parse (refusing bad files before touching the store), then store in one transaction.

        With `worker_seconds`, parsing runs in a worker process (the caller's event loop keeps
        answering others) and is refused when it takes longer than that."""
        if worker_seconds is None:
            parsed = parse_bytes(data, name, self.finder, self.max_bytes)
        else:
            parsed = await self.parse_in_worker(data, name, worker_seconds)
        return await self.store(parsed, name, hashlib.sha256(data).hexdigest(), dry_run=dry_run)

    async def parse_in_worker(self, data: bytes, name: str, seconds: float) -> ParsedPlan:
        """Parse one file in a process of its own (the pool import_many uses, with one worker): the
        bot stays responsive, the worker's memory goes with it, and a file that takes longer than
        `seconds` is refused and its worker killed."""
        extra = [(a.name, a.is_group) for a in self.registry.by_id.values()]
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init,
                                   initargs=(extra, self.max_bytes))
        try:
            future = asyncio.get_running_loop().run_in_executor(pool, _worker_parse_bytes, data, name)
            parsed, _, refusal = await asyncio.wait_for(future, seconds)
        except TimeoutError:
            raise ImportRefused(f"Đọc tệp quá {seconds:.0f} giây nên đã dừng; tệp quá lớn hoặc quá phức tạp. "
                                "Hãy tách kế hoạch thành các tệp nhỏ hơn.") from None
        except BrokenProcessPool:
            raise ImportRefused("Tệp làm bộ đọc dừng đột ngột (quá lớn hoặc hỏng); không có gì thay đổi.") from None
        finally:
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.kill()  # a parse past its time limit must not go on using memory and time
            pool.shutdown(wait=False, cancel_futures=True)
        if refusal is not None or parsed is None:
            raise refusal or ImportRefused("Không đọc được tệp.")
        return parsed

    async def import_many(self, paths: list[Path], dry_run: bool = False,
                          workers: int | None = None) -> AsyncIterator[tuple[Path, ImportResult | ImportRefused]]:
        """Import many files in order, each in its own transaction, parsing ahead in other processes.

        Parsing is pure and takes about half the time of an import: with several cores it overlaps the
        store's writes. Workers know the registry's names as they were when the run began.
        """
        # One core stores while the others parse.
        workers = workers or min(4, (os.cpu_count() or 1) - 1)
        if len(paths) < 8 or workers < 1:
            for p in paths:
                try:
                    yield p, await self.import_path(p, dry_run=dry_run)
                except ImportRefused as e:
                    yield p, e
                except SQLAlchemyError as e:
                    yield p, _store_failed(e)
                except Exception:  # a fault of ours on one file must not stop the batch
                    log.exception("import: %s", p)
                    yield p, ImportRefused(UNEXPECTED_VI)
            return
        extra = [(a.name, a.is_group) for a in self.registry.by_id.values()]
        loop = asyncio.get_running_loop()
        ctx = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init, initargs=(extra, self.max_bytes))
        try:
            futures = [loop.run_in_executor(pool, _worker_parse, str(p)) for p in paths]
            for p, fut in zip(paths, futures, strict=True):
                try:
                    parsed, content_hash, refusal = await fut
                except (BrokenProcessPool, OSError):  # no worker after all: parse here
                    parsed, content_hash, refusal = self._parse_here(p)
                if refusal is not None or parsed is None:
                    yield p, refusal or ImportRefused("Không đọc được tệp.")
                    continue
                try:
                    yield p, await self.store(parsed, p.name, content_hash, dry_run=dry_run)
                except SQLAlchemyError as e:
                    yield p, _store_failed(e)
                except Exception:
                    log.exception("import: %s", p)
                    yield p, ImportRefused(UNEXPECTED_VI)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _parse_here(self, path: Path) -> tuple[ParsedPlan | None, str, ImportRefused | None]:
        try:
            data, name = read_path(path, self.max_bytes)
            return parse_bytes(data, name, self.finder, self.max_bytes), hashlib.sha256(data).hexdigest(), None
        except ImportRefused as e:
            return None, "", e
        except Exception:
            log.exception("import: %s", path)
            return None, "", ImportRefused(UNEXPECTED_VI)

    def _surely_new(self, parsed: ParsedPlan) -> bool:
        return plan_identity(parsed) not in self.identities and legacy_identity(parsed) not in self.identities

    async def store(self, parsed: ParsedPlan, name: str, content_hash: str, dry_run: bool = False) -> ImportResult:
        """Store one parsed plan in its own transaction (rolled back when dry_run), run again when it lost
        a race to another writer (the same new agency or plan stored meanwhile, a deadlock, a busy file)."""
        for attempt in range(RACE_RETRIES + 1):
            try:
                return await self._store_once(parsed, name, content_hash, dry_run)
            except SQLAlchemyError as e:
                if attempt == RACE_RETRIES or not lost_race(e):
                    raise
                log.info("import: %s lost a race (%s); again", name, type(e).__name__)
                await asyncio.sleep(RACE_BACKOFF_S * 2 ** attempt * (1 + random.random()))
        raise AssertionError("unreachable")

    async def _store_once(self, parsed: ParsedPlan, name: str, content_hash: str, dry_run: bool) -> ImportResult:
        try:
            async with self.db.session() as s:
                result = await store_plan(s, self.registry, parsed, source_name=name, content_hash=content_hash,
                                          actor=self.actor, assume_new=self._surely_new(parsed))
                if dry_run:
                    await s.rollback()
                else:
                    await s.commit()
                    self.identities.add(result.identity)
        except BaseException:
            # Agencies added to the in-memory registry inside the failed transaction do not exist,
            # and another writer may have stored plans meanwhile.
            async with self.db.session() as s:
                self.registry = await Registry.load(s)
                self.identities = set((await s.scalars(select(Plan.identity))).all())
            self.finder = NameFinder(self.registry)
            raise
        if dry_run:
            async with self.db.session() as s:
                self.registry = await Registry.load(s)
            self.finder = NameFinder(self.registry)
        return result


UNEXPECTED_VI = ("Lỗi không mong đợi khi đọc tệp này (đã ghi vào nhật ký); tệp chưa được nhập, "
                 "các tệp khác vẫn tiếp tục.")


def _store_failed(e: Exception) -> ImportRefused:
    """A write that failed (the store was busy, another import stored the same plan meanwhile...)."""
    log.warning("import: store failed: %s", e)
    return ImportRefused("Không ghi được vào kho (đã hoàn tác, không có gì thay đổi); hãy thử nhập lại tệp này.")


_WORKER_FINDER: NameFinder | None = None
_WORKER_MAX = DEFAULT_MAX_BYTES


def _worker_init(names: list[tuple[str, bool]], max_bytes: int) -> None:
    """A parsing process: the standard registry plus the names the store held when the run began."""
    global _WORKER_FINDER, _WORKER_MAX
    registry = seed_registry()
    for n, (name, is_group) in enumerate(names, start=1_000_000):
        key = agency_key(name)
        if key not in registry.by_key:
            registry.by_id[n] = AgencyInfo(n, name, "other", is_group)
            registry.by_key[key] = n
    _WORKER_FINDER = NameFinder(registry)
    _WORKER_MAX = max_bytes


def _worker_parse(path: str) -> tuple[ParsedPlan | None, str, ImportRefused | None]:
    assert _WORKER_FINDER is not None
    try:
        data, name = read_path(Path(path), _WORKER_MAX)
        return parse_bytes(data, name, _WORKER_FINDER, _WORKER_MAX), hashlib.sha256(data).hexdigest(), None
    except ImportRefused as e:  # NotAPlan included: the kind of refusal matters to the caller
        return None, "", e
    except Exception:
        log.exception("import: %s", path)
        return None, "", ImportRefused(UNEXPECTED_VI)


def _worker_parse_bytes(data: bytes, name: str) -> tuple[ParsedPlan | None, str, ImportRefused | None]:
    assert _WORKER_FINDER is not None
    try:
        return parse_bytes(data, name, _WORKER_FINDER, _WORKER_MAX), "", None
    except ImportRefused as e:
        return None, "", e


_Wanted = list[tuple[ParsedTask, str, list[tuple[int, str, str]]]]


async def _add_new_agencies(s: AsyncSession, registry: Registry, parsed: ParsedPlan) -> None:
    """The bodies the registry does not know yet, added first and in one order (their keys'): two imports
    adding the same new bodies then take their row locks in the same order and never deadlock."""
    names = {w for t in parsed.tasks for attr, _role in _ROLE_FIELDS for w in getattr(t, attr)}
    if parsed.monitor:
        names.add(parsed.monitor)
    for written in sorted((n for n in names if registry.lookup(n) is None), key=agency_key):
        await ensure_agency(s, registry, written)


async def _wanted(s: AsyncSession, registry: Registry, parsed: ParsedPlan) -> _Wanted:
    """Each task with its fingerprint and (agency id, role, name as written) links."""
    agency_ids: dict[str, int] = {}
    wanted: _Wanted = []
    seen: dict[str, int] = {}
    for t in parsed.tasks:
        fp = fingerprint(t.text)
        if fp in seen:  # the same words twice (body and appendix): keep both, apart
            seen[fp] += 1
            fp = f"{fp[:36]}#{seen[fp]:03d}"
        else:
            seen[fp] = 0
        links = []
        for attr, role in _ROLE_FIELDS:
            for written in getattr(t, attr):
                if written not in agency_ids:
                    agency_ids[written] = (await ensure_agency(s, registry, written)).id
                links.append((agency_ids[written], role, written[:300]))
        wanted.append((t, fp, links))
    return wanted


async def _insert_new(s: AsyncSession, parsed: ParsedPlan, identity: str, wanted: _Wanted, monitor_id: int | None,
                      *, source_name: str, content_hash: str, actor: str) -> ImportResult:
    """A plan seen for the first time: bulk inserts (three statements), the fast path of a big import."""
    plan_id = (await s.execute(insert(Plan).values(
        identity=identity, number=parsed.number, kind=parsed.kind, issuer=parsed.issuer, issued_on=parsed.issued_on,
        title=parsed.title, signer=parsed.signer, source_name=source_name[:400], content_hash=content_hash,
        monitor_agency_id=monitor_id,
    ).returning(Plan.id))).scalar_one()
    rows = [{"plan_id": plan_id, "position": i, "ref": t.ref[:50], "text": t.text, "fingerprint": fp,
             "status": "open", **_deadline_fields(t)} for i, (t, fp, _links) in enumerate(wanted)]
    # executemany without RETURNING is one call on every driver; the ids come back in one query.
    await s.execute(insert(_TASKS), rows)  # Core: one executemany, NULLs included
    ids = list((await s.scalars(select(Task.id).where(Task.plan_id == plan_id).order_by(Task.position))).all())
    links = [{"task_id": tid, "agency_id": a, "role": r, "written": w, "position": n}
             for tid, (_t, _fp, ls) in zip(ids, wanted, strict=True) for n, (a, r, w) in enumerate(ls)]
    if links:
        await s.execute(insert(_TASK_AGENCIES), links)
    await s.execute(insert(AuditEntry).values(
        actor=actor, action="import", target=identity[:200],
        details={"file": source_name, "status": "new", "plan_id": plan_id, "tasks": len(ids), "added": len(ids),
                 "changed": 0, "removed": 0}))
    return ImportResult(parsed, identity, "new", plan_id, added=len(ids), task_ids=ids)


async def store_plan(s: AsyncSession, registry: Registry, parsed: ParsedPlan, *, source_name: str,
                     content_hash: str, actor: str, assume_new: bool = False) -> ImportResult:
    """Write one parsed plan in the session's transaction (the caller commits or rolls back).

    assume_new: the caller knows no plan has this identity (skips the lookup; a plan stored meanwhile
    by another writer makes the insert fail on the unique identity, and nothing is written).
    """
    identity = plan_identity(parsed)
    if not assume_new and s.get_bind().dialect.name == "postgresql":
        # An admin changing one of the plan's tasks now (knowledge.changes.claim holds its row): wait for that
        # change and read it as committed, so the admin's edit is weighed below, never overwritten unseen.
        keys = [identity, *([legacy] if (legacy := legacy_identity(parsed)) else [])]
        await s.execute(select(Task.id).join(Plan, Task.plan_id == Plan.id).where(Plan.identity.in_(keys))
                        .order_by(Task.id).with_for_update(of=Task))
    plan = None if assume_new else await _find_plan(s, parsed, identity)
    if plan is not None and plan.content_hash == content_hash:
        result = ImportResult(parsed, identity, "unchanged", plan.id, kept=len(plan.tasks),
                              task_ids=[t.id for t in plan.tasks])
        s.add(AuditEntry(actor=actor, action="import", target=identity[:200],
                         details={"file": source_name, "status": "unchanged"}))
        return result
    status = "updated" if plan is not None else "new"
    await _add_new_agencies(s, registry, parsed)
    wanted = await _wanted(s, registry, parsed)
    # The reminders' weekly digest of the plan goes to this body's focal points.
    monitor_id = (await ensure_agency(s, registry, parsed.monitor)).id if parsed.monitor else None
    if plan is None:
        return await _insert_new(s, parsed, identity, wanted, monitor_id, source_name=source_name,
                                 content_hash=content_hash, actor=actor)
    plan.monitor_agency_id = monitor_id
    plan.number = parsed.number
    plan.kind = parsed.kind
    plan.issuer = parsed.issuer
    plan.issued_on = parsed.issued_on
    plan.title = parsed.title
    plan.signer = parsed.signer
    plan.source_name = source_name[:400]
    plan.content_hash = content_hash

    old_ids = [t.id for t in plan.tasks]
    hand = await changes.hand_added(s, old_ids)
    edits = await changes.admin_edits(s, old_ids)
    old_by_fp = {t.fingerprint: t for t in plan.tasks}
    matched: dict[int, Task] = {}
    for i, (_t, fp, _links) in enumerate(wanted):
        if fp in old_by_fp:
            matched[i] = old_by_fp.pop(fp)
    # A reworded task: same ref, similar text (never a task added by hand: the file does not know it).
    for i, (t, _fp, _links) in enumerate(wanted):
        if i in matched:
            continue
        best, best_score = None, 0.0
        for old in old_by_fp.values():
            if old.ref != t.ref or old.id in hand:
                continue
            score = fuzz.ratio(fold_fast(old.text), fold_fast(t.text))
            if score >= SIMILAR and score > best_score:
                best, best_score = old, score
        if best is not None:
            matched[i] = best
            del old_by_fp[best.fingerprint]

    result = ImportResult(parsed, identity, status)
    keep: list[Task] = []
    for i, (t, fp, links) in enumerate(wanted):
        fields = {"position": i, "ref": t.ref[:50], "text": t.text, "fingerprint": fp, **_deadline_fields(t)}
        task = matched.get(i)
        if task is None:
            task = Task(**fields)
            task.agencies = [TaskAgency(agency_id=a, role=r, written=w, position=n) for n, (a, r, w) in
                             enumerate(links)]
            result.added += 1
        else:
            links = _keep_admin_edits(s, task, fields, links, edits.get(task.id, {}), result, actor)
            before = (task.ref, task.text, task.deadline_kind, task.deadline_due, task.deadline_month,
                      task.deadline_day, sorted((ta.agency_id, ta.role, ta.written) for ta in task.agencies))
            for k, v in fields.items():
                setattr(task, k, v)
            after = (task.ref, task.text, task.deadline_kind, task.deadline_due, task.deadline_month,
                     task.deadline_day, sorted(links))
            if before != after:
                result.changed += 1
                task.version = (task.version or 0) + 1  # a card shown before this import is out of date
                if before[-1] != after[-1]:
                    task.agencies = [TaskAgency(agency_id=a, role=r, written=w, position=n) for n, (a, r, w) in
                                     enumerate(links)]
            else:
                result.kept += 1
        keep.append(task)
    # Tasks an admin added by hand stay, after the file's (their ids, progress and reminders with them).
    for old in sorted((t for t in old_by_fp.values() if t.id in hand), key=lambda t: t.position):
        del old_by_fp[old.fingerprint]
        old.position = len(keep)
        keep.append(old)
        result.hand_kept.append(old.ref or f"#{old.id}")
    result.removed = len(old_by_fp)
    # Positions are rewritten first so the unique fingerprints never clash mid-flush.
    for old in old_by_fp.values():
        await s.delete(old)
    if old_by_fp:
        await s.flush()
    plan.tasks = keep
    await s.flush()
    result.plan_id = plan.id
    result.task_ids = [t.id for t in keep]
    s.add(AuditEntry(actor=actor, action="import", target=identity[:200],
                     details={"file": source_name, "status": status, "plan_id": plan.id, "tasks": len(keep),
                              "added": result.added,
                              "changed": result.changed, "removed": result.removed,
                              "hand_kept": len(result.hand_kept)}))
    await s.flush()
    return result


_GROUP_VI = {"deadline": "hạn", "text": "nội dung", "roles": "chủ trì, phối hợp", "report_to": "báo cáo về"}
_EDIT_ROLES = {"roles": ("lead", "coordinator"), "report_to": ("report_to",)}


def _keep_admin_edits(s: AsyncSession, task: Task, fields: dict[str, Any], links: list[tuple[int, str, str]],
                      edits: dict[str, Any], result: ImportResult,
                      actor: str) -> list[tuple[int, str, str]]:
    """A stored task an admin edited, met again in a new version of its file: each edited part (deadline,
    text, roles, report-to) keeps the admin's value when the file still says what it said when the admin
    changed it; when the file changed that part too, the file's value is taken, recorded and reported.
    Updates `fields` in place; returns the task's agency links to store."""
    kept: list[str] = []
    for group, baseline in edits.items():
        if group == "deadline":
            file_value = changes.deadline_json(fields)
            current = changes.deadline_json({c: getattr(task, c) for c in changes.DEADLINE_COLUMNS})
            if file_value == baseline:
                fields.update({c: getattr(task, c) for c in changes.DEADLINE_COLUMNS})
                kept.append(group)
            elif file_value != current:
                changes.file_update(s, actor, task.id, [group], current, file_value)
                result.admin_overridden.append(
                    f"{task.ref}: hạn quản trị viên đặt “{task.deadline_text or 'không ghi'}” → theo tệp mới "
                    f"“{fields.get('deadline_text') or 'không ghi'}”")
        elif group == "text":
            if fields["text"] == baseline.get("text"):
                fields["text"] = task.text
                kept.append(group)
            elif fields["text"] != task.text:
                changes.file_update(s, actor, task.id, [group], {"text": task.text}, {"text": fields["text"]})
                result.admin_overridden.append(f"{task.ref}: nội dung quản trị viên sửa → theo tệp mới")
        else:
            roles = _EDIT_ROLES[group]
            file_roles = {r: [[a, w] for a, role, w in links if role == r] for r in roles}
            was = {r: [[x["agency_id"], x["written"]] for x in baseline.get(r, [])] for r in roles}
            ours = sorted(((ta.position, ta.id), (ta.agency_id, ta.role, ta.written)) for ta in task.agencies
                          if ta.role in roles)
            if file_roles == was:
                links = [x for x in links if x[1] not in roles] + [x for _, x in ours]
                kept.append(group)
            elif sorted(tuple(x) for r in roles for x in file_roles[r]) != sorted((a, w) for _, (a, _r, w) in ours):
                changes.file_update(s, actor, task.id, [group], {r: [list(x) for _, x in ours if x[1] == r]
                                                                for r in roles}, file_roles)
                result.admin_overridden.append(f"{task.ref}: {_GROUP_VI[group]} quản trị viên đặt → theo tệp mới")
    if kept:
        result.admin_kept.append(f"{task.ref} ({', '.join(_GROUP_VI[g] for g in kept)})")
    return links


class _HasDb(Protocol):
    db: Database


async def import_file(db: Database | _HasDb, path_or_bytes: Path | str | bytes, name: str | None = None,
                      actor: str = "cli", dry_run: bool = False,
                      max_bytes: int = DEFAULT_MAX_BYTES, worker_seconds: float | None = None) -> ImportResult:
    """Convenience for one file: a path, or the bytes of a file sent in chat with its name.

    `db` may also be anything holding one as `.db` (the app's context), as bot.app passes it.
    With `worker_seconds`, bytes are parsed in a worker process within that time (the bot's uploads).
    """
    store = db if isinstance(db, Database) else db.db
    importer = await Importer.create(store, actor=actor, max_bytes=max_bytes)
    if isinstance(path_or_bytes, bytes):
        return await importer.import_bytes(path_or_bytes, name or "tep.txt", dry_run=dry_run,
                                           worker_seconds=worker_seconds)
    return await importer.import_path(Path(path_or_bytes), dry_run=dry_run)
