"""Answers to focal points' questions: who leads, who coordinates, where reports go, when it is due,
what an agency must do, what falls due or is overdue, what a plan holds.

`answer` is the core (also behind `nhacviec ask --json`); `handle` adapts it to chat messages,
commands (/start, /help, /hoi, /viec, /saphan, /quahan) and numbered choices. An answer never names
an agency or a date the store does not hold: when no task carries the question's topic words, it
says so and suggests how to ask.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

from core.context import AppContext
from core.messages import Choice, Incoming, Reply
from handlers import render
from handlers.intents import GENERIC, GENERIC_PAIRS, FollowUp, Parsed, Window, follow_up, parse
from knowledge import conversation
from knowledge.conversation import Subject
from knowledge.deadlines import deadline_json
from knowledge.due import Dues, current_dues, day_by_position, due_between, overdue
from knowledge.export import display_name
from knowledge.importer.names import NameFinder
from knowledge.labels import WEEKDAYS
from knowledge.queries import TaskDoc, chat_agencies, task_progress
from knowledge.search import STOP, Hit, Index, Mention, get_index, wordset
from knowledge.text import fold
from knowledge.vocabulary import provinces

PAGE = 8  # list items a message shows (a phone screen); the rest follow on "xem tiếp"
URGENT_FIRST = ", việc có hạn và quá hạn trước"  # how a long agency list says its order
OWN_FIRST = ", việc riêng trước"  # ... when it holds both the agency's own tasks and its groups' ones
MORE = "q:more"  # the "Xem tiếp" button's data: the next page of the chat's subject
MAX_CHOICES = 5
MAX_QUESTION = 400  # characters of a message read as a question
MAX_TASKS = 200  # tasks a list answer carries for `ask --json` (its text shows PAGE of them at a time)
# Two hits closer than this (ratio of scores) are "about equally good": the user picks.
CLOSE = 1 / 1.2  # a task scoring within 1.2× of the best is a close neighbour: both are shown, the user picks
HALF = 0.5
DOMINANT = 1.8  # a best task scoring this many times the next is "clearly best"
MAX_SUGGESTIONS = 3  # nearest tasks shown when none answers
SUGGEST_COVERAGE = 0.2  # share of the question's topic a task must hold to be suggested at all


@dataclass(frozen=True)
class Gate:
    """How much of a question's topic a task must hold to answer it: share of its words when no word pair
    can match, share of words (and some pairs) otherwise, and words + pairs together."""

    words_alone: float
    words: float
    words_and_pairs: float


ANYWHERE = Gate(0.75, 0.6, 0.95)
# Measured on the dev and blind batches: scoped this way, seeds_b1 29 -> 31/40 with every other set unchanged;
# scoping it by a named agency as well answered an unanswerable question, so only a named plan relaxes it.
IN_NAMED_PLAN = Gate(0.4, 0.3, 0.6)
# Ranking boosts (rank): multipliers of a task's text score for what the question says besides its topic.
# Each is small next to the text score, so it orders close tasks and never lifts an unrelated one.
# A best task far ahead of the next on the question's whole wording (boosts included) is the one meant even
# when few of its topic words stand in it (the rest said in other words): a score this many times ln(1 + tasks)
# (a term's weight grows with the store) and LEAD_MARGIN times the next. Measured on the dev and blind batches:
# no "none" question of them reaches both, while 18 refused right answers do.
STRONG_PER_LOG_TASKS = 5.3
LEAD_MARGIN = 1.2
BOOST_HEAD_ACTION = 1.2  # the task holds the question's first action pair: in Vietnamese the action leads
BOOST_SUBJECT_LEADS = 1.5  # the agency the question makes the doer leads the task: the strongest sign after words
BOOST_SUBJECT_GROUP_LEADS = 1.2  # a group it belongs to leads ("Các Sở, ban, ngành"): it leads too, less surely
BOOST_SUBJECT_INVOLVED = 1.1  # it only coordinates or receives: still its task, but not what "Sở X làm" means
SUBJECT_RECEIVES = 0.7  # "where does X's report go" and X receives the task's report: the question is not about it
BOOST_OTHER_AGENCY_ROLE = 1.15  # another body named holds the role the question gives it ("phối hợp với Sở X")
BOOST_OWN_DEADLINE = 2.0  # the day named is this task's own deadline: a date rarely matches by chance
BOOST_HAS_REPORT_TO = 1.6  # a "where does the report go" question: only a task with an address can answer it
REPORT_NEIGHBOUR = 0.6  # an addressed task of the same plan scoring this share of the best (boost included) answers
COVERAGE_TIE = 0.01  # coverages this close are the same (a share of a few topic words)
BOOST_HAS_WHAT_IS_ASKED = 1.2  # a due / coord question: a task holding a deadline / coordinators answers better
# A question that describes its plan by the plan's title ("Hội nghị BTV bàn đề án KHCN - ĐMST ...") names that
# plan: at least this many of its topic's word pairs stand in one plan's title, more than in any other's. Those words
# then say which plan, not which task (a step of a plan rarely repeats the plan's title: "Kế hoạch này").
TITLE_PAIRS = 4
MAX_AGENCY_LISTS = 64  # agencies whose task lists the index's cache keeps (agency_tasks)
EMPTY_STORE = (
    "Chưa có kế hoạch nào được nạp, nên tôi chưa có nhiệm vụ nào để tra cứu.\n"
    "Quản trị viên có thể gửi tệp kế hoạch (.docx, .pdf, .txt) vào cuộc trò chuyện này, "
    "hoặc chạy lệnh `nhacviec import TỆP` trên máy chủ."
)

HELP = (
    "Xin chào! Tôi trả lời câu hỏi về nhiệm vụ trong các kế hoạch đang theo dõi{plans}. Ví dụ:\n"
    "• Ai chủ trì rà soát quy định tài chính cho khoa học và công nghệ?\n"
    "• Hạn báo cáo kết quả thực hiện kế hoạch là khi nào?\n"
    "• {agency} có những nhiệm vụ gì?\n"
    "• Tháng này có hạn nào? / Việc nào đã quá hạn?\n"
    "• {plan} có những nhiệm vụ nào?\n"
    "Lệnh: /viec (việc của cơ quan bạn), /saphan (sắp đến hạn), /quahan (quá hạn), /dangky (đăng ký đầu mối)."
)


@dataclass
class Answer:
    """One question's answer: what a user sees, and the tasks behind it (best first)."""

    question: str
    intent: str
    text: str
    tasks: list[TaskDoc] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)
    index: Index | None = None
    today: date | None = None
    suggestions: list[TaskDoc] = field(default_factory=list)  # nearest tasks when none answers: not answers
    listed: bool = False  # the text numbers `tasks` (or `suggestions`) in order: a follow-up's "việc số 2"

    def as_json(self) -> dict[str, Any]:
        assert self.index is not None and self.today is not None
        return {
            "question": self.question,
            "intent": self.intent,
            "answer": self.text,
            "tasks": [task_json(self.index, t, self.today) for t in self.tasks],
            "suggestions": [task_json(self.index, t, self.today) for t in self.suggestions],
        }


def task_json(idx: Index, doc: TaskDoc, today: date) -> dict[str, Any]:
    """The import contract's task shape (names as `import --json` shows them), plus id and plan."""
    finder = idx.cache.get("names")
    if finder is None:
        finder = idx.cache["names"] = NameFinder(idx.registry)

    def names(role: str) -> list[str]:
        return list(dict.fromkeys(display_name(w, finder) for w in doc.written(role)))

    plan = idx.plans.get(doc.plan_id)
    return {
        "id": doc.id,
        "plan": {"number": plan.number, "title": plan.title} if plan else None,
        "ref": doc.ref,
        "text": doc.text,
        "lead": names("lead"),
        "coordinators": names("coordinator"),
        "report_to": names("report_to"),
        "via": names("via"),
        "deadline": deadline_json(doc.deadline(), today),
    }


