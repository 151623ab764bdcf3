"""What a channel is: one package under bot/channels/ that turns its platform's updates into
`Incoming` (handing each to the Edge), sends `Reply` text through its `Sender` (buttons where the
platform has them, numbered text where not) and adds its routes (webhooks) to the web server.

Everything that is the same for every channel (delivery to another chat or channel, the fallback
reply, one chat's messages answered in order, a plan file handed to the importer) is the Edge's
(bot/edge.py), written once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from core.messages import Sender
from core.settings import Settings

if TYPE_CHECKING:
    from bot.edge import Edge
    from bot.web import WebServer


class Channel(Protocol):
    @property
    def name(self) -> str:
        """"telegram", "zalo", "console": Incoming.channel and Reply.channel."""
        ...

    @property
    def max_text(self) -> int:
        """The longest text one message may carry; the Edge splits longer replies."""
        ...

    @property
    def sender(self) -> Sender:
        """Replies and reminders go out through it."""
        ...

    @property
    def status(self) -> str:
        """What /healthz shows for it ("polling", "webhook", "on")."""
        ...

    @property
    def connected(self) -> bool:
        """Whether the platform answered (Telegram: getMe): /healthz fails while it is False."""
        ...

    def health(self) -> dict[str, Any]:
        """More for /healthz (e.g. when the platform was last polled)."""
        ...

    def add_routes(self, web: WebServer) -> None:
        """Add the channel's webhook routes (nothing when it polls)."""
        ...

    async def start(self) -> None:
        """Connect and begin taking updates; return once running."""
        ...

    async def stop(self) -> None:
        """Stop taking updates; replies in progress finish."""
        ...


# Builds a channel on the Edge when its settings are present; None when they are not.
ChannelFactory = Callable[["Edge", Settings], "Channel | None"]
