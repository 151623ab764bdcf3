"""Plan files read as a dry run and waiting for an admin's "Lưu" or "Hủy" (table pending_imports).

The file is kept in the store, so the answer may come after a restart or reach another instance.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete

from knowledge.db import Database
from knowledge.models import PendingImport

KEEP = timedelta(days=1)  # a preview nobody answered within a day is dropped


async def keep(db: Database, channel: str, chat_id: str, actor: str, file_name: str, data: bytes,
               now: datetime) -> int:
    """Store a previewed file; returns its id (the buttons carry it). Old unanswered ones go."""
    async with db.session() as s:
        await s.execute(delete(PendingImport).where(PendingImport.created_at < now - KEEP))
        row = PendingImport(channel=channel, chat_id=str(chat_id), actor=actor, file_name=file_name[:400], data=data)
        s.add(row)
        await s.commit()
        return row.id


async def get(db: Database, pending_id: int) -> PendingImport | None:
    async with db.session() as s:
        return await s.get(PendingImport, pending_id)


async def drop(db: Database, pending_id: int) -> bool:
    """Forget a pending file; False when it was already gone (answered, or too old)."""
    async with db.session() as s:
        result = await s.execute(delete(PendingImport).where(PendingImport.id == pending_id))
        await s.commit()
        return bool(result.rowcount)  # type: ignore[attr-defined]
