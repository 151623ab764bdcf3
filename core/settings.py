"""All settings, from NHACVIEC_* environment variables (documented in docs/settings.md)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting, with what it does: docs/settings.md and deploy/nhacviec.env.example are generated
    from these descriptions (`nhacviec settings --markdown` / `--env-example`; a test checks both)."""

    model_config = SettingsConfigDict(env_prefix="NHACVIEC_", env_file=None, extra="ignore")

    data_dir: Path = Field(default=Path("data"), description=(
        "Folder for the embedded SQLite store (`nhacviec.db`, and its lock file) and nothing else."),
        json_schema_extra={"example": "/var/lib/nhacviec"})
    database_url: str = Field(default="", description=(
        "The store. Empty: SQLite at `<DATA_DIR>/nhacviec.db` (embedded default). "
        "`postgresql://user:pass@host:5432/db` for production, required to run several instances. The asyncio "
        "driver (aiosqlite, asyncpg) is chosen for you; the schema is migrated (Alembic) on start, once even "
        "when several instances start together."),
        json_schema_extra={"example": "postgresql://nhacviec:CHANGE-ME@127.0.0.1:5432/nhacviec"})
    load_samples: str = Field(default="", description=(
        "A folder of plan files imported on start when the store holds no plan; `demo` names the demo plans shipped "
        "in the package (knowledge/data/demo), which `make run` loads. Empty in production."))
    admins: str = Field(default="", description=(
        "Comma-separated `channel:user_id` of admins, e.g. `telegram:123456789,console:admin`. Admins approve focal "
        "points, create registration codes (/taoma), import plan files sent in chat, grant extensions."),
        json_schema_extra={"example": "telegram:123456789"})
    max_upload_mb: int = Field(default=20, description="Largest plan file accepted, in MB (checked before reading).")
    console: bool = Field(default=False, description=(
        "A chat on this terminal through the console channel; `nhacviec run` sets it itself when there is no "
        "channel token and stdin is a terminal."))

    telegram_token: str = Field(default="", description=(
        "Bot token from @BotFather. Set: `nhacviec run` starts the Telegram bot; empty: the console chat (or headless "
        "when stdin is not a terminal)."), json_schema_extra={"example": ""})
    telegram_base_url: str = Field(default="https://api.telegram.org/bot", description=(
        "Bot API address (a local Bot API server, or the test fake). The token is appended."))
    telegram_base_file_url: str = Field(default="https://api.telegram.org/file/bot", description=(
        "Where files sent to the bot are downloaded from; follows TELEGRAM_BASE_URL (`…/file/bot`) when only that "
        "is changed."))
    webhook_url: str = Field(default="", description=(
        "Public https URL of the webhook (e.g. `https://nhacviec.example.gov.vn/telegram/webhook`): switches Telegram "
        "from long polling to webhook mode, needed to run several instances behind one URL."))
    webhook_secret: str = Field(default="", description=(
        "Secret given to setWebhook (8-256 characters A-Z a-z 0-9 _ -); requests without the matching "
        "`X-Telegram-Bot-Api-Secret-Token` header get 403. Required with WEBHOOK_URL."))
    web_host: str = Field(default="0.0.0.0", description=(
        "Address of the bot's web server (webhook path and `GET /healthz`)."))
    web_port: int = Field(default=8080, description="Port of the bot's web server.")

    reminder_hour: int = Field(default=8, description=(
        "Default hour (Asia/Ho_Chi_Minh) reminders are sent; admins override it per plan or task."))
    dispatch_interval_s: float = Field(default=5.0, description=(
        "Seconds between the dispatcher's looks for due reminders."))
    plan_interval_s: float = Field(default=300.0, description=(
        "Seconds between the planner's rebuilds of the outbox from tasks, focal points and policies."))
    reminder_max_per_second: float = Field(default=0.0, description=(
        "0: each channel's own limit (Telegram 30/s overall, 1/s per chat). Set only for tests and benchmarks."))
    claim_timeout_s: float = Field(default=120.0, description=(
        "A reminder claimed longer than this by a silent dispatcher (another host) is claimed again."))

    zalo_bot_token: str = Field(default="", description=(
        "Zalo Bot Platform token (`<bot_id>:<secret>`). Set: `nhacviec run` starts the Zalo channel "
        "(bot/channels/zalo)."), json_schema_extra={"example": ""})
    zalo_base_url: str = Field(default="https://bot-api.zaloplatforms.com", description=(
        "Zalo Bot Platform API address (the test fake in tests/fakes/zalo_api.py); `/bot<TOKEN>/<method>` is "
        "appended."))
    zalo_webhook_url: str = Field(default="", description=(
        "Public https URL of the Zalo webhook: switches Zalo from long polling to webhook mode."))
    zalo_webhook_secret: str = Field(default="", description=(
        "Secret (8-256 characters) Zalo sends in `X-Bot-Api-Secret-Token`; other requests get 403. Required with "
        "ZALO_WEBHOOK_URL."))
    zalo_max_per_second: float = Field(default=5.0, description=(
        "Messages per second to Zalo overall. Zalo publishes no limit: a conservative pace, raise it by hand."))
    zalo_per_chat_interval_s: float = Field(default=1.0, description=(
        "Seconds between two messages to one Zalo chat."))

    zalo_oa_app_id: str = Field(default="", description=(
        "Zalo Official Account API v3: the app id. With ZALO_OA_SECRET_KEY it starts the OA channel."))
    zalo_oa_secret_key: str = Field(default="", description=(
        "The OA secret key: verifies `X-ZEvent-Signature` on webhooks and authenticates token refreshes."))
    zalo_oa_access_token: str = Field(default="", description=(
        "First OA access token only: copied into the store once, then rotated there."))
    zalo_oa_refresh_token: str = Field(default="", description=(
        "First OA refresh token only: copied into the store once; each refresh saves the new one before using it."))
    zalo_oa_base_url: str = Field(default="https://openapi.zalo.me", description="Zalo OA API address.")
    zalo_oa_oauth_url: str = Field(default="https://oauth.zaloapp.com", description=(
        "Zalo OAuth address (access token refresh)."))
    zalo_oa_webhook_path: str = Field(default="/zalo/oa/webhook", description=(
        "Path on the bot's web server that takes the OA's events."))
    zalo_oa_webhook_max_age_s: float = Field(default=300.0, description=(
        "OA webhook timestamps older (or newer) than this many seconds are refused (replays)."))

    public_url: str = Field(default="", description=(
        "The bot's web server as users reach it (e.g. `https://nhacviec.example.gov.vn`): files are sent as signed "
        "links under it on channels without documents (Zalo). Empty: no links."))
    file_link_secret: str = Field(default="", description=(
        "HMAC key of file links; empty: a random one per process (links die on restart; set it with several "
        "instances)."))
    file_link_ttl_s: int = Field(default=86400, description="Seconds a file link works.")

    import_timeout_s: float = Field(default=120.0, description=(
        "A plan file sent in chat is parsed in a worker process (the bot keeps answering); refused beyond this many "
        "seconds."))
    shutdown_grace_s: float = Field(default=10.0, description=(
        "On SIGTERM, answers and sends in flight get this many seconds to finish; what is cut off stays in the inbox "
        "or outbox and goes out on the next start."))
    replies_in_flight: int = Field(default=1, ge=1, description=(
        "How many answers may be on their way to users at once (they are worked out concurrently either way). "
        "A process killed mid-send may send each of these again on restart: 1 keeps the promise of at most one "
        "duplicate answer per crash; raise it only if replies queue up behind a slow link to Telegram."))
    late_answer_s: float = Field(default=120.0, description=(
        "A question answered later than this many seconds after it arrived (after a crash) gets a short apology "
        "first."))
    log_json: bool = Field(default=False, description=(
        "One JSON object per log line (for log collectors) instead of plain text."))

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