# ---- the core -----------------------------------------------------------------------------------
async def answer(ctx: AppContext, question: str, agencies: list[int] | None = None,
                 parsed: Parsed | None = None) -> Answer:
    """Answer one question. `agencies`: the asker's own agencies (for /viec-like questions); `parsed`: the
    question already read (the chat reads it first to tell a follow-up)."""
    idx = await get_index(ctx)
    today = ctx.clock.today()
    p = parsed or parse(idx, question[:MAX_QUESTION], today)  # a pasted page is not a question: read its start
    if not idx.plans and p.kind not in ("greeting", "thanks"):
        ans = Answer("", p.kind, EMPTY_STORE)  # nothing was looked up: say so, not "no task due"
    else:
        ans = await _dispatch(ctx, idx, p, await _dues(ctx, today), agencies or [])
    ans.question, ans.index, ans.today = question, idx, today
    return ans


async def _dues(ctx: AppContext, today: date) -> Dues:
    """When tasks are due today (knowledge.due): extensions, done marks and the calendar, kept between answers
    while the store's rows stay the same (`current_dues`)."""
    return await current_dues(ctx, today, await get_index(ctx))


async def _dispatch(ctx: AppContext, idx: Index, p: Parsed, dues: Dues, mine: list[int]) -> Answer:
    if p.kind == "greeting":
        return Answer("", "greeting", help_text(idx))
    if p.kind == "thanks":
        return Answer("", "thanks", "Rất vui được giúp bạn! Cần gì cứ hỏi tiếp, hoặc gõ /help để xem cách hỏi.")
    if p.kind == "overdue":
        return await _overdue(ctx, idx, p, dues)
    if p.kind == "window":
        return await _window(ctx, idx, p, dues)
    if p.kind == "agency":
        return _agency(idx, p, dues)
    if p.kind == "plan":
        return _plan(idx, p, dues)
    if p.kind == "plan_info":
        return _plan_info(idx, p.plan_ids)
    if p.kind == "section":
        return _section(idx, p, dues)
    if p.kind == "count":
        return await _count(ctx, idx, p, dues)
    if p.kind == "weekday" and p.window is not None:
        d = p.window.start
        n = (d - dues.today).days
        when = "hôm nay" if n == 0 else (f"còn {n} ngày nữa" if n > 0 else f"đã qua {-n} ngày")
        return Answer("", "weekday", f"Ngày {render.dmy(d)} là {WEEKDAYS[d.weekday()]} ({when}).")
    if p.kind == "status":
        return await _status(ctx, idx, p, dues)
    if p.kind == "unknown":
        return Answer("", "unknown", _not_understood(idx))
    return _about_task(idx, p, dues)


def help_text(idx: Index) -> str:
    plans = f" ({len(idx.plans)} kế hoạch)" if idx.plans else ""
    return HELP.format(plans=plans, agency=_example_agency(idx), plan=_example_plan(idx))


def _example_agency(idx: Index) -> str:
    """An agency the store really holds tasks for, so an example never names an absent body."""
    best = max(
        ((len(v), a) for a, v in idx.by_agency.items() if not idx.registry.by_id[a].is_group),
        default=None,
    )
    return idx.agency_name(best[1]) if best else "Sở Nội vụ"


def _example_plan(idx: Index) -> str:
    for plan in idx.plans.values():
        if plan.number:
            return f"{plan.kind} {plan.number.split('/')[0]}"
    return "Kế hoạch <số>"


def _not_understood(idx: Index) -> str:
    return "Tôi chưa hiểu câu hỏi. Bạn có thể hỏi, ví dụ:\n" + help_text(idx).split("\n", 1)[1]


def _nothing(idx: Index, p: Parsed, intent: str, near: list[TaskDoc] | None = None) -> Answer:
    """No task answers: say so; show the nearest few by title only (no agency, no date: they were not
    picked out by the question), each a choice to see it in full."""
    about = f" về “{p.topic}”" if p.topic else ""
    where = ""
    if p.plans and p.plan_ids:
        where = " trong " + ", ".join(idx.plans[i].label for i in dict.fromkeys(p.plan_ids))
    head = (f"Không tìm thấy nhiệm vụ nào{about}{where}." if where else
            f"Không tìm thấy nhiệm vụ nào{about} trong các kế hoạch đang theo dõi ({len(idx.plans)} kế hoạch).")
    near = (near or [])[:MAX_SUGGESTIONS]
    if near:
        lines = [head, "Có thể bạn muốn hỏi một trong các việc sau:"]
        choices = []
        for n, doc in enumerate(near, 1):
            lines.append(f"{n}. {render.snippet(doc.text, 90)} — {render.short_cite(idx, doc)}")
            choices.append(Choice(f"{n}. {render.snippet(doc.text, 40)}", f"q:{_pick_intent(intent)}:{doc.id}"))
        lines.append("Gõ số để xem việc đó, hoặc hỏi lại bằng cụm từ khác.")
        return Answer("", intent, "\n".join(lines), choices=choices, suggestions=near, listed=True)
    text = (
        f"{head}\n"
        f"Thử hỏi theo tên cơ quan (“{_example_agency(idx)} có việc gì?”) hoặc số kế hoạch "
        f"(“{_example_plan(idx)} có những nhiệm vụ nào?”), hoặc dùng đúng cụm từ trong kế hoạch."
    )
    return Answer("", intent, text)


def _pick_intent(intent: str) -> str:
    return intent if intent in ("lead", "coord", "report", "due") else "task"


