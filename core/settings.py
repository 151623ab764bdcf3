"""All settings, from NHACVIEC_* environment variables (documented in docs/settings.md)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NHACVIEC_", env_file=None, extra="ignore")

    data_dir: Path = Path("data")
    database_url: str = ""  # default: sqlite under data_dir
    load_samples: str = ""  # a folder of plans imported on start when the store is empty
    admins: str = ""  # comma-separated "channel:user_id" (e.g. "telegram:12345,console:admin")
    max_upload_mb: int = 20
    console: bool = False  # a chat on this terminal (`nhacviec run` sets it: no token, stdin a terminal)

    telegram_token: str = ""
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"
    webhook_url: str = ""  # public https URL: switches Telegram to webhook mode
    webhook_secret: str = ""
    web_host: str = "0.0.0.0"
    web_port: int = 8080

    reminder_hour: int = 8
    dispatch_interval_s: float = 5.0
    plan_interval_s: float = 300.0
    reminder_max_per_second: float = 0.0  # 0: each channel's own limit (Telegram 30/s); set only for tests/benchmarks
    claim_timeout_s: float = 120.0  # an outbox row claimed longer than this by a silent dispatcher is sent again

    # Zalo Bot Platform (bot/channels/zalo): set the token to start the channel.
    zalo_bot_token: str = ""  # "<bot_id>:<secret>", only ever in the request path
    zalo_base_url: str = "https://bot-api.zaloplatforms.com"  # "/bot<TOKEN>/<method>" is appended
    zalo_webhook_url: str = ""  # public https URL: switches Zalo from long polling to webhook mode
    zalo_webhook_secret: str = ""  # 8-256 characters, checked on X-Bot-Api-Secret-Token
    zalo_max_per_second: float = 5.0  # no published limit: a conservative pace, raised by hand if Zalo allows
    zalo_per_chat_interval_s: float = 1.0  # seconds between two messages to one Zalo chat

    # Zalo Official Account API v3 (bot/channels/zalo/oa.py): app id + secret key start it.
    zalo_oa_app_id: str = ""
    zalo_oa_secret_key: str = ""  # the OA secret: signs webhooks and authenticates token refreshes
    zalo_oa_access_token: str = ""  # first tokens only: copied into the store once, then rotated there
    zalo_oa_refresh_token: str = ""
    zalo_oa_base_url: str = "https://openapi.zalo.me"
    zalo_oa_oauth_url: str = "https://oauth.zaloapp.com"
    zalo_oa_webhook_path: str = "/zalo/oa/webhook"  # where the web server takes the OA's events
    zalo_oa_webhook_max_age_s: float = 300.0  # webhook timestamps older (or newer) than this are refused

    # Files sent as links (channels without documents: Zalo).
    public_url: str = ""  # the web server as users reach it (https://nhacviec.example.gov.vn); empty: no links
    file_link_secret: str = ""  # HMAC key of the links; empty: a random one per process (links die on restart)
    file_link_ttl_s: int = 86400  # how long a link works

    @cached_property
    def db_url(self) -> str:
        """The async SQLAlchemy URL: plain sqlite:// and postgresql:// URLs are accepted too."""
        url = self.database_url or f"sqlite:///{(self.data_dir / 'nhacviec.db').resolve()}"
        return async_url(url)

    @cached_property
    def admin_ids(self) -> frozenset[str]:
        return frozenset(a.strip() for a in self.admins.split(",") if a.strip())


def async_url(url: str) -> str:
    """Pick the asyncio driver for a database URL as people write it."""
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://"):]
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    return url


def load() -> Settings:
    return Settings()
