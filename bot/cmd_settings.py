"""`nhacviec settings [--markdown | --env-example]`: the settings in effect, or their documentation.

Without an option it prints each NHACVIEC_* variable with the value this process would use (secrets
hidden), which is what an operator checks after editing the environment file.
"""

from __future__ import annotations

import argparse
from typing import Any

from core.settings import Settings
from core.settings_doc import PREFIX, env_example, markdown

SECRETS = ("telegram_token", "webhook_secret", "database_url", "zalo_bot_token", "zalo_webhook_secret",
           "zalo_oa_secret_key", "zalo_oa_access_token", "zalo_oa_refresh_token", "file_link_secret")


def register(sub: Any) -> dict[str, Any]:
    p = sub.add_parser("settings", help="xem cấu hình đang dùng, hoặc in tài liệu cấu hình")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--markdown", action="store_true", help="in docs/settings.md")
    group.add_argument("--env-example", action="store_true", help="in deploy/nhacviec.env.example")
    return {"settings": cmd_settings}


def _hidden(name: str, value: Any) -> str:
    text = str(value)
    if name in SECRETS and text:
        if name == "database_url" and "@" in text:  # the password only
            scheme, rest = text.split("://", 1)
            user, host = rest.rsplit("@", 1)
            return f"{scheme}://{user.split(':', 1)[0]}:***@{host}" if ":" in user else text
        return "***" if name != "database_url" else text
    return text


async def cmd_settings(args: argparse.Namespace, settings: Settings) -> int:
    if args.markdown:
        print(markdown(), end="")
    elif args.env_example:
        print(env_example(), end="")
    else:
        for name in Settings.model_fields:
            print(f"{PREFIX}{name.upper()}={_hidden(name, getattr(settings, name))}")
    return 0
