"""Word files as Word writes them (built here with python-docx, no binary committed): list numbers drawn
from numbering.xml ("I.", "1.", "a)" are not in the paragraphs' text), task tables whose "Cơ quan chủ trì"
and "Thời gian" cells are merged down several rows, a group row merged across the columns, row numbers
that are Word's own list numbers, a table nested in a cell, and a text set inside a one-cell frame."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from knowledge.agencies import Registry
from knowledge.db import Database
from knowledge.export import task_json
from knowledge.importer import NameFinder, parse_bytes, read_blocks, seed_registry
from knowledge.importer.reading import Table
from knowledge.models import Task
from knowledge.plans import Importer


def _add_list(document: Any, levels: list[tuple[str, str]]) -> str:
    """A list definition (abstractNum + num) with one (format, text) per level; returns its numId."""
    numbering = document.part.numbering_part.element
    w = numbering.nsmap["w"]
    aid = str(900 + len(numbering.findall(f"{{{w}}}abstractNum")))
    lvls = "".join(f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/>'
                   f'<w:lvlText w:val="{text}"/></w:lvl>' for i, (fmt, text) in enumerate(levels))
    abstract = parse_xml(f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{aid}">{lvls}</w:abstractNum>')
    first_num = numbering.find(f"{{{w}}}num")
    if first_num is not None:
        first_num.addprevious(abstract)  # the schema keeps every abstractNum before the nums
    else:
        numbering.append(abstract)
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="{aid}"><w:abstractNumId w:val="{aid}"/></w:num>'))
    return aid


def _number(paragraph: Any, num_id: str, level: int) -> Any:
    paragraph._p.get_or_add_pPr().append(parse_xml(
        f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/><w:numId w:val="{num_id}"/></w:numPr>'))
    return paragraph


def _word_plan() -> bytes:
    import docx

    d = docx.Document()
    head = d.add_table(rows=2, cols=2)
    for r, row in enumerate([["ỦY BAN NHÂN DÂN TỈNH BẮC KẠN", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"],
                             ["Số: 52/KH-UBND", "Bắc Kạn, ngày 09 tháng 3 năm 2026"]]):
        for c, value in enumerate(row):
            head.cell(r, c).text = value
    d.add_paragraph("KẾ HOẠCH")
    d.add_paragraph("Sắp xếp tổ chức bộ máy và tinh giản biên chế năm 2026")
    outline = _add_list(d, [("upperRoman", "%1."), ("decimal", "%2."), ("lowerLetter", "%3)")])
    _number(d.add_paragraph("MỤC ĐÍCH, YÊU CẦU"), outline, 0)
    d.add_paragraph("Bảo đảm bộ máy tinh gọn, hoạt động hiệu lực, hiệu quả.")
    _number(d.add_paragraph("NHIỆM VỤ VÀ GIẢI PHÁP"), outline, 0)
    _number(d.add_paragraph("Sở Nội vụ chủ trì rà soát vị trí việc làm của các cơ quan hành chính, hoàn thành "
                            "trong quý II/2026."), outline, 1)
    _number(d.add_paragraph("Sở Tài chính chủ trì thẩm định kinh phí chi trả chính sách tinh giản biên chế, "
                            "hoàn thành trước ngày 30/6/2026."), outline, 1)
    _number(d.add_paragraph("Ủy ban nhân dân các xã, phường:"), outline, 1)
    _number(d.add_paragraph("Rà soát, sắp xếp các thôn, tổ dân phố chưa đủ tiêu chuẩn."), outline, 2)
    _number(d.add_paragraph("Báo cáo kết quả sắp xếp về Sở Nội vụ trước ngày 15/11/2026."), outline, 2)
    _number(d.add_paragraph("NHIỆM VỤ CỤ THỂ CỦA CÁC CƠ QUAN"), outline, 0)
    t = d.add_table(rows=6, cols=5)
    rows = [["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành"],
            ["", "KIỆN TOÀN TỔ CHỨC", "", "", ""],
            ["", "Xây dựng đề án hợp nhất các trung tâm dịch vụ công lập cấp tỉnh", "Sở Nội vụ", "",
             "Quý III/2026"],
            ["", "Ban hành quy chế làm việc của các đơn vị sau hợp nhất", "", "Sở Tư pháp", ""],
            ["", "Đánh giá đội ngũ viên chức sau sắp xếp", "", "", ""],
            ["", "Bố trí trụ sở làm việc dôi dư sau sắp xếp", "Sở Tài chính", "", "Tháng 12/2026"]]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value:
                t.cell(r, c).text = value
    t.cell(1, 1).merge(t.cell(1, 4))  # the group row spans the columns (gridSpan)
    t.cell(2, 2).merge(t.cell(4, 2))  # "Sở Nội vụ" and "Quý III/2026" merged down three rows (vMerge)
    t.cell(2, 4).merge(t.cell(4, 4))
    rownum = _add_list(d, [("decimal", "%1")])
    for r in (2, 3, 4, 5):  # the row numbers are Word's list numbers, not text
        _number(t.cell(r, 0).paragraphs[0], rownum, 0)
    nested = t.cell(4, 3).add_table(rows=2, cols=1)  # the coordinators listed in a table inside the cell
    nested.cell(0, 0).text = "Sở Giáo dục và Đào tạo"
    nested.cell(1, 0).text = "Sở Y tế"
    frame = d.add_table(rows=1, cols=1)  # the closing text set inside a one-cell frame
    frame.cell(0, 0).text = "Văn phòng Ủy ban nhân dân tỉnh theo dõi, đôn đốc và báo cáo kết quả trước ngày 20/12/2026."
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_word_list_numbers_are_read_as_the_outline_numbers() -> None:
    lines = [b for b in read_blocks(_word_plan(), "plan.docx", 10_000_000) if isinstance(b, str) and b.strip()]
    assert "I. MỤC ĐÍCH, YÊU CẦU" in lines and "II. NHIỆM VỤ VÀ GIẢI PHÁP" in lines
    assert "III. NHIỆM VỤ CỤ THỂ CỦA CÁC CƠ QUAN" in lines
    assert any(x.startswith("1. Sở Nội vụ chủ trì rà soát") for x in lines)
    assert any(x.startswith("3. Ủy ban nhân dân các xã, phường") for x in lines)
    assert "a) Rà soát, sắp xếp các thôn, tổ dân phố chưa đủ tiêu chuẩn." in lines
    assert any(x.startswith("b) Báo cáo kết quả") for x in lines)
    # The one-cell frame is text, not a table.
    assert any(x.startswith("Văn phòng Ủy ban nhân dân tỉnh theo dõi") for x in lines)


def test_word_table_merged_cells_carry_down_and_list_numbers_fill_the_rows() -> None:
    tables = [b for b in read_blocks(_word_plan(), "plan.docx", 10_000_000) if isinstance(b, Table)]
    task_table = next(t for t in tables if t.rows[0][0] == "STT")
    assert [r[0] for r in task_table.rows[2:]] == ["1", "2", "3", "4"]  # counted once per row, not per span
    assert [r[2] for r in task_table.rows[2:]] == ["Sở Nội vụ", "Sở Nội vụ", "Sở Nội vụ", "Sở Tài chính"]
    assert [r[4] for r in task_table.rows[2:]] == ["Quý III/2026"] * 3 + ["Tháng 12/2026"]
    assert task_table.rows[4][3].splitlines() == ["Sở Giáo dục và Đào tạo", "Sở Y tế"]


def test_word_plan_is_read_with_its_numbers_merged_cells_and_frame() -> None:
    plan = parse_bytes(_word_plan(), "plan.docx", NameFinder(seed_registry()))
    assert plan.number == "52/KH-UBND" and plan.issued_on is not None and plan.issued_on.isoformat() == "2026-03-09"
    by_start = {t.text[:40]: t for t in plan.tasks}

    def task(start: str) -> Any:
        hit = [t for k, t in by_start.items() if k.startswith(start[:40]) or start in t.text]
        assert hit, (start, list(by_start))
        return hit[0]

    t = task("Sở Nội vụ chủ trì rà soát vị trí việc làm")
    assert t.lead == ["Sở Nội vụ"] and t.deadline and t.deadline.due.isoformat() == "2026-06-30"
    assert t.ref.endswith("II.1")
    sub = task("Báo cáo kết quả sắp xếp về Sở Nội vụ")
    assert sub.lead == ["Ủy ban nhân dân các xã, phường"] and sub.ref.endswith("II.3.b")
    assert sub.deadline and sub.deadline.due.isoformat() == "2026-11-15"
    for text in ("Ban hành quy chế làm việc của các đơn vị sau hợp nhất", "Đánh giá đội ngũ viên chức sau sắp xếp"):
        row = task(text)  # "Sở Nội vụ" and "Quý III/2026" merged down from the row above
        assert row.lead == ["Sở Nội vụ"] and row.deadline and row.deadline.due.isoformat() == "2026-09-30"
    assert task("Đánh giá đội ngũ viên chức").coordinators == ["Sở Giáo dục và Đào tạo", "Sở Y tế"]
    last = task("Bố trí trụ sở làm việc dôi dư")
    assert last.lead == ["Sở Tài chính"] and last.deadline and last.deadline.due.isoformat() == "2026-12-31"
    assert not any(t.text.startswith("KIỆN TOÀN") for t in plan.tasks)  # the group row is a heading
    office = task("Văn phòng Ủy ban nhân dân tỉnh theo dõi, đôn đốc")
    assert office.deadline and office.deadline.due.isoformat() == "2026-12-20"


async def test_word_plan_is_stored_on_both_databases(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "ke-hoach-bac-kan.docx"
    path.write_bytes(_word_plan())
    importer = await Importer.create(db)
    r = await importer.import_path(path)
    assert r.status == "new"
    async with db.session() as s:
        registry = await Registry.load(s)
        stored = (await s.scalars(select(Task).options(selectinload(Task.agencies), selectinload(Task.plan)))).all()
        tasks = {t["text"]: t for t in (task_json(x, registry, date(2026, 3, 10)) for x in stored)}
    row = tasks["Đánh giá đội ngũ viên chức sau sắp xếp"]  # lead and time merged down from two rows above
    assert row["lead"] == ["Sở Nội vụ"] and row["deadline"]["due"] == "2026-09-30"
    assert row["coordinators"] == ["Sở Giáo dục và Đào tạo", "Sở Y tế"]
    assert len(tasks) == len(r.task_ids) >= 9
