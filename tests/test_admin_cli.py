"""`nhacviec export xlsx|ics`: the admins' files from the command line, opened with the libraries
Outlook-, Google- and Excel-compatible readers use."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.cli import main

PLAN = Path(__file__).parent / "data" / "kh130_admin.txt"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NHACVIEC_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("NHACVIEC_DATABASE_URL", raising=False)
    return tmp_path


def test_export_xlsx_and_ics(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import icalendar
    import openpyxl

    assert main(["import", str(PLAN)]) == 0
    out = data_dir / "out" / "nhiemvu.xlsx"
    assert main(["export", "xlsx", str(out), "--plan", "130", "--today", "2027-01-20"]) == 0
    wb = openpyxl.load_workbook(out)
    rows = list(wb["Nhiệm vụ"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == 4
    by_ref = {r[1]: r for r in rows}
    assert by_ref["II.1"][8] == "Quá hạn chưa hoàn thành"  # 31/12/2026 passed on 20/01/2027
    assert by_ref["II.3"][8] == "Đang thực hiện trong hạn"
    assert main(["export", "xlsx", str(out), "--agency", "Sở Nội vụ"]) == 0
    assert [r[1] for r in openpyxl.load_workbook(out)["Nhiệm vụ"].iter_rows(min_row=2, values_only=True)] == ["II.2"]

    ics = data_dir / "noivu.ics"
    assert main(["export", "ics", str(ics), "--agency", "Sở Nội vụ"]) == 0
    events = icalendar.Calendar.from_ical(ics.read_bytes()).walk("VEVENT")
    assert sorted(e.decoded("dtstart") for e in events) == [date(2026, 12, 31), date(2027, 1, 15)]
    capsys.readouterr()
    assert main(["export", "ics", str(ics)]) == 2
    assert "--agency" in capsys.readouterr().err
    assert main(["export", "xlsx", str(out), "--agency", "Sở Không Có"]) == 2
    assert "Không tìm thấy cơ quan" in capsys.readouterr().err
    assert main(["export", "xlsx", str(out), "--plan", "9999"]) == 2
