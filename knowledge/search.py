"""The ranked task index: folded words and word pairs of every task, in memory, BM25-style.

Vietnamese words are mostly two syllables and syllables collide once accents are gone ("năm"/"nam",
"báo cáo"/"nâng cao"), so the index keys on single syllables AND adjacent pairs of syllables; pairs
are what tell "cảng biển" from "biện pháp ... các cảng". Glue words are dropped on both sides before
pairs are formed, so "khoa học và công nghệ" and "khoa học công nghệ" share their pairs.
Typos are corrected against the index's own vocabulary with rapidfuzz; the short candidate list is
re-ranked with rapidfuzz's partial ratio against the task text. The index also knows which tasks
each agency holds and which fall due when (recurring deadlines: next occurrence).

Built from the store on first use, kept in ctx.cache["search"], rebuilt when the store's version
changes (checked at most every few seconds) or after `invalidate(ctx)`.
"""

from __future__ import annotations

import asyncio
import gc
import heapq
import logging
import math
import re
import time
from array import array
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from itertools import pairwise
from typing import Any

from rapidfuzz import fuzz, process

from knowledge.agencies import Registry
from knowledge.deadlines import RECURRING
from knowledge.queries import PlanDoc, TaskDoc, agency_spellings, load_docs, store_version
from knowledge.text import fold

log = logging.getLogger(__name__)

CACHE_KEY = "search"
RECHECK_S = 3.0



_SPOKEN_GROUPS = {
    "cac so": "Các Sở, ban, ngành thuộc tỉnh",
    "cac so nganh": "Các Sở, ban, ngành thuộc tỉnh",
    "cac nganh": "Các Sở, ban, ngành thuộc tỉnh",
    "cac huyen": "Ủy ban nhân dân các huyện, thành phố",
    "ubnd cac huyen": "Ủy ban nhân dân các huyện, thành phố",
    "cac huyen uy": "Các huyện ủy, thành ủy",
    "cac doan the": "Các tổ chức chính trị - xã hội tỉnh",
}
# "… tỉnh Ninh Thuận" at the end of a name: the province, not part of the body's name
# (but "tỉnh ủy", "tỉnh đoàn" are bodies).
_PROVINCE_TAIL = re.compile(r" tinh(?! (?:uy|doan|hoi)\b)( [a-z]+){1,3}$")
_CONFUSED = (("i", "y"), ("y", "i"), ("x", "s"), ("s", "x"), ("tr", "ch"), ("ch", "tr"), ("gi", "d"), ("d", "gi"))


def wordset(text: str) -> frozenset[str]:
    """A set of words written as one string (long word lists read better that way)."""
    return frozenset(text.split())


# Glue syllables: dropped everywhere before indexing (they carry no topic and break pairs).
STOP = wordset(
    "va cac cua cho ve trong de voi la nhung mot duoc theo tu den tren o nay do thi ma hoac se da dang "
    "so co cung nhu vao khi bi boi"
)
# Syllables of an agency's head word, so the scanner only takes names that start like a body.
_AGENCY_HEADS = wordset(
    "so ban uy van hoi dai tinh lien thuong dang cong bo mat thanh cac bao truong vien chi hoc trung to doan "
    "hdnd nganh quy cuc chu benh tra vu"
)
_SPLIT_DIGITS = re.compile(r"(?<=[A-Za-zÀ-ỹĐđ])(?=\d)|(?<=\d)(?=[A-Za-zÀ-ỹĐđ])")
_PLAN_REF = re.compile(
    r"\b(ke hoach|nghi quyet|ket luan|quyet dinh|chi thi|chuong trinh|de an|thong bao|cong van)"
    r"(?: so)? (\d{1,5})\b"
)


_PLAN_WORD = re.compile(r"\bke hoach\b")
_PLACE_OF = re.compile(r"\b(?:tinh uy|thanh uy|huyen uy|thi uy|tinh|thanh pho|huyen|thi xa|quan) (\w+(?: \w+){1,2})$")


def analyze(text: str) -> list[str]:
    """The index's view of a text: folded syllables without glue words ("NQ20" -> nghi quyet 20)."""
    return [w for w in fold(_SPLIT_DIGITS.sub(" ", text)).split() if w not in STOP]


