"""Placeholder: sub-commands of this module are not built yet."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> dict[str, Any]:
    return {}
