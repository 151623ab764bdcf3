"""The whole store in one portable file, and back: `nhacviec backup FILE` / `nhacviec restore FILE`.

Format (gzip of JSON lines, the same bytes whatever database wrote it, so two backups of one store
compare equal): a header {"format", "version", "schema"}; then, for every table in dependency order, a
line {"table", "columns"} followed by one JSON array per row, ordered by primary key, ids kept; then
{"end": {table: rows}}, so a cut-off file is refused. Dates are ISO days, times ISO in UTC. Restore
writes everything in one transaction (nothing changes when it fails), fills self-references after
their rows, and moves PostgreSQL's id sequences past the restored ids.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Date, DateTime, Integer, String, Table, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from knowledge.db import Database
from knowledge.models import Base

FORMAT = "nhacviec-backup"
VERSION = 1
BATCH_ROWS = 1000  # rows per INSERT statement on restore
# Tables the standard registry seeds: a store holding only seeded rows there counts as empty.
REGISTRY_TABLES = ("agencies", "agency_aliases", "group_members")
# What the summary names, in Vietnamese, for the tables people know.
TABLE_NAMES_VI = {"plans": "kế hoạch", "tasks": "nhiệm vụ", "agencies": "cơ quan", "focal_points": "đầu mối",
                  "outbox": "lượt nhắc"}
# And for the other tables, when a restore lists what it would delete.
OTHER_NAMES_VI = {"task_agencies": "phân công", "audit_log": "mục nhật ký", "task_progress": "tiến độ",
                  "registration_codes": "mã đăng ký", "reminder_policies": "chính sách nhắc",
                  "calendar_days": "ngày nghỉ/làm bù"}


class BackupError(Exception):
    """A backup or restore refused, with the reason in Vietnamese; the store is unchanged."""

    def __init__(self, message_vi: str) -> None:
        super().__init__(message_vi)
        self.message_vi = message_vi


@dataclass
class Summary:
    file: Path
    rows: dict[str, int]

    def text_vi(self, verb: str) -> str:
        known = ", ".join(f"{self.rows.get(t, 0)} {name}" for t, name in TABLE_NAMES_VI.items())
        return f"{verb} {self.file}: {known} ({sum(self.rows.values())} dòng, {len(self.rows)} bảng)."


def tables() -> list[Table]:
    """The store's tables, each after those it refers to."""
    return list(Base.metadata.sorted_tables)


async def schema_revision(conn: AsyncConnection) -> str:
    """The Alembic revision the store is at."""
    return str(await conn.scalar(text("SELECT version_num FROM alembic_version")) or "")


