"""The one entry point channels call: a normalised message in, replies out.

Each handler module answers what it recognises and returns None otherwise; the order below
decides who gets a message first (registration and reminder buttons before free questions).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from core.context import AppContext
from core.messages import Incoming, Reply
from handlers import questions, registration, reminder_actions
from knowledge.text import nfc

log = logging.getLogger(__name__)

SORRY = "Xin lỗi, đã có lỗi khi xử lý tin nhắn của bạn. Vui lòng thử lại sau ít phút."


async def handle(ctx: AppContext, msg: Incoming) -> list[Reply]:
    """Answer one message; never raises (an unexpected error becomes a polite reply)."""
    msg = replace(msg, text=nfc(msg.text or "").strip())
    try:
        for module in (registration, reminder_actions, questions):
            replies = await module.handle(ctx, msg)
            if replies is not None:
                return replies
    except Exception:
        log.exception("handler failed on %s", msg)
        return [Reply(SORRY)]
    return []
