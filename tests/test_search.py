"""The index and the question reader, without a database: names, plans, times, typos, ranking."""

from __future__ import annotations

from datetime import date

from handlers.intents import parse, parse_window
from knowledge.agencies import AgencyInfo, Registry, agency_key
from knowledge.queries import PlanDoc, TaskDoc
from knowledge.search import Index, Term, analyze, fold_query

TODAY = date(2026, 11, 23)  # a Monday


def _registry() -> Registry:
    reg = Registry()
    for i, (name, aliases) in enumerate(
        (("Sở Nội vụ", ()), ("Sở Khoa học và Công nghệ", ("Sở KH&CN", "KH&CN")),
         ("Sở Tài chính", ()), ("Văn phòng Tỉnh ủy", ("VPTU",))), 1
    ):
        reg.by_id[i] = AgencyInfo(i, name, "department", False)
        reg.by_key[agency_key(name)] = i
        for a in aliases:
            reg.by_key.setdefault(agency_key(a), i)
    return reg


def _index() -> Index:
    plans = {
        1: PlanDoc(1, "3021/KH-UBND", "Kế hoạch", "Triển khai Quyết định số 696/QĐ-TTg", None, None),
        2: PlanDoc(2, None, "Kế hoạch", "Thực hiện Kết luận số 69-KL/TW về tiếp tục thực hiện Nghị quyết số 20", None,
                   None),
        3: PlanDoc(3, None, "Kế hoạch", "Tổng kết 10 năm thực hiện Nghị quyết số 20-NQ/TW", None, None),
    }
    texts = [
        (1, "Sở Tài chính chủ trì rà soát các quy định về tài chính cho khoa học và công nghệ.", 3),
        (1, "Sở Nội vụ bổ sung tiêu chí thi đua, khen thưởng về khoa học và công nghệ.", 1),
        (2, "Nâng cao năng lực các biện pháp bảo vệ cá nhân trong công tác khoa học.", 4),
        (3, "Tổ chức hội nghị tổng kết Nghị quyết số 20.", 4),
    ]
    docs = []
    for n, (plan, text, lead) in enumerate(texts, 1):
        docs.append(TaskDoc(n, plan, n, f"II.{n}", text, "open", None, None, None, None, None,
                            {"lead": [(lead, "")]}))
        plans[plan].task_ids.append(n)
    return Index.build(_registry(), plans, docs)


def test_analyze_folds_and_drops_glue_words() -> None:
    assert analyze("Rà soát các quy định về tài chính cho KH&CN") == \
        ["ra", "soat", "quy", "dinh", "tai", "chinh", "khoa", "hoc", "cong", "nghe"]
    assert fold_query("NQ20") == "nghi quyet 20"


def test_agencies_found_by_name_abbreviation_and_typo() -> None:
    idx = _index()
    assert [m.ids for m in idx.find_agencies(fold_query("Sở KH&CN có việc gì"))] == [[2]]
    assert [m.ids for m in idx.find_agencies(fold_query("vptu can lam gi"))] == [[4]]
    assert [m.ids for m in idx.find_agencies(fold_query("so noi vuu co viec gi"))] == [[1]]
    # the topic "khoa học và công nghệ" alone is not the agency
    assert idx.find_agencies(fold_query("quy định tài chính cho khoa học và công nghệ")) == []


def test_plans_found_by_number_and_by_what_they_implement() -> None:
    idx = _index()
    assert [m.ids for m in idx.find_plans(fold_query("Kế hoạch 3021"))] == [[1]]
    assert [m.ids for m in idx.find_plans(fold_query("KL 69"))] == [[2]]
    # "Nghị quyết 20": the plan that reviews it, not the one citing it in passing
    assert [m.ids for m in idx.find_plans(fold_query("nghi quyet so 20"))] == [[3]]
    assert [m.ids for m in idx.find_plans(fold_query("ke hoach 999"))] == [[]]


