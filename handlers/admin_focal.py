"""/daumoi: focal points (cán bộ đầu mối) by agency, those the bot cannot reach (blocked it, left the
group), and removing one (after a confirmation). Approving or rejecting registrations is /duyet.

One-line: /daumoi Sở Tài chính · /daumoi khongnhan · /daumoi xoa 12
Guided: /daumoi asks which agency (or the unreachable ones); each listed focal point has a button.
Buttons: "dm:rm:<id>" (asks), "dm:rmok:<id>".
"""

from __future__ import annotations

from sqlalchemy import select

from core.context import AppContext
from core.messages import Choice, Incoming, Reply
from handlers import forms
from handlers.admin_common import NOT_ADMIN, Refused, actor, confirm, resolve_agency
from knowledge import focal_points
from knowledge.agencies import Registry
from knowledge.models import Agency, FocalPoint
from knowledge.text import fold

PREFIX = "dm:"
UNREACHABLE = "khongnhan"
STATUS = {"approved": "đã duyệt", "pending": "chờ duyệt", "unreachable": "không nhận được tin", "removed": "đã gỡ"}
USAGE = ("Cách dùng /daumoi:\n"
         "/daumoi <tên cơ quan> — danh sách cán bộ đầu mối của cơ quan\n"
         "/daumoi khongnhan — những người không nhận được tin (đã chặn bot, rời nhóm)\n"
         "/daumoi xoa <mã> — gỡ một cán bộ đầu mối (có xác nhận)\n"
         "Gõ /daumoi để được hỏi từng bước.")


async def cmd_focal(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    head, _, rest = arg.partition(" ")
    if fold(head, expand=False) == "xoa":
        ident = rest.strip().lstrip("#")
        if not ident.isdigit():
            return [Reply(USAGE)]
        return await _remove(ctx, msg, int(ident), confirmed=False)
    return await _list(ctx, msg, arg)


async def _first_step(_ctx: AppContext, _values: dict[str, str]) -> list[tuple[str, str]]:
    return [("Những người không nhận được tin", UNREACHABLE)]


forms.register(forms.Form("daumoi", (forms.Step(
    "agency", "Xem cán bộ đầu mối của cơ quan nào? Gõ tên cơ quan, hoặc chọn:", _first_step),),
    lambda ctx, msg, v: _list(ctx, msg, v["agency"])))


def _line(n: int, fp: FocalPoint, agency: str = "") -> str:
    who = fp.name or f"người dùng {fp.user_id or fp.chat_id}"
    where = f" — {agency}" if agency else ""
    return f"{n}. {who} ({fp.channel}, mã {fp.id}){where} — {STATUS.get(fp.status, fp.status)}"


async def _list(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    if not ctx.is_admin(msg.channel, msg.user_id):
        return [Reply(NOT_ADMIN)]
    async with ctx.db.session() as s:
        if fold(arg, expand=False).replace(" ", "") == UNREACHABLE:
            rows = await focal_points.list_focal_points(s, statuses=[focal_points.UNREACHABLE])
            names = {r[0]: r[1] for r in await s.execute(select(Agency.id, Agency.name))}
            if not rows:
                return [Reply("Không có cán bộ đầu mối nào bị mất liên lạc.")]
            lines = [f"{len(rows)} cán bộ đầu mối không nhận được tin (đã chặn bot hoặc rời nhóm):"]
            lines += [_line(n, fp, names.get(fp.agency_id, "")) for n, fp in enumerate(rows, 1)]
            return [Reply("\n".join(lines), [Choice(f"{n}. Gỡ {fp.name or fp.id}", f"{PREFIX}rm:{fp.id}")
                                             for n, fp in enumerate(rows, 1)])]
        registry = await Registry.load(s)
        try:
            info = resolve_agency(registry, arg)
        except Refused as e:
            return [Reply(str(e))]
        rows = await focal_points.list_focal_points(s, agency_ids=[info.id], statuses=[
            focal_points.APPROVED, focal_points.PENDING, focal_points.UNREACHABLE])
    if not rows:
        return [Reply(f"{info.name} chưa có cán bộ đầu mối nào. Dùng /taoma {info.name} để tạo mã đăng ký.")]
    lines = [f"Cán bộ đầu mối của {info.name} ({len(rows)}):"] + [_line(n, fp) for n, fp in enumerate(rows, 1)]
    lines.append("Bấm để gỡ một người.")
    return [Reply("\n".join(lines), [Choice(f"{n}. Gỡ {fp.name or fp.id}", f"{PREFIX}rm:{fp.id}")
                                     for n, fp in enumerate(rows, 1)])]


async def on_choice(ctx: AppContext, msg: Incoming) -> list[Reply]:
    parts = (msg.choice or "").split(":")
    if len(parts) != 3 or not parts[2].isdigit() or parts[1] not in ("rm", "rmok"):
        return [Reply("Lựa chọn không hợp lệ.")]
    return await _remove(ctx, msg, int(parts[2]), confirmed=parts[1] == "rmok")


async def _remove(ctx: AppContext, msg: Incoming, focal_id: int, *, confirmed: bool) -> list[Reply]:
    if not ctx.is_admin(msg.channel, msg.user_id):
        return [Reply(NOT_ADMIN)]
    async with ctx.db.session() as s:
        fp = await s.get(FocalPoint, focal_id)
        if fp is None or fp.status == focal_points.REMOVED:
            return [Reply(f"Không có cán bộ đầu mối mã {focal_id} (hoặc đã được gỡ).")]
        agency = await s.get(Agency, fp.agency_id)
        who = f"{fp.name or 'người dùng ' + (fp.user_id or fp.chat_id)} ({agency.name if agency else ''})"
        if not confirmed:
            return await confirm(ctx, msg, f"Gỡ {who} khỏi danh sách cán bộ đầu mối? Người này sẽ không nhận "
                                 "nhắc việc nữa.", "Gỡ", f"{PREFIX}rmok:{fp.id}")
        await focal_points.remove(s, fp.id, actor(msg))
        await s.commit()
    return [Reply(f"Đã gỡ {who}.")]
