"""The agency registry: names, aliases, groups and dated successors, matched without accents.

One `Registry` is loaded from the store and used by the importer (to turn a name as written into
an agency, adding new ones) and by the answerer (to find agencies named in a question).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.agency_seed import SEED
from knowledge.models import Agency, AgencyAlias, GroupMember
from knowledge.text import fold, nfc

# A province name after "tỉnh" is not part of an agency's identity: "Sở Nội vụ tỉnh Ninh Thuận",
# "Ban Thường vụ Tỉnh ủy Ninh Thuận". "Tỉnh ủy" and "Tỉnh đoàn" are bodies, not a province name.
_TRAILING_PROVINCE = re.compile(r"\b(tinh(?: uy| doan)?)(?! uy\b| doan\b)( [a-z]+){1,3}$")
_LEADING_NOISE = re.compile(r"^(giao |cac dong chi |dong chi )")


def agency_key(name: str) -> str:
    """The matching key of an agency name: folded, abbreviations expanded, province dropped."""
    key = fold(name)
    key = _LEADING_NOISE.sub("", key)
    key = _TRAILING_PROVINCE.sub(r"\1", key)
    return key


def _variants(key: str) -> list[str]:
    """Keys to try for a name: as is, without or with a trailing "tinh", without leading "cac"."""
    out = [key]
    if key.endswith(" tinh"):
        out.append(key[: -len(" tinh")])
    else:
        out.append(key + " tinh")
    if key.startswith("cac "):
        out.extend(v[4:] for v in list(out))
    else:
        out.append("cac " + key)
    return out


@dataclass
class AgencyInfo:
    id: int
    name: str
    kind: str
    is_group: bool
    successor_id: int | None = None
    successor_since: date | None = None
    members: list[int] = field(default_factory=list)


class Registry:
    """In-memory view of the agencies table, for fast matching. Reload after changes."""

    def __init__(self) -> None:
        self.by_id: dict[int, AgencyInfo] = {}
        self.by_key: dict[str, int] = {}

    @classmethod
    async def load(cls, session: AsyncSession) -> Registry:
        reg = cls()
        for a in (await session.scalars(select(Agency))).all():
            reg.by_id[a.id] = AgencyInfo(a.id, a.name, a.kind, a.is_group, a.successor_id, a.successor_since)
            reg.by_key[a.key] = a.id
        for al in (await session.scalars(select(AgencyAlias))).all():
            reg.by_key.setdefault(al.key, al.agency_id)
        for gm in (await session.scalars(select(GroupMember))).all():
            reg.by_id[gm.group_id].members.append(gm.member_id)
        return reg

    def lookup(self, name: str) -> AgencyInfo | None:
        """The agency a name means, or None when the registry does not know it."""
        for k in _variants(agency_key(name)):
            if k in self.by_key:
                return self.by_id[self.by_key[k]]
        return None

    def current(self, agency_id: int, on: date | None = None) -> AgencyInfo:
        """The body that answers for an agency today (or on a day): follows dated successors."""
        info = self.by_id[agency_id]
        seen = {agency_id}
        while info.successor_id and info.successor_id not in seen:
            if on is not None and info.successor_since and on < info.successor_since:
                break
            seen.add(info.successor_id)
            info = self.by_id[info.successor_id]
        return info

    def expand(self, agency_id: int) -> list[AgencyInfo]:
        """A group's current member agencies (itself when it is not a group or has none listed)."""
        info = self.by_id[agency_id]
        if not info.is_group or not info.members:
            return [self.current(agency_id)]
        seen: dict[int, AgencyInfo] = {}
        for m in info.members:
            cur = self.current(m)
            seen.setdefault(cur.id, cur)
        return list(seen.values())

    def predecessors(self, agency_id: int) -> list[AgencyInfo]:
        """Agencies merged into this one, so "Sở KH&CN có việc gì" also finds Sở TT&TT's tasks."""
        return [a for a in self.by_id.values() if a.successor_id == agency_id]

    def keys(self) -> list[tuple[str, int]]:
        """Every (key, agency id) pair, for scanning free text for agency names."""
        return list(self.by_key.items())


async def ensure_agency(session: AsyncSession, registry: Registry, name: str, kind: str = "other") -> AgencyInfo:
    """The agency for a name as written; unknown names become new agencies (the importer's path)."""
    found = registry.lookup(name)
    if found:
        return found
    name = nfc(name).strip()
    name = name[:1].upper() + name[1:]
    key = agency_key(name)
    # Insert-or-get: another import may add the same body at the same moment (it waits for that
    # writer's commit on PostgreSQL, then finds its row); the row that won keeps its spelling.
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(insert(Agency).values(name=name, key=key, kind=kind, is_group=_looks_like_group(key),
                                                seeded=False).on_conflict_do_nothing(index_elements=["key"]))
    row = (await session.execute(select(Agency.id, Agency.name, Agency.kind, Agency.is_group)
                                 .where(Agency.key == key))).one()
    info = AgencyInfo(row.id, row.name, row.kind, row.is_group)
    registry.by_id[row.id] = info
    registry.by_key[key] = row.id
    return info


def _looks_like_group(key: str) -> bool:
    return key.startswith("cac ") or " cac " in key


async def seed(session: AsyncSession) -> int:
    """Add the standard bodies that are missing (idempotent). Returns how many were added."""
    existing = {a.key: a for a in (await session.scalars(select(Agency))).all()}
    alias_keys = set((await session.scalars(select(AgencyAlias.key))).all())
    added = 0
    for spec in SEED:
        key = agency_key(spec.name)
        if key in existing:
            continue
        row = Agency(name=spec.name, key=key, kind=spec.kind, is_group=spec.is_group, seeded=True)
        session.add(row)
        existing[key] = row
        added += 1
        for alias in spec.aliases:
            akey = agency_key(alias)
            if akey != key and akey not in alias_keys:
                row.aliases.append(AgencyAlias(alias=alias, key=akey))
                alias_keys.add(akey)
    await session.flush()
    for spec in SEED:
        row = existing[agency_key(spec.name)]
        if spec.successor and row.successor_id is None:
            row.successor_id = existing[agency_key(spec.successor)].id
            row.successor_since = spec.successor_since
    members = {(g, m) for g, m in (await session.execute(select(GroupMember.group_id, GroupMember.member_id)))}
    for spec in SEED:
        gid = existing[agency_key(spec.name)].id
        for member in spec.members:
            mid = existing[agency_key(member)].id
            if (gid, mid) not in members:
                session.add(GroupMember(group_id=gid, member_id=mid))
                members.add((gid, mid))
    await session.flush()
    return added
