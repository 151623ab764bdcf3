"""Becoming an agency's focal point (cán bộ đầu mối) and leaving it; admins approve, issue codes.

Commands (declared in handlers.commands; any channel; accents and case do not matter in agency names):
  /dangky <tên cơ quan>  ask to answer for an agency: the request goes to the admins with buttons
  /dangky <mã>, /start <mã>  an admin-issued code approves at once (Telegram deep link t.me/<bot>?start=<mã>)
  /lienket [mã]  a one-use code (24 h) to link this chat's registrations to another channel; typed there, joins
  /huydangky [tên cơ quan]  stop being a focal point (of every agency, or of the one named)
  /taoma <tên cơ quan>  (admins) issue a one-use code, valid CODE_DAYS days
  /duyet  (admins) list the requests waiting for approval
Buttons: "reg:ok:<focal_id>" / "reg:no:<focal_id>" (admins), "reg:ask:<agency_id>" (pick a suggested agency).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

from rapidfuzz import fuzz, process
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import VN
from core.context import AppContext
from core.messages import Choice, Incoming, Reply
from knowledge import focal_points
from knowledge.agencies import AgencyInfo, Registry, agency_key
from knowledge.models import RegistrationCode
from knowledge.text import fold

log = logging.getLogger(__name__)

CODE_DAYS = 7
_CODE = re.compile(r"^[A-Za-z0-9]{6,12}$")
USERNAME_CACHE = "telegram.username"  # ctx.cache key the Telegram channel fills with the bot's @name

LINK_HOURS = 24  # a link code is typed on the other phone app within the day
LINK_USED = "Mã liên kết này đã được dùng. Gõ /lienket trên kênh đã đăng ký để nhận mã mới."
LINK_EXPIRED = "Mã liên kết đã hết hạn. Gõ /lienket trên kênh đã đăng ký để nhận mã mới."

USAGE = ("Để đăng ký làm cán bộ đầu mối, gõ: /dangky <tên cơ quan>\n"
         "Ví dụ: /dangky Sở Tài chính\n"
         "Nếu quản trị viên đã gửi mã đăng ký cho bạn, gõ: /dangky <mã>")


# ---- helpers --------------------------------------------------------------------------------

def who(msg: Incoming) -> str:
    """The actor string recorded in audit entries and approved_by."""
    return f"{msg.channel}:{msg.user_id}"


def admin_replies(ctx: AppContext, text: str, choices: list[Choice] | None = None) -> list[Reply]:
    """One message to each admin, in their own channel (their private chat: chat id = user id)."""
    out = []
    for admin in sorted(ctx.admins):
        channel, _, user_id = admin.partition(":")
        if channel and user_id:
            out.append(Reply(text, list(choices or []), chat_id=user_id, channel=channel))
    return out


def _person(msg: Incoming) -> str:
    return msg.user_name or f"người dùng {msg.user_id}"


def _aware(at: datetime) -> datetime:
    """SQLite gives back naive datetimes: they were stored as UTC."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)


async def _registry(session: AsyncSession) -> Registry:
    return await Registry.load(session)


def _suggest(reg: Registry, name: str, limit: int = 3) -> list[AgencyInfo]:
    """Agencies whose names look like what was typed, for a "did you mean" list."""
    choices = {aid: fold(info.name) for aid, info in reg.by_id.items() if not info.is_group and not info.successor_id}
    found = process.extract(agency_key(name), choices, scorer=fuzz.WRatio, limit=limit, score_cutoff=60)
    return [reg.by_id[aid] for _, _, aid in found]


async def _find_agency(session: AsyncSession, name: str) -> tuple[AgencyInfo | None, list[AgencyInfo], Registry]:
    """The current agency a name means (merged agencies resolve to their successor) or suggestions."""
    reg = await _registry(session)
    info = reg.lookup(name)
    if info is None:
        return None, _suggest(reg, name), reg
    return reg.current(info.id), [], reg


# ---- /dangky --------------------------------------------------------------------------------

