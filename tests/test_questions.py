"""Answers to focal points' questions over a real store (SQLite and PostgreSQL), one kind at a time."""

from __future__ import annotations

from datetime import date

import pytest

from core.clock import FixedClock
from core.context import AppContext
from core.messages import Incoming
from handlers import router
from handlers.intents import parse
from handlers.questions import answer
from knowledge import focal_points as fp
from knowledge.agencies import Registry, ensure_agency
from knowledge.db import Database
from knowledge.models import Plan, Task, TaskAgency
from knowledge.search import get_index, invalidate
from tests.questions_fixtures import TODAY, load_sample


@pytest.fixture
async def ctx(db: Database) -> AppContext:
    await load_sample(db)
    return AppContext(db=db, clock=FixedClock.on(TODAY))


def refs(ans) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(t.ref, t.text[:25]) for t in ans.tasks]


async def test_who_leads_in_many_phrasings(ctx: AppContext) -> None:
    for q in (
        "Ai chủ trì rà soát các quy định về tài chính cho khoa học và công nghệ?",
        "ai chu tri ra soat quy dinh tai chinh cho khcn",  # no accents, abbreviation
        "Việc rà soát quy định tài chính cho KH&CN giao cho ai?",
        "rà soát quy định về tài chính cho khoa học là việc của đơn vị nào",
        "đơn vị nào phụ trách rà soát, đối chiếu quy định tài chính",
        "ai chu tri ra xoat qui dinh tai chin cho khoahoc",  # typos, glued words
    ):
        ans = await answer(ctx, q)
        assert ans.intent == "lead", q
        assert ans.tasks and ans.tasks[0].ref == "II.3.a", (q, refs(ans))
        assert ans.text.startswith("Sở Tài chính chủ trì, phối hợp Sở Khoa học và Công nghệ."), ans.text
        assert "📄 Kế hoạch 3021/KH-UBND (25/08/2020), mục II.3.a" in ans.text


async def test_lead_names_todays_successor(ctx: AppContext) -> None:
    ans = await answer(ctx, "co quan nao chu tri xay dung ha tang thong tin, co so du lieu phuc vu nghien cuu")
    assert ans.tasks[0].ref == "II.4.b"
    assert ans.text.startswith("Sở Thông tin và Truyền thông (nay là Sở Khoa học và Công nghệ) chủ trì")


async def test_coordinators_and_report_to(ctx: AppContext) -> None:
    ans = await answer(ctx, "Ai phối hợp với Sở Tài chính rà soát quy định tài chính?")
    assert ans.intent == "coord" and ans.tasks[0].ref == "II.3.a"
    assert ans.text.startswith("Phối hợp: Sở Khoa học và Công nghệ.")
    ans = await answer(ctx, "Các sở báo cáo kết quả thực hiện Kế hoạch 3021 về đâu?")
    assert ans.intent == "report" and ans.tasks[0].ref == "III.1"
    assert ans.text.startswith("Báo cáo gửi Sở Khoa học và Công nghệ.")
    ans = await answer(ctx, "so khcn tong hop bao cao gui cho ai")
    assert ans.intent == "report" and ans.tasks[0].ref == "III.2"
    assert ans.text.startswith("Báo cáo gửi Ủy ban nhân dân tỉnh.")


async def test_due_recurring_gives_next_occurrence_weekday_and_days_left(ctx: AppContext) -> None:
    for q in ("han bao cao cua so khcn len ubnd tinh",
              "Sở KH&CN phải tổng hợp báo cáo kết quả thực hiện Kế hoạch 3021 gửi UBND tỉnh trước ngày nào?"):
        ans = await answer(ctx, q)
        assert ans.intent == "due", q
        assert ans.tasks[0].ref == "III.2", (q, refs(ans))
        first = ans.text.splitlines()[0]
        assert "“định kỳ trước ngày 15 tháng 12 hằng năm”" in first
        assert "lần tới: thứ Ba 15/12/2026 (còn 22 ngày)" in first


