"""What every admin command needs: who acts, reading dates, finding a plan or an agency by what an
admin types, a confirmation before something is deleted. Bad input becomes a precise Vietnamese
message (`Refused`), never a change."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import AppContext
from core.messages import Choice, Incoming, Reply
from knowledge import conversation
from knowledge.agencies import AgencyInfo, Registry, agency_key
from knowledge.models import Plan
from knowledge.text import fold

CONFIRM_WAIT = timedelta(minutes=10)
NOT_ADMIN = "Chỉ quản trị viên mới dùng được chức năng này."
_DATE = re.compile(r"^\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})\s*$")
_DATE_IN = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})")
_PLAN_NUMBER = re.compile(r"^(?:kh|ke hoach|so)?\s*(\d{1,6})(?:\s*/\s*([\w\-]+))?")
SUGGESTIONS = 3


class Refused(ValueError):
    """Input that cannot be acted on; the message says exactly why, in Vietnamese."""


def actor(msg: Incoming) -> str:
    return f"{msg.channel}:{msg.user_id}"


def dmy(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def _date_of(d: str, m: str, y: str, raw: str) -> date:
    day, month, year = int(d), int(m), int(y)
    if not 1 <= month <= 12:
        raise Refused(f"Ngày {raw} không hợp lệ: tháng phải từ 1 đến 12.")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        if month == 2 and day == 29:
            raise Refused(f"Ngày {raw} không có: năm {year} không phải năm nhuận, tháng 2 chỉ có 28 ngày.")
        raise Refused(f"Ngày {raw} không có: tháng {month}/{year} chỉ có {last} ngày.")
    return date(year, month, day)


def parse_day(text: str) -> date:
    """A date typed as dd/mm/yyyy (also d/m/yyyy, with - or .); Refused with the reason otherwise."""
    m = _DATE.match(text)
    if not m:
        raise Refused(f"“{text.strip()}” không phải một ngày. Xin gõ ngày theo dạng dd/mm/yyyy, ví dụ 25/12/2026.")
    return _date_of(m.group(1), m.group(2), m.group(3), text.strip())


def find_day(text: str) -> tuple[date | None, str]:
    """The first dd/mm/yyyy in a text (Refused when it is impossible) and the text without it."""
    m = _DATE_IN.search(text)
    if not m:
        return None, text
    day = _date_of(m.group(1), m.group(2), m.group(3), m.group(0))
    return day, (text[:m.start()] + text[m.end():]).strip()


async def check_day(_ctx: AppContext, value: str, _values: dict[str, str]) -> str | None:
    """A form step's check: the value is a real dd/mm/yyyy day."""
    try:
        parse_day(value)
    except Refused as e:
        return str(e)
    return None


def plan_name(plan: Plan) -> str:
    if plan.number:
        return f"{plan.kind} {plan.number}"
    title = " ".join(plan.title.split())
    return f"{plan.kind} “{title[:50]}{'…' if len(title) > 50 else ''}”"


def plan_line(plan: Plan, tasks: int) -> str:
    when = f" ({dmy(plan.issued_on)})" if plan.issued_on else ""
    archived = " [đã lưu trữ]" if plan.archived_at else ""
    return f"{plan_name(plan)}{when} — {tasks} nhiệm vụ{archived}"


async def find_plan(session: AsyncSession, text: str) -> Plan:
    """The plan an admin means: "3021", "KH 3021", "3021/KH-UBND", "#12" (its id), or words of its title."""
    raw = text.strip()
    if not raw:
        raise Refused("Xin cho biết số kế hoạch, ví dụ: 3021 hoặc KH 3021.")
    plans = list((await session.scalars(select(Plan).order_by(Plan.id))).all())
    if raw.startswith("#") and raw[1:].isdigit():
        found = [p for p in plans if p.id == int(raw[1:])]
    else:
        key = fold(raw, expand=False)
        m = _PLAN_NUMBER.match(key)
        if m:
            number = m.group(1)
            found = [p for p in plans if p.number and fold(p.number, expand=False).split()[0] == number]
            found = found or [p for p in plans if p.number and re.match(rf"{number}\b", fold(p.number, expand=False))]
        else:
            found = [p for p in plans if key and key in fold(p.title, expand=False)]
    if not found:
        known = ", ".join(p.number or f"#{p.id}" for p in plans[:8]) or "chưa có kế hoạch nào"
        raise Refused(f"Không tìm thấy kế hoạch “{raw}”. Các kế hoạch trong kho: {known}.")
    if len(found) > 1:
        listed = "; ".join(f"#{p.id} {plan_name(p)} ({p.issuer or 'không rõ nơi ban hành'})" for p in found[:5])
        raise Refused(f"Có {len(found)} kế hoạch khớp “{raw}”: {listed}. Xin gõ #<mã> để chọn một.")
    return found[0]


def suggest(registry: Registry, name: str) -> list[AgencyInfo]:
    pool = {aid: fold(info.name) for aid, info in registry.by_id.items()}
    found = process.extract(agency_key(name), pool, scorer=fuzz.WRatio, limit=SUGGESTIONS, score_cutoff=60)
    return [registry.by_id[aid] for _, _, aid in found]


def resolve_agency(registry: Registry, name: str) -> AgencyInfo:
    """The agency a name means exactly (aliases count; successors are not followed)."""
    name = name.strip()
    if not name:
        raise Refused("Xin cho biết tên cơ quan.")
    info = registry.lookup(name)
    if info is not None:
        return info
    near = suggest(registry, name)
    hint = f" Có phải: {'; '.join(a.name for a in near)}?" if near else ""
    raise Refused(f"Không tìm thấy cơ quan “{name}” trong danh mục.{hint}")


async def check_agency(ctx: AppContext, value: str, _values: dict[str, str]) -> str | None:
    async with ctx.db.session() as s:
        registry = await Registry.load(s)
    try:
        resolve_agency(registry, value)
    except Refused as e:
        return str(e)
    return None


async def confirm(ctx: AppContext, msg: Incoming, question: str, yes_label: str, yes_data: str) -> list[Reply]:
    """Ask before a change that cannot be taken back lightly: a button, or "có" typed within minutes."""
    await conversation.await_confirmation(ctx.db, msg.channel, msg.chat_id, yes_data, ctx.clock.now() + CONFIRM_WAIT)
    return [Reply(f"{question}\nGõ “có” hoặc bấm nút để xác nhận; “không” để thôi.",
                  [Choice(yes_label, yes_data), Choice("Không", "adm:no")])]


def split_two(text: str) -> tuple[str, str] | None:
    """"A => B", "A -> B", "A → B", "A > B" or "A vào B": the two names."""
    for sep in ("=>", "->", "→", ">", " vào ", " vao ", " thành ", " thanh "):
        if sep in text:
            a, b = text.split(sep, 1)
            if a.strip() and b.strip():
                return a.strip(), b.strip()
    return None