def _encode(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, DateTime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite keeps UTC without its zone
        return moment.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _decode(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(column.type, Date):
        return date.fromisoformat(value)
    return value


def _ordered(table: Table, dialect: str) -> Any:
    """Rows in primary-key order, text keys byte-wise on both databases (PostgreSQL's collation differs)."""
    keys = [c.collate("C") if dialect == "postgresql" and isinstance(c.type, String) else c
            for c in table.primary_key.columns]
    return select(*table.columns).order_by(*keys)


async def backup(db: Database, path: Path) -> Summary:
    """Write the whole store to `path` (through a temporary file: a failed backup leaves no half file)."""
    rows: dict[str, int] = {}
    tmp = path.with_name(path.name + ".tmp")
    async with db.engine.connect() as conn:
        if db.is_postgres:  # one snapshot for every table, while the bot keeps writing
            await conn.execution_options(isolation_level="REPEATABLE READ")
        else:
            await conn.exec_driver_sql("BEGIN")  # SQLite: a read transaction is a snapshot (WAL)
        with tmp.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as out:
            def line(obj: Any) -> None:
                out.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")

            line({"format": FORMAT, "version": VERSION, "schema": await schema_revision(conn)})
            for table in tables():
                columns = list(table.columns)
                line({"table": table.name, "columns": [c.name for c in columns]})
                count = 0
                result = await conn.stream(_ordered(table, db.engine.dialect.name).execution_options(
                    yield_per=BATCH_ROWS))
                async for row in result:
                    line([_encode(c, v) for c, v in zip(columns, row, strict=True)])
                    count += 1
                rows[table.name] = count
            line({"end": rows})
        await conn.rollback()
    os.replace(tmp, path)
    return Summary(path, rows)


def _lines(path: Path) -> Iterator[Any]:
    """The backup's JSON values, one per line; a file that is not one raises BackupError."""
    try:
        with gzip.open(path, "rb") as handle:
            for raw in handle:
                yield json.loads(raw)
    except (OSError, EOFError, zlib.error, ValueError) as e:
        raise BackupError(f"Tệp {path} không phải bản sao lưu nhacviec hoặc đã hỏng (bị cắt, sai định dạng); "
                          "kho không thay đổi.") from e


def _read(path: Path, expected_schema: str) -> Iterator[tuple[Table, list[str], list[list[Any]]]]:
    """(table, column names, a batch of rows) from a backup, checked line by line."""
    if not path.is_file():
        raise BackupError(f"Không tìm thấy tệp {path}.")
    lines = _lines(path)
    header = next(lines, None)
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError(f"Tệp {path} không phải bản sao lưu nhacviec; kho không thay đổi.")
    if header.get("version") != VERSION:
        raise BackupError(f"Bản sao lưu {path} có định dạng phiên bản {header.get('version')}, "
                          f"phiên bản nhacviec này đọc được phiên bản {VERSION}.")
    if header.get("schema") != expected_schema:
        raise BackupError(f"Bản sao lưu {path} thuộc lược đồ kho {header.get('schema')!r}, kho hiện tại ở "
                          f"{expected_schema!r}: hãy khôi phục bằng đúng phiên bản nhacviec đã tạo bản sao lưu, "
                          "rồi mới nâng cấp.")
    by_name = {t.name: t for t in tables()}
    table: Table | None = None
    names: list[str] = []
    batch: list[list[Any]] = []
    seen: dict[str, int] = {}
    for item in lines:
        if isinstance(item, list):
            if table is None or len(item) != len(names):
                raise BackupError(f"Bản sao lưu {path} bị hỏng (dòng dữ liệu không khớp bảng); kho không thay đổi.")
            batch.append(item)
            seen[table.name] += 1
            if len(batch) >= BATCH_ROWS:
                yield table, names, batch
                batch = []
            continue
        if table is not None and batch:
            yield table, names, batch
            batch = []
        if isinstance(item, dict) and "end" in item:
            if item["end"] != seen:
                raise BackupError(f"Bản sao lưu {path} không đủ dòng so với ghi chú cuối tệp; kho không thay đổi.")
            return
        if not isinstance(item, dict) or item.get("table") not in by_name:
            raise BackupError(f"Bản sao lưu {path} có bảng lạ {item!r:.60}; kho không thay đổi.")
        table = by_name[item["table"]]
        names = list(item["columns"])
        unknown = set(names) - set(table.columns.keys())
        if unknown:
            raise BackupError(f"Bản sao lưu {path}: bảng {table.name} có cột lạ {sorted(unknown)}; kho không thay đổi.")
        seen[table.name] = 0
        yield table, names, []  # the table is there, even when it holds no row
    raise BackupError(f"Bản sao lưu {path} bị cắt cụt (thiếu phần cuối tệp); kho không thay đổi.")


async def occupied(conn: AsyncConnection) -> dict[str, int]:
    """Rows that would be lost by a restore: every table's, but the registry's seeded rows count as none."""
    agencies = Base.metadata.tables["agencies"]
    out: dict[str, int] = {}
    for table in tables():
        if table.name in REGISTRY_TABLES:
            continue
        n = await conn.scalar(select(func.count()).select_from(table)) or 0
        if n:
            out[table.name] = n
    added = await conn.scalar(select(func.count()).select_from(agencies).where(agencies.c.seeded.is_(False))) or 0
    if added:
        out["agencies"] = added
    return out


async def restore(db: Database, path: Path, force: bool = False) -> Summary:
    """Replace the store's content by a backup's, in one transaction. Refuses a store holding anything
    beyond the standard registry unless `force`."""
    rows: dict[str, int] = {}
    async with db.engine.begin() as conn:
        expected = await schema_revision(conn)
        present = await occupied(conn)
        if present and not force:
            labels = TABLE_NAMES_VI | OTHER_NAMES_VI
            held = ", ".join(f"{n} {labels.get(t, t)}" for t, n in present.items())
            raise BackupError(f"Kho không trống ({held}): khôi phục sẽ xóa hết dữ liệu hiện có. "
                              "Nếu chắc chắn, chạy lại với --force; nên sao lưu kho hiện tại trước.")
        for table in reversed(tables()):
            await conn.execute(table.delete())
        later: list[tuple[Table, str, Any, str, Any]] = []  # references filled once their rows exist
        done: set[str] = set()  # tables whose rows are all in
        current = ""
        for table, names, batch in _read(path, expected):
            if table.name != current:
                done.add(current)
                current = table.name
            columns = [table.columns[n] for n in names]
            pending = {c.name for c in columns for fk in c.foreign_keys if fk.column.table.name not in done}
            key = next(iter(table.primary_key.columns)).name
            records = []
            for values in batch:
                record = {c.name: _decode(c, v) for c, v in zip(columns, values, strict=True)}
                for name in pending:
                    if record[name] is not None:
                        later.append((table, key, record[key], name, record[name]))
                        record[name] = None
                records.append(record)
            if records:
                await conn.execute(table.insert(), records)
            rows[table.name] = rows.get(table.name, 0) + len(records)
        for table, key, pk, name, value in later:
            await conn.execute(update(table).where(table.columns[key] == pk).values({name: value}))
        if db.is_postgres:
            await _reset_sequences(conn)
    return Summary(path, rows)


async def _reset_sequences(conn: AsyncConnection) -> None:
    """Move each id sequence past the restored ids, so the next row inserted gets a fresh one."""
    for table in tables():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, Integer):
            continue
        await conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
            f"COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 0) + 1, false)"))

