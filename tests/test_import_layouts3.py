"""Layouts the real corpus showed (tests/data/layouts3 to layouts9; gold written first in each round):
each plan read right by the parser, and each folder's tasks stored on both databases."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from knowledge.agencies import Registry, agency_key
from knowledge.db import Database
from knowledge.deadlines import deadline_json, parse_deadline
from knowledge.export import task_json
from knowledge.importer import NameFinder, parse_path, seed_registry
from knowledge.importer.names import clause_roles
from knowledge.models import Task
from knowledge.plans import Importer
from knowledge.text import fold
from tests.import_helpers import DATA, parse_text

FOLDERS = ("layouts3", "layouts4", "layouts5", "layouts6", "layouts7", "layouts8", "layouts9")  # one per round


def _gold(folder: str) -> list[dict[str, Any]]:
    return list(yaml.safe_load((DATA / folder / "gold.yaml").read_text(encoding="utf-8"))["plans"])


CASES = [(folder, gold) for folder in FOLDERS for gold in _gold(folder)]
TODAY = date(2026, 1, 5)


def _words(name: str) -> set[str]:
    return set(agency_key(name).split())


def _same(a: str, b: str) -> bool:
    """One body written longer or shorter ("các Đoàn thể" / "Các đoàn thể")."""
    return agency_key(a) == agency_key(b) or _words(a) <= _words(b) or _words(b) <= _words(a)


def _check(gold: dict[str, Any], tasks: list[dict[str, Any]]) -> None:
    for g in gold["tasks"]:
        key = fold(g["key"])
        hits = [t for t in tasks if key in fold(t["text"])]
        assert hits, f"{g['ref']}: no task holds {g['key']!r}"
        t = hits[0]
        assert len(t["lead"]) == len(g["lead"]) and all(
            any(_same(w, x) for x in t["lead"]) for w in g["lead"]), (g["ref"], g["lead"], t["lead"])
        for c in g.get("coordinators") or []:
            assert any(_same(c, x) for x in t["coordinators"]), (g["ref"], c, t["coordinators"])
        want, got = g["deadline"], t["deadline"]
        if want is None:
            assert got is None, (g["ref"], got)
        elif want["kind"] in ("ongoing", "periodic"):
            assert got and got["kind"] in ("ongoing", "periodic"), (g["ref"], got)
        else:
            assert got and got["due"] == want["due"], (g["ref"], want, got)


@pytest.mark.parametrize(("folder", "gold"), CASES, ids=[f"{f}/{g['file']}" for f, g in CASES])
def test_layout_plan_is_read_as_its_gold(folder: str, gold: dict[str, Any]) -> None:
    plan = parse_path(DATA / folder / gold["file"], NameFinder(seed_registry()))
    want = gold["plan"]
    assert (plan.number, plan.issued_on.isoformat() if plan.issued_on else None) == (want["number"], want["date"])
    assert plan.issuer and plan.issuer.startswith(want["issuer"])  # a place may follow "... tỉnh"
    tasks = [{"text": t.text, "lead": t.lead, "coordinators": t.coordinators,
              "deadline": deadline_json(t.deadline, TODAY)} for t in plan.tasks]
    _check(gold, tasks)


@pytest.mark.parametrize("folder", FOLDERS)
async def test_layout_plans_are_stored_as_read_on_both_databases(db: Database, folder: str) -> None:
    importer = await Importer.create(db)
    golds = _gold(folder)
    for gold in golds:
        r = await importer.import_path(DATA / folder / gold["file"])
        assert r.status == "new"
    async with db.session() as s:
        registry = await Registry.load(s)
        stored = (await s.scalars(select(Task).order_by(Task.position)
                                  .options(selectinload(Task.agencies), selectinload(Task.plan)))).all()
    by_plan: dict[str, list[dict[str, Any]]] = {}
    for task in stored:
        by_plan.setdefault(task.plan.number or "", []).append(task_json(task, registry, TODAY))
    for gold in golds:
        _check(gold, by_plan[gold["plan"]["number"]])


def test_a_period_that_goes_on_is_ongoing_not_its_first_year() -> None:
    for text in ("Năm 2025 và các năm tiếp theo.", "Quý IV năm 2025 và các năm tiếp theo.",
                 "Thời gian thực hiện: Giai đoạn 2026-2030 và những năm tiếp theo."):
        d = parse_deadline(text, date(2025, 11, 1))
        assert d is not None and d.kind == "ongoing", text
    d = parse_deadline("Hoàn thành trong năm 2025.", date(2025, 11, 1))
    assert d is not None and d.due == date(2025, 12, 31)


def test_clauses_of_a_field_value_give_lead_and_coordinators() -> None:
    finder = NameFinder(seed_registry())
    lead, coords = clause_roles("Sở Nội vụ chủ trì tham mưu Ủy ban nhân dân tỉnh ban hành kế hoạch; Sở Tư pháp và "
                                "Sở Y tế chủ động tổ chức triển khai", finder) or ([], [])
    assert lead == ["Sở Nội vụ"] and coords == ["Sở Tư pháp", "Sở Y tế"]
    # Without "chủ trì" every clause's subject leads; a bare list of names is not read as clauses.
    lead, coords = clause_roles("Sở Tư pháp rà soát các văn bản; Sở Y tế rà soát quy trình", finder) or ([], [])
    assert lead == ["Sở Tư pháp", "Sở Y tế"] and coords == []
    assert clause_roles("Sở Nội vụ, Sở Giáo dục và Đào tạo, Sở Tài chính.", finder) is None


def test_a_citation_date_is_not_the_plans_date() -> None:
    plan = parse_text("# CHÍNH PHỦ\n\nSố: 12/NQ-CP\n\nCăn cứ Luật Tổ chức Chính phủ ngày 19 tháng 6 năm 2015;\n\n"
                      "Hà Nội, ngày 09 tháng 01 năm 2025\n\n# NGHỊ QUYẾT\n\nVề cải cách hành chính\n\n"
                      "I. NHIỆM VỤ\n\n1. Bộ Nội vụ chủ trì rà soát thủ tục trong quý II/2025.\n\n"
                      "Nơi nhận:\n- Lưu: VT.\n\nTM. CHÍNH PHỦ\nTHỦ TƯỚNG\n\nNguyễn Văn A\n", "nq.md")
    assert plan.issued_on == date(2025, 1, 9) and plan.number == "12/NQ-CP"
    assert plan.issuer == "Chính phủ"


def test_a_yearly_document_named_in_a_task_is_not_its_deadline() -> None:
    plan_day = date(2025, 11, 1)
    inside = ("Sở Tài chính chủ trì bố trí kinh phí chi thường xuyên trong dự toán ngân sách nhà nước hàng năm "
              "cho các cơ quan, đơn vị để triển khai Kế hoạch này.")
    assert parse_deadline(inside, plan_day) is None
    field = parse_deadline("Theo kế hoạch công tác tư pháp hàng năm.", plan_day)
    assert field is not None and field.kind == "periodic"  # a time field's value: the yearly plan sets it
    report = parse_deadline("Định kỳ báo cáo kết quả thực hiện Kế hoạch hằng năm cho Ủy ban nhân dân tỉnh.", plan_day)
    assert report is not None and report.kind == "periodic"


@pytest.mark.parametrize("name", ["s_thong_bao_ket_luan.md", "t_cong_dien_bo.md", "v_ket_luan_lam_viec_tinh.md"])
def test_a_notices_other_lines_are_no_tasks(name: str) -> None:
    """Header lines, a dispatch's addressees, agreements ("thống nhất"), announcements ("sẽ"), the closing
    "... thông báo để ... biết, thực hiện" and exhortations add no task: the notice holds its gold's tasks only."""
    [gold] = [g for g in _gold("layouts6") if g["file"] == name]
    plan = parse_path(DATA / "layouts6" / name, NameFinder(seed_registry()))
    assert len(plan.tasks) == len(gold["tasks"]), [t.text[:60] for t in plan.tasks]