async def test_due_one_off_in_the_past_says_overdue(ctx: AppContext) -> None:
    ans = await answer(ctx, "Ban Tuyên giáo phải trình Ban Thường vụ Tỉnh ủy báo cáo tổng kết Nghị quyết 20 "
                            "trước ngày nào?")
    assert ans.intent == "due" and ans.tasks[0].deadline_due is not None
    assert ans.tasks[0].deadline_due.isoformat() == "2022-04-15"
    assert "thứ Sáu 15/04/2022 (quá hạn 1683 ngày)" in ans.text
    ans = await answer(ctx, "han chot nop bao cao tong ket ve ban thuong vu tinh uy cua cac huyen uy")
    assert ans.tasks[0].deadline_due is not None and ans.tasks[0].deadline_due.isoformat() == "2022-04-08"
    ans = await answer(ctx, "Quán triệt Kết luận 69-KL/TW phải hoàn thành khi nào?")
    assert ans.tasks[0].deadline_due is not None and ans.tasks[0].deadline_due.isoformat() == "2024-06-30"
    assert "“trong quý II-2024”" in ans.text


async def test_nothing_found_names_no_agency_or_date(ctx: AppContext) -> None:
    for q in ("Ai chủ trì xây dựng cảng biển Cà Ná?",
              "Hạn hoàn thành đường cao tốc Bắc - Nam qua tỉnh là khi nào?",
              "ai phu trach xay dung san bay phan thiet",
              "Báo cáo về phòng chống dịch tả lợn châu Phi gửi về đâu?"):
        ans = await answer(ctx, q)
        assert ans.tasks == [], (q, refs(ans))
        assert ans.text.startswith("Không tìm thấy nhiệm vụ nào về"), ans.text
        assert "/20" not in ans.text and "chủ trì." not in ans.text
    ans = await answer(ctx, "Ai chủ trì xây dựng cảng biển Cà Ná?")
    assert "“xây dựng cảng biển Cà Ná”" in ans.text  # the user's own words, accents kept


async def test_what_an_agency_must_do_counts_groups_and_merged_bodies(ctx: AppContext) -> None:
    ans = await answer(ctx, "Sở Nội vụ có những nhiệm vụ gì?")
    assert ans.intent == "agency"
    assert ans.text.startswith("Sở Nội vụ có 4 việc (chủ trì 1, 3 việc giao chung cho nhóm cơ quan):")
    assert {t.ref for t in ans.tasks} == {"II.2.c", "II.1.a", "II.4.b", "III.1"}
    assert ans.choices and ans.choices[0].data.startswith("q:task:")
    # merged on 1/3/2025: Sở KH&CN answers for Sở TT&TT's tasks too
    ans = await answer(ctx, "so khcn can lam gi")
    assert {"II.1.b", "II.4.b", "III.2", "II.3.a"} <= {t.ref for t in ans.tasks}
    # the old name: its own tasks, said with today's successor
    ans = await answer(ctx, "Sở TT&TT có việc gì?")
    assert ans.text.startswith("Sở Thông tin và Truyền thông (nay là Sở Khoa học và Công nghệ) có 2 việc")
    # a typo in the name
    ans = await answer(ctx, "So Noi vuu co viec gi")
    assert ans.text.startswith("Sở Nội vụ có 4 việc")


async def test_due_windows_and_overdue(ctx: AppContext) -> None:
    ans = await answer(ctx, "Tháng 12 này có hạn báo cáo nào?")
    assert ans.intent == "window" and [t.ref for t in ans.tasks] == ["III.2"]
    assert "\n1. 15/12 · Sở Khoa học và Công nghệ theo dõi" in ans.text  # a list line opens with its day
    ans = await answer(ctx, "30 ngay toi co viec gi")
    assert [t.ref for t in ans.tasks] == ["II.1", "III.2"]
    assert ans.text.startswith("Có 2 việc đến hạn trong 30 ngày tới:")
    ans = await answer(ctx, "tuần tới có hạn gì không")
    assert [t.text[:9] for t in ans.tasks] == ["Sở Y tế h"]
    ans = await answer(ctx, "tháng 1 có hạn gì")
    assert ans.tasks == [] and ans.text.startswith("Không có việc nào đến hạn trong tháng 1/2027")
    ans = await answer(ctx, "việc nào quá hạn?")
    assert ans.intent == "overdue" and len(ans.tasks) == 6
    assert ans.tasks[0].text.startswith("Sở Xây dựng")  # the most recent first
    ans = await answer(ctx, "So Xay dung co viec nao tre han")
    assert [t.text[:11] for t in ans.tasks] == ["Sở Xây dựng"]


