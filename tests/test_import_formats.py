"""A plan gives the same tasks and metadata whatever its format: our own plans (tests/data) rendered as a Word file
(Word's own numbering, the header a two-column table), as a signed-PDF-like file (side-by-side header, spaced-out
kind line, page numbers, running header, ruled tables) and as that PDF's text, each read like the original; and
the pieces of reading that make it so."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from knowledge.agencies import Registry
from knowledge.db import Database
from knowledge.deadlines import deadline_json
from knowledge.export import task_json
from knowledge.importer import NameFinder, ParsedPlan, parse_bytes, parse_path, read_blocks, seed_registry
from knowledge.importer.reading import Table, unspaced, without_page_furniture
from knowledge.models import Task
from knowledge.plans import Importer
from knowledge.text import fold
from tests.format_render import Columns, Grid, Para, pdf_text, render_docx, render_pdf, structure
from tests.import_helpers import DATA

TODAY = date(2026, 1, 5)
# Our plans in the layouts that differ most between formats: numbered items with field lines under a section,
# a ruled task table with group rows, sections whose items are numbered "1." / "a)".
PLANS = ("layouts/a_bcd_quoc_gia.txt", "layouts/d_bang_ong_gach.md", "layouts3/i_ubnd_muc_phan.md")
# A text copy of a PDF keeps no cell borders: a table's cells come one per line, which tables.py reads on its own.
TEXT_COPY_PLANS = ("layouts/a_bcd_quoc_gia.txt", "layouts3/i_ubnd_muc_phan.md")


def _gold(plan: str) -> dict[str, Any]:
    folder, name = plan.split("/")
    plans = yaml.safe_load((DATA / folder / "gold.yaml").read_text(encoding="utf-8"))["plans"]
    return next(p for p in plans if p["file"] == name)


def _rendered(plan: str, fmt: str) -> tuple[bytes, str]:
    source = DATA / plan
    elements = structure(source)
    if fmt == "docx":
        return render_docx(elements), "plan.docx"
    data = render_pdf(elements, "Kế hoạch")
    return (data, "plan.pdf") if fmt == "pdf" else (pdf_text(data).encode("utf-8"), "plan.txt")


def _read(plan: ParsedPlan, gold: dict[str, Any]) -> dict[str, Any]:
    """What a user sees of a plan: its metadata, and each gold task's lead, coordinators and deadline."""
    tasks = {}
    for g in gold["tasks"]:
        key = fold(g["key"])
        hits = [t for t in plan.tasks if key in fold(t.text)]
        tasks[g["ref"]] = [(t.lead, t.coordinators, deadline_json(t.deadline, TODAY)) for t in hits[:1]]
    return {"number": plan.number, "issuer": plan.issuer, "date": plan.issued_on, "tasks": tasks}


CASES = [(plan, fmt) for plan in PLANS for fmt in ("docx", "pdf")] + [(p, "pdf_text") for p in TEXT_COPY_PLANS]


@pytest.mark.parametrize(("plan", "fmt"), CASES, ids=[f"{p}:{f}" for p, f in CASES])
def test_a_rendered_plan_reads_as_its_original(plan: str, fmt: str) -> None:
    finder = NameFinder(seed_registry())
    gold = _gold(plan)
    want = _read(parse_path(DATA / plan, finder), gold)
    assert all(want["tasks"].values()), "the original must give every gold task"
    data, name = _rendered(plan, fmt)
    got = _read(parse_bytes(data, name, finder), gold)
    assert got == want


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
async def test_rendered_plans_are_stored_as_their_originals_on_both_databases(db: Database, fmt: str,
                                                                               tmp_path: Path) -> None:
    importer = await Importer.create(db)
    plan = PLANS[1]  # the table plan: its rows must reach the store from a Word table and a ruled PDF table
    data, name = _rendered(plan, fmt)
    path = tmp_path / name
    path.write_bytes(data)
    assert (await importer.import_path(path)).status == "new"
    async with db.session() as s:
        registry = await Registry.load(s)
        stored = (await s.scalars(select(Task).order_by(Task.position)
                                  .options(selectinload(Task.agencies), selectinload(Task.plan)))).all()
    tasks = [task_json(t, registry, TODAY) for t in stored]
    gold = _gold(plan)
    assert {t.plan.number for t in stored} == {gold["plan"]["number"]}
    for g in gold["tasks"]:
        hits = [t for t in tasks if fold(g["key"]) in fold(t["text"])]
        assert hits, g["ref"]
        assert [fold(x) for x in hits[0]["lead"]] == [fold(x) for x in g["lead"]], g["ref"]
        due = hits[0]["deadline"]
        want_due = (g["deadline"] or {}).get("due")
        assert (due or {}).get("due") == (str(want_due) if want_due else None), g["ref"]


# ---- the pieces ------------------------------------------------------------------------------------------------