def test_ranking_needs_the_topic_words_not_just_generic_ones() -> None:
    idx = _index()
    p = parse(idx, "Ai chủ trì rà soát quy định tài chính?", TODAY)
    hits = idx.search(p.seq)
    assert hits[0].doc.id == 1 and hits[0].coverage > 0.9 and hits[0].pair_coverage > 0.5
    # "cảng biển Cà Ná": "biện"/"cá" exist as syllables, but no pair does
    p = parse(idx, "Ai chủ trì xây dựng cảng biển Cà Ná?", TODAY)
    assert p.distinct == ["cang", "bien", "ca", "na"]
    assert all(h.pair_coverage == 0 for h in idx.search(p.seq))


def test_typos_are_corrected_against_the_vocabulary() -> None:
    idx = _index()
    assert idx.correct("xoat") == "soat"
    assert idx.correct("qui") == "quy"
    assert idx.split_glued("khoahoc") == ["khoa", "hoc"]
    assert idx.correct("zzzz") == "zzzz"


def test_intents() -> None:
    idx = _index()
    cases = {
        "Ai chủ trì rà soát quy định tài chính?": "lead",
        "việc rà soát quy định tài chính giao cho ai": "lead",
        "rà soát quy định tài chính là việc của ai": "lead",
        "ai phối hợp rà soát quy định tài chính": "coord",
        "báo cáo thi đua gửi về đâu": "report",
        "thi đua khen thưởng báo cáo cho ai": "report",
        "hạn rà soát quy định tài chính": "due",
        "rà soát quy định tài chính khi nào xong": "due",
        "bao gio phai xong viec ra soat": "due",
        "Sở Nội vụ có những nhiệm vụ gì?": "agency",
        "Văn phòng Tỉnh ủy cần làm gì": "agency",
        "Kế hoạch 3021 có những nhiệm vụ nào": "plan",
        "tháng này có hạn gì": "window",
        "sắp đến hạn": "window",
        "viec nao qua han": "overdue",
        "xin chào": "greeting",
        "": "greeting",
    }
    for q, kind in cases.items():
        assert parse(idx, q, TODAY).kind == kind, q
    assert parse(idx, "hạn chế sai sót", TODAY).kind != "due"


def test_windows() -> None:
    f = fold_query
    w = parse_window(f("tháng này"), TODAY)
    assert w and (w.start, w.end) == (date(2026, 11, 1), date(2026, 11, 30))
    w = parse_window(f("Tháng 12 này có hạn nào"), TODAY)
    assert w and (w.start, w.end, w.label) == (date(2026, 12, 1), date(2026, 12, 31), "tháng 12/2026")
    w = parse_window(f("tháng 3"), TODAY)
    assert w and w.start == date(2027, 3, 1)
    w = parse_window(f("tuần tới"), TODAY)
    assert w and (w.start, w.end) == (date(2026, 11, 30), date(2026, 12, 6))
    w = parse_window(f("30 ngày tới"), TODAY)
    assert w and w.end == date(2026, 12, 23)
    w = parse_window(f("quý IV/2026"), TODAY)
    assert w and (w.start, w.end) == (date(2026, 10, 1), date(2026, 12, 31))
    assert parse_window(f("tổng kết 10 năm nghị quyết 20"), TODAY) is None


def test_pairs_break_at_question_words() -> None:
    idx = _index()
    p = parse(idx, "ai chu tri ra soat", TODAY)
    assert [t for t in p.seq if t is not None] == [Term("ra", True), Term("soat", True)]


def test_more_windows() -> None:
    f = fold_query
    w = parse_window(f("tháng 11 năm sau"), TODAY)
    assert w and (w.start, w.end) == (date(2027, 11, 1), date(2027, 11, 30))
    w = parse_window(f("việc nào hạn 15/12"), TODAY)
    assert w and (w.start, w.end, w.label) == (date(2026, 12, 15), date(2026, 12, 15), "ngày 15/12/2026")
    assert parse_window(f("hạn 31/02"), TODAY) is None  # no such day


def test_windows_of_weeks_months_and_years() -> None:
    f = fold_query
    w = parse_window(f("12 tháng tới"), TODAY)
    assert w and (w.start, w.end, w.label) == (TODAY, date(2027, 11, 18), "12 tháng tới")
    w = parse_window(f("2 tuần tới"), TODAY)
    assert w and w.end == date(2026, 12, 7)
    w = parse_window(f("năm 2022 có những hạn nào"), TODAY)
    assert w and (w.start, w.end) == (date(2022, 1, 1), date(2022, 12, 31))