def analyze_fast(text: str) -> list[str]:
    """`analyze` one whitespace-separated chunk at a time, each chunk folded once per process.

    Plans repeat their words endlessly, so this builds a 100,000-task index several times faster.
    Abbreviations are single chunks ("KH&CN", "UBND"), so they expand the same way."""
    out: list[str] = []
    for chunk in text.split():
        out.extend(_analyze_chunk(chunk))
    return out


@lru_cache(maxsize=500_000)
def _analyze_chunk(chunk: str) -> tuple[str, ...]:
    return tuple(analyze(chunk))


# Shorthands people type in questions that plans spell out (folded; knowledge.text expands agency ones).
_QUERY_SHORTHANDS = {"csdl": "co so du lieu", "cntt": "cong nghe thong tin", "cds": "chuyen doi so",
                     "cbcc": "can bo cong chuc", "ngan sach nn": "ngan sach nha nuoc",
                     "ke hoach tc": "ke hoach tai chinh"}  # "Vụ KH-TC" (KH is already spelt out)
_SHORTHAND_RE = re.compile(r"\b(" + "|".join(sorted(_QUERY_SHORTHANDS, key=len, reverse=True)) + r")\b")


def fold_query(text: str) -> str:
    """A question folded the way the scanners expect it (digits split from letters, shorthands spelt out)."""
    return _SHORTHAND_RE.sub(lambda m: _QUERY_SHORTHANDS[m.group(1)], fold(_SPLIT_DIGITS.sub(" ", text)))


def pairs(tokens: list[str]) -> list[str]:
    return [f"{a} {b}" for a, b in pairwise(tokens)]


@dataclass
class Mention:
    """A name found in a question: its span in the folded question and what it means."""

    start: int
    end: int
    text: str
    ids: list[int]


@dataclass
class Term:
    """One word (or pair) of a question and how it counts."""

    text: str
    distinct: bool  # a topic word: an answer must match most of these
    name: bool = False  # part of an agency or plan name found in the question


@dataclass
class Hit:
    doc: TaskDoc
    score: float
    coverage: float  # share of the question's topic words (idf-weighted) the task holds
    pair_coverage: float  # share of the question's topic word pairs the task holds (1.0 when it has none)
    pairs: int = 0  # how many topic word pairs the question has