# ---- one task: lead / coord / report / due ------------------------------------------------------
def rank(idx: Index, p: Parsed, near: list[Hit] | None = None) -> list[Hit]:
    """Tasks that answer the question's topic, best first; empty when none holds enough of its meaning.
    `near`, when given, receives the nearest few tasks whatever their coverage (suggestions)."""
    if (scoped := _plan_by_title(idx, p)) is not None:
        pid = scoped.plan_ids[0]
        hits = rank(idx, scoped, near)
        if hits and all(h.doc.plan_id == pid for h in hits):
            return hits
    only: set[int] | None = None
    plan_ids = set(p.plan_ids)
    if plan_ids:
        only = {idx.by_id[t] for pid in plan_ids for t in idx.plans[pid].task_ids}
    hits = idx.search(p.seq, only=only)
    if only is not None and not any(_accept(p, h) for h in hits) and _strong_lead(idx, hits) is None:
        hits = idx.search(p.seq)  # the plan named holds no task on the topic: look everywhere
    # Judged on the topic alone, before the boosts below: a task far ahead of every other, holding half the
    # topic and some of its pairs, is the one meant (the rest was said in other words than any task uses).
    # Neither way in is open to a question about a province no plan comes from.
    clear = (hits[0].doc.id if hits and hits[0].coverage >= HALF and (not hits[0].pairs or hits[0].pair_coverage > 0)
             and (len(hits) == 1 or hits[0].score >= DOMINANT * hits[1].score)
             and not _elsewhere(idx, p, hits) else None)
    subject, subject_groups = _expand(idx, p.subject)
    others, _ = _expand(idx, [a for a in p.agency_ids if a not in p.subject])
    head = _head_pair(p)
    for h in hits:
        if head and head in f" {idx.folded[idx.by_id[h.doc.id]]} ":
            h.score *= BOOST_HEAD_ACTION
        lead = set(h.doc.agency_ids("lead"))
        involved = set(h.doc.agency_ids())
        if p.kind == "report" and set(h.doc.agency_ids("report_to")) & subject and not lead & subject:
            h.score *= SUBJECT_RECEIVES  # "Sở X báo cáo về đâu": X sends; a report sent to X is another's
        elif lead & subject:
            h.score *= BOOST_SUBJECT_LEADS
        elif lead & subject_groups:
            h.score *= BOOST_SUBJECT_GROUP_LEADS
        elif involved & subject:
            h.score *= BOOST_SUBJECT_INVOLVED
        # Another body named: in "ai phối hợp với Sở X" X leads; elsewhere it coordinates or receives.
        roles = ("lead",) if p.kind == "coord" else ("report_to", "coordinator")
        if others and {a for r in roles for a in h.doc.agency_ids(r)} & others:
            h.score *= BOOST_OTHER_AGENCY_ROLE
        if p.day is not None and idx.due_of(idx.by_id[h.doc.id], p.day) == p.day:
            h.score *= BOOST_OWN_DEADLINE
        # A task that holds what is asked (a report address, a deadline, coordinators) answers better;
        # one without an address cannot answer "where does the report go" at all.
        if p.kind == "report" and h.doc.roles.get("report_to"):
            h.score *= BOOST_HAS_REPORT_TO
        elif (p.kind == "due" and h.doc.deadline_kind) or (p.kind == "coord" and h.doc.roles.get("coordinator")):
            h.score *= BOOST_HAS_WHAT_IS_ASKED
    hits.sort(key=lambda h: (-h.score, h.doc.plan_id, h.doc.position))
    # "Where does the report go": judged among the tasks that name an address, the only ones that can say.
    addressed = [h for h in hits if h.doc.roles.get("report_to")] if p.kind == "report" else []
    strong = _strong_lead(idx, addressed or hits) if not _elsewhere(idx, p, hits) else None
    if near is not None:
        near[:] = [h for h in hits if h.coverage >= SUGGEST_COVERAGE][:MAX_SUGGESTIONS]
    # Loosely only among tasks that hold the topic for sure: it picks between answers, never makes one up.
    loose = bool(subject) and any(_accept(p, h) for h in hits)
    hits = [h for h in hits
            if (_accept(p, h) or h.doc.id in (clear, strong)
                or (loose and _accept_loosely(h) and set(h.doc.agency_ids("lead")) & subject))
            and (p.year is None or _of_year(idx, h.doc, p.year))
            and (p.occurrence is None or _due_within(idx, h.doc, p.occurrence))]
    if p.kind == "report" and any(h.doc.roles.get("report_to") for h in hits):
        hits = [h for h in hits if h.doc.roles.get("report_to")]  # the others cannot say where
    elif p.kind == "report" and hits:
        # The tasks that hold the topic name no address; a close neighbour of the same plan that does (its
        # report line: "... báo cáo kết quả về Sở X") is the one that can answer "where does the report go".
        near_best = REPORT_NEIGHBOUR * hits[0].score
        neighbours = [h for h in addressed if h.doc.plan_id == hits[0].doc.plan_id and h.score >= near_best
                      and (p.year is None or _of_year(idx, h.doc, p.year))]
        if neighbours:  # of these, the ones holding most of the topic ("kết quả thực hiện Kế hoạch"), best first
            most = max(h.coverage for h in neighbours)
            return [h for h in neighbours if h.coverage >= most - COVERAGE_TIE]
    hits.sort(key=lambda h: (-h.score, h.doc.plan_id, h.doc.position))
    return hits


def _titled_plan(idx: Index, p: Parsed) -> tuple[int, set[int]] | None:
    """The plan whose title holds most of the question's topic word pairs (at least TITLE_PAIRS, more than any
    other title: single syllables collide, pairs rarely do), and the terms (by id) of those pairs."""
    pairs = [(a, b) for a, b in pairwise(p.seq) if a is not None and b is not None and (a.distinct or b.distinct)]
    if len(pairs) < TITLE_PAIRS:
        return None
    _plans_titled(idx, [])  # fills the cache of folded titles
    titles: dict[int, str] = idx.cache.get("folded_titles") or {}
    held = {pid: [(a, b) for a, b in pairs if f" {a.text} {b.text} " in title] for pid, title in titles.items()}
    ranked = sorted(held, key=lambda pid: -len(held[pid]))
    if not ranked or len(held[ranked[0]]) < TITLE_PAIRS or (
            len(ranked) > 1 and len(held[ranked[1]]) >= len(held[ranked[0]])):
        return None
    return ranked[0], {id(t) for pair in held[ranked[0]] for t in pair}


def _plan_by_title(idx: Index, p: Parsed) -> Parsed | None:
    """The question read as naming the plan its topic describes by title (`_titled_plan`), with the title's
    words out of its topic; None when no plan is named that way, or when nothing of the topic is left."""
    if p.plan_ids or (titled := _titled_plan(idx, p)) is None:
        return None
    best, said = titled
    seq = [None if t is not None and id(t) in said else t for t in p.seq]
    if not any(t is not None and t.distinct for t in seq):
        return None
    return replace(p, seq=seq, plans=[Mention(0, 0, "", [best])])


def _elsewhere(idx: Index, p: Parsed, hits: list[Hit]) -> bool:
    """Does the question name a province no plan comes from and the best task does not mention
    ("... ở Cà Mau" over plans of Đà Lạt)? Then its words may match a task here, but it asks about another place."""
    if not hits:
        return False
    q = f" {p.folded} "
    text = f" {idx.folded[idx.by_id[hits[0].doc.id]]} "
    homes = idx.places()
    return any(f" {pl} " in q and f" {pl} " not in text and not any(pl in h or h in pl for h in homes)
               for pl in provinces())


# Documents whose number is the plan's own: a number no plan bears names a plan not loaded. (A resolution or
# directive a plan implements is often cited only in its preamble, which the store does not keep.)
_DOCUMENT_KINDS = {"ke hoach": "Kế hoạch"}


def _unknown_document(idx: Index, p: Parsed) -> str:
    """"Kế hoạch số 45" when the question names a document by number that no plan is or cites and no task
    mentions ("kế hoạch 45" stands in no task); "" otherwise."""
    for m in p.plans:  # a number is surer than title words: "Kế hoạch 45 về du lịch" is not "KH ... du lịch"
        words = m.text.split()
        kind = " ".join(w for w in words[:-1] if w != "so")
        if (not m.ids and kind in _DOCUMENT_KINDS and words[-1].isdigit()
                and not idx.postings.get(f"{kind.split()[-1]} {words[-1]}")):  # "hoach 45": word pairs are indexed
            return f"{_DOCUMENT_KINDS[kind]} số {words[-1]}"
    return ""


def _strong_lead(idx: Index, hits: list[Hit]) -> int | None:
    """The best task's id when it stands far ahead of every other on the whole question, else None."""
    if not hits:
        return None
    top = hits[0]
    if top.score < STRONG_PER_LOG_TASKS * math.log1p(len(idx.docs)):
        return None
    return top.doc.id if len(hits) == 1 or top.score >= LEAD_MARGIN * hits[1].score else None


def _accept(p: Parsed, h: Hit) -> bool:
    """Does a hit carry the question's topic? Most of its topic words, and some of their pairs:
    syllables collide once accents are gone ("biển"/"biện"), word pairs rarely do. A question that names
    its plan has already narrowed the candidates to a few dozen tasks, so less of its wording must stand
    in the task (people describe a task of a plan they name in their own words)."""
    if not p.distinct:
        return h.score > 0
    gate = IN_NAMED_PLAN if p.plan_ids else ANYWHERE
    if not h.pairs:
        return h.coverage >= gate.words_alone
    return h.coverage >= gate.words and h.pair_coverage > 0 and h.coverage + h.pair_coverage >= gate.words_and_pairs


def _head_pair(p: Parsed) -> str:
    """The question's first topic word pair, " thẩm định " folded: in Vietnamese the action leads."""
    for a, b in pairwise(p.seq):
        if a is not None and b is not None and not a.name and not b.name and (a.distinct or b.distinct):
            return f" {a.text} {b.text} "
    return ""


