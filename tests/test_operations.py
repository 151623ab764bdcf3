"""Operations (issue 13): /healthz tells each part's state, /metrics is Prometheus text the official parser
reads, logs can be JSON lines, and SIGTERM finishes the answers in flight within NHACVIEC_SHUTDOWN_GRACE_S."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import date
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import App
from tests.fakes.telegram_api import FakeTelegram
from tests.process_fixtures import bot_env, fake_telegram, free_port, start_bot, stop
from tests.reminder_fixtures import due_batch
from tests.test_telegram_app import settings


async def get(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with http.get(url) as r:
        return r.status, await r.text()


async def test_healthz_and_metrics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NHACVIEC_DISPATCH_INTERVAL_S", "0.2")
    async with FakeTelegram() as tg:
        app = await App.create(settings(tmp_path, telegram_token=tg.token, telegram_base_url=tg.base_url))
        await due_batch(app.ctx.db, date(2020, 1, 6), 2, 3, 501, plan=True)  # long overdue: cancelled
        await app.start()
        base = f"http://127.0.0.1:{app.web.port}"
        try:
            async with aiohttp.ClientSession() as http:
                deadline = time.monotonic() + 10
                while True:
                    status, body = await get(http, f"{base}/healthz")
                    ticked = status == 200 and all(json.loads(body)[p]["last_tick"] for p in ("planner", "dispatcher"))
                    if ticked or time.monotonic() > deadline:
                        break
                    await asyncio.sleep(0.1)
                health = json.loads(body)
                assert status == 200, health
                assert health["database"] == "ok" and health["telegram"] == "polling"
                tg_health = health["channels"]["telegram"]
                assert tg_health["connected"] is True and tg_health["status"] == "polling" and tg_health["last_poll"]
                assert tg_health["poller_alive"] is True
                for part in ("planner", "dispatcher"):
                    assert health[part]["alive"] is True and health[part]["last_tick"], health

                tg.queue_message(11, "Sở Tài chính có việc gì?")
                tg.queue_message(11, "/huydangky")
                await tg.wait_for_messages(2, chat_id=11)
                await asyncio.sleep(0.2)
                status, text = await get(http, f"{base}/metrics")
                assert status == 200
                families = {f.name: f for f in text_string_to_metric_families(text)}
                handled = {(s.labels["channel"], s.labels["intent"]): s.value
                           for s in families["nhacviec_messages_handled"].samples if s.name.endswith("_total")}
                assert handled == {("telegram", "question"): 1.0, ("telegram", "command:huydangky"): 1.0}
                count = [s.value for s in families["nhacviec_answer_seconds"].samples
                         if s.name == "nhacviec_answer_seconds_count"]
                assert count == [2.0]
                reminders = {(s.labels["channel"], s.labels["status"]): s.value
                             for s in families["nhacviec_reminders"].samples}
                assert sum(reminders.values()) == 6 and all(ch == "telegram" for ch, _ in reminders)
                for name in ("nhacviec_reminder_oldest_pending_seconds", "nhacviec_index_tasks",
                             "nhacviec_inbox_unanswered", "nhacviec_imports"):
                    assert name in families
                assert [s.value for s in families["nhacviec_index_tasks"].samples] == [2.0]

                app.reminders.scheduler.shutdown(wait=False)  # type: ignore[union-attr]
                status, body = await get(http, f"{base}/healthz")
                assert status == 503 and json.loads(body)["dispatcher"]["alive"] is False
                poller = app.channels[0]._poller  # type: ignore[attr-defined]
                poller.cancel()
                await asyncio.sleep(0.05)
                status, body = await get(http, f"{base}/healthz")
                assert status == 503 and json.loads(body)["channels"]["telegram"]["connected"] is False
        finally:
            await app.stop()


async def test_json_logs_and_graceful_shutdown_finishes_the_reply_in_flight(tmp_path: Path) -> None:
    async with fake_telegram() as fake, aiohttp.ClientSession() as http:
        port = free_port()
        env = bot_env(fake.url, "", port, tmp_path, webhook=False, NHACVIEC_LOG_JSON="1",
                      NHACVIEC_SHUTDOWN_GRACE_S="8")
        bot = await start_bot(env, tmp_path)
        # The reply must wait 3 s (flood control); SIGTERM comes meanwhile; the reply still goes out.
        await fake.post(http, "/_fake/fail", {"chat_id": 11, "code": 429, "retry_after": 3})
        await fake.post(http, "/_fake/message", {"chat_id": 11, "text": "/huydangky"})
        while (await fake.get(http, "/_fake/stats")).get("error_429", 0) < 1:
            await asyncio.sleep(0.02)
        started = time.monotonic()
        assert await stop(bot) == 0
        took = time.monotonic() - started
        sent = (await fake.get(http, "/_fake/sent?chat_id=11"))["messages"]
        assert len(sent) == 1 and "chưa đăng ký" in sent[0]["text"]
        assert 2.0 < took < 8.0
    lines = [ln for ln in (tmp_path / "bot.log").read_text().splitlines() if ln.strip()]
    assert lines, "the 429 is logged"
    records = [json.loads(ln) for ln in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    assert any(r["level"] == "WARNING" and "429" in r["message"] for r in records)
    assert not any(r["level"] == "ERROR" for r in records)


async def test_shutdown_is_bounded_and_what_is_cut_off_is_answered_on_the_next_start(tmp_path: Path) -> None:
    async with fake_telegram() as fake, aiohttp.ClientSession() as http:
        port = free_port()
        env = bot_env(fake.url, "", port, tmp_path, webhook=False, NHACVIEC_SHUTDOWN_GRACE_S="1")
        bot = await start_bot(env, tmp_path)
        await fake.post(http, "/_fake/fail", {"chat_id": 12, "code": 429, "retry_after": 30})
        await fake.post(http, "/_fake/message", {"chat_id": 12, "text": "/huydangky"})
        while (await fake.get(http, "/_fake/stats")).get("error_429", 0) < 1:
            await asyncio.sleep(0.02)
        started = time.monotonic()
        assert await stop(bot) == 0
        assert time.monotonic() - started < 5
        assert (await fake.get(http, "/_fake/sent?chat_id=12"))["messages"] == []
        bot = await start_bot(env, tmp_path)
        try:
            deadline = time.monotonic() + 15
            while not (await fake.get(http, "/_fake/sent?chat_id=12"))["messages"]:
                assert time.monotonic() < deadline, "the question cut off by the shutdown was not answered"
                await asyncio.sleep(0.05)
        finally:
            await stop(bot)
        [reply] = (await fake.get(http, "/_fake/sent?chat_id=12"))["messages"]
        assert "chưa đăng ký" in reply["text"]
