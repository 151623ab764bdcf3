"""Every kind of bad file, through `nhacviec import` on a store that already holds a plan: a non-zero exit,
the Vietnamese reason, and a store unchanged to the byte (compared by `nhacviec backup`), on both databases.

The files are built here (none is committed): the cases that always held and the ones issue 14 found broken
(legacy fonts, .docx bombs, a file over the size limit, a truncated .docx)."""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli import main
from knowledge.backup import backup
from knowledge.db import Database
from knowledge.importer.reading import MAX_DOCX_ENTRIES, MAX_DOCX_UNCOMPRESSED
from knowledge.plans import import_file
from tests.import_helpers import make_docx
from tests.test_import_robust import PLAN_TEXT, to_tcvn3, to_vni

SIZE_LIMIT_MB = 1  # NHACVIEC_MAX_UPLOAD_MB for this test: a 2 MB file stands for the 60 MB one


def _zip_with(docx: bytes, entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        for name, data in entries.items():
            dst.writestr(name, data)
    return buf.getvalue()


def _docx() -> bytes:
    return make_docx(PLAN_TEXT.replace("77/KH-UBND", "91/KH-UBND").split("\n\n"))


CASES: list[tuple[str, Callable[[], bytes], str]] = [
    ("empty.txt", lambda: b"", "Tệp rỗng"),
    ("blob.txt", lambda: bytes(range(256)) * 40, "nhị phân"),
    ("broken.docx", lambda: b"PK\x03\x04 this is not really a zip", ".docx bị hỏng"),
    ("truncated.docx", lambda: _docx()[: len(_docx()) // 2], ".docx bị hỏng"),
    ("broken.pdf", lambda: b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage", "PDF bị hỏng"),
    ("scan.png", lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "Chưa hỗ trợ"),
    ("mat.txt", lambda: ("MẬT\n\n" + PLAN_TEXT).encode(), "MẬT"),
    ("toimat.txt", lambda: ("**TỐI MẬT**\n\n" + PLAN_TEXT).encode(), "TỐI MẬT"),
    ("tcvn3.txt", lambda: to_tcvn3(PLAN_TEXT), "TCVN3"),
    ("vni.txt", lambda: to_vni(PLAN_TEXT), "VNI"),
    ("bomb.docx", lambda: _zip_with(_docx(), {"word/media/b.xml": b" " * (MAX_DOCX_UNCOMPRESSED + 1)}), "giải nén"),
    ("many.docx", lambda: _zip_with(_docx(), {f"word/media/x{i}.xml": b"" for i in range(MAX_DOCX_ENTRIES + 1)}),
     "quá nhiều thành phần"),
    ("huge.txt", lambda: (PLAN_TEXT + "\n" + "x" * (2 * 1024 * 1024)).encode(), "quá lớn"),
]


@pytest.mark.parametrize(("name", "build", "reason"), CASES, ids=[c[0] for c in CASES])
async def test_a_bad_file_is_refused_and_changes_nothing(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str], name: str,
                                                         build: Callable[[], bytes], reason: str) -> None:
    good = tmp_path / "good.txt"
    good.write_text(PLAN_TEXT, encoding="utf-8")
    await import_file(db, good, actor="test")
    before, after = tmp_path / "before.jsonl.gz", tmp_path / "after.jsonl.gz"
    await backup(db, before)
    bad = tmp_path / name
    bad.write_bytes(build())
    monkeypatch.setenv("NHACVIEC_DATABASE_URL", db.url)
    monkeypatch.setenv("NHACVIEC_MAX_UPLOAD_MB", str(SIZE_LIMIT_MB))
    code = await asyncio.to_thread(main, ["import", str(bad)])  # the CLI runs its own event loop
    out, err = capsys.readouterr()
    assert code != 0, out + err
    assert reason in out + err, out + err
    assert "Traceback" not in out + err
    await backup(db, after)
    assert after.read_bytes() == before.read_bytes(), f"{name} changed the store"