async def test_plan_by_number_or_by_what_it_implements(ctx: AppContext) -> None:
    ans = await answer(ctx, "Kế hoạch 3021 có những nhiệm vụ nào")
    assert ans.intent == "plan" and len(ans.tasks) == 7
    assert ans.text.startswith("Kế hoạch 3021/KH-UBND (25/08/2020) — Triển khai thực hiện Quyết định số 696")
    ans = await answer(ctx, "KL 69 co nhung viec gi")
    assert ans.intent == "plan" and len(ans.tasks) == 2
    ans = await answer(ctx, "nq20 gồm những nhiệm vụ nào")
    assert ans.intent == "plan" and len(ans.tasks) == 3
    ans = await answer(ctx, "Kế hoạch 999 có những nhiệm vụ gì")
    assert ans.tasks == [] and "Không tìm thấy" in ans.text


async def test_greeting_and_help(ctx: AppContext) -> None:
    for q in ("xin chào", "Chào bạn", "help", "hướng dẫn"):
        ans = await answer(ctx, q)
        assert ans.intent == "greeting" and ans.tasks == []
        assert ans.text.startswith("Xin chào!") and "Kế hoạch 3021 có những nhiệm vụ nào?" in ans.text


async def test_ambiguous_question_lists_choices_and_a_typed_number_picks(ctx: AppContext) -> None:
    msg = Incoming(channel="console", chat_id="c1", user_id="u1", text="ai quan triet")
    [reply] = await router.handle(ctx, msg)
    assert reply.text.startswith("Có ") and "việc gần giống" in reply.text
    assert reply.text.endswith("Bạn hỏi việc nào? (bấm hoặc gõ số)")
    assert len(reply.choices) >= 2 and reply.choices[0].label.startswith("1. ")
    second = reply.choices[1]
    [picked] = await router.handle(ctx, Incoming(channel="console", chat_id="c1", user_id="u1", text="2"))
    task_id = int(second.data.rsplit(":", 1)[1])
    idx = await get_index(ctx)
    doc = idx.docs[idx.by_id[task_id]]
    assert doc.text[:40] in picked.text and "chủ trì" in picked.text
    # the pending list is spent: "2" again is not a pick any more
    [again] = await router.handle(ctx, Incoming(channel="console", chat_id="c1", user_id="u1", text="2"))
    assert again.text.startswith("Chưa có danh sách nào để chọn theo số.")
    # a pressed button carries the choice data
    [pressed] = await router.handle(ctx, Incoming(channel="telegram", chat_id="9", user_id="9", choice=second.data))
    assert pressed.text == picked.text
    # a number out of range is refused politely and keeps the list
    await router.handle(ctx, msg)
    [bad] = await router.handle(ctx, Incoming(channel="console", chat_id="c1", user_id="u1", text="9"))
    assert bad.text.startswith("Xin gõ một số từ 1 đến")


async def test_commands(ctx: AppContext, db: Database) -> None:
    def m(text: str) -> Incoming:
        return Incoming(channel="telegram", chat_id="77", user_id="77", text=text)

    [r] = await router.handle(ctx, m("/start"))
    assert r.text.startswith("Xin chào!")
    [r] = await router.handle(ctx, m("/help"))
    assert "/saphan" in r.text
    [r] = await router.handle(ctx, m("/hoi ai chu tri ra soat quy dinh tai chinh"))
    assert r.text.startswith("Sở Tài chính chủ trì")
    [r] = await router.handle(ctx, m("/viec"))
    assert "/dangky" in r.text
    [r] = await router.handle(ctx, m("/khongco"))
    assert r.text.startswith("Không rõ lệnh /khongco.") and "/saphan" in r.text
    [r] = await router.handle(ctx, m("/saphan"))
    assert r.text.startswith("Có 2 việc đến hạn trong 30 ngày tới:")
    [r] = await router.handle(ctx, m("/quahan"))
    assert r.text.startswith("Có 6 việc")
    async with db.session() as s:
        reg = await Registry.load(s)
        yte = reg.lookup("Sở Y tế")
        assert yte is not None
        await fp.add(s, yte.id, "telegram", "77", user_id="77", approved_by="test")
        await s.commit()
    [r] = await router.handle(ctx, m("/viec"))
    assert r.text.startswith("Sở Y tế có 5 việc (chủ trì 1, phối hợp 1, 3 việc giao chung cho nhóm cơ quan):")
    [r] = await router.handle(ctx, m("/saphan"))
    assert r.text.startswith("Có 1 việc đến hạn trong 30 ngày tới:") and "Sở Y tế" in r.text
    [r] = await router.handle(ctx, m("/quahan"))  # it coordinates Sở Xây dựng's late task
    assert r.text.startswith("Có 1 việc") and "Sở Xây dựng" in r.text


