"""A fake of the Zalo Bot Platform and the Zalo OA API v3 on 127.0.0.1, for offline tests.

Both APIs on one port, as docs/channels.md describes them:

* Bot Platform: ``POST /bot<TOKEN>/<method>`` with JSON; ``{ok: true, result}`` or ``{ok: false,
  error_code, description}`` with the same HTTP status. getUpdates hands out ONE update per call
  and has no offset (the client must de-duplicate on message_id); with nothing queued it answers
  408 when its timeout ends. Polling is refused while a webhook is set. Updates can be queued more
  than once (a redelivery) and pushed to the webhook bare or wrapped in {ok, result}, with the right
  secret or a wrong one. sendMessage takes 1-2000 characters; failures (403, 429...) can be injected
  per chat, and an overall rate beyond which it answers 429.
* OA: ``POST /v3.0/oa/message/cs`` with an ``access_token`` header; errors as HTTP 200 with
  ``{error: <negative>, message}`` (-216 invalid token, -220 expired, -213 not following, -230 no
  interaction for 7 days, -210 too long, -32 rate). ``POST /v4/oa/access_token`` rotates tokens:
  each refresh token works once. Webhook events are signed like Zalo (sha256 of app_id + body +
  timestamp + secret key), or deliberately not.

Used from tests as ``async with FakeZalo() as zalo``; as a process (the benchmark) with
``python -m tests.fakes.zalo_api --port 0 [--rate N]``: it prints ``PORT <n>`` and serves
``GET /_fake/sent``, ``GET /_fake/stats``, ``POST /_fake/message``, ``POST /_fake/reset``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import itertools
import json
import secrets
import sys
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

BOT_ID = "5000000001"
DEFAULT_TOKEN = f"{BOT_ID}:FAKE-zalo-secret"
BOT_NAME = "Nhắc việc"
OA_APP_ID = "4000000000000000001"
OA_SECRET_KEY = "fake-oa-secret-key"
MAX_TEXT = 2000


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


@dataclass
class Failure:
    code: int
    description: str
    times: int | None  # None: until cleared
    retry_after: int | None = None


class FakeZalo:
    """The fake server: state, both APIs, test controls."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, token: str = DEFAULT_TOKEN,
                 rate: float | None = None, max_poll_timeout: float = 5.0,
                 app_id: str = OA_APP_ID, secret_key: str = OA_SECRET_KEY) -> None:
        self.host, self.port, self.token = host, port, token
        self.rate = rate
        self.max_poll_timeout = max_poll_timeout
        self.app_id, self.secret_key = app_id, secret_key
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.reset()

    def reset(self) -> None:
        self._ids = itertools.count(1)
        self.updates: deque[dict[str, Any]] = deque()
        self.sent: list[dict[str, Any]] = []  # accepted sendMessage calls: {chat_id, text, message_id}
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.webhook: dict[str, Any] = {"url": "", "secret_token": ""}
        self.failures: dict[str | None, deque[Failure]] = defaultdict(deque)
        self.stats: dict[str, int] = defaultdict(int)
        self._window: deque[float] = deque()
        self.send_delay = 0.0  # seconds sendMessage takes (a slow platform)
        self._changed = asyncio.Event()
        # OA state
        self.oa_sent: list[dict[str, Any]] = []
        self.access_tokens: dict[str, float] = {}  # token -> expires (time.time())
        self.refresh_tokens: set[str] = set()  # each works once
        self.refresh_delay = 0.0  # seconds a refresh takes (to make refreshers overlap)
        self.refreshes = 0
        self.not_following: set[str] = set()
        self.inactive: set[str] = set()  # no interaction for 7 days
        self.oa_rate_limited: int = 0  # how many next OA sends answer -32

    def _notify(self) -> None:
        self._changed.set()

    async def _wait_change(self, timeout: float) -> None:
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    # ---- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> FakeZalo:
        self._closing = False
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._api)
        app.router.add_post("/v3.0/oa/message/cs", self._oa_send)
        app.router.add_post("/v4/oa/access_token", self._oa_refresh)
        app.router.add_get("/_fake/sent", self._c_sent)
        app.router.add_get("/_fake/stats", self._c_stats)
        app.router.add_post("/_fake/message", self._c_message)
        app.router.add_post("/_fake/reset", self._c_reset)
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
            self._notify()
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeZalo:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """NHACVIEC_ZALO_BASE_URL (and the OA and OAuth addresses) for the clients under test."""
        return f"http://{self.host}:{self.port}"

    # ---- what users do (Bot Platform) ----------------------------------------------------------

    def update(self, chat_id: str | int, text: str = "", *, event: str = "message.text.received",
               user_id: str | int | None = None, name: str = "Cán bộ", group: bool = False,
               message_id: str | None = None) -> dict[str, Any]:
        """An update as Zalo builds it (not queued)."""
        message: dict[str, Any] = {
            "message_id": message_id or f"m{next(self._ids):06d}{secrets.token_hex(4)}",
            "date": int(time.time() * 1000),
            "chat": {"id": str(chat_id), "chat_type": "GROUP" if group else "PRIVATE"},
            "from": {"id": str(user_id if user_id is not None else chat_id), "display_name": name, "is_bot": False},
        }
        if event == "message.text.received":
            message["text"] = text
        elif event == "message.image.received":
            message["photo"] = "https://example.invalid/anh.jpg"
        elif event == "message.sticker.received":
            message["sticker"] = "d063f44dc80821567819"
        return {"event_name": event, "message": message}

    def queue(self, update: dict[str, Any], times: int = 1) -> dict[str, Any]:
        """Queue an update for getUpdates; times > 1 delivers the very same update again (no offset)."""
        for _ in range(times):
            self.updates.append(update)
        self._notify()
        return update

    def queue_message(self, chat_id: str | int, text: str, **kw: Any) -> dict[str, Any]:
        return self.queue(self.update(chat_id, text, **kw))

    async def push(self, update: dict[str, Any], *, wrapped: bool = False, secret: str | None = None,
                   url: str | None = None) -> int:
        """POST an update to the webhook as Zalo does (secret: the registered one unless given); the status."""
        body = {"ok": True, "result": update} if wrapped else update
        headers = {"X-Bot-Api-Secret-Token": self.webhook["secret_token"] if secret is None else secret}
        async with aiohttp.ClientSession() as s, s.post(url or self.webhook["url"], json=body, headers=headers) as r:
            return r.status

    def fail(self, chat_id: str | int | None, code: int, description: str = "", *, times: int | None = 1,
             retry_after: int | None = None) -> None:
        """The next `times` sends to chat_id (None: any chat) answer this error."""
        key = None if chat_id is None else str(chat_id)
        self.failures[key].append(Failure(code, description or {403: "Forbidden", 429: "Too Many Requests"}
                                          .get(code, "Error"), times, retry_after))

    def sent_to(self, chat_id: str | int) -> list[str]:
        return [m["text"] for m in self.sent if m["chat_id"] == str(chat_id)]

    async def wait_for_messages(self, n: int, chat_id: str | int | None = None, timeout: float = 10.0) -> list[str]:
        """Wait until at least n messages were sent (to chat_id); their texts."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            texts = [m["text"] for m in self.sent if chat_id is None or m["chat_id"] == str(chat_id)]
            if len(texts) >= n:
                return texts
            if loop.time() > deadline:
                raise AssertionError(f"expected {n} messages, got {len(texts)}: {texts}")
            await self._wait_change(deadline - loop.time())

    # ---- the Bot Platform API -------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized: invalid token")
            try:
                params = await request.json() if request.can_read_body else {}
            except ValueError:
                raise ApiError(400, "Bad Request: body is not JSON") from None
            params = params if isinstance(params, dict) else {}
            self.requests.append((method, params))
            self.stats[method] += 1
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await (self._m_getUpdates(params, request) if method == "getUpdates" else handler(params))
        except ApiError as e:
            body: dict[str, Any] = {"ok": False, "error_code": e.code, "description": e.description}
            if e.retry_after is not None:
                body["parameters"] = {"retry_after": e.retry_after}
            self.stats[f"error_{e.code}"] += 1
            return web.json_response(body, status=e.code)
        return web.json_response({"ok": True, "result": result})

    async def _m_getMe(self, p: dict[str, Any]) -> Any:
        return {"id": BOT_ID, "account_name": "nhacviec.bot", "account_type": "BASIC", "can_join_groups": True,
                "display_name": BOT_NAME}

    async def _m_getUpdates(self, p: dict[str, Any], request: web.Request | None = None) -> Any:
        if self.webhook["url"]:
            raise ApiError(400, "Bad Request: webhook is active, polling is not allowed")
        timeout = min(float(p.get("timeout") or 0), self.max_poll_timeout)
        deadline = time.monotonic() + timeout

        def gone() -> bool:  # the poller hung up (stopped): do not hand it an update it will never read
            return request is not None and (request.transport is None or request.transport.is_closing())

        while not self.updates and time.monotonic() < deadline and not self._closing and not gone():
            await self._wait_change(min(0.2, deadline - time.monotonic()))
        if not self.updates or gone():
            raise ApiError(408, "Request timeout")
        return self.updates.popleft()

    async def _m_setWebhook(self, p: dict[str, Any]) -> Any:
        url, secret = str(p.get("url") or ""), str(p.get("secret_token") or "")
        if not (url.startswith("https://") or url.startswith(f"http://{self.host}")):
            raise ApiError(400, "Bad Request: url must be https")
        if not 8 <= len(secret) <= 256:
            raise ApiError(400, "Bad Request: secret_token must be 8-256 characters")
        self.webhook = {"url": url, "secret_token": secret}
        return {"url": url, "updated_at": int(time.time() * 1000)}

    async def _m_deleteWebhook(self, p: dict[str, Any]) -> Any:
        self.webhook = {"url": "", "secret_token": ""}
        return {"url": "", "updated_at": int(time.time() * 1000)}

    async def _m_getWebhookInfo(self, p: dict[str, Any]) -> Any:
        return {"url": self.webhook["url"], "updated_at": int(time.time() * 1000)}

    def _check_send(self, chat_id: str) -> None:
        for key in (chat_id, None):
            queue = self.failures.get(key)
            if queue:
                f = queue[0]
                if f.times is not None:
                    f.times -= 1
                    if f.times <= 0:
                        queue.popleft()
                raise ApiError(f.code, f.description, f.retry_after)
        if self.rate is not None:
            now = time.monotonic()
            while self._window and now - self._window[0] >= 1.0:
                self._window.popleft()
            if len(self._window) >= self.rate:
                self.stats["over_rate"] += 1
                raise ApiError(429, "Too Many Requests: quota exceeded")
            self._window.append(now)

    async def _m_sendMessage(self, p: dict[str, Any]) -> Any:
        chat_id, text = str(p.get("chat_id") or ""), str(p.get("text") or "")
        if not chat_id:
            raise ApiError(400, "Bad Request: chat_id is required")
        if not text or len(text) > MAX_TEXT:
            raise ApiError(400, "Bad Request: text must be 1-2000 characters")
        self._check_send(chat_id)
        if self.send_delay:
            await asyncio.sleep(self.send_delay)
        message_id = f"b{next(self._ids):08d}"
        self.sent.append({"chat_id": chat_id, "text": text, "message_id": message_id})
        self._notify()
        return {"message_id": message_id, "date": int(time.time() * 1000)}

    async def _m_sendChatAction(self, p: dict[str, Any]) -> Any:
        return True

    # ---- the OA API ----------------------------------------------------------------------------

    def issue_tokens(self, access_life_s: float = 90000.0) -> tuple[str, str]:
        """A fresh access token and refresh token (what the admin pastes into the settings)."""
        access, refresh = f"acc-{secrets.token_hex(8)}", f"ref-{secrets.token_hex(8)}"
        self.access_tokens[access] = time.time() + access_life_s
        self.refresh_tokens.add(refresh)
        return access, refresh

    def expire_access_tokens(self) -> None:
        for token in self.access_tokens:
            self.access_tokens[token] = 0.0

    async def _oa_send(self, request: web.Request) -> web.Response:
        token = request.headers.get("access_token", "")
        body = await request.json()
        self.stats["oa_send"] += 1
        if token not in self.access_tokens:
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        if self.access_tokens[token] < time.time():
            return web.json_response({"error": -220, "message": "Access token has expired"})
        user = str((body.get("recipient") or {}).get("user_id") or "")
        text = str((body.get("message") or {}).get("text") or "")
        if self.oa_rate_limited:
            self.oa_rate_limited -= 1
            return web.json_response({"error": -32, "message": "Rate limit exceeded"})
        if user in self.not_following:
            return web.json_response({"error": -213, "message": "User has not followed the OA"})
        if user in self.inactive:
            return web.json_response({"error": -230, "message": "User has not interacted with the OA in 7 days"})
        if not text or len(text) > MAX_TEXT:
            return web.json_response({"error": -210, "message": "Parameter exceeds the limit"})
        if self.send_delay:
            await asyncio.sleep(self.send_delay)
        message_id = f"oa{next(self._ids):08d}"
        self.oa_sent.append({"user_id": user, "text": text, "message_id": message_id})
        self._notify()
        return web.json_response({"error": 0, "message": "Success", "data": {"message_id": message_id,
                                                                              "user_id": user}})

    async def _oa_refresh(self, request: web.Request) -> web.Response:
        form = await request.post()
        if request.headers.get("secret_key") != self.secret_key or form.get("app_id") != self.app_id:
            return web.json_response({"error": -14002, "error_description": "Invalid app or secret"})
        if form.get("grant_type") != "refresh_token":
            return web.json_response({"error": -14003, "error_description": "Invalid grant type"})
        token = str(form.get("refresh_token") or "")
        if token not in self.refresh_tokens:
            self.stats["refresh_refused"] += 1
            return web.json_response({"error": -14014, "error_description": "Invalid refresh token"})
        self.refresh_tokens.discard(token)  # single use: spent even if the caller never saves the new one
        if self.refresh_delay:
            await asyncio.sleep(self.refresh_delay)
        self.refreshes += 1
        access, refresh = self.issue_tokens()
        return web.json_response({"access_token": access, "refresh_token": refresh, "expires_in": "90000"})

    def oa_event(self, user_id: str, text: str, *, event: str = "user_send_text", msg_id: str | None = None,
                 timestamp_ms: int | None = None) -> dict[str, Any]:
        return {"app_id": self.app_id, "user_id_by_app": f"app{user_id}", "event_name": event,
                "sender": {"id": user_id}, "recipient": {"id": "oa-1"},
                "message": {"msg_id": msg_id or f"oam{next(self._ids):08d}", "text": text},
                "timestamp": str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))}

    def oa_signature(self, raw: bytes, timestamp: str) -> str:
        return hashlib.sha256(self.app_id.encode() + raw + timestamp.encode() + self.secret_key.encode()).hexdigest()

    async def push_oa(self, url: str, event: dict[str, Any], *, signature: str | None = None) -> int:
        """POST an OA event as Zalo does: body bytes signed (unless a signature is given); the status."""
        raw = json.dumps(event, ensure_ascii=False).encode()
        sig = signature if signature is not None else f"mac={self.oa_signature(raw, str(event.get('timestamp')))}"
        async with aiohttp.ClientSession() as s, s.post(url, data=raw, headers={
                "X-ZEvent-Signature": sig, "Content-Type": "application/json"}) as r:
            return r.status

    # ---- test controls over HTTP (for the standalone process) ----------------------------------

    async def _c_sent(self, request: web.Request) -> web.Response:
        chat = request.query.get("chat_id")
        return web.json_response({"messages": [m for m in self.sent if chat is None or m["chat_id"] == chat]})

    async def _c_stats(self, request: web.Request) -> web.Response:
        return web.json_response({"sent": len(self.sent), "chats": len({m["chat_id"] for m in self.sent}),
                                  **self.stats})

    async def _c_message(self, request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response(self.queue(self.update(body.pop("chat_id"), body.pop("text", "")),
                                            int(body.pop("times", 1))))

    async def _c_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeZalo(host=args.host, port=args.port, rate=args.rate)
    await fake.start()
    print(f"PORT {fake.port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Zalo Bot Platform and OA API on 127.0.0.1 (tests only)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: a free port (printed as 'PORT <n>')")
    parser.add_argument("--rate", type=float, default=None, help="sends per second before 429 (default: none)")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    sys.exit(0)


if __name__ == "__main__":
    main()
