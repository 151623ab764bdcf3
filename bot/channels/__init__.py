"""The chat channels, one package each, and the one list the app starts them from.

A new channel: a package here whose class satisfies bot.channels.base.Channel and offers
`from_settings(edge, settings)` (None when its settings are absent), plus one line in CHANNELS.
"""

from __future__ import annotations

from bot.channels.base import Channel, ChannelFactory
from bot.channels.console.channel import ConsoleChannel
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.zalo.channel import ZaloChannel
from bot.channels.zalo.oa import ZaloOaChannel

CHANNELS: tuple[ChannelFactory, ...] = (
    TelegramChannel.from_settings,
    ZaloChannel.from_settings,
    ZaloOaChannel.from_settings,
    ConsoleChannel.from_settings,
)

__all__ = ["CHANNELS", "Channel", "ChannelFactory"]
