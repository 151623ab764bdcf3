"""The one table of chat commands: each declared once, with who may use it, its Vietnamese
description and its handler. The Telegram menu (setMyCommands), the /help text and the router's
command dispatch all read this table; a new command is one line here.

Who may use a command: EVERYONE; REGISTERED (the chat is a focal point, approved or waiting);
ADMIN (listed in NHACVIEC_ADMINS). Admins may use every command.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum

from core.context import AppContext
from core.messages import Incoming, Reply
from handlers import (
    admin_agencies,
    admin_audit,
    admin_focal,
    admin_plans,
    admin_status,
    admin_tasks,
    admin_users,
    forms,
    questions,
    registration,
)
from knowledge import focal_points
from knowledge.text import fold

Handler = Callable[[AppContext, Incoming, str], Awaitable[list[Reply]]]
_COMMAND = re.compile(r"^/(\w+)(?:@\w+)?(?:\s+(.*))?$", re.S)


class Audience(Enum):
    EVERYONE = "everyone"
    REGISTERED = "registered"
    ADMIN = "admin"


@dataclass(frozen=True)
class Command:
    name: str  # without the slash, as typed (lower case, no accents)
    audience: Audience
    description: str  # Vietnamese, one line: the menu and /help show it
    handler: Handler
    usage: str = ""  # what follows the command in /help ("<tên cơ quan>")
    aliases: tuple[str, ...] = ()
    form: str = ""  # the guided form (handlers/forms.py) a bare command starts; "" = the handler takes it


async def invoke(ctx: AppContext, msg: Incoming, command: Command, arg: str) -> list[Reply]:
    """Run a command the sender may use: a bare command with a form asks its first question, so every
    admin command can be done step by step on a phone; otherwise the handler gets the typed words."""
    if not arg and command.form:
        return await forms.start(ctx, msg, command.form)
    return await command.handler(ctx, msg, arg)


def parse_command(text: str) -> tuple[str, str] | None:
    """("dangky", "Sở Tài chính") from "/dangky@bot Sở Tài chính"; None when text is no command."""
    m = _COMMAND.match(text.strip())
    if not m:
        return None
    return fold(m.group(1), expand=False).replace(" ", ""), (m.group(2) or "").strip()


async def _start(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    """/start <mã> is the deep link t.me/<bot>?start=<mã> of a registration code; plain /start greets."""
    if arg:
        return await registration.use_code(ctx, msg, arg)
    return await questions.cmd_start(ctx, msg, arg)


async def _help(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    return [Reply(await help_text(ctx, msg))]


COMMANDS: tuple[Command, ...] = (
    Command("start", Audience.EVERYONE, "Bắt đầu; kèm mã để đăng ký đầu mối", _start, "[mã]"),
    Command("help", Audience.EVERYONE, "Hướng dẫn sử dụng", _help, aliases=("huongdan", "trogiup")),
    Command("hoi", Audience.EVERYONE, "Hỏi về nhiệm vụ", questions.cmd_ask, "<câu hỏi>"),
    Command("viec", Audience.EVERYONE, "Các việc của cơ quan tôi", questions.cmd_my_tasks),
    Command("saphan", Audience.EVERYONE, "Các việc sắp đến hạn", questions.cmd_due_soon),
    Command("quahan", Audience.EVERYONE, "Các việc đã quá hạn", questions.cmd_overdue),
    Command("dangky", Audience.EVERYONE, "Đăng ký làm cán bộ đầu mối", registration.cmd_register,
            "<tên cơ quan>"),
    Command("lienket", Audience.EVERYONE, "Liên kết tài khoản Telegram và Zalo (nhận mã, gõ mã ở kênh kia)",
            registration.cmd_link, "[mã]"),
    Command("huydangky", Audience.REGISTERED, "Hủy đăng ký cán bộ đầu mối", registration.cmd_unregister,
            "[tên cơ quan]"),
    Command("taoma", Audience.ADMIN, "Tạo mã đăng ký đầu mối cho một cơ quan", registration.cmd_create_code,
            "<tên cơ quan>"),
    Command("duyet", Audience.ADMIN, "Xem các yêu cầu đăng ký chờ duyệt", registration.cmd_pending),
    Command("kehoach", Audience.ADMIN, "Kế hoạch: xem, lưu trữ, xóa", admin_plans.cmd_plans,
            "[luutru|boluutru|xoa] [số KH]"),
    Command("coquan", Audience.ADMIN, "Cơ quan: thêm, tên gọi khác, gộp, kế thừa", admin_agencies.cmd_agencies,
            "[them|tenkhac|gop|kethua] ...", form="coquan"),
    Command("daumoi", Audience.ADMIN, "Cán bộ đầu mối theo cơ quan; người mất liên lạc; gỡ", admin_focal.cmd_focal,
            "[tên cơ quan|khongnhan|xoa mã]", form="daumoi"),
    Command("quantri", Audience.ADMIN, "Quản trị viên: xem, thêm, bớt", admin_users.cmd_admins,
            "[them|bot] [mã người dùng]"),
    Command("thongke", Audience.ADMIN, "Thống kê tình hình thực hiện", admin_status.cmd_status,
            "[cơ quan|số KH]", form="thongke"),
    Command("bieudo", Audience.ADMIN, "Biểu đồ tình hình thực hiện (ảnh)", admin_status.cmd_chart,
            "[cơ quan|số KH]", form="bieudo"),
    Command("xuat", Audience.ADMIN, "Xuất bảng tính Excel các nhiệm vụ", admin_status.cmd_export,
            "[số KH|cơ quan]", form="xuat"),
    Command("lich", Audience.ADMIN, "Lịch hạn nhiệm vụ của một cơ quan (.ics)", admin_status.cmd_calendar,
            "<tên cơ quan>", form="lich"),
    Command("suaviec", Audience.ADMIN, "Xem và sửa một việc (chủ trì, phối hợp, báo cáo về, nội dung)",
            admin_tasks.cmd_show, "[KH số mục] [chutri:|phoihop:|baocao:|noidung: ...]", form="viec.show"),
    Command("doihan", Audience.ADMIN, "Đổi hạn một việc", admin_tasks.cmd_deadline,
            "[KH số mục dd/mm/yyyy]", form="viec.han"),
    Command("giahan", Audience.ADMIN, "Gia hạn một việc (giữ hạn gốc, ghi lý do)", admin_tasks.cmd_extend,
            "[KH số mục dd/mm/yyyy lý do]", form="viec.giahan"),
    Command("xong", Audience.ADMIN, "Ghi nhận một việc đã hoàn thành", admin_tasks.cmd_done,
            "[KH số mục] [dd/mm/yyyy]", form="viec.xong"),
    Command("molai", Audience.ADMIN, "Mở lại một việc đã ghi hoàn thành", admin_tasks.cmd_reopen,
            "[KH số mục]", form="viec.molai"),
    Command("huyviec", Audience.ADMIN, "Hủy một việc (có xác nhận)", admin_tasks.cmd_cancel,
            "[KH số mục]", form="viec.huy"),
    Command("xoaviec", Audience.ADMIN, "Xóa hẳn một việc (có xác nhận)", admin_tasks.cmd_delete,
            "[KH số mục]", form="viec.xoa"),
    Command("themviec", Audience.ADMIN, "Thêm một việc vào kế hoạch", admin_tasks.cmd_add,
            "[KH số | mục | nội dung | chủ trì | hạn]", form="viec.them"),
    Command("hoantac", Audience.ADMIN, "Hoàn tác thay đổi gần nhất của tôi",
            admin_tasks.cmd_undo),
    Command("nhatky", Audience.ADMIN, "Nhật ký thay đổi gần đây", admin_audit.cmd_log,
            "[số dòng|toi|viec]", form="nhatky"),
)

_BY_NAME = {n: c for c in COMMANDS for n in (c.name, *c.aliases)}
REFUSED = {
    Audience.ADMIN: "Chỉ quản trị viên mới dùng được lệnh /{name}.",
    Audience.REGISTERED: "Bạn chưa đăng ký làm cán bộ đầu mối của cơ quan nào, nên chưa dùng được lệnh /{name}. "
                         "Gõ /dangky <tên cơ quan> để đăng ký.",
}


def find(name: str) -> Command | None:
    return _BY_NAME.get(name)


def menu(audience: Audience = Audience.REGISTERED) -> list[tuple[str, str]]:
    """(command, description) pairs for a platform's command menu: the commands of that audience and below."""
    allowed = _allowed_audiences(audience)
    return [(c.name, _menu_text(c)) for c in COMMANDS if c.audience in allowed]