def _docx_with_numbering() -> bytes:
    """One Word list of two levels ("1." over "a)"), and a paragraph whose list numbering is switched off."""
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    numbering = document.part.numbering_part.element
    numbering.insert(0, parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="77"><w:lvl w:ilvl="0"><w:start w:val="1"/>'
        '<w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl><w:lvl w:ilvl="1"><w:start w:val="1"/>'
        '<w:numFmt w:val="lowerLetter"/><w:lvlText w:val="%2)"/></w:lvl></w:abstractNum>'))
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="77"><w:abstractNumId w:val="77"/></w:num>'))
    for text, level in (("Tuyên truyền", 0), ("Sở Văn hóa tổ chức hội nghị", 1), ("Sở Y tế in tờ rơi", 1),
                        ("Kiểm tra", 0), ("Sở Nội vụ kiểm tra", 1), ("Không đánh số", None)):
        p = document.add_paragraph(text)
        if level is not None:
            num_pr = p._p.get_or_add_pPr().get_or_add_numPr()
            num_pr.get_or_add_ilvl().val = level
            num_pr.get_or_add_numId().val = 77
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def test_word_numbering_labels_are_rebuilt_with_levels_restarting() -> None:
    lines = [b for b in read_blocks(_docx_with_numbering(), "plan.docx", 10**7) if isinstance(b, str) and b]
    assert lines == ["1. Tuyên truyền", "a) Sở Văn hóa tổ chức hội nghị", "b) Sở Y tế in tờ rơi", "2. Kiểm tra",
                     "a) Sở Nội vụ kiểm tra", "Không đánh số"]


def test_a_header_in_text_boxes_is_read_once() -> None:
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    box = ('<w:r {ns} xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
           'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
           'xmlns:v="urn:schemas-microsoft-com:vml"><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing>'
           '<wps:txbx><w:txbxContent><w:p><w:r><w:t>ỦY BAN NHÂN DÂN TỈNH AN BÌNH</w:t></w:r></w:p><w:p><w:r>'
           '<w:t>Số: 15/KH-UBND</w:t></w:r></w:p></w:txbxContent></wps:txbx></w:drawing></mc:Choice>'
           '<mc:Fallback><w:pict><v:textbox><w:txbxContent><w:p><w:r><w:t>ỦY BAN NHÂN DÂN TỈNH AN BÌNH</w:t>'
           '</w:r></w:p></w:txbxContent></v:textbox></w:pict></mc:Fallback></mc:AlternateContent></w:r>')
    p = document.add_paragraph("KẾ HOẠCH")
    p._p.append(parse_xml(box.format(ns=nsdecls("w"))))
    buf = io.BytesIO()
    document.save(buf)
    lines = [b for b in read_blocks(buf.getvalue(), "plan.docx", 10**7) if isinstance(b, str) and b]
    assert lines == ["ỦY BAN NHÂN DÂN TỈNH AN BÌNH", "Số: 15/KH-UBND", "KẾ HOẠCH"]


def test_spaced_out_titles_are_made_words_again() -> None:
    assert unspaced("K Ế H O Ạ C H") == "KẾ HOẠCH"
    assert unspaced("C H Ư Ơ N G  T R Ì N H  H À N H  Đ Ộ N G") == "CHƯƠNG TRÌNH HÀNH ĐỘNG"
    assert unspaced("Q U Y Ế T Đ Ị N H") == "QUYẾT ĐỊNH"
    for line in ("I. MỤC ĐÍCH, YÊU CẦU", "a) b) c) d)", "Sở Y tế, Sở Nội vụ, Sở Tư pháp", "x y z w v"):
        assert unspaced(line) == line


def test_running_headers_by_page_numbers_are_dropped_and_table_row_numbers_kept() -> None:
    lines = ["tiến độ của", "2", "", "Kế hoạch số 15/KH-UBND", "việc triển khai.", "3", "Kế hoạch số 15/KH-UBND",
             "Sở Y tế chủ trì."]
    assert without_page_furniture(lines) == ["tiến độ của", "2", "", "việc triển khai.", "3", "Sở Y tế chủ trì."]
    rows = ["|", "1", "|", "Tổ chức hội nghị", "|", "2", "|", "Tổ chức hội nghị", "|"]
    assert without_page_furniture(rows) == rows


def test_a_ruled_pdf_table_comes_back_cell_by_cell() -> None:
    grid = Grid([["TT", "Nhiệm vụ", "Cơ quan chủ trì", "Thời gian"], ["I. TUYÊN TRUYỀN"],
                 ["1", "Tổ chức hội nghị quán triệt kế hoạch cho cán bộ chủ chốt của các sở, ngành và địa phương",
                  "Sở Văn hóa, Thể thao và Du lịch", "Quý I/2026"]])
    blocks = read_blocks(render_pdf([Columns(["ỦY BAN NHÂN DÂN TỈNH AN BÌNH"], ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"]),
                                     Para("KẾ HOẠCH", "kind"), grid, Para("Kế hoạch này có hiệu lực.")], "x"),
                         "plan.pdf", 10**7)
    tables = [b for b in blocks if isinstance(b, Table)]
    assert tables and tables[0].rows == [grid.rows[0], ["I. TUYÊN TRUYỀN"] * 4, grid.rows[2]]
    assert "KẾ HOẠCH" in blocks and "Kế hoạch này có hiệu lực." in blocks
