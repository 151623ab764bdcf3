"""The project's aiohttp server: platform webhooks and a health check, on NHACVIEC_WEB_HOST/PORT.

It runs in polling mode too, so that /healthz is always there for Docker and systemd. Channels
add their webhook routes before start (`Channel.add_routes` calls `add_webhook`).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlparse

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from knowledge.db import Database

log = logging.getLogger(__name__)

UpdateSink = Callable[[dict[str, Any]], Awaitable[None]]
# More of /healthz: (parts to show, whether they are all well).
HealthParts = Callable[[], Awaitable[tuple[dict[str, Any], bool]]]
MetricsText = Callable[[], Awaitable[bytes]]
METRICS_TYPE = "text/plain; version=0.0.4"


def webhook_path(webhook_url: str, default: str) -> str:
    """The local path of the public webhook URL ("https://x.gov.vn/nhacviec/tg" -> "/nhacviec/tg")."""
    path = urlparse(webhook_url).path if webhook_url else ""
    return path if path and path != "/" else default


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison; no secret configured means every request is refused."""
    if not expected or given is None:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


class WebServer:
    """aiohttp application + runner; `status` holds what /healthz reports besides the database."""

    def __init__(self, db: Database, host: str = "0.0.0.0", port: int = 8080) -> None:
        self.db = db
        self.host, self.port = host, port
        self.status: dict[str, Any] = {}
        self.app = web.Application(client_max_size=2 * 1024 * 1024)
        self.app.router.add_get("/healthz", self._health)
        self.app.router.add_get("/metrics", self._metrics)
        self.health_parts: HealthParts | None = None  # the app's channels and reminder ticks
        self.metrics_text: MetricsText | None = None
        self._runner: web.AppRunner | None = None

    async def _health(self, request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(3):
                async with self.db.session() as s:
                    await s.execute(text("SELECT 1"))
            database = "ok"
        except Exception as e:  # any failure is "not healthy", never a crash
            log.warning("health check: database unavailable: %s", e)
            database = "error"
        parts: dict[str, Any] = {}
        well = True
        if self.health_parts is not None:
            try:
                parts, well = await self.health_parts()
            except Exception as e:
                log.warning("health check: %s", e)
                well = False
        ok = database == "ok" and well
        body = {"status": "ok" if ok else "error", "database": database, **self.status, **parts}
        return web.json_response(body, status=200 if ok else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        if self.metrics_text is None:
            return web.Response(status=404, text="no metrics")
        try:
            async with asyncio.timeout(10):
                body = await self.metrics_text()
        except Exception as e:  # the store is down: say so, the scraper records the failure
            log.warning("metrics: %s", e)
            return web.Response(status=503, text=f"metrics unavailable: {e}")
        return web.Response(body=body, content_type="text/plain", charset="utf-8",
                            headers={"X-Content-Type-Version": "0.0.4"})

    def add_webhook(self, path: str, secret_header: str, secret: str, put_update: UpdateSink,
                    is_update: Callable[[Any], bool]) -> None:
        """POST path: a platform's updates, accepted only with the secret in `secret_header` (403
        otherwise) and when `is_update` recognises the JSON body (400 otherwise)."""

        async def receive(request: web.Request) -> web.Response:
            if not secret_matches(request.headers.get(secret_header), secret):
                return web.json_response({"ok": False, "description": "Forbidden"}, status=403)
            try:
                data = await request.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                return web.json_response({"ok": False, "description": "Bad Request: body is not JSON"}, status=400)
            except RecursionError:  # nested deeper than the parser goes: no update is like that
                log.warning("webhook %s: JSON body nested too deep, refused", path)
                return web.json_response({"ok": False, "description": "Bad Request: JSON nested too deep"},
                                         status=400)
            if not is_update(data):
                return web.json_response({"ok": False, "description": "Bad Request: not an update"}, status=400)
            try:
                await put_update(data)
            except (SQLAlchemyError, OSError) as e:  # not stored: the platform must send it again
                log.warning("webhook update not stored (%s); the platform will send it again", e)
                return web.json_response({"ok": False, "description": "Service Unavailable"}, status=503)
            except Exception as e:  # a malformed update must not turn into retries from the platform
                log.warning("webhook update not understood (%s: %.200s): %.300s", type(e).__name__, e, data)
                return web.json_response({"ok": False, "description": "Bad Request: malformed update"}, status=400)
            return web.json_response({"ok": True})

        self.app.router.add_post(path, receive)

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        if self.port == 0 and server is not None:  # a free port was asked for: learn which
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        log.info("web server on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