def _menu_text(c: Command) -> str:
    return f"{c.description}: /{c.name} {c.usage}" if c.usage.startswith("<") else c.description


def _allowed_audiences(audience: Audience) -> set[Audience]:
    if audience is Audience.ADMIN:
        return set(Audience)
    if audience is Audience.REGISTERED:
        return {Audience.EVERYONE, Audience.REGISTERED}
    return {Audience.EVERYONE}


async def audience_of(ctx: AppContext, msg: Incoming) -> Audience:
    """The widest audience this sender belongs to."""
    if ctx.is_admin(msg.channel, msg.user_id):
        return Audience.ADMIN
    async with ctx.db.session() as s:
        registered = bool(await focal_points.get_by_chat(s, msg.channel, msg.chat_id))
    return Audience.REGISTERED if registered else Audience.EVERYONE


async def usable(ctx: AppContext, msg: Incoming) -> list[Command]:
    """The commands this sender may use, in the table's order."""
    allowed = _allowed_audiences(await audience_of(ctx, msg))
    return [c for c in COMMANDS if c.audience in allowed]


async def command_lines(ctx: AppContext, msg: Incoming) -> str:
    lines = []
    for c in await usable(ctx, msg):
        usage = f" {c.usage}" if c.usage else ""
        mark = " (quản trị)" if c.audience is Audience.ADMIN else ""
        lines.append(f"/{c.name}{usage} — {c.description}{mark}")
    return "\n".join(lines)


async def help_text(ctx: AppContext, msg: Incoming) -> str:
    """/help: example questions, then every command this sender may use (admins see theirs)."""
    return f"{await questions.help_examples(ctx)}\nCác lệnh:\n{await command_lines(ctx, msg)}"


async def run(ctx: AppContext, msg: Incoming) -> list[Reply] | None:
    """The reply to a command, or None when the text is no command. An unknown command, or one this
    sender may not use, gets a clear Vietnamese reply and changes nothing."""
    parsed = parse_command(msg.text)
    if parsed is None:
        return None
    name, arg = parsed
    command = find(name)
    if command is None:
        return [Reply(f"Không rõ lệnh /{name}. Các lệnh bạn dùng được:\n{await command_lines(ctx, msg)}")]
    allowed = _allowed_audiences(await audience_of(ctx, msg))
    if command.audience not in allowed:
        return [Reply(REFUSED[command.audience].format(name=command.name))]
    return await invoke(ctx, msg, command, arg)