async def cmd_register(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    if not arg:
        return [Reply(USAGE)]
    if _CODE.match(arg):
        async with ctx.db.session() as s:
            code = await s.get(RegistrationCode, arg.upper())
        if code is not None:
            return await use_code(ctx, msg, arg)
    async with ctx.db.session() as s:
        info, suggestions, reg = await _find_agency(s, arg)
    if info is None:
        if not suggestions:
            return [Reply(f'Không tìm thấy cơ quan "{arg}". Vui lòng gõ đúng tên cơ quan, ví dụ: /dangky Sở Tài chính')]
        return [Reply(f'Không tìm thấy cơ quan "{arg}". Có phải bạn muốn đăng ký cho:',
                      [Choice(a.name, f"reg:ask:{a.id}") for a in suggestions])]
    return await _request(ctx, msg, info, reg)


async def _request(ctx: AppContext, msg: Incoming, info: AgencyInfo, reg: Registry) -> list[Reply]:
    """Ask to answer for one agency: pending (admins asked) or, for an admin, approved at once."""
    if info.is_group:
        return [Reply(f"{info.name} là một nhóm cơ quan. Vui lòng đăng ký theo tên một cơ quan cụ thể.")]
    async with ctx.db.session() as s:
        existing = {f.agency_id: f for f in await focal_points.get_by_chat(s, msg.channel, msg.chat_id)}
        current = existing.get(info.id)
        if current is not None and current.status == focal_points.APPROVED:
            return [Reply(f"Bạn đã là cán bộ đầu mối của {info.name}.")]
        approver = who(msg) if ctx.is_admin(msg.channel, msg.user_id) else None
        row = await focal_points.add(s, info.id, msg.channel, msg.chat_id, user_id=msg.user_id,
                                     name=msg.user_name or None, approved_by=approver)
        await s.commit()
        focal_id = row.id
    if approver:
        return [Reply(f"Đã đăng ký bạn làm cán bộ đầu mối của {info.name}. "
                      "Bạn sẽ nhận nhắc việc về các nhiệm vụ của cơ quan này.")]
    notices = admin_replies(
        ctx,
        f"Yêu cầu đăng ký cán bộ đầu mối:\n{_person(msg)} ({msg.channel}, mã người dùng {msg.user_id}) "
        f"xin làm đầu mối của {info.name}.",
        [Choice("Duyệt", f"reg:ok:{focal_id}"), Choice("Từ chối", f"reg:no:{focal_id}")],
    )
    if not notices:
        return [Reply(f"Đã ghi nhận yêu cầu làm cán bộ đầu mối của {info.name}, nhưng hệ thống chưa có quản trị "
                      "viên để duyệt. Vui lòng liên hệ đơn vị quản lý để được duyệt hoặc nhận mã đăng ký.")]
    return [Reply(f"Đã gửi yêu cầu làm cán bộ đầu mối của {info.name} tới quản trị viên. "
                  "Bạn sẽ nhận tin nhắn khi yêu cầu được duyệt."), *notices]


# ---- codes ----------------------------------------------------------------------------------

async def use_code(ctx: AppContext, msg: Incoming, raw: str) -> list[Reply]:
    """Approve at once with a valid, unused, unexpired code; anything else changes nothing."""
    async with ctx.db.session() as s:
        code = await s.get(RegistrationCode, raw.strip().upper())
        if code is None:
            return [Reply("Mã đăng ký không đúng. Vui lòng kiểm tra lại mã, hoặc gõ /dangky <tên cơ quan> "
                          "để gửi yêu cầu tới quản trị viên.")]
        if code.used_by is not None:
            if code.link_chat:
                return [Reply(LINK_USED)]
            return [Reply("Mã đăng ký này đã được dùng. Vui lòng xin quản trị viên một mã mới.")]
        if _aware(code.expires_at) < ctx.clock.now():
            if code.link_chat:
                return [Reply(LINK_EXPIRED)]
            return [Reply("Mã đăng ký đã hết hạn. Vui lòng xin quản trị viên một mã mới.")]
        if code.link_chat:
            return await _join(ctx, msg, s, code)
        reg = await _registry(s)
        info = reg.current(code.agency_id)
        row = await focal_points.add(s, info.id, msg.channel, msg.chat_id, user_id=msg.user_id,
                                     name=msg.user_name or None, approved_by=f"code:{code.code}:{code.created_by}")
        code.used_by = row.id
        await s.commit()
    return [Reply(f"Đã đăng ký bạn làm cán bộ đầu mối của {info.name}. "
                  "Bạn sẽ nhận nhắc việc về các nhiệm vụ của cơ quan này. Gõ /viec để xem các việc của cơ quan."),
            *admin_replies(ctx, f"{_person(msg)} đã dùng mã {code.code} để làm cán bộ đầu mối của {info.name}.")]


async def cmd_create_code(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    if not ctx.is_admin(msg.channel, msg.user_id):
        return [Reply("Chỉ quản trị viên mới tạo được mã đăng ký.")]
    if not arg:
        return [Reply("Gõ: /taoma <tên cơ quan>, ví dụ: /taoma Sở Tài chính")]
    async with ctx.db.session() as s:
        info, suggestions, _ = await _find_agency(s, arg)
        if info is None:
            hint = ("Có phải: " + "; ".join(a.name for a in suggestions) + "?") if suggestions else ""
            return [Reply(f'Không tìm thấy cơ quan "{arg}". {hint}'.strip())]
        if info.is_group:
            return [Reply(f"{info.name} là một nhóm cơ quan: hãy tạo mã cho từng cơ quan.")]
        expires = ctx.clock.now() + timedelta(days=CODE_DAYS)
        value = await focal_points.issue_code(s, info.id, who(msg), expires)
        await s.commit()
    lines = [f"Mã đăng ký cán bộ đầu mối của {info.name}: {value}",
             f"Hết hạn: {expires.astimezone(VN):%d/%m/%Y}. Mỗi mã dùng một lần.",
             f"Người nhận gõ: /dangky {value}"]
    username = ctx.cache.get(USERNAME_CACHE)
    if username:
        lines.append(f"Hoặc bấm đường dẫn: https://t.me/{username}?start={value}")
    return [Reply("\n".join(lines))]


# ---- one person on several channels (/lienket) ---------------------------------------------

async def cmd_link(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    """/lienket: a one-use code for this chat's registrations; /lienket <mã> on the other channel uses it."""
    if arg:
        return await use_code(ctx, msg, arg)
    expires = ctx.clock.now() + timedelta(hours=LINK_HOURS)
    async with ctx.db.session() as s:
        value = await focal_points.issue_link_code(s, msg.channel, msg.chat_id, who(msg), expires)
        await s.commit()
    if value is None:
        return [Reply("Bạn chưa là cán bộ đầu mối (đã duyệt) của cơ quan nào trên kênh này, nên chưa có gì để "
                      "liên kết. Gõ /dangky <tên cơ quan> để đăng ký.")]
    return [Reply(f"Mã liên kết tài khoản: {value}\n"
                  f"Trên kênh kia (Telegram hoặc Zalo), gõ: /lienket {value}\n"
                  f"Mã dùng một lần, hết hạn lúc {expires.astimezone(VN):%H:%M %d/%m/%Y}. Nhắc việc vẫn gửi một "
                  "lần cho bạn; khi một kênh không gửi được, nhắc việc đi qua kênh còn lại.")]


async def _join(ctx: AppContext, msg: Incoming, s: AsyncSession, code: RegistrationCode) -> list[Reply]:
    """A link code typed on another channel: this chat answers for the same agencies, approved alike."""
    assert code.link_chat is not None
    if code.link_chat.partition(":")[0] == msg.channel:
        return [Reply("Mã liên kết dùng trên kênh khác với kênh đã đăng ký (ví dụ: đăng ký trên Telegram thì "
                      "gõ mã trên Zalo).")]
    rows = await focal_points.link(s, code, msg.channel, msg.chat_id, user_id=msg.user_id,
                                   name=msg.user_name or None)
    if not rows:
        return [Reply("Tài khoản gốc không còn là cán bộ đầu mối của cơ quan nào; không có gì để liên kết.")]
    code.used_by = rows[0].id
    reg = await _registry(s)
    await s.commit()
    names = ", ".join(dict.fromkeys(reg.by_id[r.agency_id].name for r in rows))
    return [Reply(f"Đã liên kết: tài khoản này cũng là cán bộ đầu mối của {names}. Gõ /viec để xem các việc.")]


# ---- admins' decisions ----------------------------------------------------------------------

async def on_choice(ctx: AppContext, msg: Incoming) -> list[Reply]:
    """The buttons "reg:ask|ok|no:<id>" (or a typed number that picks one)."""
    action, _, raw_id = (msg.choice or "")[len("reg:"):].partition(":")
    if not raw_id.isdigit():
        return [Reply("Lựa chọn không hợp lệ.")]
    if action == "ask":
        async with ctx.db.session() as s:
            reg = await _registry(s)
        if int(raw_id) not in reg.by_id:
            return [Reply("Không tìm thấy cơ quan này.")]
        return await _request(ctx, msg, reg.current(int(raw_id)), reg)
    if action not in ("ok", "no"):
        return [Reply("Lựa chọn không hợp lệ.")]
    if not ctx.is_admin(msg.channel, msg.user_id):
        return [Reply("Chỉ quản trị viên mới duyệt được yêu cầu đăng ký.")]
    async with ctx.db.session() as s:
        row = await focal_points.get(s, int(raw_id))
        if row is None:
            return [Reply("Không tìm thấy yêu cầu đăng ký này.")]
        reg = await _registry(s)
        agency = reg.by_id[row.agency_id].name
        if row.status != focal_points.PENDING:
            state = {"approved": "đã được duyệt", "removed": "đã bị từ chối hoặc hủy",
                     "unreachable": "không liên lạc được"}.get(row.status, row.status)
            return [Reply(f"Yêu cầu của {row.name or row.chat_id} ({agency}) {state} trước đó; không thay đổi gì.")]
        if action == "ok":
            await focal_points.approve(s, row.id, who(msg))
        else:
            await focal_points.reject(s, row.id, who(msg))
        await s.commit()
        chat_id, channel, person = row.chat_id, row.channel, row.name or row.chat_id
    if action == "ok":
        return [Reply(f"Đã duyệt: {person} là cán bộ đầu mối của {agency}."),
                Reply(f"Yêu cầu làm cán bộ đầu mối của {agency} đã được duyệt. Bạn sẽ nhận nhắc việc về các "
                      "nhiệm vụ của cơ quan này. Gõ /viec để xem các việc.", chat_id=chat_id, channel=channel)]
    return [Reply(f"Đã từ chối yêu cầu của {person} ({agency})."),
            Reply(f"Yêu cầu làm cán bộ đầu mối của {agency} chưa được chấp thuận. "
                  "Vui lòng liên hệ quản trị viên nếu cần.", chat_id=chat_id, channel=channel)]


async def cmd_pending(ctx: AppContext, msg: Incoming, arg: str = "") -> list[Reply]:
    if not ctx.is_admin(msg.channel, msg.user_id):
        return [Reply("Chỉ quản trị viên mới xem được các yêu cầu đăng ký.")]
    async with ctx.db.session() as s:
        rows = await focal_points.pending(s)
        reg = await _registry(s)
    if not rows:
        return [Reply("Không có yêu cầu đăng ký nào đang chờ duyệt.")]
    return [Reply(f"{i}. {r.name or r.chat_id} ({r.channel}) xin làm đầu mối của {reg.by_id[r.agency_id].name}",
                  [Choice("Duyệt", f"reg:ok:{r.id}"), Choice("Từ chối", f"reg:no:{r.id}")])
            for i, r in enumerate(rows[:20], 1)]


# ---- /huydangky -----------------------------------------------------------------------------

async def cmd_unregister(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    async with ctx.db.session() as s:
        rows = await focal_points.get_by_chat(s, msg.channel, msg.chat_id)
        if not rows:
            return [Reply("Bạn chưa đăng ký làm cán bộ đầu mối của cơ quan nào.")]
        reg = await _registry(s)
        if arg:
            info = reg.lookup(arg)
            wanted = {reg.current(info.id).id, info.id} if info else set()
            rows = [r for r in rows if r.agency_id in wanted]
            if not rows:
                return [Reply(f'Bạn không phải cán bộ đầu mối của "{arg}". Gõ /huydangky để hủy tất cả.')]
        for r in rows:
            await focal_points.remove(s, r.id, who(msg))
        await s.commit()
        names = ", ".join(reg.by_id[r.agency_id].name for r in rows)
    return [Reply(f"Đã hủy đăng ký cán bộ đầu mối của {names}. Bạn sẽ không nhận nhắc việc của cơ quan này nữa."),
            *admin_replies(ctx, f"{_person(msg)} đã hủy đăng ký cán bộ đầu mối của {names}.")]


# ---- a chat that blocked the bot ------------------------------------------------------------

async def revive_chat(ctx: AppContext, channel: str, chat_id: str) -> int:
    """A chat marked unreachable wrote again (knowledge.focal_points.revive)."""
    async with ctx.db.session() as s:
        n = await focal_points.revive(s, channel, chat_id)
        if n:
            await s.commit()
    return n


async def mark_chat_unreachable(ctx: AppContext, channel: str, chat_id: str, reason: str = "") -> list[Reply]:
    """A reply bounced because the user blocked the bot: knowledge.focal_points.mark_unreachable, and
    its notice as replies to the admins (none when there is nothing new to say)."""
    async with ctx.db.session() as s:
        notice = await focal_points.mark_unreachable(s, channel, chat_id, reason)
        await s.commit()
    return admin_replies(ctx, notice) if notice else []
