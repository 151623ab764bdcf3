"""What every handler and job gets: the store, the clock, the settings, who the admins are.

The store's type is only named for the type checker: the core imports no layer above it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.clock import Clock
from core.settings import Settings

if TYPE_CHECKING:
    from knowledge.db import Database


@dataclass
class AppContext:
    db: Database
    clock: Clock = field(default_factory=Clock)
    admins: frozenset[str] = frozenset()  # "channel:user_id"
    settings: Settings = field(default_factory=Settings)
    # Caches owned by the modules that fill them (search index, registry), keyed by module name.
    cache: dict[str, Any] = field(default_factory=dict)

    def is_admin(self, channel: str, user_id: str) -> bool:
        return f"{channel}:{user_id}" in self.admins
