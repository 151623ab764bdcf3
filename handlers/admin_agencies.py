"""/coquan: the agency registry from chat: add a body (UBND xã/phường and other district or commune
bodies included), add an alias, merge two entries of one body, record a successor from a date.

One-line:
  /coquan them UBND xã Phước Dinh
  /coquan tenkhac STTTT => Sở Thông tin và Truyền thông       (an alias => the agency)
  /coquan gop Sở TT-TT => Sở Thông tin và Truyền thông          (merged => kept)
  /coquan kethua Sở Giao thông vận tải => Sở Xây dựng 01/03/2025  (old => successor, from the date)
Guided: /coquan shows the four actions as buttons, then asks for each name (and the date).
"""

from __future__ import annotations

from core.context import AppContext
from core.messages import Incoming, Reply
from handlers import forms
from handlers.admin_common import (
    NOT_ADMIN,
    Refused,
    actor,
    check_agency,
    check_day,
    find_day,
    parse_day,
    resolve_agency,
    split_two,
)
from knowledge import agency_changes
from knowledge.agencies import Registry
from knowledge.agency_changes import AgencyError
from knowledge.text import fold

USAGE = ("Cách dùng /coquan:\n"
         "/coquan them <tên cơ quan> — thêm cơ quan (kể cả UBND xã, phường)\n"
         "/coquan tenkhac <tên gọi khác> => <cơ quan> — thêm tên gọi khác\n"
         "/coquan gop <cơ quan bỏ> => <cơ quan giữ> — gộp hai mục là một cơ quan\n"
         "/coquan kethua <cơ quan cũ> => <cơ quan mới> <dd/mm/yyyy> — cơ quan mới thay từ ngày đó\n"
         "Gõ /coquan để được hỏi từng bước.")
ACTIONS = {"them": "add", "tenkhac": "alias", "ten khac": "alias", "bidanh": "alias", "gop": "merge",
           "kethua": "successor", "ke thua": "successor"}


async def cmd_agencies(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    head, _, rest = arg.partition(" ")
    action = ACTIONS.get(fold(head, expand=False))
    if action is None or not rest.strip():
        return [Reply(USAGE)]
    if action == "add":
        return await _run(ctx, msg, {"action": action, "name": rest.strip()})
    try:
        day, rest = find_day(rest) if action == "successor" else (None, rest)
    except Refused as e:
        return [Reply(str(e))]
    pair = split_two(rest)
    if pair is None or (action == "successor" and day is None):
        return [Reply(USAGE)]
    values = {"action": action, "name": pair[0], "other": pair[1]}
    if day is not None:
        values["since"] = f"{day:%d/%m/%Y}"
    return await _run(ctx, msg, values)


async def _actions(_ctx: AppContext, _values: dict[str, str]) -> list[tuple[str, str]]:
    return [("Thêm cơ quan", "add"), ("Thêm tên gọi khác", "alias"), ("Gộp hai cơ quan", "merge"),
            ("Ghi cơ quan kế thừa", "successor")]


async def _after_action(ctx: AppContext, msg: Incoming, values: dict[str, str]) -> list[Reply]:
    return await forms.start(ctx, msg, f"coquan.{values['action']}", {"action": values["action"]})


forms.register(forms.Form("coquan", (forms.Step("action", "Bạn muốn làm gì với danh mục cơ quan?", _actions,
                                                typed=False),), _after_action))
forms.register(forms.Form("coquan.add", (forms.Step("name", "Tên cơ quan mới? (ví dụ: UBND xã Phước Dinh)"),),
                          lambda ctx, msg, v: _run(ctx, msg, v)))
forms.register(forms.Form("coquan.alias", (
    forms.Step("other", "Tên gọi khác này dành cho cơ quan nào?", check=check_agency),
    forms.Step("name", "Tên gọi khác (viết tắt, tên cũ)?")), lambda ctx, msg, v: _run(ctx, msg, v)))
forms.register(forms.Form("coquan.merge", (
    forms.Step("name", "Cơ quan nào sẽ bị gộp (bỏ đi)?", check=check_agency),
    forms.Step("other", "Gộp vào cơ quan nào (giữ lại)?", check=check_agency)), lambda ctx, msg, v: _run(ctx, msg, v)))
forms.register(forms.Form("coquan.successor", (
    forms.Step("name", "Cơ quan cũ?", check=check_agency),
    forms.Step("other", "Cơ quan mới thay thế?", check=check_agency),
    forms.Step("since", "Từ ngày nào? (dd/mm/yyyy)", check=check_day)), lambda ctx, msg, v: _run(ctx, msg, v)))


async def _run(ctx: AppContext, msg: Incoming, values: dict[str, str]) -> list[Reply]:
    if not ctx.is_admin(msg.channel, msg.user_id):
        return [Reply(NOT_ADMIN)]
    action = values["action"]
    try:
        async with ctx.db.session() as s:
            registry = await Registry.load(s)
            if action == "add":
                row = await agency_changes.add(s, registry, values["name"], actor(msg))
                await s.commit()
                kind = {"local": " (cấp xã/huyện)", "department": " (sở, ngành)", "group": " (nhóm)"}.get(row.kind, "")
                return [Reply(f"Đã thêm cơ quan “{row.name}”{kind} vào danh mục.")]
            if action == "alias":
                target = resolve_agency(registry, values["other"])
                await agency_changes.add_alias(s, registry, target.id, values["name"], actor(msg))
                await s.commit()
                return [Reply(f"Đã thêm tên gọi khác “{values['name'].strip()}” cho {target.name}.")]
            first = resolve_agency(registry, values["name"])
            second = resolve_agency(registry, values["other"])
            if action == "merge":
                moved = await agency_changes.merge(s, first.id, second.id, actor(msg))
                await s.commit()
                return [Reply(f"Đã gộp “{first.name}” vào {second.name} ({moved} lượt giao việc chuyển sang); "
                              f"“{first.name}” nay là tên gọi khác của {second.name}.")]
            if action == "successor":
                since = parse_day(values["since"])
                await agency_changes.set_successor(s, first.id, second.id, since, actor(msg))
                await s.commit()
                return [Reply(f"Đã ghi: từ {since:%d/%m/%Y}, {second.name} thay {first.name}. "
                              "Câu hỏi và nhắc việc về cơ quan cũ sẽ chuyển sang cơ quan mới.")]
    except (Refused, AgencyError) as e:
        return [Reply(str(e))]
    return [Reply(USAGE)]
