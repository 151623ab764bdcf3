"""Zalo Official Account API v3: a signed webhook in, consultation messages out.

Receiving: Zalo posts events to the URL set in its console with `X-ZEvent-Signature` = hex
sha256(app_id + raw body + timestamp + OA secret key). The handler recomputes it over the raw
bytes, compares in constant time, refuses timestamps further than NHACVIEC_ZALO_OA_WEBHOOK_MAX_AGE_S
from now (a replayed request), answers 200 at once and works after; events other than a user's
text are acknowledged and ignored.

Sending: `POST /v3.0/oa/message/cs` with the access token. Zalo answers application errors as HTTP
200 with `{error: <negative>, message}`: -216/-220 (token invalid/expired) refresh through the
OAuth endpoint and retry once; -230 (no interaction for 7 days) and -213 (not following the OA)
are Unreachable; -32 is flood control. The refresh token rotates with every refresh and lives in
the store (knowledge.oa_tokens: one refresher at a time across instances, saved before use).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from bot.channels.zalo.intake import Intake
from bot.channels.zalo.sender import NETWORK_BACKOFF_S, Throttle, link_text
from bot.channels.zalo.text import PIECE, pieces
from bot.file_links import FileLinks
from bot.file_links import from_settings as file_links
from bot.web import WebServer
from core.messages import Attachment, Choice, DeliveryError, Incoming, RetryLater, Unreachable
from core.settings import Settings
from knowledge import oa_tokens
from knowledge.db import Database
from knowledge.text import nfc

if TYPE_CHECKING:
    from bot.edge import Edge

log = logging.getLogger(__name__)

CHANNEL = "zalo_oa"
DEFAULT_WEBHOOK_PATH = "/zalo/oa/webhook"
SIGNATURE_HEADER = "X-ZEvent-Signature"
DEFAULT_BASE_URL = "https://openapi.zalo.me"
DEFAULT_OAUTH_URL = "https://oauth.zaloapp.com"
SEND_PATH = "/v3.0/oa/message/cs"
REFRESH_PATH = "/v4/oa/access_token"
USER_TEXT = "user_send_text"
TOKEN_INVALID, TOKEN_EXPIRED = -216, -220
NOT_FOLLOWING, NO_RECENT_INTERACTION = -213, -230
RATE_LIMITED = -32
RATE_LIMIT_BACKOFF_S = 10.0
TOKEN_TROUBLE_BACKOFF_S = 60.0
DEFAULT_ACCESS_LIFE = timedelta(hours=25)
REQUEST_TIMEOUT_S = 15.0
UNREACHABLE_TEXT = {
    NOT_FOLLOWING: "người dùng không (còn) quan tâm OA",
    NO_RECENT_INTERACTION: "người dùng không tương tác với OA trong 7 ngày",
}


class OaApiError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


class RefreshFailed(OaApiError):
    """The OAuth endpoint gave no new tokens: an admin may have to paste a new refresh token."""


class SignatureRefused(Exception):
    """Why a webhook request was refused (logged; the caller only gets 403)."""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def signature(app_id: str, raw: bytes, timestamp: str, secret_key: str) -> str:
    return hashlib.sha256(app_id.encode() + raw + timestamp.encode() + secret_key.encode()).hexdigest()


def verify(app_id: str, secret_key: str, raw: bytes, header: str | None, max_age_s: float,
           now_ms: float | None = None) -> dict[str, Any]:
    """The event of a genuine, fresh webhook request; SignatureRefused otherwise."""
    if not app_id or not secret_key:
        raise SignatureRefused("OA app id or secret key not configured")
    if not header:
        raise SignatureRefused("no signature")
    given = header.strip().removeprefix("mac=")
    try:
        event = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise SignatureRefused("body is not JSON") from None
    if not isinstance(event, dict):
        raise SignatureRefused("body is not an event")
    timestamp = str(event.get("timestamp") or "")
    if not hmac.compare_digest(given.encode(), signature(app_id, raw, timestamp, secret_key).encode()):
        raise SignatureRefused("signature does not match")
    if str(event.get("app_id") or "") != app_id:
        raise SignatureRefused("event for another app")
    if not timestamp.isdigit():
        raise SignatureRefused("no timestamp")
    now_ms = time.time() * 1000 if now_ms is None else now_ms
    if abs(now_ms - int(timestamp)) > max_age_s * 1000:
        raise SignatureRefused("stale timestamp")
    return event


def to_incoming(event: dict[str, Any]) -> Incoming | None:
    """A user's text as Incoming (the chat is the user: OA conversations are one to one); else None."""
    if event.get("event_name") != USER_TEXT:
        return None
    sender = _dict(event.get("sender"))
    message = _dict(event.get("message"))
    user = str(sender.get("id") or "")
    text = nfc(str(message.get("text") or "")).strip()
    if not user or not text:
        return None
    return Incoming(channel=CHANNEL, chat_id=user, user_id=user, text=text)