def _accept_loosely(h: Hit) -> bool:
    """Half the topic, pairs included, is enough for a task the question's own subject leads."""
    return h.coverage >= 0.5 and h.pair_coverage > 0 and h.coverage + h.pair_coverage >= 0.95


def _of_year(idx: Index, doc: TaskDoc, year: int) -> bool:
    """Does a task belong to the year a question names: its deadline, its words, or its plan's year?
    ("hạn quyết toán kinh phí năm 2025" is not a 2020 task that mentions "quyết toán kinh phí".)"""
    due = doc.deadline_due
    plan = idx.plans.get(doc.plan_id)
    return bool(
        (due is not None and due.year == year)
        or f" {year} " in f" {idx.folded[idx.by_id[doc.id]]} "
        or (plan is not None and (str(year) in plan.title or (plan.issued_on and plan.issued_on.year == year)))
    )


def _due_within(idx: Index, doc: TaskDoc, win: Window) -> bool:
    """Does a task fall due in the period a due question names ("quý này", "quý 4/2026"): its next due day
    from the period's start (a recurring task's occurrence there) lies in it?"""
    due = idx.due_of(idx.by_id[doc.id], win.start)
    return due is not None and win.start <= due <= win.end


def _expand(idx: Index, ids: list[int]) -> tuple[set[int], set[int]]:
    """(agencies with the bodies they continue and their successors, the groups they belong to)."""
    own: set[int] = set()
    groups: set[int] = set()
    for a in ids:
        mine, theirs = idx.related_agencies(a)
        own |= mine | {idx.registry.current(a).id}
        groups |= theirs
    return own, groups


def _answer_key(intent: str, doc: TaskDoc, idx: Index, today: date) -> Any:
    if intent == "due":
        return idx.due_of(idx.by_id[doc.id], today), doc.deadline_kind
    if intent == "report":
        return frozenset(doc.agency_ids("report_to"))
    if intent == "coord":
        return frozenset(doc.agency_ids("coordinator"))
    if intent == "lead":
        return frozenset(doc.agency_ids("lead"))
    return doc.id


def _about_task(idx: Index, p: Parsed, dues: Dues) -> Answer:
    if not any(t is not None for t in p.seq):
        return Answer("", p.kind, "Bạn hỏi về việc nào? Xin ghi thêm nội dung công việc, tên cơ quan hoặc số kế hoạch, "
                                  "ví dụ: “Ai chủ trì rà soát quy định tài chính?”.")
    if unknown := _unknown_document(idx, p):
        # "Kế hoạch 45 ... giao ai chủ trì" with no plan 45: another plan's task would be a wrong answer.
        return Answer("", p.kind, f"Không thấy {unknown} trong các kế hoạch đang theo dõi ({len(idx.plans)} kế "
                                  f"hoạch), cũng không có nhiệm vụ nào nhắc tới văn bản này.")
    near: list[Hit] = []
    hits = rank(idx, p, near)
    if not hits:
        return _nothing(idx, p, p.kind, [h.doc for h in near])
    top = hits[0]
    close = [h for h in hits[:MAX_CHOICES] if h.score >= CLOSE * top.score]
    keys = {_answer_key(p.kind, h.doc, idx, dues.today) for h in close}
    if len(close) >= 2 and len(keys) >= 2:
        return _ask_which(idx, p, close, dues)
    return Answer("", p.kind, task_text(idx, p.kind, top.doc, dues), [h.doc for h in close])


async def _status(ctx: AppContext, idx: Index, p: Parsed, dues: Dues) -> Answer:
    """Is a task done? From the progress records (who marked it, when), else its due day."""
    ans = _about_task(idx, p, dues)
    if len(ans.tasks) != 1 or ans.choices:
        return ans  # none found, or several: the list / suggestions already say so
    return Answer("", "status", await _status_text(ctx, idx, ans.tasks[0], dues), ans.tasks[:1])


async def _status_text(ctx: AppContext, idx: Index, doc: TaskDoc, dues: Dues) -> str:
    """Done or not, from the progress records (who marked it, when); else the due day still ahead or passed."""
    async with ctx.db.session() as s:
        rows = await task_progress(s, doc.id)
    done = [r for r in rows if r.status == "done"]
    if doc.status == "done" or done:
        lines = ["Đã ghi nhận hoàn thành."]
        for r in done[-3:]:
            who = idx.agency_name(r.agency_id) if r.agency_id in idx.registry.by_id else r.by
            when = f" (kỳ {render.dmy(r.occurrence)})" if r.occurrence else ""
            lines.append(f"• {who}{when}: ngày {render.dmy(r.at.date())}")
    elif doc.status == "cancelled":
        lines = ["Việc này đã được hủy, không còn phải thực hiện."]
    else:
        lines = ["Chưa ghi nhận hoàn thành.", f"Hạn: {render.due_phrase(idx, doc, dues)}."]
    lines += [render.who_line(idx, doc, dues.today), render.cite(idx, doc)]
    return "\n".join(lines)


def task_text(idx: Index, intent: str, doc: TaskDoc, dues: Dues) -> str:
    """The answer about one task, its first line shaped by what was asked."""
    today = dues.today
    if intent == "due":
        first = f"Hạn: {render.due_phrase(idx, doc, dues)}."
        return "\n".join([first, render.who_line(idx, doc, today), render.cite(idx, doc)])
    if intent == "report":
        rep = render.report_line(idx, doc, today) or "Kế hoạch không ghi rõ nơi nhận báo cáo của việc này."
        return "\n".join([rep, render.who_line(idx, doc, today), render.cite(idx, doc),
                          f"Hạn: {render.due_phrase(idx, doc, dues)}."])
    if intent == "coord":
        coords = render.agency_names(idx, doc, "coordinator", today)
        first = (f"Phối hợp: {render.join_names(coords)}." if coords
                 else "Kế hoạch không ghi cơ quan phối hợp cho việc này.")
        return "\n".join([first, render.who_line(idx, doc, today), render.cite(idx, doc),
                          f"Hạn: {render.due_phrase(idx, doc, dues)}."])
    return render.task_card(idx, doc, dues)


def _ask_which(idx: Index, p: Parsed, hits: list[Hit], dues: Dues) -> Answer:
    lines = [f"Có {len(hits)} việc gần giống:"]
    choices: list[Choice] = []
    for n, h in enumerate(hits, 1):
        lines.append(render.list_line(idx, n, h.doc, dues))
        choices.append(Choice(f"{n}. {render.snippet(h.doc.text, 40)}", f"q:{p.kind}:{h.doc.id}"))
    lines.append("Bạn hỏi việc nào? (bấm hoặc gõ số)")
    return Answer("", p.kind, "\n".join(lines), [h.doc for h in hits], choices, listed=True)


# ---- lists: an agency's tasks, a plan, a time window, overdue -----------------------------------
def _numbered(idx: Index, docs: list[TaskDoc], dues: Dues, with_lead: bool = True, start: int = 1,
              notes: dict[int, str] | None = None, total: int | None = None,
              tags: dict[int, str] | None = None) -> tuple[list[str], list[Choice]]:
    """One page (PAGE items) of a list, numbered from `start`; "xem tiếp" when more follow.
    `total`: how many the list holds (more than `docs` when only the first MAX_TASKS were kept)."""
    lines: list[str] = []
    choices: list[Choice] = []
    page = docs[:PAGE]
    for n, doc in enumerate(page, start):
        lines.append(render.list_line(idx, n, doc, dues, with_lead, (notes or {}).get(doc.id, ""),
                                      (tags or {}).get(doc.id, "")))
        choices.append(Choice(f"{n}. {render.snippet(doc.text, 40)}", f"q:task:{doc.id}"))
    left = (len(docs) if total is None else total) - len(page)
    if left > 0:
        lines.append(f"… còn {left} việc nữa — gõ “xem tiếp” (hoặc bấm nút).")
        choices.append(Choice("Xem tiếp ▶", MORE))
    return lines, choices