async def test_index_follows_the_store(ctx: AppContext, db: Database) -> None:
    ans = await answer(ctx, "ai chu tri xay dung cang bien ca na")
    assert ans.tasks == []
    async with db.session() as s:
        reg = await Registry.load(s)
        xd = reg.lookup("Sở Xây dựng")
        assert xd is not None
        plan = Plan(identity="99/KH-UBND", number="99/KH-UBND", title="Phát triển cảng biển", content_hash="y" * 64)
        s.add(plan)
        await s.flush()
        task = Task(plan_id=plan.id, position=0, ref="1", fingerprint="a",
                    text="Sở Xây dựng chủ trì xây dựng cảng biển Cà Ná giai đoạn 1.")
        s.add(task)
        await s.flush()
        s.add(TaskAgency(task_id=task.id, agency_id=xd.id, role="lead", written="Sở Xây dựng"))
        await s.commit()
    invalidate(ctx)
    ans = await answer(ctx, "ai chu tri xay dung cang bien ca na")
    assert ans.tasks and ans.text.startswith("Sở Xây dựng chủ trì.")
    assert "📄 Kế hoạch 99/KH-UBND, mục 1" in ans.text


async def test_a_day_thanks_and_a_question_without_a_topic(ctx: AppContext) -> None:
    ans = await answer(ctx, "Những việc nào có hạn ngày 05/12/2026?")
    assert ans.intent == "window" and [t.ref for t in ans.tasks] == ["II.1"]
    assert ans.text.startswith("Có 1 việc đến hạn trong ngày 05/12/2026:")
    # a date inside a who-question is part of the task, not a list of the day's deadlines
    ans = await answer(ctx, "Ai hoàn thành triển khai bệnh án điện tử trước ngày 05/12/2026?")
    assert ans.intent == "lead" and ans.text.startswith("Sở Y tế chủ trì.")
    ans = await answer(ctx, "cảm ơn bạn nhé")
    assert ans.intent == "thanks" and ans.tasks == []
    ans = await answer(ctx, "Ai chủ trì?")
    assert ans.tasks == [] and ans.text.startswith("Bạn hỏi về việc nào?")


async def test_a_changed_store_updates_the_index_in_place(ctx: AppContext, db: Database) -> None:
    from knowledge.search import CACHE_KEY, builds

    before = await get_index(ctx)
    async with db.session() as s:
        plan = Plan(identity="77/KH-UBND", number="77/KH-UBND", title="Cảng cá", content_hash="z" * 64)
        s.add(plan)
        await s.flush()
        s.add(Task(plan_id=plan.id, position=0, ref="1", fingerprint="a", text="Nạo vét luồng cảng cá Cà Ná."))
        await s.commit()
    size = len(before.docs)
    ctx.cache[CACHE_KEY].checked = 0.0  # as if the last look at the change log was long ago (no invalidate)
    after = await get_index(ctx)
    assert after is before and len(after.docs) == size + 1 and builds(ctx) == 1 and after.updates == 1
    ans = await answer(ctx, "ai nao vet luong cang ca ca na")
    assert ans.tasks and ans.tasks[0].text.startswith("Nạo vét")


async def test_a_pasted_page_is_answered_quickly_and_safely(ctx: AppContext) -> None:
    import time

    text = "rà soát quy định tài chính " + "lorem ipsum dolor sở nội vụ ban tuyên giáo " * 400
    t = time.perf_counter()
    ans = await answer(ctx, text)
    assert time.perf_counter() - t < 10.0  # generous: catches pathological slowness only
    assert ans.question == text and ans.text