def _chat_of(event: dict[str, Any]) -> str | None:
    """The chat of a stored event: its user (OA conversations are one to one)."""
    return str(_dict(event.get("sender")).get("id") or "") or None


class ZaloOaClient:
    """Sends consultation messages; keeps the access token fresh through the store."""

    def __init__(self, db: Database, app_id: str, secret_key: str, *, base_url: str = DEFAULT_BASE_URL,
                 oauth_url: str = DEFAULT_OAUTH_URL, session: aiohttp.ClientSession | None = None) -> None:
        self.db = db
        self.app_id, self.secret_key = app_id, secret_key
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.oauth_url = (oauth_url or DEFAULT_OAUTH_URL).rstrip("/")
        self._session = session
        self._own_session = session is None
        self.owner = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.refreshes = 0  # refresh calls this client made (tests, /healthz)
        self._cached: tuple[str, datetime] | None = None  # (access token, use it until)

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def seed(self, access_token: str, refresh_token: str) -> bool:
        """Put the first tokens (from the settings) in the store unless it already has some."""
        async with self.db.session() as s:
            stored = await oa_tokens.seed(s, self.app_id, oa_tokens.Tokens(
                access_token, refresh_token, datetime.now(UTC) + DEFAULT_ACCESS_LIFE if access_token else None))
            await s.commit()
        return stored

    async def _http(self) -> aiohttp.ClientSession:
        await self.start()
        assert self._session is not None
        return self._session

    async def exchange(self, refresh_token: str) -> oa_tokens.Tokens:
        """One call to the OAuth endpoint: a refresh token (spent by this call) for new tokens."""
        session = await self._http()
        form = {"app_id": self.app_id, "grant_type": "refresh_token", "refresh_token": refresh_token}
        self.refreshes += 1
        try:
            async with session.post(f"{self.oauth_url}{REFRESH_PATH}", data=form,
                                    headers={"secret_key": self.secret_key},
                                    timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)) as r:
                body = await r.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as e:
            raise RefreshFailed(0, f"token refresh: {type(e).__name__}") from None
        if not isinstance(body, dict) or not body.get("access_token") or not body.get("refresh_token"):
            code = int(body.get("error") or 0) if isinstance(body, dict) else 0
            text = str(body.get("error_description") or body.get("message") or "") if isinstance(body, dict) else ""
            raise RefreshFailed(code, f"token refresh refused: {text}")
        life = timedelta(seconds=int(body.get("expires_in") or DEFAULT_ACCESS_LIFE.total_seconds()))
        return oa_tokens.Tokens(str(body["access_token"]), str(body["refresh_token"]), datetime.now(UTC) + life)

    async def access_token(self, failed: str | None = None) -> str:
        """The access token to use now; refreshed (once across instances) when `failed` or near expiry.

        The last one read is kept in memory until it nears expiry, so a send costs no store round trip."""
        cached = self._cached
        if failed is None and cached is not None and cached[1] > datetime.now(UTC):
            return cached[0]
        token = await oa_tokens.refresh(self.db, self.app_id, self.exchange, failed=failed, owner=self.owner)
        stored = await oa_tokens.current(self.db, self.app_id)
        good_until = (stored.expires_at if stored and stored.expires_at else datetime.now(UTC) + DEFAULT_ACCESS_LIFE)
        self._cached = (token, good_until - oa_tokens.EARLY)
        return token

    async def _post_text(self, token: str, user_id: str, text: str) -> dict[str, Any]:
        session = await self._http()
        body = {"recipient": {"user_id": user_id}, "message": {"text": text}}
        try:
            async with session.post(f"{self.base_url}{SEND_PATH}", json=body, headers={"access_token": token},
                                    timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)) as r:
                if r.status == 429 or r.status >= 500:
                    raise OaApiError(RATE_LIMITED if r.status == 429 else 0, f"HTTP {r.status}")
                answer = await r.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as e:
            raise OaApiError(0, f"send: {type(e).__name__}") from None
        if not isinstance(answer, dict):
            raise OaApiError(0, "send: unreadable answer")
        return answer

    async def send_text(self, user_id: str, text: str) -> str:
        """One consultation message; its message id. -216/-220: refresh and retry once; OaApiError else."""
        token = await self.access_token()
        answer = await self._post_text(token, user_id, text)
        if int(answer.get("error") or 0) in (TOKEN_INVALID, TOKEN_EXPIRED):
            log.info("Zalo OA access token refused (%s): refreshing", answer.get("error"))
            token = await self.access_token(failed=token)
            answer = await self._post_text(token, user_id, text)
        code = int(answer.get("error") or 0)
        if code:
            raise OaApiError(code, str(answer.get("message") or ""))
        data = _dict(answer.get("data"))
        return str(data.get("message_id") or "")


