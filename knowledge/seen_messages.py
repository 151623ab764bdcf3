"""Platform messages already taken in, per channel: answer each message once.

Zalo's getUpdates has no offset and its webhooks may deliver twice, so a channel asks
`first_sighting` before answering. The row is written before the work is done (a crash in
between loses that one answer rather than sending it twice), and the primary key makes two
instances racing on one delivery agree on a single winner.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.models import ChannelSeen


async def first_sighting(session: AsyncSession, channel: str, message_id: str, at: datetime) -> bool:
    """Record the message; True when nobody had recorded it before. Flushes, the caller commits."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(ChannelSeen).values(channel=channel, message_id=message_id, seen_at=at).on_conflict_do_nothing()
    result = await session.execute(stmt)
    return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]


async def forget_before(session: AsyncSession, before: datetime) -> int:
    """Drop records older than any redelivery could be; the number dropped."""
    result = await session.execute(delete(ChannelSeen).where(ChannelSeen.seen_at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
