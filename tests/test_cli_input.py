"""Bad input on the command line gets a clear Vietnamese message and the rest carries on (issue 14 item 9)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import ROOT


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("NHACVIEC_DATABASE_URL", url)
    monkeypatch.delenv("NHACVIEC_TELEGRAM_TOKEN", raising=False)
    return url


def test_one_bad_byte_in_ask_json_spoils_only_its_line(store: str) -> None:
    lines = ["Tháng này có việc gì?".encode(), b"\xff\xfe ai ch\xe1 tr\xec?", "Sở Y tế có việc gì?".encode(), b""]
    env = {**os.environ, "NHACVIEC_DATABASE_URL": store, "NHACVIEC_LOAD_SAMPLES": ""}
    run = subprocess.run([sys.executable, "-m", "bot", "ask", "--json", "--today", "2026-12-01"], cwd=ROOT, env=env,
                         input=b"\n".join(lines[:3]) + b"\n", capture_output=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr.decode()[-800:]
    assert b"Traceback" not in run.stderr
    out = [json.loads(line) for line in run.stdout.decode("utf-8").splitlines()]
    assert [o["question"] for o in out][::2] == ["Tháng này có việc gì?", "Sở Y tế có việc gì?"]
    assert "error" not in out[0] and "error" not in out[2] and out[2]["intent"]
    assert out[1]["error"].startswith("Dòng 2 không phải văn bản UTF-8") and out[1]["tasks"] == []


@pytest.mark.parametrize("day", ["9999-12-20", "0001-01-01", "1969-12-31", "2200-01-01"])
@pytest.mark.parametrize("dry", [True, False])
def test_remind_on_a_day_out_of_range(store: str, day: str, dry: bool, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["remind", *(["--dry-run"] if dry else []), "--today", day]) == 2
    out = capsys.readouterr().out
    assert "nằm ngoài khoảng nhacviec xử lý được (01/01/1970 – 31/12/2199)" in out


@pytest.mark.parametrize("day", ["1970-01-01", "2199-12-31"])
def test_remind_and_ask_on_the_edges_of_the_range(store: str, day: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["remind", "--today", day]) == 0
    assert main(["ask", "--today", day, "12 tháng tới có việc gì?"]) == 0
    assert main(["ask", "--today", day, "năm sau có việc gì?"]) == 0


def test_ask_on_a_day_out_of_range(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["ask", "--today", "9999-12-31", "Tháng này có việc gì?"])
    assert stop.value.code == 2
    assert "Ngày 31/12/9999 nằm ngoài khoảng" in capsys.readouterr().err
