"""Files as expiring signed links (what Zalo users get instead of a document), and the Zalo sender."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.channels.zalo.client import ZaloBotClient
from bot.channels.zalo.sender import FIRST_429_BACKOFF_S, ZaloSender
from bot.file_links import FileLinks
from core.messages import Attachment, Choice, DeliveryError, RetryLater, Unreachable
from knowledge.db import Database
from tests.fakes.zalo_api import FakeZalo
from tests.zalo_fixtures import web_server

CHAT = "zu0042"


class Now:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    async with FakeZalo() as fake:
        yield fake


async def _get(url: str) -> tuple[int, bytes, str]:
    async with aiohttp.ClientSession() as s, s.get(url) as r:
        return r.status, await r.read(), r.headers.get("Content-Disposition", "")


async def test_link_works_then_expires_and_forgeries_are_refused(sqlite_db: Database, tmp_path: Path,
                                                                 zalo: FakeZalo) -> None:
    now = Now()
    links = FileLinks(tmp_path / "links", "link-secret", 3600, "", now=now)
    async with web_server(sqlite_db, lambda web: links.add_route(web.app)) as base:
        links.public_url = base
        client = ZaloBotClient(zalo.token, zalo.url)
        sender = ZaloSender(client, max_per_second=100, per_chat_interval=0, links=links)
        content = b"PK\x03\x04 fake xlsx"
        await sender.send_file(CHAT, Attachment("Việc sắp đến hạn.xlsx", content),
                               caption="Danh sách việc của Sở Nội vụ")
        [text] = zalo.sent_to(CHAT)
        url = re.search(r"https?://\S+", text)
        assert url and "Danh sách việc" in text and "Liên kết dùng được đến" in text
        status, body, disposition = await _get(url.group(0))
        assert (status, body) == (200, content) and "attachment" in disposition
        key, name, token = re.search(r"/files/(\w+)/([^?]+)\?t=(\S+)", url.group(0)).groups()  # type: ignore[union-attr]
        expires, sig = token.split(".")
        longer = f"{base}/files/{key}/{name}?t={int(expires) + 86400}.{sig}"
        assert (await _get(longer))[0] == 403  # a stretched expiry breaks the signature
        assert (await _get(f"{base}/files/{key}/{name}?t={expires}.{'0' * 64}"))[0] == 403
        assert (await _get(f"{base}/files/{key}/{name}"))[0] == 403
        other = FileLinks(tmp_path / "links", "another-secret", 3600, base, now=now)
        assert (await _get(f"{base}/files/{key}/{name}?t={other.token(key, name.replace('%20', ' '), int(expires))}"))[
            0] == 403
        now.t += 3601
        status, body, _ = await _get(url.group(0))
        assert status == 410 and "hết hạn" in body.decode()
        await client.close()


def test_names_cannot_leave_the_folder(tmp_path: Path) -> None:
    links = FileLinks(tmp_path, "k", 60, "https://x.gov.vn")
    url = links.publish(b"x", "../../etc/passwd")
    assert "/../" not in url and next(iter(tmp_path.rglob("*passwd"))).parent.parent == tmp_path


async def test_without_a_public_address_the_user_is_told(tmp_path: Path, zalo: FakeZalo) -> None:
    client = ZaloBotClient(zalo.token, zalo.url)
    sender = ZaloSender(client, max_per_second=100, per_chat_interval=0, links=FileLinks(tmp_path, "", 60, ""))
    await sender.send_file(CHAT, Attachment("lich.ics", b"x"))
    assert "lich.ics" in zalo.sent_to(CHAT)[0] and "chưa gửi được" in zalo.sent_to(CHAT)[0]
    await client.close()


async def test_sender_outcomes(zalo: FakeZalo) -> None:
    client = ZaloBotClient(zalo.token, zalo.url)
    sender = ZaloSender(client, max_per_second=100, per_chat_interval=0)
    choices = [Choice("Đã hoàn thành", "rem:done:1"), Choice("Nhắc lại sau", "rem:later:1")]
    assert await sender.send(CHAT, "Nhắc việc: báo cáo", choices)
    assert zalo.sent_to(CHAT)[0].endswith("1. Đã hoàn thành\n2. Nhắc lại sau\nTrả lời bằng một số từ 1 đến 2.")
    zalo.fail(CHAT, 403)
    with pytest.raises(Unreachable):
        await sender.send(CHAT, "x")
    zalo.fail(CHAT, 429, retry_after=3)
    with pytest.raises(RetryLater) as e:
        await sender.send(CHAT, "x")
    assert e.value.seconds == 3
    sender.throttle.pacer.paused_until = 0
    zalo.fail(CHAT, 429, times=2)  # no retry_after: backoff doubles while 429s keep coming
    waits = []
    for _ in range(2):
        with pytest.raises(RetryLater) as e:
            await sender.send(CHAT, "x")
        waits.append(e.value.seconds)
        sender.throttle.pacer.paused_until = 0
    assert waits == [FIRST_429_BACKOFF_S * 2, FIRST_429_BACKOFF_S * 4]  # the one above counted too
    zalo.fail(CHAT, 400, "Bad Request: chat not found")
    with pytest.raises(DeliveryError):
        await sender.send(CHAT, "x")
    bad = ZaloSender(ZaloBotClient("1:wrong", zalo.url), max_per_second=100, per_chat_interval=0)
    with pytest.raises(RetryLater):  # a token refused is an admin's problem: keep the reminder
        await bad.send(CHAT, "x")
    await bad.client.close()
    await client.close()


async def test_a_429_pauses_every_send(zalo: FakeZalo) -> None:
    client = ZaloBotClient(zalo.token, zalo.url)
    sender = ZaloSender(client, max_per_second=100, per_chat_interval=0)
    zalo.fail(None, 429, retry_after=1)
    with pytest.raises(RetryLater):
        await sender.send("a", "x")
    started = time.monotonic()
    await sender.send("b", "y")  # another chat waits out the pause too
    assert time.monotonic() - started >= 0.9
    assert sender.throttle.pacer.per_second == 50  # the quota is below our pace: halve it
    sender.throttle._calm_since -= 31  # a quiet half minute later, some of it comes back
    await sender.send("c", "z")
    assert sender.throttle.pacer.per_second == 62.5
    await client.close()


async def test_the_project_paces_itself(zalo: FakeZalo) -> None:
    zalo.rate = 11  # the platform's quota, a little above our pace (the network adds jitter)
    client = ZaloBotClient(zalo.token, zalo.url)
    sender = ZaloSender(client, max_per_second=10, per_chat_interval=0.5)
    started = time.monotonic()
    await asyncio.gather(*(sender.send(f"c{i}", "x") for i in range(20)))
    assert time.monotonic() - started >= 1.4  # 20 at 10/s: the second ten wait for the next second
    assert zalo.stats["error_429"] == 0 and len(zalo.sent) == 20
    started = time.monotonic()
    for _ in range(3):
        await sender.send("same", "x")
    assert time.monotonic() - started >= 0.95  # 0.5 s between two messages to one chat
    await client.close()