async def test_this_month_shows_a_yearly_deadline_that_already_fell_in_it(ctx: AppContext) -> None:
    # 23/11: the yearly 15/11 report is past but inside "tháng này"; the next 15/11 (2027) is not.
    # 15/11/2026 is a Sunday: the day that counts is Monday 16/11 (art. 148), as reminders say.
    ans = await answer(ctx, "Tháng này có hạn gì?")
    assert ans.intent == "window" and "III.1" in [t.ref for t in ans.tasks]
    assert "quá hạn 7 ngày · Các Sở, ban, ngành" in ans.text  # counted from Monday 16/11, not Sunday 15/11
    ans = await answer(ctx, "30 ngay toi co viec gi")  # a window from today still starts today
    assert "III.1" not in [t.ref for t in ans.tasks]


async def test_a_year_named_in_a_question_about_one_task_must_fit_the_task(ctx: AppContext) -> None:
    ans = await answer(ctx, "Ai rà soát quy định tài chính cho khoa học và công nghệ năm 2025?")
    assert ans.tasks == [], refs(ans)  # a 2020 task with no 2025 in it does not answer
    ans = await answer(ctx, "Ai rà soát quy định tài chính cho khoa học và công nghệ?")
    assert [t.ref for t in ans.tasks][:1] == ["II.3.a"]
    ans = await answer(ctx, "Hạn bổ sung tiêu chí thi đua năm 2020?")  # its own deadline's year
    assert [t.ref for t in ans.tasks][:1] == ["II.2.c"]


async def test_the_action_asked_about_picks_between_two_similar_tasks(ctx: AppContext, db: Database) -> None:
    # Two more tasks about "dự thảo báo cáo tổng kết": one sends it to Ban Tuyên giáo, one it finishes later.
    async with db.session() as s:
        reg = await Registry.load(s)
        bcs, btg = reg.lookup("Ban cán sự đảng Ủy ban nhân dân tỉnh"), reg.lookup("Ban Tuyên giáo Tỉnh ủy")
        assert bcs is not None and btg is not None
        plan = Plan(identity="98/KH-TU", number="98/KH-TU", title="Tổng kết", content_hash="z" * 64)
        s.add(plan)
        await s.flush()
        send = Task(plan_id=plan.id, position=0, ref="2", fingerprint="b",
                    text="Ban cán sự đảng Ủy ban nhân dân tỉnh xây dựng dự thảo Báo cáo tổng kết trên địa bàn "
                         "tỉnh; gửi Ban Tuyên giáo Tỉnh ủy thẩm định.")
        finish = Task(plan_id=plan.id, position=1, ref="3", fingerprint="c", deadline_kind="date",
                      deadline_due=date(2022, 5, 8), deadline_text="trước ngày 08/5/2022",
                      text="Ban Tuyên giáo Tỉnh ủy hoàn chỉnh dự thảo báo cáo tổng kết; trình Thường trực Tỉnh ủy "
                           "ký ban hành trước ngày 08/5/2022.")
        s.add_all([send, finish])
        await s.flush()
        s.add_all([TaskAgency(task_id=send.id, agency_id=bcs.id, role="lead", written="Ban cán sự đảng"),
                   TaskAgency(task_id=send.id, agency_id=btg.id, role="report_to", written="Ban Tuyên giáo Tỉnh ủy"),
                   TaskAgency(task_id=finish.id, agency_id=btg.id, role="lead", written="Ban Tuyên giáo Tỉnh ủy")])
        await s.commit()
    invalidate(ctx)
    ans = await answer(ctx, "hạn thẩm định dự thảo báo cáo tổng kết của Ban Tuyên giáo")
    assert ans.tasks and ans.tasks[0].deadline_due == date(2022, 4, 15), refs(ans)


async def test_words_of_a_plan_title_scope_an_agency_list(ctx: AppContext) -> None:
    # No task says "chuyển đổi số"; the plan's title does: its tasks are meant, not every Sở Y tế task.
    ans = await answer(ctx, "Sở Y tế có việc gì trong kế hoạch chuyển đổi số?")
    assert ans.intent == "agency" and sorted(t.ref for t in ans.tasks) == ["II.1", "II.2"], refs(ans)


