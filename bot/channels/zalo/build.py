"""The Zalo channels built from the settings: what the channel registry calls.

`bot_channel` when NHACVIEC_ZALO_BOT_TOKEN is set, `oa_channel` when the OA app id and secret key
are; each returns None otherwise. The registry then starts the Bot Platform channel with
`start_polling()` (or mounts `webhook_handler(secret)` on the web server and calls
`client.set_webhook`), mounts the OA channel's `webhook_handler()`, hands each `sender` to the
reminder dispatcher, and `stop()`s / `client.close()`s them on shutdown.
"""

from __future__ import annotations

from bot.channels.zalo.answering import Elsewhere, OnMessage, OnUnreachable
from bot.channels.zalo.channel import ZaloBotChannel
from bot.channels.zalo.client import ZaloBotClient
from bot.channels.zalo.oa import ZaloOaChannel, ZaloOaClient, ZaloOaSender
from bot.channels.zalo.sender import RememberChoices, ZaloSender
from bot.file_links import FileLinks
from core.settings import Settings
from knowledge.db import Database


def file_links(settings: Settings) -> FileLinks:
    """The one FileLinks of the process (its route goes on the web server: `add_route`)."""
    return FileLinks(settings.data_dir / "links", settings.file_link_secret, settings.file_link_ttl_s,
                     settings.public_url)


def bot_channel(settings: Settings, db: Database, on_message: OnMessage, *, links: FileLinks | None = None,
                on_unreachable: OnUnreachable | None = None, elsewhere: Elsewhere | None = None,
                remember: RememberChoices | None = None) -> ZaloBotChannel | None:
    if not settings.zalo_bot_token:
        return None
    client = ZaloBotClient(settings.zalo_bot_token, settings.zalo_base_url)
    sender = ZaloSender(client, max_per_second=settings.zalo_max_per_second,
                        per_chat_interval=settings.zalo_per_chat_interval_s, links=links, remember=remember)
    return ZaloBotChannel(db, client, sender, on_message, on_unreachable=on_unreachable, elsewhere=elsewhere)


async def oa_channel(settings: Settings, db: Database, on_message: OnMessage, *,
                     on_unreachable: OnUnreachable | None = None,
                     elsewhere: Elsewhere | None = None) -> ZaloOaChannel | None:
    """The OA channel; the first tokens from the settings are copied into the store if it has none."""
    if not (settings.zalo_oa_app_id and settings.zalo_oa_secret_key):
        return None
    client = ZaloOaClient(db, settings.zalo_oa_app_id, settings.zalo_oa_secret_key,
                          base_url=settings.zalo_oa_base_url, oauth_url=settings.zalo_oa_oauth_url)
    await client.seed(settings.zalo_oa_access_token, settings.zalo_oa_refresh_token)
    sender = ZaloOaSender(client, max_per_second=settings.zalo_max_per_second,
                          per_chat_interval=settings.zalo_per_chat_interval_s)
    return ZaloOaChannel(db, client, sender, on_message, on_unreachable=on_unreachable, elsewhere=elsewhere,
                         max_age_s=settings.zalo_oa_webhook_max_age_s)
