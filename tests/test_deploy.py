"""deploy/: the files a provincial IT centre runs, checked as far as this machine can (no Docker daemon)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"


def test_compose_file_validates() -> None:
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.skip("docker-compose is not installed here (Debian: apt-get install docker-compose)")
    run = subprocess.run([exe, "-f", str(DEPLOY / "docker-compose.yml"), "config", "-q"], capture_output=True,
                         text=True, timeout=60, check=False, env={"PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr


def test_compose_shape_postgres_replicas_webhook_and_a_tls_proxy() -> None:
    spec = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))
    db, bot, caddy = (spec["services"][name] for name in ("db", "bot", "caddy"))
    assert db["image"] == "postgres:15" and any(v.startswith("pgdata:") for v in db["volumes"])
    assert "pgdata" in spec["volumes"]
    assert str(bot["deploy"]["replicas"]).startswith("${NHACVIEC_REPLICAS:-")
    assert bot["environment"]["NHACVIEC_WEBHOOK_URL"].startswith("https://")
    assert bot["environment"]["NHACVIEC_DATABASE_URL"].startswith("postgresql://") and "ports" not in bot
    assert caddy["image"].startswith("caddy:") and "443:443" in caddy["ports"]
    caddyfile = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    assert "name bot" in caddyfile and "health_uri /healthz" in caddyfile


def test_dockerfile_multi_stage_non_root_health_checked_and_installed_as_the_readme_says() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert len(re.findall(r"^FROM python:3\.11-slim", text, re.M)) == 2
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", text, re.M)
    [install] = re.findall(r"^RUN (python3 -m venv .*pip install \.)$", text, re.M)
    assert install in (ROOT / "README.md").read_text(encoding="utf-8")


def test_systemd_units_run_the_bot_and_a_nightly_backup() -> None:
    service = (DEPLOY / "nhacviec.service").read_text(encoding="utf-8")
    backup = (DEPLOY / "nhacviec-backup.service").read_text(encoding="utf-8")
    timer = (DEPLOY / "nhacviec-backup.timer").read_text(encoding="utf-8")
    assert "ExecStart=/opt/nhacviec/bin/nhacviec run" in service and "User=nhacviec" in service
    assert "/opt/nhacviec/bin/nhacviec backup " in backup and "Type=oneshot" in backup
    assert "OnCalendar=" in timer and "Persistent=true" in timer
    exe = shutil.which("systemd-analyze")
    if exe is None:
        return
    for unit in ("nhacviec-backup.service", "nhacviec-backup.timer"):
        run = subprocess.run([exe, "verify", str(DEPLOY / unit)], capture_output=True, text=True, timeout=60,
                             check=False)
        assert run.returncode == 0 and not run.stderr.strip(), run.stderr
