"""A fake of the Telegram Bot API on 127.0.0.1, so the real client library can be tested offline.

Two ways to use it:

* from tests, as an async context manager::

      async with FakeTelegram(rate=30, per_chat=1.0) as tg:
          app = ApplicationBuilder().token(tg.token).base_url(tg.base_url).base_file_url(tg.base_file_url)...
          tg.queue_message(chat_id=42, text="Sở Tài chính có việc gì?")
          [reply] = await tg.wait_for_messages(1, chat_id=42)

* as a process (for crash tests that kill the bot, not the fake)::

      python -m tests.fakes.telegram_api --port 0 --rate 30 --per-chat 1

  It prints ``PORT <n>`` on its first line and serves the test controls over HTTP under
  ``/_fake/`` (see ``_control_routes``): ``GET /_fake/sent[?chat_id=]``, ``GET /_fake/stats``,
  ``POST /_fake/message``, ``POST /_fake/callback``, ``POST /_fake/fail``, ``POST /_fake/reset``.

What it does like Telegram: requests as form fields or JSON; answers ``{"ok": true, "result": ...}``
or ``{"ok": false, "error_code": N, "description": "...", "parameters": {...}}``; getUpdates long-polls
and honours ``offset``; entity offsets in UTF-16 code units; 429 with ``parameters.retry_after`` beyond
the overall rate (messages per second) and the per-chat interval. Message ids come from one counter
shared by all chats (unique, which is all a client may rely on). Any token is accepted unless
``token_check`` is set.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import struct
import sys
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

BOT_ID = 7000000001
BOT_USERNAME = "nhacviec_test_bot"
DEFAULT_TOKEN = f"{BOT_ID}:TEST-token-for-the-fake"
# How long a test waits for the bot by default: the wait ends as soon as the reply comes, so a generous bound
# costs a passing test nothing and keeps a loaded CI machine (an import preview took 5.7 s at load 9) from failing.
WAIT_S = 20.0
# Sending methods that count towards flood control and can be made to fail per chat.
SENDING = {"sendMessage", "sendDocument", "sendPhoto", "copyMessage", "forwardMessage"}
# Fields Telegram clients send JSON-encoded inside form data.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_IHDR_START, PNG_IHDR_END = 16, 24  # width and height, big-endian, in the IHDR chunk of a PNG
PHOTO_SIDE = 90  # pixels: the size given for a photo that is no PNG
JSON_FIELDS = {"reply_markup", "entities", "commands", "allowed_updates", "scope", "reply_parameters",
               "link_preview_options", "caption_entities"}


class ApiError(Exception):
    """An error answer: HTTP status = error_code, as Telegram does."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


@dataclass
class Failure:
    """An injected failure for one chat (or every chat when chat_id is None)."""

    code: int
    description: str
    times: int | None  # None: until cleared
    retry_after: int | None = None


def utf16_len(text: str) -> int:
    """Telegram measures entity offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def photo_size(kept: dict[str, Any], content: bytes) -> dict[str, Any]:
    """A sent photo as Telegram gives it back: a PhotoSize (width and height, no file name), one size
    here; the client library refuses a PhotoSize without width and height."""
    width = height = PHOTO_SIDE
    if content.startswith(PNG_SIGNATURE) and len(content) >= PNG_IHDR_END:
        width, height = struct.unpack(">II", content[PNG_IHDR_START:PNG_IHDR_END])
    return {"file_id": kept["file_id"], "file_unique_id": kept["file_unique_id"], "file_size": kept["file_size"],
            "width": width, "height": height}


def text_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram would attach: a leading /command and every @mention."""
    entities: list[dict[str, Any]] = []
    if text.startswith("/"):
        word = text.split(maxsplit=1)[0]
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(word)})
    for i, ch in enumerate(text):
        if ch == "@" and (i == 0 or not text[i - 1].isalnum()) and not (entities and i < entities[0]["length"]):
            j = i + 1
            while j < len(text) and (text[j].isalnum() or text[j] == "_"):
                j += 1
            if j - i > 1:
                entities.append({"type": "mention", "offset": utf16_len(text[:i]), "length": utf16_len(text[i:j])})
    return entities