class ZaloOaSender:
    """core.messages.Sender for Zalo OA consultation messages (to users who wrote in the last 7 days)."""

    channel = CHANNEL

    def __init__(self, client: ZaloOaClient, *, max_per_second: float = 5.0, per_chat_interval: float = 1.0,
                 links: FileLinks | None = None) -> None:
        self.client = client
        self.links = links
        self.max_per_second = max_per_second
        self.per_chat_interval = per_chat_interval
        self.throttle = Throttle(max_per_second, per_chat_interval)

    async def send(self, chat_id: str, text: str, choices: list[Choice] | None = None) -> str:
        message_id = ""
        for i, part in enumerate(pieces(text, choices)):
            await self.throttle.wait(chat_id)
            try:
                message_id = await self.client.send_text(chat_id, part)
            except OaApiError as e:
                outcome = self._outcome(e)
                if i and isinstance(outcome, RetryLater):
                    raise DeliveryError(f"only part of a long message was delivered: {e}") from e
                raise outcome from e
            except (LookupError, TimeoutError) as e:  # no tokens stored, or a refresher stuck elsewhere
                log.error("Zalo OA has no usable token: %s", e)
                raise RetryLater(TOKEN_TROUBLE_BACKOFF_S, str(e)) from e
        return message_id

    async def send_file(self, chat_id: str, attachment: Attachment, caption: str = "") -> str:
        """Files go as expiring links, as on the Bot Platform."""
        return await self.send(chat_id, link_text(self.links, attachment, caption))

    def _outcome(self, e: OaApiError) -> DeliveryError:
        if isinstance(e, RefreshFailed):
            log.error("Zalo OA token refresh failed: %s", e)
            return RetryLater(TOKEN_TROUBLE_BACKOFF_S, e.message)
        if e.code in UNREACHABLE_TEXT:
            return Unreachable(UNREACHABLE_TEXT[e.code])
        if e.code == RATE_LIMITED:
            self.throttle.pause(RATE_LIMIT_BACKOFF_S)
            return RetryLater(RATE_LIMIT_BACKOFF_S, "zalo oa rate limited")
        if e.code in (TOKEN_INVALID, TOKEN_EXPIRED):
            log.error("Zalo OA refused a freshly refreshed token: %s", e)
            return RetryLater(TOKEN_TROUBLE_BACKOFF_S, e.message)
        if e.code == 0:
            return RetryLater(NETWORK_BACKOFF_S, e.message)
        return DeliveryError(f"zalo oa {e.code}: {e.message}")