def test_a_signed_pdfs_grid_gives_one_task_per_row_and_sub_row() -> None:
    """layouts8's PDF: the appendix grid read by its rules, not by the order pypdf gives the cells' lines; the
    running header (a pagination artifact) neither runs through the text nor gives the plan its date."""
    plan = parse_path(DATA / "layouts8" / "s_phu_luc_cong_bao.pdf", NameFinder(seed_registry()))
    assert len(plan.tasks) == 5  # the body's restated items are no tasks; row 3's two sub-rows are two
    assert [t.deadline.text if t.deadline else None for t in plan.tasks if "nền tảng chung" in t.text] == [
        "Tháng 12/2026", "Năm 2027"]
    assert {t.ref for t in plan.tasks} >= {"PL.I.1", "PL.I.2", "PL.II.3", "PL.II.4"}
    assert not any("CÔNG BÁO" in t.text for t in plan.tasks)
    assert plan.issued_on == date(2026, 2, 20)


def test_body_items_a_task_table_restates_are_counted_once() -> None:
    """The body's "1. Bộ X xây dựng ..." and the table's row "Xây dựng ..." with lead and time are one task:
    the row; the body item is reported as left out, with the row that holds it."""
    plan = parse_path(DATA / "layouts8" / "t_nghi_quyet_chuong_trinh_cua_chinh_phu.md", NameFinder(seed_registry()))
    assert len([t for t in plan.tasks if "tiêu chí điểm du lịch" in t.text]) == 2  # the row's two sub-rows
    assert len([t for t in plan.tasks if "cải tạo nhà ở" in t.text]) == 1
    assert all(t.deadline is not None for t in plan.tasks if "cải tạo nhà ở" in t.text)  # the row's "Thường xuyên"
    assert sum("nêu lại" in lo.reason for lo in plan.left_out) == 2