def agency_tasks(idx: Index, agency_id: int, today: date) -> tuple[list[TaskDoc], list[TaskDoc], list[TaskDoc]]:
    """(led, coordinated, given to a group it belongs to) for one agency; a merged body's old tasks count.
    Kept in the index's cache (emptied on every change) for the day: read them, do not change them."""
    memo: dict[tuple[int, date], tuple[list[TaskDoc], list[TaskDoc], list[TaskDoc]]]
    memo = idx.cache.setdefault("agency_tasks", {})
    found = memo.get((agency_id, today))
    if found is not None:
        return found
    info = idx.registry.by_id[agency_id]
    own, groups = idx.related_agencies(agency_id)
    if info.successor_id and idx.registry.current(agency_id, today).id != agency_id:
        groups = set()  # an old name: its own tasks; the successor answers for the groups
    led_i = _union(idx.by_lead, own)
    coord_i = _union(idx.by_coord, own) - led_i
    group_i = (_union(idx.by_lead, groups) | _union(idx.by_coord, groups)) - led_i - coord_i
    led, coord, grouped = (idx.docs.many(sorted(s)) for s in (led_i, coord_i, group_i))
    if len(memo) >= MAX_AGENCY_LISTS:
        memo.clear()
    memo[(agency_id, today)] = (led, coord, grouped)
    return led, coord, grouped


def _union(table: dict[int, list[int]], keys: set[int]) -> set[int]:
    out: set[int] = set()
    for k in keys:
        out.update(table.get(k, ()))
    return out


def _agency_label(idx: Index, agency_id: int, today: date) -> str:
    info = idx.registry.by_id[agency_id]
    cur = idx.registry.current(agency_id, today)
    return f"{info.name} (nay là {cur.name})" if cur.id != agency_id else info.name


def _agency(idx: Index, p: Parsed, dues: Dues, agency_id: int | None = None) -> Answer:
    today = dues.today
    aid = agency_id if agency_id is not None else (p.subject or p.agency_ids)[0]
    plan_ids = set(p.plan_ids)
    if agency_id is None:
        aid = _namesake(idx, p, aid, plan_ids or (_plans_titled(idx, _topic_as_typed(p)) if p.distinct else set()))
    led, coord, grouped = agency_tasks(idx, aid, today)
    if plan_ids:
        led, coord, grouped = ([d for d in lst if d.plan_id in plan_ids] for lst in (led, coord, grouped))
    if p.role is not None:  # "Sở X phối hợp những việc gì?", "Sở X chủ trì những việc nào?"
        groups = idx.related_agencies(aid)[1]
        grouped = [d for d in grouped if set(d.agency_ids(p.role)) & groups]  # its groups in that role
        led, coord = ([], coord) if p.role == "coordinator" else (led, [])
    if p.with_deadline:  # "... những việc gì có hạn?"
        led, coord, grouped = ([d for d in lst if d.deadline_kind not in (None, "none", "ongoing")]
                               for lst in (led, coord, grouped))
    if p.distinct:
        # "Sở Nội vụ phải làm gì về thi đua?": keep the agency's tasks that carry the topic.
        allowed = {idx.by_id[d.id] for d in (*led, *coord, *grouped)}
        hits = [h for h in idx.search(p.seq, only=allowed) if _accept(p, h)]
        keep = {h.doc.id for h in hits}
        # "Sở Nội vụ có việc gì trong kế hoạch chuyển đổi số?": words of a plan's title name the plan, and then
        # the list is that plan's tasks of the agency, not tasks of other plans that share a word with it.
        titled = _plans_titled(idx, _topic_as_typed(p))
        if not titled and (by_pairs := _titled_plan(idx, p)) is not None:  # most of the title's pairs
            titled = {by_pairs[0]}
        in_titled = {d.id for d in (*led, *coord, *grouped) if d.plan_id in titled}
        keep = in_titled or keep
        if keep:
            led, coord, grouped = ([d for d in lst if d.id in keep] for lst in (led, coord, grouped))
    label = _agency_label(idx, aid, today)
    total = len(led) + len(coord) + len(grouped)
    if total == 0:
        receives = [d for d in (idx.docs[i] for i in idx.tasks_of(idx.related_agencies(aid)[0]))
                    if set(d.agency_ids("report_to")) & idx.related_agencies(aid)[0]
                    and (not plan_ids or d.plan_id in plan_ids)]
        where = (", ".join(idx.plans[i].label for i in dict.fromkeys(p.plan_ids)) if plan_ids
                 else f"các kế hoạch đang theo dõi ({len(idx.plans)} kế hoạch)")
        text = f"Chưa thấy nhiệm vụ nào giao cho {label} chủ trì hay phối hợp trong {where}."
        if not receives:
            return Answer("", "agency", text)
        receives = render.by_urgency(receives, dues, idx.cache)
        body, picks = _numbered(idx, receives, dues)
        lines = [text, f"{label} nhận báo cáo của {len(receives)} việc:", *body, "Gõ số để xem chi tiết."]
        return Answer("", "agency", "\n".join(lines), receives, picks, listed=True)
    if not led and not coord:
        # Only tasks given to a group it belongs to ("Các Sở, ban, ngành"): shown, but as what it shares,
        # not as its own tasks (`ask --json` lists them as suggestions).
        ans = _agency_list(idx, f"{label} không được giao riêng việc nào; có {len(grouped)} việc giao chung "
                                f"cho nhóm cơ quan", led, coord, grouped, dues)
        ans.suggestions, ans.tasks = ans.tasks, []
        return ans
    parts = []
    if led:
        parts.append(f"chủ trì {len(led)}")
    if coord:
        parts.append(f"phối hợp {len(coord)}")
    if grouped:
        parts.append(f"{len(grouped)} việc giao chung cho nhóm cơ quan")
    return _agency_list(idx, f"{label} có {total} việc ({', '.join(parts)})", led, coord, grouped, dues)


def _namesake(idx: Index, p: Parsed, aid: int, plan_ids: set[int]) -> int:
    """The body a short name means in the plans asked about: "Công an" of a Hà Nội plan is "Công an thành
    phố Hà Nội", not the "Công an tỉnh" the name alone resolves to. The agency itself when it has a task there."""
    if not plan_ids:
        return aid
    mentioned = next((m.text for m in p.agencies if aid in m.ids), "")
    named: Counter[int] = Counter()
    for pid in plan_ids:
        for tid in idx.plans[pid].task_ids:
            if tid not in idx.by_id:
                continue
            ids = idx.docs[idx.by_id[tid]].agency_ids()
            if aid in ids:
                return aid
            named.update(a for a in ids if mentioned and fold(idx.agency_name(a)).startswith(f"{mentioned} "))
    return named.most_common(1)[0][0] if named else aid


def _agency_list(idx: Index, head: str, led: list[TaskDoc], coord: list[TaskDoc], grouped: list[TaskDoc],
                 dues: Dues) -> Answer:
    """An agency's tasks as one list: its own (led or coordinated) first, then those given to a group it belongs
    to ("các sở, ban, ngành"), each part overdue and dated first (what it must act on); its role noted where it
    does not lead."""
    notes = {d.id: "phối hợp" for d in coord} | {d.id: "giao chung cho nhóm" for d in grouped}
    docs = [*render.by_urgency([*led, *coord], dues, idx.cache), *render.by_urgency(grouped, dues, idx.cache)]
    body, choices = _numbered(idx, docs, dues, with_lead=False, notes=notes)
    order = (OWN_FIRST if (led or coord) and grouped else "") + URGENT_FIRST
    first = head + (f"{order}:" if len(docs) > PAGE else ":")
    return Answer("", "agency", "\n".join([first, *body, "Gõ số để xem chi tiết."]), docs, choices, listed=True)


