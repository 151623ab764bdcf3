"""Files as links that expire: for channels that cannot send documents (Zalo sends text only).

What Telegram would send as a file (.xlsx, .ics, a chart) is written under the data folder and
handed out as `<public_url>/files/<key>/<name>?t=<expiry>.<signature>`. The signature is an
HMAC-SHA256 of the key, the name and the expiry under NHACVIEC_FILE_LINK_SECRET, so nobody can
forge a link or stretch its life; the web server serves the file only while the link is valid.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import mimetypes
import re
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from core.settings import Settings

log = logging.getLogger(__name__)

ROUTE = "/files/{key}/{name}"
KEY = re.compile(r"^[0-9a-f]{32}$")
UNSAFE = re.compile(r'[/\\\x00-\x1f"<>|:*?]')
EXPIRED = "Liên kết đã hết hạn. Vui lòng hỏi lại trợ lý để nhận liên kết mới."
FORBIDDEN = "Liên kết không hợp lệ."


def safe_name(name: str) -> str:
    """A file name that is only a name (no folders, no control characters)."""
    cleaned = UNSAFE.sub("_", name).strip(" .")
    return cleaned[:120] or "tep"


class FileLinks:
    """Publishes files and checks their links. One per process, shared by the channels and the web server."""

    def __init__(self, folder: Path, secret: str, ttl_s: int, public_url: str,
                 now: Callable[[], float] = time.time) -> None:
        self.folder = folder
        self.secret = (secret or secrets.token_hex(32)).encode()  # no secret set: links die with the process
        self.ttl_s = ttl_s
        self.public_url = public_url.rstrip("/")
        self.now = now

    @property
    def enabled(self) -> bool:
        """Links need an address users can reach."""
        return bool(self.public_url)

    def signature(self, key: str, name: str, expires: int) -> str:
        message = f"{key}\n{name}\n{expires}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def token(self, key: str, name: str, expires: int) -> str:
        return f"{expires}.{self.signature(key, name, expires)}"

    def check(self, key: str, name: str, token: str) -> str | None:
        """None when the link is valid now; else why not ("forged" or "expired")."""
        expires_text, _, given = token.partition(".")
        if not expires_text.isdigit() or not given:
            return "forged"
        if not hmac.compare_digest(given, self.signature(key, name, int(expires_text))):
            return "forged"
        if int(expires_text) < self.now():
            return "expired"
        return None

    def publish(self, content: bytes, name: str) -> str:
        """Store a file and return its link (valid for ttl_s)."""
        self.sweep()
        key, name = secrets.token_hex(16), safe_name(name)
        path = self.folder / key / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        expires = int(self.now()) + self.ttl_s
        return f"{self.public_url}/files/{key}/{quote(name)}?t={self.token(key, name, expires)}"

    def sweep(self) -> None:
        """Delete files whose links have all expired (kept one TTL more, for clock skew)."""
        if not self.folder.is_dir():
            return
        cutoff = self.now() - 2 * self.ttl_s
        for entry in self.folder.iterdir():
            if entry.is_dir() and KEY.match(entry.name) and entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """GET /files/{key}/{name}?t=...: the file while the link is valid; 403 forged, 410 expired."""
        key, name = request.match_info["key"], request.match_info["name"]
        if not KEY.match(key) or safe_name(name) != name:
            return web.Response(status=404, text=FORBIDDEN)
        problem = self.check(key, name, request.query.get("t", ""))
        if problem == "expired":
            return web.Response(status=410, text=EXPIRED)
        if problem:
            log.warning("refused a file link for %s/%s: %s", key, name, problem)
            return web.Response(status=403, text=FORBIDDEN)
        path = self.folder / key / name
        if not path.is_file():
            return web.Response(status=410, text=EXPIRED)
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                   "Cache-Control": "private, no-store"}
        return web.Response(body=path.read_bytes(), content_type=kind, headers=headers)

    def add_route(self, app: web.Application) -> None:
        """GET /files/... on the web server, once (both Zalo channels publish through the same folder)."""
        if any(r.canonical == ROUTE for r in app.router.resources()):
            return
        app.router.add_get(ROUTE, self.handle)


def from_settings(settings: Settings) -> FileLinks:
    """Where files for text-only channels are published: data_dir/links, served by the web server under
    /files/ for NHACVIEC_FILE_LINK_TTL_S, signed with NHACVIEC_FILE_LINK_SECRET."""
    return FileLinks(settings.data_dir / "links", settings.file_link_secret, settings.file_link_ttl_s,
                     settings.public_url)
