"""docs/settings.md and deploy/nhacviec.env.example are what the settings object says (no drift)."""

from __future__ import annotations

from core.settings import Settings
from core.settings_doc import env_example, markdown
from tests.conftest import ROOT

REGENERATE = ("regenerate: .venv/bin/nhacviec settings --markdown > docs/settings.md && "
              ".venv/bin/nhacviec settings --env-example > deploy/nhacviec.env.example")


def test_every_setting_is_described() -> None:
    missing = [name for name, field in Settings.model_fields.items() if len(field.description or "") < 20]
    assert missing == [], "add a Field(description=...) in core/settings.py"


def test_docs_settings_md_is_generated_from_the_settings() -> None:
    assert (ROOT / "docs" / "settings.md").read_text(encoding="utf-8") == markdown(), REGENERATE


def test_env_example_is_generated_from_the_settings() -> None:
    text = (ROOT / "deploy" / "nhacviec.env.example").read_text(encoding="utf-8")
    assert text == env_example(), REGENERATE
    named = {line.lstrip("# ").split("=", 1)[0] for line in text.splitlines() if "=" in line and "NHACVIEC_" in line}
    assert {f"NHACVIEC_{n.upper()}" for n in Settings.model_fields} <= named