def _topic_as_typed(p: Parsed) -> list[str]:
    """The topic's telling words as typed, folded, before any typo correction against the task index."""
    words = [w for w in fold(p.topic).split() if w not in STOP and w not in GENERIC and not w.isdigit()]
    generic = {w for pair in pairwise(words) if pair in GENERIC_PAIRS for w in pair}
    return [w for w in words if w not in generic]


def _plans_titled(idx: Index, words: list[str]) -> set[int]:
    """Plans whose title holds all these (folded) words."""
    titles = idx.cache.get("folded_titles")
    if titles is None:
        titles = idx.cache["folded_titles"] = {pid: f" {fold(pl.title)} " for pid, pl in idx.plans.items()}
    if not words:
        return set()
    return {pid for pid, title in titles.items() if all(f" {w} " in title for w in words)}


def _plan(idx: Index, p: Parsed, dues: Dues) -> Answer:
    ids = list(dict.fromkeys(p.plan_ids))
    if not ids:
        named = p.plans[0].text if p.plans else "kế hoạch này"
        return Answer("", "plan", f"Không tìm thấy “{named}” trong các kế hoạch đang theo dõi "
                                  f"({len(idx.plans)} kế hoạch).\nGõ /help để xem cách hỏi.")
    lines: list[str] = []
    docs: list[TaskDoc] = []
    for pid in ids:
        plan = idx.plans[pid]
        pdocs = [idx.docs[idx.by_id[t]] for t in plan.task_ids]
        docs += pdocs
        about = f" — {render.snippet(plan.title, 120)}" if plan.number else ""
        lines.append(f"{plan.label}{about}: {len(pdocs)} nhiệm vụ.")
    body, choices = _numbered(idx, docs, dues)
    lines += body
    lines.append("Gõ số để xem chi tiết.")
    return Answer("", "plan", "\n".join(lines), docs, choices, listed=True)


def _plan_info(idx: Index, plan_ids: list[int]) -> Answer:
    """When a plan was issued, by whom, who signed it, how many tasks it holds."""
    lines = []
    for pid in dict.fromkeys(plan_ids):
        plan = idx.plans[pid]
        lines.append(f"{plan.label}: {render.snippet(plan.title, 160)}" if plan.title else plan.label)
        lines.append(f"• Ban hành: ngày {render.dmy(plan.issued_on)}" if plan.issued_on
                     else "• Ngày ban hành: kế hoạch không ghi rõ.")
        if plan.issuer:
            lines.append(f"• Cơ quan ban hành: {plan.issuer}")
        lines.append(f"• Người ký: {plan.signer}" if plan.signer else "• Người ký: kế hoạch không ghi rõ.")
        lines.append(f"• Số nhiệm vụ: {len(plan.task_ids)}")
    return Answer("", "plan_info", "\n".join(lines))


def _section(idx: Index, p: Parsed, dues: Dues) -> Answer:
    """The task(s) of one section ("Mục III.2 của KH 3021"), in the plans named or all."""
    plan_ids = set(p.plan_ids)
    docs = [d for d in idx.docs if (not plan_ids or d.plan_id in plan_ids) and _ref_key(d.ref) == p.section]
    if not docs:  # "mục 2" of a plan whose refs go deeper: its sub-items
        docs = [d for d in idx.docs if (not plan_ids or d.plan_id in plan_ids)
                and _ref_key(d.ref).startswith(p.section + " ")]
    where = ", ".join(idx.plans[i].label for i in dict.fromkeys(p.plan_ids)) or "các kế hoạch đang theo dõi"
    label = p.section.upper().replace(" ", ".")
    if not docs:
        return Answer("", "section", f"Không thấy nhiệm vụ nào ở mục {label} trong {where}.")
    if len(docs) == 1:
        return Answer("", "section", render.task_card(idx, docs[0], dues), docs)
    body, choices = _numbered(idx, docs, dues)
    lines = [f"Mục {label} ({where}) có {len(docs)} nhiệm vụ:", *body, "Gõ số để xem chi tiết."]
    return Answer("", "section", "\n".join(lines), docs, choices, listed=True)


def _ref_key(ref: str) -> str:
    """ "III.2" -> "iii 2", comparable with a folded question's "mục iii 2"."""
    return fold(ref, expand=False)


async def _count(ctx: AppContext, idx: Index, p: Parsed, dues: Dues) -> Answer:
    """How many tasks a plan holds, how many are done, overdue, still to come (knowledge.due decides)."""
    today = dues.today
    late = overdue(idx, dues)[1]
    lines = []
    for pid in dict.fromkeys(p.plan_ids):
        plan = idx.plans[pid]
        pos = [idx.by_id[t] for t in plan.task_ids if t in idx.by_id]
        n_done = sum(1 for i in pos if dues.finished(idx.docs[i]))
        n_over = sum(1 for i in pos if i in late)
        n_dated = sum(1 for i in pos if idx.docs[i].deadline_kind not in (None, "none"))
        lines.append(f"{plan.label}: {len(pos)} nhiệm vụ — {n_dated} có thời hạn, {n_done} đã ghi nhận hoàn thành, "
                     f"{n_over} quá hạn (tính đến {render.dmy(today)}).")
    listed = _plan(idx, p, dues)  # the tasks themselves follow, numbered
    body = listed.text.split("\n")[len(lines):]
    return Answer("", "count", "\n".join([*lines, *body]), listed.tasks, listed.choices, listed=True)


def _agency_filter(idx: Index, p: Parsed, today: date) -> tuple[set[int] | None, str]:
    """The tasks of the agency a list question names ("Sở Nội vụ có việc nào quá hạn?")."""
    if not p.agency_ids:
        return None, ""
    aid = (p.subject or p.agency_ids)[0]
    return _mine_filter(idx, [aid], today), f" của {_agency_label(idx, aid, today)}"


# Words of a list question that say which list, not which task ("còn việc nào đã trễ rồi", "mốc nào",
# "trong vòng 12 tháng tới"): a topic filter made of them would empty every list.
_LIST_WORDS = wordset("viec nhiem vu cong lam co han den sap het nhung gi nao can phai tinh "
                      "con roi moc tre vong toi nua chua xong dot ky")


async def _window(ctx: AppContext, idx: Index, p: Parsed, dues: Dues, mine: list[int] | None = None) -> Answer:
    today = dues.today
    win = p.window or Window(today, today + timedelta(days=30), "30 ngày tới")
    items = due_between(idx, dues, win.start, win.end)
    count, items, whose, about = _narrow(idx, p, today, mine, items)
    if not items:
        return Answer("", "window", f"Không có việc nào{whose}{about} đến hạn trong {win.label} "
                                    f"({render.dmy(win.start)}–{render.dmy(win.end)}).")
    return _dated_list(idx, "window", f"Có {count} việc{whose}{about} đến hạn trong {win.label}:", count, items,
                       dues)


async def _overdue(ctx: AppContext, idx: Index, p: Parsed, dues: Dues, mine: list[int] | None = None) -> Answer:
    today = dues.today
    late, positions = overdue(idx, dues)
    count, items, whose, about = _narrow(idx, p, today, mine, late, positions, recent_first=True)
    if not items:
        return Answer("", "overdue", f"Không có việc nào{whose}{about} quá hạn (tính đến {render.dmy(today)}).")
    header = f"Có {count} việc{whose}{about} đã quá hạn mà chưa ghi nhận hoàn thành (đến {render.dmy(today)}):"
    return _dated_list(idx, "overdue", header, count, items, dues)


