"""/quantri: who the admins are; add one, remove one (never the last). NHACVIEC_ADMINS is the
starting list; changes made in chat are stored (knowledge.admins) and win over it.

One-line: /quantri · /quantri them 123456789 [tên] · /quantri bot 123456789
(an id alone is a user of the admin's own channel; "zalo:abc" names another channel)
Guided: /quantri lists the admins with buttons to add or remove one.
Buttons: "qt:add", "qt:rm:<n>" (asks), "qt:rmok:<key>".
"""

from __future__ import annotations

from core.context import AppContext
from core.messages import Choice, Incoming, Reply
from handlers import forms
from handlers.admin_common import NOT_ADMIN, actor, confirm
from knowledge import admins
from knowledge.text import fold

PREFIX = "qt:"
CACHE_BASE = "admins.base"  # ctx.cache: the admins the settings named, before stored changes
USAGE = ("Cách dùng /quantri:\n"
         "/quantri — danh sách quản trị viên\n"
         "/quantri them <mã người dùng> [tên] — thêm quản trị viên\n"
         "/quantri bot <mã người dùng> — bớt một quản trị viên (không bớt được người cuối cùng)\n"
         "Mã người dùng Telegram là một dãy số (người đó gõ /start với bot rồi nhờ @userinfobot xem).")


def base(ctx: AppContext) -> frozenset[str]:
    """The admins the settings named, before the changes stored in chat."""
    named = ctx.cache.get(CACHE_BASE)
    if named is None:
        named = ctx.cache[CACHE_BASE] = frozenset(ctx.admins | ctx.settings.admin_ids)
    return frozenset(named)


async def refresh(ctx: AppContext) -> None:
    """Bring ctx.admins up to date with the store (another instance may have changed it)."""
    async with ctx.db.session() as s:
        ctx.admins = await admins.effective(s, base(ctx))


def _key(msg: Incoming, raw: str) -> str | None:
    raw = raw.strip()
    if not raw:
        return None
    if ":" in raw:
        channel, _, user = raw.partition(":")
        return f"{channel.strip().lower()}:{user.strip()}" if channel.strip() and user.strip() else None
    return f"{msg.channel}:{raw}" if raw.lstrip("-").isalnum() else None


async def cmd_admins(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    if not ctx.is_admin(msg.channel, msg.user_id):
        return [Reply(NOT_ADMIN)]
    if not arg:
        return await _list(ctx)
    head, _, rest = arg.partition(" ")
    verb = fold(head, expand=False)
    who, _, name = rest.strip().partition(" ")
    key = _key(msg, who)
    if verb not in ("them", "bot", "xoa") or key is None:
        return [Reply(USAGE)]
    if verb == "them":
        return await _add(ctx, msg, key, name.strip())
    return await _remove(ctx, msg, key, confirmed=False)


async def _list(ctx: AppContext) -> list[Reply]:
    await refresh(ctx)
    async with ctx.db.session() as s:
        named = await admins.names(s)
    keys = sorted(ctx.admins)
    lines = [f"Có {len(keys)} quản trị viên:"]
    lines += [f"{n}. {k}" + (f" — {named[k]}" if k in named else "") for n, k in enumerate(keys, 1)]
    choices = [Choice("Thêm quản trị viên", f"{PREFIX}add")]
    if len(keys) > 1:
        choices += [Choice(f"Bớt {k}", f"{PREFIX}rm:{n}") for n, k in enumerate(keys, 1)]
    return [Reply("\n".join(lines), choices)]


async def _add(ctx: AppContext, msg: Incoming, key: str, name: str) -> list[Reply]:
    await refresh(ctx)
    if key in ctx.admins:
        return [Reply(f"{key} đã là quản trị viên.")]
    async with ctx.db.session() as s:
        await admins.add(s, key, actor(msg), name)
        await s.commit()
    await refresh(ctx)
    return [Reply(f"Đã thêm quản trị viên {key}{' (' + name + ')' if name else ''}.")]


async def _remove(ctx: AppContext, msg: Incoming, key: str, *, confirmed: bool) -> list[Reply]:
    await refresh(ctx)
    if key not in ctx.admins:
        return [Reply(f"{key} không phải quản trị viên.")]
    if len(ctx.admins) <= 1:
        return [Reply("Không bớt được: đây là quản trị viên cuối cùng. Hãy thêm người khác trước.")]
    if not confirmed:
        return await confirm(ctx, msg, f"Bớt quản trị viên {key}?", "Bớt", f"{PREFIX}rmok:{key}")
    try:
        async with ctx.db.session() as s:
            await admins.remove(s, key, actor(msg), base(ctx))
            await s.commit()
    except admins.LastAdmin:
        return [Reply("Không bớt được: đây là quản trị viên cuối cùng. Hãy thêm người khác trước.")]
    await refresh(ctx)
    return [Reply(f"Đã bớt quản trị viên {key}.")]


forms.register(forms.Form("quantri.add", (
    forms.Step("who", "Mã người dùng của quản trị viên mới? (dãy số; hoặc kênh:mã, ví dụ zalo:abc)"),
    forms.Step("name", "Tên người này? (để nhận ra trong danh sách)")),
    lambda ctx, msg, v: _add(ctx, msg, _key(msg, v["who"]) or "", v["name"]) if _key(msg, v["who"])
    else _usage()))


async def _usage() -> list[Reply]:
    return [Reply(USAGE)]


async def on_choice(ctx: AppContext, msg: Incoming) -> list[Reply]:
    if not ctx.is_admin(msg.channel, msg.user_id):
        return [Reply(NOT_ADMIN)]
    data = (msg.choice or "")[len(PREFIX):]
    if data == "add":
        return await forms.start(ctx, msg, "quantri.add")
    action, _, rest = data.partition(":")
    if action == "rm" and rest.isdigit():
        await refresh(ctx)
        keys = sorted(ctx.admins)
        if not 1 <= int(rest) <= len(keys):
            return [Reply("Danh sách quản trị viên đã thay đổi; gõ /quantri để xem lại.")]
        return await _remove(ctx, msg, keys[int(rest) - 1], confirmed=False)
    if action == "rmok" and rest:
        return await _remove(ctx, msg, rest, confirmed=True)
    return [Reply("Lựa chọn không hợp lệ.")]
