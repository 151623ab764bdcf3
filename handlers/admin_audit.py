"""/nhatky: the recent rows of the audit log (who, when, what, before → after), newest first.

One-line: /nhatky · /nhatky 30 · /nhatky toi (my changes) · /nhatky viec (task changes only)
Guided: /nhatky typed alone offers the three views as buttons.
"""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any

from sqlalchemy import select

from core.clock import VN
from core.context import AppContext
from core.messages import Incoming, Reply
from handlers import forms
from handlers.admin_common import NOT_ADMIN, actor
from knowledge.models import AuditEntry
from knowledge.text import fold

ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DEFAULT_ROWS = 10
MAX_ROWS = 50
ACTIONS = {
    "import": "nhập kế hoạch", "task.done": "đánh dấu hoàn thành", "task.reopen": "mở lại việc",
    "task.extend": "gia hạn", "task.set_deadline": "đổi hạn", "task.reassign": "đổi cơ quan thực hiện",
    "task.cancel": "hủy việc", "task.edit": "sửa việc", "task.add": "thêm việc", "task.delete": "xóa việc",
    "task.undo": "hoàn tác", "task.extension_request": "xin gia hạn", "task.extension_denied": "từ chối gia hạn",
    "reminder.snooze": "nhắc lại sau", "plan.archive": "lưu trữ kế hoạch", "plan.unarchive": "bỏ lưu trữ kế hoạch",
    "plan.delete": "xóa kế hoạch", "agency.add": "thêm cơ quan", "agency.alias": "thêm tên gọi khác",
    "agency.merge": "gộp cơ quan", "agency.successor": "ghi cơ quan kế thừa", "admin.add": "thêm quản trị viên",
    "admin.remove": "bớt quản trị viên", "focal.add": "đăng ký đầu mối", "focal.approve": "duyệt đầu mối",
    "focal.remove": "gỡ đầu mối", "focal.reject": "từ chối đầu mối", "focal.unreachable": "đầu mối mất liên lạc",
    "reply.undelivered": "tin không gửi được", "task.file_update": "tệp mới thay giá trị quản trị viên đặt",
    "plan.undo": "hoàn tác (kế hoạch)", "agency.undo": "hoàn tác (cơ quan)", "admin.undo": "hoàn tác (quản trị viên)",
    "focal.undo": "hoàn tác (đầu mối)", "import.undo": "hoàn tác nhập kế hoạch", "code.create": "tạo mã đăng ký",
    "code.undo": "hoàn tác tạo mã",
}
USAGE = "Cách dùng: /nhatky [số dòng] — hoặc /nhatky toi (của tôi), /nhatky viec (thay đổi nhiệm vụ)."


HIDDEN = frozenset({"progress_id", "progress_ids", "outbox_id", "position", "snapshot"})  # row ids: noise for a reader
TARGETS = {"task": "việc #", "plan": "kế hoạch #", "agency": "cơ quan #", "focal": "đầu mối #", "outbox": "nhắc #"}


def _value(v: Any) -> str:
    if isinstance(v, dict):
        shown = ", ".join(f"{k}={_value(x)}" for k, x in v.items() if x not in (None, [], {}) and k not in HIDDEN)
        return shown[:100] or "—"
    if isinstance(v, list):
        return "; ".join(_value(x) for x in v[:3]) + (f" (+{len(v) - 3})" if len(v) > 3 else "") if v else "—"
    if isinstance(v, str) and ISO_DAY.match(v):
        return f"{v[8:10]}/{v[5:7]}/{v[:4]}"
    return str(v)[:60] if v is not None else "—"


def _target(target: str) -> str:
    kind, _, ident = target.partition(":")
    return f"{TARGETS[kind]}{ident}" if kind in TARGETS and ident.isdigit() else target


def describe(row: AuditEntry) -> str:
    when = (row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)).astimezone(VN)  # SQLite: naive UTC
    what = ACTIONS.get(row.action, row.action)
    line = f"{when:%d/%m %H:%M} · {row.actor} · {what} · {_target(row.target)}"
    before, after = row.before, row.after
    details = row.details or {}
    if before is None and after is None and ("before" in details or "after" in details):
        before, after = details.get("before"), details.get("after")
    if before is not None or after is not None:
        line += f"\n   {_value(before)} → {_value(after)}"
    elif row.action == "import":
        line += f"\n   {details.get('file', '')}: {details.get('status', '')}"
    return line


async def cmd_log(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    return await _log(ctx, msg, arg)


async def _log(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    if not ctx.is_admin(msg.channel, msg.user_id):
        return [Reply(NOT_ADMIN)]
    key = fold(arg, expand=False)
    q = select(AuditEntry).order_by(AuditEntry.id.desc())
    n = DEFAULT_ROWS
    if key.isdigit():
        n = min(max(int(key), 1), MAX_ROWS)
    elif key == "toi":
        q = q.where(AuditEntry.actor == actor(msg))
    elif key == "viec":
        q = q.where(AuditEntry.action.like("task.%"))
    elif key != "all":
        return [Reply(USAGE)]
    async with ctx.db.session() as s:
        rows = list((await s.scalars(q.limit(n))).all())
    if not rows:
        return [Reply("Nhật ký chưa có dòng nào.")]
    return [Reply(f"🗒 {len(rows)} thay đổi gần nhất:\n" + "\n".join(describe(r) for r in rows))]


async def _views(_ctx: AppContext, _values: dict[str, str]) -> list[tuple[str, str]]:
    return [("10 thay đổi gần nhất", "all"), ("Thay đổi của tôi", "toi"), ("Thay đổi nhiệm vụ", "viec")]


forms.register(forms.Form("nhatky", (forms.Step("view", "Xem nhật ký nào?", _views, typed=False),),
                          lambda ctx, msg, v: _log(ctx, msg, v["view"])))
