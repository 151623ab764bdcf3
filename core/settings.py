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

    import_timeout_s: float = 120.0  # a plan file sent in chat is parsed in a worker process, refused beyond this
    shutdown_grace_s: float = 10.0  # on SIGTERM, answers and sends in flight get this long to finish
    late_answer_s: float = 120.0  # a question answered later than this after a crash gets an apology first
    log_json: bool = False  # one JSON object per log line (for log collectors), instead of plain text

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
