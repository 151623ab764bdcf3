"""Placeholder until this module is built: recognises nothing."""

from __future__ import annotations

from handlers.context import AppContext
from handlers.messages import Incoming, Reply


async def handle(ctx: AppContext, msg: Incoming) -> list[Reply] | None:
    return None