@dataclass
class Index:
    registry: Registry
    plans: dict[int, PlanDoc]
    docs: list[TaskDoc]
    postings: dict[str, array] = field(default_factory=dict)
    lengths: list[int] = field(default_factory=list)
    folded: list[str] = field(default_factory=list)
    by_id: dict[int, int] = field(default_factory=dict)
    by_agency: dict[int, list[int]] = field(default_factory=dict)  # any role
    by_doer: dict[int, list[int]] = field(default_factory=dict)  # lead or coordinator
    dated: list[tuple[date, int]] = field(default_factory=list)  # one-off deadlines, sorted
    recurring: dict[tuple[str, int | None, int | None], list[int]] = field(default_factory=dict)
    by_lead: dict[int, list[int]] = field(default_factory=dict)
    by_coord: dict[int, list[int]] = field(default_factory=dict)
    vocab: list[str] = field(default_factory=list)
    avg_len: float = 1.0
    _agency_re: re.Pattern[str] | None = None
    _agency_keys: dict[str, int] = field(default_factory=dict)
    _titles: dict[int, str] = field(default_factory=dict)  # plan id -> folded title
    _numbers: dict[str, list[int]] = field(default_factory=dict)  # leading number -> plan ids
    version: tuple[Any, ...] = ()
    cache: dict[str, Any] = field(default_factory=dict)  # things other modules derive from this index

    # ---- building -------------------------------------------------------------------------
    @classmethod
    def build(cls, registry: Registry, plans: dict[int, PlanDoc], docs: list[TaskDoc],
              spellings: list[tuple[int, str]] | None = None) -> Index:
        idx = cls(registry, plans, docs)
        postings: dict[str, array] = {}
        total = 0
        for i, doc in enumerate(docs):
            toks = analyze_fast(doc.text)
            idx.folded.append(" ".join(toks))
            idx.lengths.append(len(toks))
            total += len(toks)
            for term in set(toks).union(pairs(toks)):
                arr = postings.get(term)
                if arr is None:
                    arr = postings[term] = array("i")
                arr.append(i)
            idx.by_id[doc.id] = i
            for aid in set(doc.agency_ids()):
                idx.by_agency.setdefault(aid, []).append(i)
            for aid in set(doc.agency_ids("lead")) | set(doc.agency_ids("coordinator")):
                idx.by_doer.setdefault(aid, []).append(i)
            for aid in set(doc.agency_ids("lead")):
                idx.by_lead.setdefault(aid, []).append(i)
            for aid in set(doc.agency_ids("coordinator")):
                idx.by_coord.setdefault(aid, []).append(i)
            if doc.status != "open":
                continue  # done or cancelled: never due, never overdue
            if doc.deadline_kind in RECURRING:
                idx.recurring.setdefault((doc.deadline_kind, doc.deadline_month, doc.deadline_day), []).append(i)
            elif doc.deadline_due is not None:
                idx.dated.append((doc.deadline_due, i))
        idx.postings = postings
        idx.avg_len = (total / len(docs)) if docs else 1.0
        idx.dated.sort()
        idx.vocab = sorted(t for t in postings if " " not in t and not t.isdigit())
        idx._build_agency_scanner(spellings or [])
        for p in plans.values():
            idx._titles[p.id] = fold_query(p.title)
            if p.number:
                idx._numbers.setdefault(_leading_number(p.number), []).append(p.id)
        return idx

    def _build_agency_scanner(self, spellings: list[tuple[int, str]]) -> None:
        """Names as people write them: each name and alias folded, with and without the province."""
        keys: dict[str, int] = {}
        found = [(aid, fold(text)) for aid, text in spellings]
        found += [(aid, k) for k, aid in self.registry.by_key.items()]
        for aid, key in found:
            variants = [key]
            if key.endswith(" tinh"):
                variants.append(key[: -len(" tinh")])
            elif m := _PROVINCE_TAIL.search(key):
                variants += [key[: m.start()], key[: m.start()] + " tinh"]
            for v in variants:
                # one-word keys ("tinh") would take every "tỉnh" in a question for an agency
                if v and v.split()[0] in _AGENCY_HEADS and " " in v:
                    keys.setdefault(v, aid)
        # How people say a group in a hurry ("các sở báo cáo về đâu"), when the registry has it.
        for short, full in _SPOKEN_GROUPS.items():
            info = self.registry.lookup(full)
            if info is not None:
                keys.setdefault(short, info.id)
        self._agency_keys = keys
        if keys:
            alts = "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))
            self._agency_re = re.compile(rf"\b(?:{alts})\b")

    # ---- names in a question --------------------------------------------------------------
    def find_agencies(self, folded_q: str) -> list[Mention]:
        """Agencies named in a folded question, exact names first, then close misspellings."""
        found: list[Mention] = []
        if self._agency_re is not None:
            for m in self._agency_re.finditer(folded_q):
                found.append(Mention(m.start(), m.end(), m.group(0), [self._agency_keys[m.group(0)]]))
        found.extend(self._fuzzy_agencies(folded_q, found))
        found.sort(key=lambda m: m.start)
        return found

    def _fuzzy_agencies(self, folded_q: str, taken: list[Mention]) -> list[Mention]:
        """Names with a typo ("so noi vuu", "van phong tinh uyy"): windows that start with "so"/"ban"/…"""
        out: list[Mention] = []
        words = [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"\S+", folded_q)]
        keys = [k for k in self._agency_keys if len(k.split()) >= 2]
        i = 0
        while i < len(words):
            start = words[i][0]
            if words[i][2] not in ("so", "ban", "van", "uy", "lien", "hoi", "dai") or any(
                t.start <= start < t.end for t in taken
            ):
                i += 1
                continue
            best: tuple[float, int, str] | None = None
            for n in range(2, min(9, len(words) - i) + 1):
                end = words[i + n - 1][1]
                if any(start < t.end and t.start < end for t in taken):
                    break
                cand = folded_q[start:end]
                hit = process.extractOne(cand, keys, scorer=fuzz.ratio, score_cutoff=88)
                if hit and (best is None or hit[1] > best[0]):
                    best = (hit[1], end, hit[0])
            if best is not None:
                out.append(Mention(start, best[1], folded_q[start:best[1]], [self._agency_keys[best[2]]]))
                while i < len(words) and words[i][0] < best[1]:
                    i += 1
            else:
                i += 1
        return out

    def find_plans(self, folded_q: str) -> list[Mention]:
        """Plans named by number ("Kế hoạch 3021") or by what they implement ("KL 69", "Nghị quyết 20")."""
        out: list[Mention] = []
        for m in _PLAN_REF.finditer(folded_q):
            kind, num = m.group(1), m.group(2)
            by_number = self._numbers.get(num, [])
            ref = re.compile(rf"\b{kind}(?: so)? {num}\b")
            by_title = [pid for pid, title in self._titles.items() if ref.search(title) and pid not in by_number]
            same_kind = [pid for pid in by_number if fold(self.plans[pid].kind) == kind]
            # "Nghị quyết 20" means the plan that implements it, not one citing it in passing.
            first = [pid for pid in by_title if _first_ref(self.plans[pid].title) == (kind, num)]
            ids = same_kind or by_number or first or by_title
            out.append(Mention(m.start(), m.end(), m.group(0), ids))
        if _PLAN_WORD.search(folded_q):  # "kế hoạch của Thành ủy Đà Lạt": the plans issued there
            for place, ids in self.places().items():
                for m in re.finditer(rf"\b{place}\b", folded_q):
                    if not any(o.start < m.end() and m.start() < o.end for o in out):
                        out.append(Mention(m.start(), m.end(), m.group(0), ids))
        return out

    def places(self) -> dict[str, list[int]]:
        """Where the plans come from, folded ("da lat", "khanh hoa"), read off their issuers' names."""
        found = self.cache.get("places")
        if found is None:
            found = {}
            for pid, plan in self.plans.items():
                if plan.issuer and (m := _PLACE_OF.search(fold(plan.issuer))):
                    found.setdefault(m.group(1), []).append(pid)
            self.cache["places"] = found
        return found

    def agency_name(self, agency_id: int) -> str:
        return self.registry.by_id[agency_id].name

    # ---- ranking --------------------------------------------------------------------------
    def idf(self, term: str) -> float:
        n = len(self.docs)
        df = len(self.postings.get(term, ()))
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def correct(self, token: str) -> str:
        """A token the index does not know, mapped to the closest known one (typos), else itself."""
        if token in self.postings or token.isdigit() or not self.vocab:
            return token
        # Spellings people confuse: "qui"/"quy", "xoát"/"soát", "trủ trì"/"chủ trì", "dao"/"giao".
        for a, b in _CONFUSED:
            if token.startswith(a) and b + token[len(a):] in self.postings:
                return b + token[len(a):]
            if token.endswith(a) and token[: -len(a)] + b in self.postings:
                return token[: -len(a)] + b
        if len(token) < 4:
            return token
        hit = process.extractOne(token, self.vocab, scorer=fuzz.ratio, score_cutoff=80)
        return hit[0] if hit else token

    def split_glued(self, token: str) -> list[str]:
        """Two known syllables typed without a space ("khoahoc" -> khoa hoc), else the token."""
        if token in self.postings or len(token) < 5:
            return [token]
        for cut in range(2, len(token) - 1):
            a, b = token[:cut], token[cut:]
            if a in self.postings and b in self.postings and f"{a} {b}" in self.postings:
                return [a, b]
        return [token]

    def search(
        self,
        seq: list[Term | None],
        *,
        only: Iterable[int] | None = None,
        limit: int = 50,
    ) -> list[Hit]:
        """Tasks ranked for a question's words (None in `seq` breaks a pair), optionally among `only`."""
        unis: dict[str, bool] = {}
        pair_terms: dict[str, bool] = {}
        names: set[str] = set()
        beside: dict[str, list[str]] = {}  # a word's pairs in the question
        prev: Term | None = None
        for t in seq:
            if t is None:
                prev = None
                continue
            unis[t.text] = unis.get(t.text, False) or t.distinct
            if t.name:
                names.add(t.text)
            if prev is not None and prev.text != t.text:
                pair = f"{prev.text} {t.text}"
                pair_terms[pair] = prev.distinct or t.distinct
                beside.setdefault(prev.text, []).append(pair)
                beside.setdefault(t.text, []).append(pair)
                if prev.name and t.name:
                    names.add(pair)
            prev = t
        allowed = set(only) if only is not None else None
        n = len(self.docs)
        weights = {term: self.idf(term) for term in (*unis, *pair_terms)}
        boosts = {term: (1.6 if term in pair_terms else 1.0) * (0.35 if term in names else 1.0) for term in weights}
        # Phase 1, in C, a few hundred candidates. Small stores: count how many of the question's terms
        # each task holds (pairs twice). Big ones: gather the tasks holding the rarest terms, then
        # narrow them by the next rarest while enough remain. Tasks holding a very rare term always stay.
        order = sorted((t for t in weights if self.postings.get(t)), key=lambda t: len(self.postings[t]))
        lists: list[tuple[str, Collection[int]]] = [
            (t, self.postings[t] if allowed is None else allowed.intersection(self.postings[t])) for t in order
        ]
        cap = limit * 4
        must: set[int] = set()
        for _, plist in lists:
            if len(plist) <= 20:
                must.update(plist)
        total = sum(len(plist) for _, plist in lists)
        if total <= 20000:
            counts: Counter[int] = Counter()
            for term, plist in lists:
                counts.update(plist)
                if term in pair_terms:
                    counts.update(plist)
            pool = {i for i, _ in counts.most_common(cap)}
        else:
            pool = set()
            narrowings = 0
            for _, plist in lists:
                if len(pool) < limit:
                    pool.update(plist)
                    continue
                if len(pool) <= cap or narrowings >= 3:
                    break  # few enough, or narrowed by the three rarest terms: phase 2 weighs the rest
                narrowings += 1
                narrowed = pool.intersection(plist)
                if len(narrowed) >= limit:
                    pool = narrowed
                else:
                    must |= narrowed
        if allowed is not None and not pool:
            pool = set(list(allowed)[:limit])  # nothing holds a word: still list them, callers judge
        cands = must | (pool if len(pool) <= cap else set(heapq.nsmallest(cap, pool)))
        # Phase 2: exact BM25-style scores, topic coverage and a fuzzy re-rank for the candidates.
        distinct_uni = [u for u, d in unis.items() if d]
        distinct_pairs = [p for p, d in pair_terms.items() if d]
        uni_total = sum(weights.get(u, 0.0) or math.log(n + 1) for u in distinct_uni)
        query_text = " ".join(t.text for t in seq if t is not None)
        scored: list[tuple[float, int, float, float]] = []
        for i in cands:
            words = set(self.folded[i].split())
            text = f" {self.folded[i]} "
            norm = 1.2 * (0.5 + 0.5 * self.lengths[i] / self.avg_len) + 1
            s = sum(w * boosts[t] * 2.2 / norm for t, w in weights.items()
                    if (t in words if t in unis else f" {t} " in text))
            # A word counts where it stands as in the question: with one of its neighbours ("đất đai"
            # is not held by a task saying "đạt" here and "hiện đại" there).
            held = sum(weights[u] for u in distinct_uni
                       if u in words and (u not in beside or any(f" {p} " in text for p in beside[u])))
            cov = held / uni_total if uni_total else 1.0
            pheld = sum(1 for p in distinct_pairs if f" {p} " in text)
            pcov = pheld / len(distinct_pairs) if distinct_pairs else 1.0
            scored.append((s * (0.6 + 0.4 * cov), i, cov, pcov))
        top = heapq.nlargest(limit * 2, scored)
        hits = []
        for s, i, cov, pcov in top:
            rerank = fuzz.partial_ratio(query_text, self.folded[i]) / 100.0 if query_text else 0.0
            hits.append(Hit(self.docs[i], s + rerank, cov, pcov, len(distinct_pairs)))
        hits.sort(key=lambda h: (-h.score, h.doc.plan_id, h.doc.position))
        return hits[:limit]

    # ---- agencies and time ----------------------------------------------------------------
    def related_agencies(self, agency_id: int) -> tuple[set[int], set[int]]:
        """(the agency and the bodies it continues, the groups it belongs to) for "what must X do"."""
        memo: dict[int, tuple[set[int], set[int]]] = self.cache.setdefault("related", {})
        if agency_id not in memo:
            memo[agency_id] = self._related(agency_id)
        own, groups = memo[agency_id]
        return set(own), set(groups)

    def _related(self, agency_id: int) -> tuple[set[int], set[int]]:
        own = {agency_id}
        stack = [agency_id]
        while stack:
            for p in self.registry.predecessors(stack.pop()):
                if p.id not in own:
                    own.add(p.id)
                    stack.append(p.id)
        current = self.registry.current(agency_id).id
        groups = {
            g.id for g in self.registry.by_id.values()
            if g.is_group and g.members and current in {m.id for m in self.registry.expand(g.id)}
        }
        return own, groups

    def tasks_of(self, agency_ids: set[int]) -> list[int]:
        """Indexes of the tasks that name any of the agencies, in plan order."""
        out: set[int] = set()
        for a in agency_ids:
            out.update(self.by_agency.get(a, ()))
        return sorted(out)

    def doing(self, agency_ids: set[int]) -> set[int]:
        """Indexes of the tasks that any of the agencies leads or coordinates."""
        out: set[int] = set()
        for a in agency_ids:
            out.update(self.by_doer.get(a, ()))
        return out

    def holding(self, words: list[str]) -> set[int]:
        """Indexes of the tasks whose text holds every one of the (index-form) words."""
        out: set[int] | None = None
        for w in sorted(words, key=lambda w: len(self.postings.get(w, ()))):
            found = set(self.postings.get(w, ()))
            out = found if out is None else out & found
            if not out:
                return set()
        return out or set()

    def due_of(self, i: int, today: date) -> date | None:
        """The (next) day the plan names for a task (ranking matches it against a day in the question;
        the day that counts for answers and reminders is knowledge.due's)."""
        doc = self.docs[i]
        if doc.deadline_kind not in RECURRING:
            return doc.deadline_due
        dl = doc.deadline()
        return dl.next_due(today) if dl else None