def _dated_list(idx: Index, intent: str, header: str, count: int, items: list[tuple[date, int]],
                dues: Dues) -> Answer:
    """A numbered list of dated tasks (a window, the overdue ones), each a choice to see it in full."""
    docs = [idx.docs[i] for _, i in items]
    tags = {idx.docs[i].id: render.day_tag(d, dues.today) for d, i in items}  # the day in the window, not the next
    body, choices = _numbered(idx, docs, dues, total=count, tags=tags)
    return Answer("", intent, "\n".join([header, *body, "Gõ số để xem chi tiết."]), docs, choices, listed=True)


def _narrow(idx: Index, p: Parsed, today: date, mine: list[int] | None,
            items: list[tuple[date, int]], positions: set[int] | None = None, recent_first: bool = False,
            ) -> tuple[int, list[tuple[date, int]], str, str]:
    """Dated items (knowledge.due: done ones are not there) kept to the agency and topic asked about.

    Returns (how many, the first MAX_TASKS of them in order, " của <agency>", " về “<topic>”").
    Set operations keep this fast when tens of thousands of tasks are overdue."""
    allowed, whose = _agency_filter(idx, p, today) if mine is None else (_mine_filter(idx, mine, today), "")
    if p.plan_ids:  # "KH 3021 còn việc nào quá hạn": that plan's tasks only
        in_plans = {idx.by_id[t] for pid in dict.fromkeys(p.plan_ids) for t in idx.plans[pid].task_ids}
        allowed = in_plans if allowed is None else allowed & in_plans
    words = [t.text for t in p.seq if t is not None and not t.name and not {t.text, t.typed} & _LIST_WORDS
             and t.text not in GENERIC and not t.text.isdigit()]
    about = f" về “{p.topic}”" if words and p.topic else ""
    if allowed is None and not words:
        return len(items), items[:MAX_TASKS], whose, about
    if len(items) <= 5000 or positions is None:
        # A short list: look at each task (its text for the topic words).
        kept = items if allowed is None else [item for item in items if item[1] in allowed]
        if words:
            spaced = [f" {w} " for w in words]
            folded = idx.folded
            kept = [(d, i) for d, i in kept if all(w in f" {folded[i]} " for w in spaced)]
        return len(kept), kept[:MAX_TASKS], whose, about
    # A long list (tens of thousands overdue): set intersections, then order only what is left.
    keep = positions if allowed is None else allowed & positions
    if words:
        keep = keep & idx.holding(words)
    day_of = day_by_position(idx, items)
    dated = [(day_of[i], i) for i in keep]
    pick = heapq.nlargest if recent_first else heapq.nsmallest
    return len(keep), pick(MAX_TASKS, dated), whose, about


def _mine_filter(idx: Index, mine: list[int], today: date) -> set[int] | None:
    """Index positions of the tasks some agencies lead or coordinate (their groups' tasks included)."""
    if not mine:
        return None
    ids: set[int] = set()
    for aid in mine:
        own, groups = idx.related_agencies(aid)
        if idx.registry.current(aid, today).id != aid:
            groups = set()
        ids |= own | groups
    return idx.doing(ids)


# ---- chat ----------------------------------------------------------------------------------------
# The router (handlers.router) reaches these: free text, the "q:" buttons (or a typed number that
# picks one), and the commands the table (handlers.commands) declares.

def _reply(ans: Answer) -> list[Reply]:
    """An answer as a reply: every task it lists numbered is a choice (typed numbers pick them)."""
    return [Reply(ans.text, list(ans.choices))]


async def _answered(ctx: AppContext, msg: Incoming, ans: Answer) -> list[Reply]:
    """The reply, once what it shows became the chat's subject (a greeting or a thank-you leaves it)."""
    if ans.intent not in ("greeting", "thanks"):
        subject = _subject_of(ans)
        if subject is None:
            await conversation.clear(ctx.db, msg.channel, msg.chat_id, conversation.SUBJECT)
        else:
            await conversation.show_subject(ctx.db, msg.channel, msg.chat_id, subject, ctx.clock.now())
    return _reply(ans)


def _subject_of(ans: Answer) -> Subject | None:
    """What follow-ups to this answer refer to: the list it numbers, or the one task it answers about."""
    if ans.listed:
        docs = ans.tasks or ans.suggestions
        if docs:
            return Subject([d.id for d in docs], min(PAGE, len(docs)), ans.text.split("\n", 1)[0],
                           page=[c.data for c in ans.choices])
    if ans.tasks:
        return Subject([ans.tasks[0].id], 1, current=ans.tasks[0].id)
    return None


async def on_text(ctx: AppContext, msg: Incoming) -> list[Reply] | None:
    """A free question, or a follow-up about what was just shown; None for an empty message."""
    if not msg.text:
        return None
    return await _ask(ctx, msg, msg.text)


async def _ask(ctx: AppContext, msg: Incoming, question: str) -> list[Reply]:
    idx = await get_index(ctx)
    p = parse(idx, question[:MAX_QUESTION], ctx.clock.today())
    asked = follow_up(p) if idx.plans else None
    if asked is not None:
        return await _follow_up(ctx, msg, idx, asked)
    return await _answered(ctx, msg, await answer(ctx, question, parsed=p))


async def on_choice(ctx: AppContext, msg: Incoming) -> list[Reply]:
    """A picked task ("q:<intent>:<task id>"): the task in full, as the intent asked; "q:more": the next page."""
    if msg.choice == MORE:
        return await _more(ctx, msg)
    try:
        _, intent, raw_id = (msg.choice or "").split(":", 2)
        task_id = int(raw_id)
    except ValueError:
        return [Reply("Lựa chọn không hợp lệ. Xin đặt lại câu hỏi.")]
    idx = await get_index(ctx)
    i = idx.by_id.get(task_id)
    if i is None:
        return [Reply("Nhiệm vụ này không còn trong các kế hoạch đang theo dõi. Xin đặt lại câu hỏi.")]
    intent = intent if intent in ("lead", "coord", "report", "due") else "task"
    await _pick(ctx, msg, task_id)
    return [Reply(task_text(idx, intent, idx.docs[i], await _dues(ctx, ctx.clock.today())))]


# ---- follow-ups: the chat's subject (knowledge.conversation) -----------------------------------
NO_SUBJECT = ("Bạn hỏi về việc nào? Xin hỏi một việc trước (ví dụ “Ai chủ trì rà soát quy định tài chính?”), "
              "rồi hỏi tiếp “việc này thuộc kế hoạch nào?”, “ai phối hợp?”, “còn hạn không?”.")
NO_LIST = "Chưa có danh sách nào để xem tiếp. Xin đặt câu hỏi, ví dụ “Sở Nội vụ có việc gì?”."
_FOLLOW_INTENT = {"detail": "task", "pick": "task"}


def typed_choices(subject: Subject | None, choices: list[str]) -> list[str]:
    """What typed numbers pick when the choices shown last are a page of the subject's list: the list's own
    numbering across pages ("11" on the second page is the eleventh), else the choices as shown."""
    if subject is None or not subject.page or subject.page != choices:
        return choices
    items = [c for c in subject.page if c != MORE]
    first = max(subject.shown - len(items), 0)
    return [f"q:task:{i}" for i in subject.ids[:first]] + items


async def _subject(ctx: AppContext, msg: Incoming) -> Subject | None:
    return (await conversation.load(ctx.db, msg.channel, msg.chat_id, ctx.clock.now())).subject


async def _pick(ctx: AppContext, msg: Incoming, task_id: int) -> None:
    """The task picked out becomes what "việc này" means; the list it came from stays for "việc số 3"."""
    subject = await _subject(ctx, msg)
    if subject is not None and task_id in subject.ids:
        subject = replace(subject, current=task_id)
    else:
        subject = Subject([task_id], 1, current=task_id)
    await conversation.show_subject(ctx.db, msg.channel, msg.chat_id, subject, ctx.clock.now())


