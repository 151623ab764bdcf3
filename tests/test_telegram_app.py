"""bot/app.py composes the product from settings: store, web server, reminders, Telegram."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from bot.app import App, load_samples
from bot.channels.telegram.channel import SECRET_HEADER, file_url
from bot.channels.telegram.sender import TelegramSender
from core.settings import Settings
from tests.fakes.telegram_api import FakeTelegram


def settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(data_dir=tmp_path, web_host="127.0.0.1", web_port=0, **kw)  # type: ignore[arg-type]


def test_file_url_follows_the_api_server(tmp_path: Path) -> None:
    assert file_url(settings(tmp_path)) == "https://api.telegram.org/file/bot"
    local = settings(tmp_path, telegram_base_url="http://127.0.0.1:8081/bot")
    assert file_url(local) == "http://127.0.0.1:8081/file/bot"
    apart = settings(tmp_path, telegram_base_url="http://127.0.0.1:8081/bot",
                     telegram_base_file_url="http://files.local/file/bot")
    assert file_url(apart) == "http://files.local/file/bot"


async def test_webhook_without_secret_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="NHACVIEC_WEBHOOK_SECRET"):
        await App.create(settings(tmp_path, telegram_token="1:x", webhook_url="https://x.example/hook"))


async def test_samples_need_a_folder(tmp_path: Path) -> None:
    app = await App.create(settings(tmp_path))
    try:
        assert await load_samples(app.ctx, str(tmp_path / "missing")) == 0
        assert app.channels == [] and app.web.status == {"telegram": "off"}
    finally:
        await app.ctx.db.close()


async def test_webhook_app_end_to_end(tmp_path: Path) -> None:
    async with FakeTelegram() as tg:
        cfg = settings(tmp_path, telegram_token=tg.token, telegram_base_url=tg.base_url,
                       webhook_url="https://nhacviec.example.gov.vn/hook", webhook_secret="0123456789abcdef",
                       admins="telegram:900")
        app = await App.create(cfg)
        await app.start()
        try:
            assert isinstance(app.edge.senders()["telegram"], TelegramSender)
            assert app.reminders is not None
            assert tg.webhook["url"] == "https://nhacviec.example.gov.vn/hook"
            update = {"update_id": 5, "message": tg.user_message(900, "/taoma Sở Tài chính")}
            async with aiohttp.ClientSession() as http:
                async with http.post(f"http://127.0.0.1:{app.web.port}/hook", json=update,
                                     headers={SECRET_HEADER: "0123456789abcdef"}) as r:
                    assert r.status == 200
                async with http.get(f"http://127.0.0.1:{app.web.port}/healthz") as r:
                    assert (await r.json())["telegram"] == "webhook"
            [reply] = await tg.wait_for_messages(1, chat_id=900)
            assert "Mã đăng ký cán bộ đầu mối của Sở Tài chính" in reply["text"]
            assert f"https://t.me/{tg.bot['username']}?start=" in reply["text"]
        finally:
            await app.stop()