class ZaloOaChannel:
    """The Zalo OA of the product (bot.channels.base.Channel): user texts from its signed webhook to
    the Edge, replies and reminders out as consultation messages."""

    name = CHANNEL
    max_text = PIECE
    status = "webhook"
    connected = True  # webhook only: nothing to connect to before the OA's first event

    def health(self) -> dict[str, Any]:
        return {}

    def __init__(self, edge: Edge, client: ZaloOaClient, *, max_per_second: float = 5.0,
                 per_chat_interval: float = 1.0, max_age_s: float = 300.0, path: str = DEFAULT_WEBHOOK_PATH,
                 first_tokens: tuple[str, str] = ("", ""), links: FileLinks | None = None) -> None:
        self.edge = edge
        self.client = client
        self.links = links
        self.sender = ZaloOaSender(client, max_per_second=max_per_second, per_chat_interval=per_chat_interval,
                                   links=links)
        self.max_age_s = max_age_s
        self.path = path
        self.first_tokens = first_tokens
        self.intake = Intake(edge, CHANNEL, self.answer, _chat_of)
        edge.add(self)

    @classmethod
    def from_settings(cls, edge: Edge, settings: Settings) -> ZaloOaChannel | None:
        """The channel when the OA app id and secret key are set (the factory bot.channels lists)."""
        if not (settings.zalo_oa_app_id and settings.zalo_oa_secret_key):
            return None
        client = ZaloOaClient(edge.ctx.db, settings.zalo_oa_app_id, settings.zalo_oa_secret_key,
                              base_url=settings.zalo_oa_base_url, oauth_url=settings.zalo_oa_oauth_url)
        return cls(edge, client, max_per_second=settings.zalo_max_per_second,
                   per_chat_interval=settings.zalo_per_chat_interval_s,
                   max_age_s=settings.zalo_oa_webhook_max_age_s, path=settings.zalo_oa_webhook_path,
                   first_tokens=(settings.zalo_oa_access_token, settings.zalo_oa_refresh_token),
                   links=file_links(settings))

    def add_routes(self, web: WebServer) -> None:
        if self.links is not None:
            self.links.add_route(web.app)
        web.app.router.add_post(self.path, self.webhook_handler())

    async def start(self) -> None:
        """Copy the first tokens (from the settings) into the store unless it has some already."""
        await self.client.start()
        if await self.client.seed(*self.first_tokens):
            log.info("Zalo OA tokens stored; from now on they rotate in the store")

    async def stop(self) -> None:
        """Finish the answers under way, close the HTTP session."""
        await self.intake.drain()
        await self.client.close()

    async def process(self, event: dict[str, Any]) -> None:
        """A verified event: a user's text stored in the inbox (raises when the store cannot take it),
        then answered in the background; anything else ignored."""
        incoming = to_incoming(event)
        if incoming is None:
            log.debug("zalo oa event %s ignored", event.get("event_name"))
            return
        message_id = str(_dict(event.get("message")).get("msg_id") or "") or None
        await self.intake.accept(incoming.chat_id, message_id, event)

    async def answer(self, event: dict[str, Any]) -> None:
        incoming = to_incoming(event)
        if incoming is not None:
            await self.edge.receive(incoming)

    def webhook_handler(self) -> Callable[[web.Request], Awaitable[web.Response]]:
        """An aiohttp handler for the OA webhook: signature and freshness checked, the event stored,
        200 at once (the answer is worked out after)."""

        async def receive(request: web.Request) -> web.Response:
            raw = await request.read()
            try:
                event = verify(self.client.app_id, self.client.secret_key, raw,
                               request.headers.get(SIGNATURE_HEADER), self.max_age_s)
            except SignatureRefused as e:
                log.warning("zalo oa webhook refused: %s", e)
                return web.json_response({"error": 403, "message": "Forbidden"}, status=403)
            try:
                await self.process(event)  # stored before the 200; answered after it
            except Exception as e:
                log.warning("zalo oa event not stored (%s): the platform will send it again", e)
                return web.json_response({"error": 503, "message": "Try again"}, status=503)
            return web.json_response({"error": 0, "message": "Success"})

        return receive
