"""A small aiohttp client of the Zalo Bot Platform API (Telegram-shaped, with its own quirks).

Why not the SDK on PyPI (python-zalo-bot 0.1.9, checked 30/11/2026): it is a trimmed copy of
python-telegram-bot 20 that keeps Telegram's assumptions where Zalo differs. `get_update` sends
Telegram's `offset`/`limit` (Zalo has no offset) and returns one update; a 408 "no update" comes
back as a NetworkError that its polling loop logs as an exception and sleeps a second on;
`delete_webhook`/`set_webhook` wrap `asyncio.run` and cannot be called from a running event loop;
its Updater is a `NotImplementedError` placeholder; its project URLs point at "yourusername". It
would also add httpx request plumbing for five POST methods. The client below is the whole API we
use: one POST per method, the base URL settable (tests point it at tests/fakes/zalo_api.py), the
token only in the path and never in a log line, 408 read as "nothing new".
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://bot-api.zaloplatforms.com"
NO_UPDATE = 408  # getUpdates: the poll timed out with nothing to deliver
REQUEST_TIMEOUT_S = 15.0
POLL_GRACE_S = 10.0  # the HTTP timeout of a long poll: the poll's own timeout plus this


class ZaloApiError(Exception):
    """An error answer ({ok: false, error_code, description}) or a failed request (code 0)."""

    def __init__(self, code: int, description: str, retry_after: float | None = None) -> None:
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description
        self.retry_after = retry_after


class ZaloBotClient:
    """The Zalo Bot Platform methods the channel uses. Start it (or pass a session) before calling."""

    def __init__(self, token: str, base_url: str = DEFAULT_BASE_URL, *,
                 session: aiohttp.ClientSession | None = None) -> None:
        if not token:
            raise ValueError("NHACVIEC_ZALO_BOT_TOKEN is empty")
        self._url = f"{(base_url or DEFAULT_BASE_URL).rstrip('/')}/bot{token}"
        self._session = session
        self._own_session = session is None

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, method: str, payload: dict[str, Any] | None = None,
                   timeout: float = REQUEST_TIMEOUT_S) -> Any:
        """POST one method; its `result`, or ZaloApiError (network failures and timeouts: code 0)."""
        if self._session is None:
            await self.start()
        assert self._session is not None
        try:
            async with self._session.post(f"{self._url}/{method}", json=payload or {},
                                          timeout=aiohttp.ClientTimeout(total=timeout)) as response:
                status = response.status
                try:
                    body = await response.json(content_type=None)
                except ValueError:
                    body = None
        except (aiohttp.ClientError, TimeoutError) as e:  # the token is in the URL: log only the method
            raise ZaloApiError(0, f"{method}: {type(e).__name__}") from None
        if isinstance(body, dict) and body.get("ok") is True:
            return body.get("result")
        if not isinstance(body, dict):
            raise ZaloApiError(status if status >= 400 else 0, f"{method}: unreadable answer (HTTP {status})")
        code = int(body.get("error_code") or (status if status >= 400 else 0))
        parameters = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
        retry = parameters.get("retry_after") if parameters else None
        raise ZaloApiError(code, str(body.get("description") or ""), float(retry) if retry is not None else None)

    async def get_me(self) -> dict[str, Any]:
        return dict(await self.call("getMe") or {})

    async def delete_webhook(self) -> None:
        """Polling and the webhook exclude each other: polling starts with this."""
        await self.call("deleteWebhook")

    async def set_webhook(self, url: str, secret_token: str) -> None:
        await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def get_updates(self, timeout_s: int) -> list[dict[str, Any]]:
        """One long poll: Zalo answers with ONE update (a list is taken too), or 408 when none came."""
        try:
            result = await self.call("getUpdates", {"timeout": str(timeout_s)}, timeout=timeout_s + POLL_GRACE_S)
        except ZaloApiError as e:
            if e.code == NO_UPDATE:
                return []
            raise
        if isinstance(result, list):
            return [u for u in result if isinstance(u, dict)]
        return [result] if isinstance(result, dict) and result else []

    async def send_message(self, chat_id: str, text: str) -> dict[str, Any]:
        return dict(await self.call("sendMessage", {"chat_id": chat_id, "text": text}) or {})

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        await self.call("sendChatAction", {"chat_id": chat_id, "action": action})

