"""`nhacviec import`: the JSON contract the scorer reads, summaries, refusals and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.import_helpers import DATA


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NHACVIEC_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("NHACVIEC_DATABASE_URL", raising=False)
    return tmp_path


def test_dry_run_json_contract_and_no_store(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "--dry-run", "--json", str(DATA / "bo_khcn_2024.txt")]) == 0
    out = json.loads(capsys.readouterr().out)
    plan = out["plans"][0]
    assert {"file", "number", "issuer", "date", "title", "tasks"} <= set(plan)
    assert (plan["file"], plan["number"], plan["date"]) == ("bo_khcn_2024.txt", "1234/KH-BKHCN", "2024-03-12")
    task = plan["tasks"][0]
    assert set(task) == {"ref", "text", "lead", "coordinators", "report_to", "deadline"}
    assert task["deadline"] == {"kind": "quarter", "due": "2024-06-30", "month": None, "day": None,
                                "text": "hoàn thành trong quý II/2024"}
    monthly = next(t for t in plan["tasks"] if "hằng tháng" in t["text"])
    assert monthly["deadline"]["kind"] == "monthly" and monthly["deadline"]["due"][8:] == "25"
    assert not any(data_dir.iterdir())  # --dry-run never created the store


def test_known_names_are_shown_in_full(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "p.txt"
    f.write_text("KẾ HOẠCH\n\nTên\n\nII. NHIỆM VỤ\n\n1. Sở KH&CN chủ trì, phối hợp với UBND các huyện, thành phố "
                 "và Sở TT&TT xây dựng cơ sở dữ liệu.\n", encoding="utf-8")
    assert main(["import", "--dry-run", "--json", str(f)]) == 0
    task = json.loads(capsys.readouterr().out)["plans"][0]["tasks"][0]
    assert task["lead"] == ["Sở Khoa học và Công nghệ"]
    assert task["coordinators"] == ["UBND các huyện, thành phố", "Sở Thông tin và Truyền thông"]  # a group as written


def test_import_summaries_and_a_refused_file(data_dir: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "rong.txt"
    empty.write_bytes(b"")
    code = main(["import", str(empty), str(DATA / "bo_khcn_2024.txt")])
    out, err = capsys.readouterr()
    assert code == 1
    assert "rong.txt: Tệp rỗng" in err
    assert "bo_khcn_2024.txt: Kế hoạch 1234/KH-BKHCN: đã nhập mới, 9 nhiệm vụ (thêm 9, sửa 0, xóa 0)." in out
    assert main(["import", str(DATA / "bo_khcn_2024.txt")]) == 0
    assert "không có thay đổi" in capsys.readouterr().out


def test_a_folder_with_a_readme_imports_many_plans(data_dir: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Nine plans and a note: the plans are parsed ahead in another process, the note is skipped."""
    files = []
    for i in range(9):
        f = tmp_path / f"plan_{i}.txt"
        f.write_text(f"KẾ HOẠCH\n\nSố: {i + 1}/KH-UBND\n\nViệc số {i}\n\nII. NHIỆM VỤ\n\n"
                     f"1. Sở Y tế chủ trì việc số {i} trong quý II/2025.\n", encoding="utf-8")
        files.append(str(f))
    note = tmp_path / "README.md"
    note.write_text("# Ghi chú\n\nThư mục này chứa các kế hoạch.\n", encoding="utf-8")
    assert main(["import", *files, str(note)]) == 0
    out, err = capsys.readouterr()
    assert out.count("đã nhập mới, 1 nhiệm vụ") == 9
    assert "README.md: bỏ qua" in err
