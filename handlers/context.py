"""What every handler gets: the store, the clock, who the admins are."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from knowledge.clock import Clock
from knowledge.db import Database


@dataclass
class AppContext:
    db: Database
    clock: Clock = field(default_factory=Clock)
    admins: frozenset[str] = frozenset()  # "channel:user_id"
    # Caches owned by the modules that fill them (search index, registry), keyed by module name.
    cache: dict[str, Any] = field(default_factory=dict)

    def is_admin(self, channel: str, user_id: str) -> bool:
        return f"{channel}:{user_id}" in self.admins
