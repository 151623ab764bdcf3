"""An admin's change typed as a sentence ("Đổi hạn việc II.1 KH 125 thành 25/12/2026", "Danh sách cán
bộ đầu mối của Sở Tài chính") is the command it says, not a question: the router asks here before
questions, for admins only. Each phrase is one line: its folded opening words and its command."""

from __future__ import annotations

from core.context import AppContext
from core.messages import Incoming, Reply
from handlers import commands
from handlers.task_lookup import strip_noise
from knowledge.text import fold

PHRASES = (
    ("doi han", "doihan"),
    ("gia han", "giahan"),
    ("danh sach can bo dau moi", "daumoi"),
    ("danh sach dau moi", "daumoi"),
    ("thong ke", "thongke"),
    ("hoan tac", "hoantac"),
)


async def run(ctx: AppContext, msg: Incoming) -> list[Reply] | None:
    """The command's reply when an admin's text opens with one of the phrases; None otherwise."""
    if not msg.text or not ctx.is_admin(msg.channel, msg.user_id):
        return None
    words = msg.text.split()
    folded = fold(msg.text, expand=False)
    for phrase, name in PHRASES:
        if folded == phrase or folded.startswith(phrase + " "):
            command = commands.find(name)
            if command is None:
                return None
            arg = strip_noise(" ".join(words[len(phrase.split()):]))
            return await commands.invoke(ctx, msg, command, arg)
    return None
