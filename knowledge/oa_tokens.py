"""The Zalo OA tokens, kept in the store because the refresh token is single-use and rotates.

Zalo gives a new refresh token with every refresh and the old one stops working, so two
instances refreshing at once would leave one of them (and, after a restart, everyone) with a dead
token. `refresh` lets one refresher run at a time across instances: PostgreSQL locks the row
(SELECT ... FOR UPDATE) for the length of the call; SQLite takes a lease with a conditional
UPDATE. Whoever waited then finds a newer access token and uses it without refreshing. The new
tokens are committed before anyone uses them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.db import Database
from knowledge.models import OaToken

LEASE = timedelta(seconds=30)  # longer than one OAuth call may take; a dead holder's lease runs out
WAIT_STEP_S = 0.05
EARLY = timedelta(minutes=10)  # refresh this long before the access token's announced expiry


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_at: datetime | None


# Exchanges a refresh token for new tokens at the OAuth endpoint (the channel's HTTP call).
Exchange = Callable[[str], Awaitable[Tokens]]


def _utc(at: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without a zone; they were stored in UTC."""
    return at if at is None or at.tzinfo else at.replace(tzinfo=UTC)


async def seed(session: AsyncSession, app_id: str, tokens: Tokens) -> bool:
    """Store the first tokens (from the settings) unless the store already has some; True if stored."""
    if not tokens.refresh_token or await session.get(OaToken, app_id) is not None:
        return False
    session.add(OaToken(app_id=app_id, access_token=tokens.access_token, refresh_token=tokens.refresh_token,
                        access_expires_at=tokens.expires_at))
    await session.flush()
    return True


async def current(db: Database, app_id: str) -> Tokens | None:
    async with db.session() as s:
        row = await s.get(OaToken, app_id)
        return None if row is None else Tokens(row.access_token, row.refresh_token, _utc(row.access_expires_at))


def _still_good(row: OaToken, failed: str | None, now: datetime) -> bool:
    """Whether the stored access token can be used: someone replaced the one that failed, or (no
    failure, a check before sending) it is not about to expire."""
    if not row.access_token:
        return False
    if failed is not None:
        return row.access_token != failed
    expires = _utc(row.access_expires_at)
    return expires is None or expires - EARLY > now


def _store(row: OaToken, new: Tokens, now: datetime) -> None:
    row.access_token, row.refresh_token, row.access_expires_at = new.access_token, new.refresh_token, new.expires_at
    row.refreshed_at, row.lock_owner, row.lock_until = now, None, None


async def refresh(db: Database, app_id: str, exchange: Exchange, *, failed: str | None, owner: str,
                  wait: float = 60.0) -> str:
    """A usable access token, refreshing at most once across instances.

    `failed` is the access token Zalo just refused (-216/-220), or None to refresh only when the
    stored one is close to expiry. Raises LookupError when no tokens are stored, TimeoutError when
    another refresher held the lock longer than `wait`, and whatever `exchange` raises."""
    if db.is_postgres:
        return await _refresh_locked(db, app_id, exchange, failed)
    return await _refresh_leased(db, app_id, exchange, failed, owner, wait)


async def _refresh_locked(db: Database, app_id: str, exchange: Exchange, failed: str | None) -> str:
    async with db.session() as s:
        row = (await s.scalars(select(OaToken).where(OaToken.app_id == app_id).with_for_update())).one_or_none()
        if row is None:
            raise LookupError(f"no Zalo OA tokens stored for app {app_id}")
        now = datetime.now(UTC)
        if _still_good(row, failed, now):
            return row.access_token
        new = await exchange(row.refresh_token)
        _store(row, new, now)
        await s.commit()
        return new.access_token


async def _refresh_leased(db: Database, app_id: str, exchange: Exchange, failed: str | None, owner: str,
                          wait: float) -> str:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + wait
    while True:
        async with db.session() as s:
            row = await s.get(OaToken, app_id, populate_existing=True)
            if row is None:
                raise LookupError(f"no Zalo OA tokens stored for app {app_id}")
            now = datetime.now(UTC)
            if _still_good(row, failed, now):
                return row.access_token
            took = await s.execute(
                update(OaToken)
                .where(OaToken.app_id == app_id, or_(OaToken.lock_owner.is_(None), OaToken.lock_until < now))
                .values(lock_owner=owner, lock_until=now + LEASE)
                .execution_options(synchronize_session=False)
            )
            await s.commit()
            if took.rowcount == 1:  # type: ignore[attr-defined]
                break
        if loop.time() > give_up:
            raise TimeoutError("another instance is refreshing the Zalo OA token")
        await asyncio.sleep(WAIT_STEP_S)
    # The lease is ours. Look once more (a refresher may have finished between our look and our
    # lease), then call Zalo outside any transaction: SQLite must not hold a write lock meanwhile.
    async with db.session() as s:
        row = await s.get(OaToken, app_id, populate_existing=True)
        assert row is not None
        if _still_good(row, failed, datetime.now(UTC)):
            row.lock_owner, row.lock_until = None, None
            await s.commit()
            return row.access_token
        spent = row.refresh_token
    try:
        new = await exchange(spent)
    except BaseException:
        async with db.session() as s:
            await s.execute(update(OaToken).where(OaToken.app_id == app_id, OaToken.lock_owner == owner)
                            .values(lock_owner=None, lock_until=None).execution_options(synchronize_session=False))
            await s.commit()
        raise
    async with db.session() as s:
        row = await s.get(OaToken, app_id, populate_existing=True)
        assert row is not None
        _store(row, new, datetime.now(UTC))
        await s.commit()
    return new.access_token