def _first_ref(title: str) -> tuple[str, str] | None:
    m = _PLAN_REF.search(fold_query(title))
    return (m.group(1), m.group(2)) if m else None


def _leading_number(number: str) -> str:
    m = re.match(r"\s*(\d+)", number)
    return m.group(1) if m else ""


async def build_index(ctx: Any) -> Index:
    """Read the whole store and index it (the slow path; normally through `get_index`).

    The indexing itself runs in a worker thread so the event loop keeps serving other chats."""
    async with ctx.db.session() as s:
        version = await store_version(s)
        registry = await Registry.load(s)
        plans, docs = await load_docs(s)
        spellings = await agency_spellings(s)
    idx = await asyncio.to_thread(Index.build, registry, plans, docs, spellings)
    idx.version = version
    # The index is millions of long-lived objects: keep the cyclic GC from rescanning them on
    # every full collection (that showed as 100 ms pauses in answers on big stores).
    gc.collect()
    gc.freeze()
    return idx


@dataclass
class _Holder:
    """ctx.cache's entry: the index, when the store was last compared with it, the build in progress."""

    index: Index | None = None
    checked: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    refresh: asyncio.Task[None] | None = None


async def get_index(ctx: Any) -> Index:
    """The index from ctx.cache. With none yet, build it (one build for concurrent questions). When the
    store changed since (checked at most every RECHECK_S), rebuild in the background and keep answering
    from the current one meanwhile: a 100,000-task rebuild takes seconds."""
    holder: _Holder = ctx.cache.setdefault(CACHE_KEY, _Holder())
    idx = holder.index
    if idx is not None:
        now = time.monotonic()
        if now - holder.checked >= RECHECK_S:
            holder.checked = now
            async with ctx.db.session() as s:
                version = await store_version(s)
            if version != idx.version and (holder.refresh is None or holder.refresh.done()):
                holder.refresh = asyncio.create_task(_refresh(ctx, holder))
        return idx
    async with holder.lock:
        if holder.index is None:
            holder.index = await build_index(ctx)
            holder.checked = time.monotonic()
        return holder.index


async def _refresh(ctx: Any, holder: _Holder) -> None:
    try:
        holder.index = await build_index(ctx)
    except Exception:
        log.exception("search index rebuild failed; answering from the previous one")


def invalidate(ctx: Any) -> None:
    """Forget the index (call after an import or an admin change); the next question rebuilds it."""
    holder = ctx.cache.get(CACHE_KEY)
    if isinstance(holder, _Holder):
        holder.index = None