async def _follow_up(ctx: AppContext, msg: Incoming, idx: Index, asked: FollowUp) -> list[Reply]:
    """ "việc này thuộc kế hoạch nào?", "ai phối hợp?", "việc số 2", "xem tiếp": about the subject."""
    if asked.ask == "more":
        return await _more(ctx, msg)
    subject = await _subject(ctx, msg)
    dues = await _dues(ctx, ctx.clock.today())
    if asked.ask == "pick":
        if subject is None or len(subject.ids) < 2:
            return [Reply("Chưa có danh sách nào để chọn theo số. Xin đặt câu hỏi, ví dụ “Sở Nội vụ có việc gì?”.")]
        if not 1 <= asked.n <= len(subject.ids):
            return [Reply(f"Danh sách vừa rồi có {len(subject.ids)} việc: xin chọn số từ 1 đến {len(subject.ids)}.")]
        task_id = subject.ids[asked.n - 1]
        if task_id not in idx.by_id:
            return [Reply("Nhiệm vụ này không còn trong các kế hoạch đang theo dõi. Xin đặt lại câu hỏi.")]
        await _pick(ctx, msg, task_id)
        return [Reply(render.task_card(idx, idx.docs[idx.by_id[task_id]], dues))]
    if subject is None:
        return [Reply(NO_SUBJECT)]
    live = [i for i in subject.ids if i in idx.by_id]
    one = subject.one
    if asked.ask in ("plan", "plan_info"):
        plan_ids = list(dict.fromkeys(idx.docs[idx.by_id[i]].plan_id for i in ([one] if one in idx.by_id else live)))
        if asked.ask == "plan" and one in idx.by_id:
            return [Reply(_plan_of(idx, idx.docs[idx.by_id[one]], dues))]
        if plan_ids:
            return [Reply(_plan_info(idx, plan_ids).text)]
    if one is None:
        intent = _FOLLOW_INTENT.get(asked.ask, asked.ask)
        shown = [i for i in subject.ids[:subject.shown] if i in idx.by_id]
        choices = [Choice(f"{n}. {render.snippet(idx.docs[idx.by_id[i]].text, 40)}", f"q:{intent}:{i}")
                   for n, i in enumerate(shown, 1)]
        return [Reply(f"Danh sách vừa rồi có {len(subject.ids)} việc — bạn hỏi việc nào? "
                      "Bấm hoặc gõ số (hoặc “việc số 2”).", choices)]
    if one not in idx.by_id:
        return [Reply("Nhiệm vụ này không còn trong các kế hoạch đang theo dõi. Xin đặt lại câu hỏi.")]
    doc = idx.docs[idx.by_id[one]]
    if asked.ask == "status":
        return [Reply(await _status_text(ctx, idx, doc, dues))]
    return [Reply(task_text(idx, _FOLLOW_INTENT.get(asked.ask, asked.ask), doc, dues))]


def _plan_of(idx: Index, doc: TaskDoc, dues: Dues) -> str:
    """ "Việc này thuộc Kế hoạch 3021/KH-UBND (25/08/2020), mục II.3.a." and the plan's title."""
    plan = idx.plans.get(doc.plan_id)
    if plan is None:
        return "Không rõ việc này thuộc kế hoạch nào."
    where = f", mục {doc.ref}" if doc.ref else ""
    lines = [f"Việc này thuộc {plan.label}{where}."]
    if plan.title and plan.number:
        lines.append(f"Về: {render.snippet(plan.title, 160)}")
    lines += [render.who_line(idx, doc, dues.today), "Hỏi tiếp “kế hoạch này ai ký?” để xem ngày ban hành, người ký."]
    return "\n".join(lines)


async def _more(ctx: AppContext, msg: Incoming) -> list[Reply]:
    """The next page of the list just shown, from the stored subject (any filter the user named was applied
    when the list was made: the ids kept are the filtered ones)."""
    subject = await _subject(ctx, msg)
    if subject is None or len(subject.ids) < 2:
        return [Reply(NO_LIST)]
    if subject.shown >= len(subject.ids):
        return [Reply(f"Đã hết danh sách: cả {len(subject.ids)} việc đã hiện. Gõ “việc số 2” để xem lại một việc.")]
    idx = await get_index(ctx)
    dues = await _dues(ctx, ctx.clock.today())
    rest = [i for i in subject.ids[subject.shown:] if i in idx.by_id]  # ids only: a list may hold thousands
    start = subject.shown + 1
    body, choices = _numbered(idx, idx.docs.many(idx.by_id[i] for i in rest[:PAGE]), dues, start=start,
                              total=len(rest))
    shown = subject.shown + min(PAGE, len(rest))
    title = subject.header.rstrip(":").removesuffix(URGENT_FIRST).removesuffix(OWN_FIRST)
    head = f"{title} — tiếp theo ({start}–{shown}):"
    await conversation.show_subject(ctx.db, msg.channel, msg.chat_id,
                                    replace(subject, shown=shown, page=[c.data for c in choices], current=None),
                                    ctx.clock.now())
    return [Reply("\n".join([head, *body, "Gõ số để xem chi tiết."]), choices)]


async def cmd_start(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    """/start: the welcome with examples (the command table sends "/start <mã>" to registration)."""
    return [Reply(help_text(await get_index(ctx)))]


async def help_examples(ctx: AppContext) -> str:
    """The example questions of the welcome, without its closing line of commands (/help lists them)."""
    return help_text(await get_index(ctx)).rsplit("\n", 1)[0]


async def cmd_ask(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    if not arg:
        return [Reply("Gõ câu hỏi sau /hoi, ví dụ: /hoi Ai chủ trì rà soát quy định tài chính?")]
    return await _ask(ctx, msg, arg)


async def _mine(ctx: AppContext, msg: Incoming) -> list[int]:
    async with ctx.db.session() as s:
        return await chat_agencies(s, msg.channel, msg.chat_id)


async def cmd_my_tasks(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    """/viec: the tasks of the chat's own agencies, one list per agency."""
    mine = await _mine(ctx, msg)
    if not mine:
        return [Reply("Bạn chưa đăng ký làm đầu mối của cơ quan nào. Gõ /dangky <tên cơ quan> để đăng ký, "
                      "hoặc hỏi “<tên cơ quan> có việc gì?”.")]
    idx = await get_index(ctx)
    today = ctx.clock.today()
    p = parse(idx, arg, today)
    dues = await _dues(ctx, today)
    answers = [_agency(idx, p, dues, aid) for aid in mine]
    if len(answers) == 1:
        return await _answered(ctx, msg, answers[0])
    # Several agencies: still one message, their tasks together, what must be acted on first.
    docs = list({d.id: d for a in answers for d in a.tasks}.values())
    names = ", ".join(_agency_label(idx, aid, today) for aid in mine)
    if not docs:
        return [Reply(f"Chưa thấy nhiệm vụ nào giao cho {names} trong các kế hoạch đang theo dõi.")]
    return await _answered(ctx, msg, _agency_list(idx, f"{names}: {len(docs)} việc", docs, [], [], dues))


async def cmd_due_soon(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    """/saphan: what falls due in the next 30 days (the chat's agencies' tasks when it has any)."""
    mine = await _mine(ctx, msg)
    idx = await get_index(ctx)
    today = ctx.clock.today()
    p = parse(idx, arg, today)
    p.window = Window(today, today + timedelta(days=30), "30 ngày tới")
    return await _answered(ctx, msg, await _window(ctx, idx, p, await _dues(ctx, today), mine))


async def cmd_overdue(ctx: AppContext, msg: Incoming, arg: str) -> list[Reply]:
    """/quahan: what is overdue and not done (the chat's agencies' tasks when it has any)."""
    mine = await _mine(ctx, msg)
    idx = await get_index(ctx)
    today = ctx.clock.today()
    return await _answered(ctx, msg, await _overdue(ctx, idx, parse(idx, arg, today), await _dues(ctx, today), mine))