async def test_the_place_a_plan_comes_from_is_not_a_topic_word(ctx: AppContext, db: Database) -> None:
    async with db.session() as s:
        reg = await Registry.load(s)
        btg = reg.lookup("Ban Tuyên giáo Tỉnh ủy")
        assert btg is not None
        plan = Plan(identity="45-KH/TU", number="45-KH/TU", title="Thực hiện Kết luận số 69-KL/TW",
                    issuer="Thành ủy Đà Lạt", content_hash="w" * 64)
        s.add(plan)
        await s.flush()
        task = Task(plan_id=plan.id, position=0, ref="II.1", fingerprint="d",
                    text="Ban Tuyên giáo chủ trì tổ chức hội nghị phổ biến chuyên đề tại các phường.")
        other = Task(plan_id=plan.id, position=1, ref="II.2", fingerprint="e",
                     text="Sở Xây dựng lát lại vỉa hè các tuyến phố chính.")  # "lat" is a word of the index
        s.add_all([task, other])
        await s.flush()
        s.add(TaskAgency(task_id=task.id, agency_id=btg.id, role="lead", written="Ban Tuyên giáo"))
        await s.commit()
    invalidate(ctx)
    p = parse(await get_index(ctx), "Ai chủ trì phổ biến chuyên đề ở Đà Lạt?", TODAY)
    assert "lat" not in p.distinct and "pho" in p.distinct  # a plan's place, not a topic word
    ans = await answer(ctx, "Ai chủ trì phổ biến chuyên đề ở Đà Lạt?")
    assert [t.ref for t in ans.tasks][:1] == ["II.1"], ans.text
    ans = await answer(ctx, "kế hoạch của Thành ủy Đà Lạt gồm những gì")  # a plan named by where it comes from
    assert ans.intent == "plan" and sorted(t.ref for t in ans.tasks) == ["II.1", "II.2"], ans.text
    ans = await answer(ctx, "Ai chủ trì phổ biến chuyên đề ở Cà Mau?")  # not a plan's place
    assert ans.tasks == [], refs(ans)


async def test_shorthands_and_a_question_word_that_is_also_a_plan_word(ctx: AppContext) -> None:
    ans = await answer(ctx, "ai xay dung csdl phuc vu nghien cuu")  # CSDL = cơ sở dữ liệu
    assert [t.ref for t in ans.tasks][:1] == ["II.4.b"], ans.text
    # "can" is "cần" (a question word) and "cán" of "cán bộ" (a plan word): beside "bo" it stays
    p = parse(await get_index(ctx), "quan triet nghi quyet den can bo cong chuc", TODAY)
    assert "can" in [t.text for t in p.seq if t is not None]
    p = parse(await get_index(ctx), "so noi vu can lam gi", TODAY)
    assert "can" not in [t.text for t in p.seq if t is not None]


async def test_an_agency_that_opens_a_question_ending_in_what_asks_for_its_tasks(ctx: AppContext) -> None:
    ans = await answer(ctx, "Sở Nội vụ bổ sung tiêu chí gì")  # ends in "gì": the agency's tasks on that topic
    assert ans.intent == "agency" and [t.ref for t in ans.tasks] == ["II.2.c"], ans.text


async def test_a_ministry_department_and_its_shorthand(ctx: AppContext, db: Database) -> None:
    async with db.session() as s:
        reg = await Registry.load(s)
        vu = await ensure_agency(s, reg, "Vụ Kế hoạch - Tài chính")
        plan = Plan(identity="1234/KH-BKHCN", number="1234/KH-BKHCN", title="Chiến lược", content_hash="v" * 64)
        s.add(plan)
        await s.flush()
        task = Task(plan_id=plan.id, position=0, ref="III.1", fingerprint="f", deadline_kind="monthly",
                    deadline_day=25, deadline_text="trước ngày 25 hằng tháng",
                    text="Chủ trì theo dõi, đôn đốc các đơn vị; tổng hợp báo cáo Bộ trưởng trước ngày 25 hằng tháng.")
        s.add(task)
        await s.flush()
        s.add(TaskAgency(task_id=task.id, agency_id=vu.id, role="lead", written="Vụ Kế hoạch - Tài chính"))
        await s.commit()
    invalidate(ctx)
    p = parse(await get_index(ctx), "Vụ KH-TC tổng hợp báo cáo hạn ngày mấy", TODAY)
    assert p.agency_ids == [vu.id], p.agencies  # "Vụ …" is a body; "KH-TC" is Kế hoạch - Tài chính