class FakeTelegram:
    """The fake server: state, Bot API methods, test controls."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str = DEFAULT_TOKEN,
        token_check: bool = False,
        rate: float | None = None,  # messages per second overall (None: unlimited)
        per_chat: float | None = None,  # seconds between two messages to one chat (None: unlimited)
        bot_username: str = BOT_USERNAME,
        max_poll_timeout: float = 10.0,
    ) -> None:
        self.host, self.port = host, port
        self.token, self.token_check = token, token_check
        self.rate, self.per_chat = rate, per_chat
        self.bot = {"id": BOT_ID, "is_bot": True, "first_name": "Nhắc việc", "username": bot_username,
                    "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}
        self.max_poll_timeout = max_poll_timeout
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.reset()

    # ---- state -------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything sent and queued (the bot's identity and limits stay)."""
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self.updates: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []  # every accepted sendMessage, in arrival order
        self.sent_times: list[float] = []  # time.monotonic() of each, for rates
        self.messages: dict[int, dict[str, Any]] = {}  # message_id -> Message (users' and the bot's)
        self.edits: list[dict[str, Any]] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.chat_actions: list[dict[str, Any]] = []
        self.requests: list[tuple[str, dict[str, Any]]] = []  # (method, params) of every call
        self.commands: list[dict[str, Any]] = []  # the default menu
        self.scoped_commands: dict[str, list[dict[str, Any]]] = {}  # menus for one scope (JSON of the scope)
        self.webhook: dict[str, Any] = {"url": "", "secret_token": None}
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, content)
        self.failures: dict[int | None, deque[Failure]] = defaultdict(deque)
        self.stats: dict[str, int] = defaultdict(int)
        self._window: deque[float] = deque()  # accepted sends in the last second
        self._last_by_chat: dict[int, float] = {}
        self._changed = asyncio.Event()  # set once, by the next change, then replaced

    def _notify(self) -> None:
        """Wake every waiter. Each change sets the event the waiters hold and starts a new one, so no
        waiter can clear a wake-up meant for another (a waiting getUpdates used to miss it: 10 s late)."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def _wait_change(self, timeout: float) -> None:
        changed = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), timeout)

    # ---- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> FakeTelegram:
        self._closing = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._control_routes(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            self._closing = True
            self._notify()  # wake long polls so they answer before the server goes
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """For ApplicationBuilder.base_url / NHACVIEC_TELEGRAM_BASE_URL (the token is appended)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    # ---- test controls: what users do ----------------------------------------------------------

    def _user(self, user_id: int, first_name: str) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "vi"}

    def _chat(self, chat_id: int, chat_type: str | None, first_name: str) -> dict[str, Any]:
        kind = chat_type or ("private" if chat_id > 0 else "group")
        chat: dict[str, Any] = {"id": chat_id, "type": kind}
        if kind == "private":
            chat["first_name"] = first_name
        else:
            chat["title"] = f"Nhóm {abs(chat_id)}"
        return chat

    def queue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue any update body (numbered here); the helpers below build the common ones."""
        update = {"update_id": next(self._update_ids), **update}
        self.updates.append(update)
        self._notify()
        return update

    def user_message(
        self,
        chat_id: int,
        text: str = "",
        *,
        user_id: int | None = None,
        first_name: str = "Cán bộ",
        chat_type: str | None = None,
        reply_to: int | None = None,
        document: tuple[str, bytes] | None = None,
        photo: bytes | None = None,
    ) -> dict[str, Any]:
        """A Message as Telegram would deliver it (not queued): for webhook tests."""
        uid = user_id if user_id is not None else (chat_id if chat_id > 0 else 100)
        msg: dict[str, Any] = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": self._chat(chat_id, chat_type, first_name),
            "from": self._user(uid, first_name),
        }
        if document is not None:
            name, content = document
            file_id = f"file{len(self.files) + 1}"
            self.files[file_id] = (f"documents/{file_id}_{name}", content)
            msg["document"] = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": name,
                               "file_size": len(content), "mime_type": "application/octet-stream"}
            if text:
                msg["caption"] = text
        elif photo is not None:
            file_id = f"file{len(self.files) + 1}"
            self.files[file_id] = (f"photos/{file_id}.jpg", photo)
            msg["photo"] = [{"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 90, "height": 90,
                             "file_size": len(photo)}]
            if text:
                msg["caption"] = text
        elif text:
            msg["text"] = text
            entities = text_entities(text)
            if entities:
                msg["entities"] = entities
        if reply_to is not None:
            msg["reply_to_message"] = self.messages[reply_to]
        self.messages[msg["message_id"]] = msg
        return msg

    def queue_message(self, chat_id: int, text: str = "", **kw: Any) -> dict[str, Any]:
        """Queue an update with a text message (or a document); see user_message for options."""
        return self.queue_update({"message": self.user_message(chat_id, text, **kw)})

    def queue_document(self, chat_id: int, file_name: str, content: bytes, **kw: Any) -> dict[str, Any]:
        return self.queue_message(chat_id, kw.pop("caption", ""), document=(file_name, content), **kw)

    def callback_update(self, chat_id: int, data: str, *, message_id: int | None = None,
                        user_id: int | None = None, first_name: str = "Cán bộ") -> dict[str, Any]:
        """A callback_query update (not queued): the press of an inline button under message_id."""
        uid = user_id if user_id is not None else (chat_id if chat_id > 0 else 100)
        if message_id is None:  # the newest bot message in that chat
            message_id = max(m["message_id"] for m in self.sent if m["chat"]["id"] == chat_id)
        query = {"id": str(next(self._ids)), "from": self._user(uid, first_name), "chat_instance": str(chat_id),
                 "data": data, "message": self.messages[message_id]}
        return {"callback_query": query}

    def queue_callback(self, chat_id: int, data: str, **kw: Any) -> dict[str, Any]:
        return self.queue_update(self.callback_update(chat_id, data, **kw))

    def queue_block(self, user_id: int, *, blocked: bool = True) -> dict[str, Any]:
        """The user blocked (or unblocked) the bot: Telegram sends a my_chat_member update."""
        me = {"user": self.bot, "status": "member"}
        new = {"user": self.bot, "status": "kicked", "until_date": 0} if blocked else me
        old = me if blocked else {"user": self.bot, "status": "kicked", "until_date": 0}
        return self.queue_update({"my_chat_member": {
            "chat": self._chat(user_id, "private", "Cán bộ"), "from": self._user(user_id, "Cán bộ"),
            "date": int(time.time()), "old_chat_member": old, "new_chat_member": new}})

    def fail(self, chat_id: int | None, code: int, *, times: int | None = 1, retry_after: int | None = None,
             description: str | None = None) -> None:
        """Make the next `times` sends to chat_id (None: any chat) fail with `code` (403, 429, 5xx...)."""
        if description is None:
            description = {
                403: "Forbidden: bot was blocked by the user",
                429: f"Too Many Requests: retry after {retry_after or 1}",
                400: "Bad Request: chat not found",
            }.get(code, "Internal Server Error")
        if code == 429 and retry_after is None:
            retry_after = 1
        self.failures[chat_id].append(Failure(code, description, times, retry_after))

    def clear_failures(self) -> None:
        self.failures.clear()

    # ---- test controls: what the bot did -------------------------------------------------------

    def sent_to(self, chat_id: int | str) -> list[dict[str, Any]]:
        cid = int(chat_id)
        return [m for m in self.sent if m["chat"]["id"] == cid]

    def texts(self, chat_id: int | str) -> list[str]:
        return [m.get("text") or m.get("caption") or "" for m in self.sent_to(chat_id)]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = WAIT_S) -> None:
        """Wait until predicate() holds; AssertionError after timeout seconds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"fake Telegram: condition not met within {timeout}s (sent={len(self.sent)})")
            await self._wait_change(min(left, 0.05))

    async def wait_for_messages(self, n: int, chat_id: int | str | None = None,
                                timeout: float = WAIT_S) -> list[dict[str, Any]]:
        """Wait until at least n messages were sent (to chat_id, or in all); return them."""

        def got() -> list[dict[str, Any]]:
            return self.sent if chat_id is None else self.sent_to(chat_id)

        await self.wait_for(lambda: len(got()) >= n, timeout)
        return got()

    # ---- the Bot API ---------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                params.update(body if isinstance(body, dict) else {})
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        params[key] = value.file.read()
                        params["_filename"] = value.filename
                    else:
                        params[key] = value
        for key in JSON_FIELDS & params.keys():
            if isinstance(params[key], str):
                params[key] = json.loads(params[key])
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            if self.token_check and request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            params = await self._params(request)
            self.requests.append((method, params))
            self.stats[method] += 1
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params)
        except ApiError as e:
            body: dict[str, Any] = {"ok": False, "error_code": e.code, "description": e.description}
            if e.parameters:
                body["parameters"] = e.parameters
            self.stats[f"error_{e.code}"] += 1
            return web.json_response(body, status=e.code)
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        for file_path, content in self.files.values():
            if file_path == path:
                return web.Response(body=content)
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    def _chat_id(self, params: dict[str, Any]) -> int:
        try:
            return int(params["chat_id"])
        except (KeyError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None

    def _check_send(self, chat_id: int) -> None:
        """Injected failures first, then flood control (which records the send when it passes)."""
        for key in (chat_id, None):
            queue = self.failures.get(key)
            if queue:
                f = queue[0]
                if f.times is not None:
                    f.times -= 1
                    if f.times <= 0:
                        queue.popleft()
                raise ApiError(f.code, f.description, {"retry_after": f.retry_after} if f.retry_after else None)
        now = time.monotonic()
        if self.per_chat is not None and chat_id in self._last_by_chat:
            wait = self.per_chat - (now - self._last_by_chat[chat_id])
            if wait > 0:
                self.stats["flood_per_chat"] += 1
                retry = max(1, math.ceil(wait))
                raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        if self.rate is not None:
            while self._window and now - self._window[0] >= 1.0:
                self._window.popleft()
            if len(self._window) >= self.rate:
                self.stats["flood_overall"] += 1
                raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
            self._window.append(now)
        self._last_by_chat[chat_id] = now

    def _bot_message(self, chat_id: int, **fields: Any) -> dict[str, Any]:
        msg = {"message_id": next(self._ids), "date": int(time.time()), "from": self.bot,
               "chat": self._chat(chat_id, None, "Cán bộ"), **{k: v for k, v in fields.items() if v is not None}}
        self.messages[msg["message_id"]] = msg
        return msg

    async def _m_getMe(self, p: dict[str, Any]) -> Any:
        return self.bot

    async def _m_getUpdates(self, p: dict[str, Any]) -> Any:
        offset = int(p.get("offset") or 0)
        limit = int(p.get("limit") or 100)
        timeout = min(float(p.get("timeout") or 0), self.max_poll_timeout)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while not self.updates and time.monotonic() < deadline and not self._closing:
            await self._wait_change(deadline - time.monotonic())
        return self.updates[:limit]

    async def _m_sendMessage(self, p: dict[str, Any]) -> Any:
        chat_id = self._chat_id(p)
        text = str(p.get("text") or "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        for row in (p.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if len(str(button.get("callback_data", "")).encode()) > 64 or not button.get("text"):
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        self._check_send(chat_id)
        msg = self._bot_message(chat_id, text=text, reply_markup=p.get("reply_markup"))
        self.sent.append(msg)
        self.sent_times.append(time.monotonic())
        self._notify()
        return msg

    def _keep_file(self, kind: str, content: Any, name: str) -> dict[str, Any]:
        """A file the bot sent, kept like an uploaded one: getFile and the file route serve it back."""
        if not isinstance(content, bytes) or not content:
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        file_id = f"file{len(self.files) + 1}"
        self.files[file_id] = (f"{kind}s/{file_id}_{name}", content)
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": name, "file_size": len(content)}

    async def _send_file(self, p: dict[str, Any], kind: str) -> Any:
        chat_id = self._chat_id(p)
        caption = str(p.get("caption") or "")
        if len(caption) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        content = p.get(kind)
        name = str(p.get("_filename") or f"{kind}.bin")
        self._check_send(chat_id)
        kept = self._keep_file(kind, content, name)
        field = [photo_size(kept, content)] if kind == "photo" else kept
        msg = self._bot_message(chat_id, caption=caption or None, **{kind: field})
        self.sent.append(msg)
        self._notify()
        return msg

    async def _m_sendDocument(self, p: dict[str, Any]) -> Any:
        return await self._send_file(p, "document")

    async def _m_sendPhoto(self, p: dict[str, Any]) -> Any:
        return await self._send_file(p, "photo")

    async def _m_editMessageText(self, p: dict[str, Any]) -> Any:
        msg = self.messages.get(int(p.get("message_id") or 0))
        if msg is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        msg["text"] = str(p.get("text") or "")
        msg["edit_date"] = int(time.time())
        if p.get("reply_markup"):
            msg["reply_markup"] = p["reply_markup"]
        else:
            msg.pop("reply_markup", None)
        self.edits.append(dict(msg))
        self._notify()
        return msg

    async def _m_editMessageReplyMarkup(self, p: dict[str, Any]) -> Any:
        msg = self.messages.get(int(p.get("message_id") or 0))
        if msg is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        msg["reply_markup"] = p.get("reply_markup")
        self.edits.append(dict(msg))
        self._notify()
        return msg

    async def _m_answerCallbackQuery(self, p: dict[str, Any]) -> Any:
        self.callback_answers.append(p)
        self._notify()
        return True

    async def _m_sendChatAction(self, p: dict[str, Any]) -> Any:
        self.chat_actions.append({"chat_id": self._chat_id(p), "action": p.get("action")})
        self._notify()
        return True

    @staticmethod
    def scope_key(scope: dict[str, Any] | None) -> str:
        """The key of a BotCommandScope in scoped_commands ("" for the default scope)."""
        if not scope or scope.get("type") == "default":
            return ""
        return json.dumps({k: str(v) for k, v in scope.items()}, sort_keys=True)

    async def _m_setMyCommands(self, p: dict[str, Any]) -> Any:
        key = self.scope_key(p.get("scope"))
        if key:
            self.scoped_commands[key] = list(p.get("commands") or [])
        else:
            self.commands = list(p.get("commands") or [])
        return True

    async def _m_getMyCommands(self, p: dict[str, Any]) -> Any:
        key = self.scope_key(p.get("scope"))
        return self.scoped_commands.get(key, []) if key else self.commands

    async def _m_deleteMyCommands(self, p: dict[str, Any]) -> Any:
        key = self.scope_key(p.get("scope"))
        if key:
            self.scoped_commands.pop(key, None)
        else:
            self.commands = []
        return True

    async def _m_setWebhook(self, p: dict[str, Any]) -> Any:
        self.webhook = {"url": p.get("url") or "", "secret_token": p.get("secret_token")}
        return True

    async def _m_deleteWebhook(self, p: dict[str, Any]) -> Any:
        self.webhook = {"url": "", "secret_token": None}
        if str(p.get("drop_pending_updates", "")).lower() in ("true", "1"):
            self.updates.clear()
        return True

    async def _m_getWebhookInfo(self, p: dict[str, Any]) -> Any:
        return {"url": self.webhook["url"], "has_custom_certificate": False,
                "pending_update_count": 0 if self.webhook["url"] else len(self.updates)}

    async def _m_getFile(self, p: dict[str, Any]) -> Any:
        file_id = str(p.get("file_id") or "")
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        path, content = self.files[file_id]
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(content), "file_path": path}

    async def _m_close(self, p: dict[str, Any]) -> Any:
        return True

    async def _m_logOut(self, p: dict[str, Any]) -> Any:
        return True

    # ---- test controls over HTTP (for the standalone process) ----------------------------------

    def _control_routes(self, app: web.Application) -> None:
        async def sent(request: web.Request) -> web.Response:
            chat = request.query.get("chat_id")
            return web.json_response({"messages": self.sent_to(chat) if chat else self.sent})

        async def stats(request: web.Request) -> web.Response:
            times = self.sent_times
            body: dict[str, Any] = {"sent": len(self.sent), **self.stats}
            if request.query.get("full"):  # rates over the whole run: O(sends), so only when asked
                body.update({"chats": len({m["chat"]["id"] for m in self.sent}),
                             "max_in_one_second": _max_in_window(times, 1.0),
                             "per_second": [sum(1 for t in times if int(t - times[0]) == i)
                                            for i in range(int(times[-1] - times[0]) + 1)] if times else [],
                             "first_sent_at": times[0] if times else None,
                             "last_sent_at": times[-1] if times else None})
            return web.json_response(body)

        async def message(request: web.Request) -> web.Response:
            body = await request.json()
            return web.json_response(self.queue_message(int(body.pop("chat_id")), body.pop("text", ""), **body))

        async def callback(request: web.Request) -> web.Response:
            body = await request.json()
            return web.json_response(self.queue_callback(int(body.pop("chat_id")), body.pop("data"), **body))

        async def fail(request: web.Request) -> web.Response:
            body = await request.json()
            chat = body.pop("chat_id", None)
            self.fail(None if chat is None else int(chat), int(body.pop("code")), **body)
            return web.json_response({"ok": True})

        async def reset(request: web.Request) -> web.Response:
            self.reset()
            return web.json_response({"ok": True})

        app.router.add_get("/_fake/sent", sent)
        app.router.add_get("/_fake/stats", stats)
        app.router.add_post("/_fake/message", message)
        app.router.add_post("/_fake/callback", callback)
        app.router.add_post("/_fake/fail", fail)
        app.router.add_post("/_fake/reset", reset)


def _max_in_window(times: list[float], window: float) -> int:
    """The most sends that fell in any `window` seconds (times sorted)."""
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeTelegram(host=args.host, port=args.port, rate=args.rate, per_chat=args.per_chat)
    await fake.start()
    print(f"PORT {fake.port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Telegram Bot API on 127.0.0.1 (tests only)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: a free port (printed as 'PORT <n>')")
    parser.add_argument("--rate", type=float, default=None, help="messages per second overall")
    parser.add_argument("--per-chat", type=float, default=None, help="seconds between messages to one chat")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    sys.exit(0)


if __name__ == "__main__":
    main()
