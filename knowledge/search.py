"""The ranked task index: folded words and word pairs of every task, in memory, BM25-style.

Vietnamese words are mostly two syllables and syllables collide once accents are gone ("năm"/"nam",
"báo cáo"/"nâng cao"), so the index keys on single syllables AND adjacent pairs of syllables; pairs
are what tell "cảng biển" from "biện pháp ... các cảng". Glue words are dropped on both sides before
pairs are formed, so "khoa học và công nghệ" and "khoa học công nghệ" share their pairs.
Typos are corrected against the index's own vocabulary with rapidfuzz; the short candidate list is
re-ranked with rapidfuzz's partial ratio against the task text. The index also knows which tasks
each agency holds and which fall due when (recurring deadlines: next occurrence).

Built from the store on first use and kept in ctx.cache["search"]; then updated plan by plan from the
store's change log (knowledge.store_changes), read before a question at most every RECHECK_S and at
once after `invalidate(ctx)`, so every instance sees every writer's changes within a fraction of a second.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import heapq
import logging
import math
import re
import time
import unicodedata
from array import array
from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from knowledge import store_changes
from knowledge.agencies import Registry
from knowledge.deadlines import RECURRING
from knowledge.due import forget_dues
from knowledge.queries import PlanDoc, TaskDoc, agency_spellings, load_docs
from knowledge.text import fold, strip_accents, unaccented
from knowledge.vocabulary import abbreviations, learn_abbreviations, shorthand_pattern, synonym_groups, synonym_raw

log = logging.getLogger(__name__)

CACHE_KEY = "search"
RECHECK_S = 0.2  # the change log is read at most this often: how long another instance's change may go unseen
INCREMENTAL_MAX_PLANS = 200  # more plans changed at once (a restore, a folder import): rebuild in the background
# Posting lists copied out of the frozen arrays by changes: beyond these, rebuild (in the background) to re-freeze.
MAX_CHANGED_LISTS = 400_000
MIN_COPIED = 1_000_000  # slots; the limit is half the frozen slots when that is more
SYNONYM_CREDIT = 0.75  # a task saying "thu hút" for a question's "kéo": most of the word's weight
ACCENT_MISS = 0.5  # a task holding the letters with other accents than typed ("hạn" for "Hàn")
ACCENT_CHECKED = 20  # best tasks whose accents are compared with the question's
ALONE = 0.5  # a topic syllable a task holds away from the question's neighbouring words ("đạt" for "đất đai")
MAX_TITLED_PLANS = 3  # plans a "kế hoạch <title words>" may name
MAX_ALTERNATIVES = 8  # synonyms tried per question phrase (keeps a question's cost flat)
MAX_SYNONYM_POSTINGS = 2000  # a synonym held by more tasks brings in no candidates
# A set meets a sorted posting list by binary search when the list is this many times longer: one search
# (~1.5 µs) per set member beats boxing and hashing every slot of a list of tens of thousands (~40 ns each).
SEARCH_RATIO = 32
MASK_MIN = 2048  # posting lists this long keep a bit mask over the task rows (in Index.cache) for narrowing
NUMPY_FROM = 256  # posting lists this long are mapped to rows in numpy (shorter ones: a loop is as fast)
MAX_MASKS = 512  # masks kept at most (12.5 kB each at 100,000 tasks)
SORT_BELOW = 4000  # candidate pools smaller than this are cut to the first slots by sorting (C), else a heap



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
_VOWELS = frozenset("aeiouy")
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


# The glue words as written: a syllable that folds to a STOP word but bears other accents is a word of its own
# ("vệ" of "vệ sinh" is not "về", "thi" of "thi đua" not "thì", "sở", "cơ", "đảng", "đề", "bồi", "tư", "thị").
GLUE_WRITTEN = (
    "và các của cho về trong để với là những một được theo từ đến trên ở này nay đó thì mà hoặc sẽ đã đang "
    "số có cùng cũng như vào khi bị bởi"
)


@lru_cache(maxsize=1)
def _glue_keys() -> frozenset[str]:
    return frozenset(accent_key(w) for w in GLUE_WRITTEN.split())


def is_glue(word: str, accented: bool) -> bool:
    """Is a word as written a glue word? In a text typed without accents its folded form decides ("ve"
    may be "về"); in an accented text its accents must be a glue word's ("vệ", "thi" of "thi đua" are not)."""
    if fold(word, expand=False) not in STOP:
        return False
    return not accented or accent_key(word) in _glue_keys()


# Generic compounds of such homographs ("cơ sở", "cơ quan", "đề xuất", "chỉ thị"): they name no topic, so their glue
# spellings stay out of the index and of questions as before ("quan", "xuat", "chi" stay), keeping task lengths and
# pairs as they were.
GLUE_COMPOUNDS = frozenset((("co", "so"), ("co", "quan"), ("de", "xuat"), ("chi", "thi")))


def without_glue_compounds(toks: list[str]) -> list[str]:
    """Tokens without the generic compounds of glue homographs (GLUE_COMPOUNDS)."""
    if not any((a, b) in GLUE_COMPOUNDS for a, b in pairwise(toks)):
        return toks
    drop: set[int] = set()
    for i, pair in enumerate(pairwise(toks)):
        if pair in GLUE_COMPOUNDS:
            drop.update(j for j, t in ((i, pair[0]), (i + 1, pair[1])) if t in STOP)
    return [t for i, t in enumerate(toks) if i not in drop]


def analyze(text: str, accented: bool | None = None) -> list[str]:
    """The index's view of a text: folded syllables without glue words ("NQ20" -> nghi quyet 20,
    "ĐHQG" -> dai hoc quoc gia). Accented homographs of glue words stay ("vệ sinh" -> ve sinh)."""
    if not (has_accents(text) if accented is None else accented):
        return _plain(text)
    out: list[str] = []
    run: list[str] = []
    for chunk in text.split():
        words = _WORD_RE.findall(chunk)
        if len(words) == 1 and (w := fold(words[0], expand=False)) in STOP and not is_glue(words[0], True):
            out.extend(_plain(" ".join(run)))
            run = []
            out.append(w)
        else:
            run.append(chunk)
    out.extend(_plain(" ".join(run)))
    return without_glue_compounds(out)


def _plain(text: str) -> list[str]:
    return [w for w in expand_shorthands(fold(_SPLIT_DIGITS.sub(" ", text))).split() if w not in STOP]


_WORD_RE = re.compile(r"\w+")


def analyze_fast(text: str) -> list[str]:
    """`analyze` one whitespace-separated chunk at a time, each chunk folded once per process.

    Plans repeat their words endlessly, so this builds a 100,000-task index several times faster.
    Abbreviations are single chunks ("KH&CN", "UBND"), so they expand the same way."""
    out: list[str] = []
    accented = has_accents(text)
    for chunk in text.split():
        out.extend(_analyze_chunk(chunk, accented))
    return without_glue_compounds(out) if accented else out


@lru_cache(maxsize=500_000)
def _analyze_chunk(chunk: str, accented: bool) -> tuple[str, ...]:
    return tuple(analyze(chunk, accented))


_SHORTHANDS = abbreviations()  # knowledge/data/abbreviations.json: "tp hcm", "dhqg", "csdl", ...
_SHORTHAND_RE = shorthand_pattern(_SHORTHANDS)


def expand_shorthands(folded: str, table: dict[str, str] | None = None,
                      pattern: re.Pattern[str] | None = None) -> str:
    """Short forms spelt out in folded text (the built-in table, or a table a plan defined)."""
    table, pattern = (table, pattern) if table is not None else (_SHORTHANDS, _SHORTHAND_RE)
    if pattern is None:
        return folded
    return pattern.sub(lambda m: table[m.group(1)], folded)


def fold_query(text: str) -> str:
    """A question folded the way the scanners expect it (digits split from letters, shorthands spelt out)."""
    return expand_shorthands(fold(_SPLIT_DIGITS.sub(" ", text)))


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
    accent: str = ""  # accent_key of the word as typed, when the user typed accents ("han|\u0300" for "Hàn")
    typed: str = ""  # the word as typed (folded) when `text` is a correction of it ("vong" read as "vung")


@dataclass
class Hit:
    doc: TaskDoc
    score: float
    coverage: float  # share of the question's topic words (idf-weighted) the task holds
    pair_coverage: float  # share of the question's topic word pairs the task holds (1.0 when it has none)
    pairs: int = 0  # how many topic word pairs the question has
    share: float = 0.0  # the task's text score over the weight of all the question's terms (words and pairs)


@dataclass
class _Query:
    """A question's terms prepared for weighing tasks (see Index.search)."""

    unis: dict[str, bool]
    beside: dict[str, list[str]]
    typed: dict[str, tuple[str, ...]]
    alts: dict[str, list[str]]
    weights: dict[str, float]
    boosts: dict[str, float]
    distinct_uni: list[str]
    distinct_pairs: list[str]
    uni_total: float
    # per term: (term, " term ", " synonym " for each synonym, weight * boost)
    terms: list[tuple[str, str, tuple[str, ...], float]] = field(default_factory=list)
    neighbours: dict[str, set[str]] = field(default_factory=dict)  # word -> the words beside it in the question
    avg_len: float = 1.0  # the index's average task length (Index.avg_len, read once per question)

    def __post_init__(self) -> None:
        for t in self.weights:
            alt = self.alts.get(t, [])
            self.terms.append((t, f" {t} ", tuple(f" {a} " for a in alt), self.weights[t] * self.boosts[t]))
        for u, prs in self.beside.items():
            self.neighbours[u] = {w for p in prs for w in p.split() if w != u}


# A task's place in the index ("slot"): its plan's id times STRIDE plus its rank in the plan, so slots
# sort in plan order and a slot depends on the plan alone. An index updated plan by plan is then the
# very index a fresh build makes (same slots, same ties, same ranking), and changing one plan moves no
# other plan's tasks.
STRIDE_BITS = 13
STRIDE = 1 << STRIDE_BITS  # tasks a plan may hold (the importer reads up to 2,000 items)
RANK_MASK = STRIDE - 1
MAX_PLAN_ID = (2**31 - 1) // STRIDE  # slots are 32-bit in the posting arrays
PAIR_SHIFT = 32  # a word pair's key: (first word's id + 1) << 32 | second word's id


def slot_of(plan_id: int, rank: int) -> int:
    if not 0 <= plan_id <= MAX_PLAN_ID or rank >= STRIDE:
        raise ValueError(f"plan {plan_id} task {rank}: beyond the index's slots")
    return plan_id * STRIDE + rank


class Postings:
    """Which tasks (slots) hold each folded word and word pair.

    Most of a big index is word pairs held by one task or a few, so they are not one Python object
    each: words get ids, a pair is keyed by an integer made of its two ids, and the lists live in
    three flat arrays (sorted keys, offsets, slots) frozen at build time. A list a change touches is
    copied out once into `_changed` and edited there; lookups read `_changed` first."""

    def __init__(self) -> None:
        self.word_ids: dict[str, int] = {}
        self.words: list[str] = []
        self._keys = array("q")
        self._offs = array("q", [0])
        self._slots = array("i")
        self._view = memoryview(self._slots)
        self._changed: dict[int, array] = {}
        self._copied = 0  # slots copied out of the frozen arrays into `_changed`

    def key(self, term: str, add: bool = False) -> int | None:
        """A word's or pair's key (None for a word the index never saw, unless `add`)."""
        a, sep, b = term.partition(" ")
        ia = self._word(a, add)
        if not sep or ia is None:
            return ia
        ib = None if " " in b else self._word(b, add)
        return None if ib is None else ((ia + 1) << PAIR_SHIFT) | ib

    def _word(self, word: str, add: bool) -> int | None:
        wid = self.word_ids.get(word)
        if wid is None and add:
            wid = self.word_ids[word] = len(self.words)
            self.words.append(word)
        return wid

    def keys_of(self, toks: list[str]) -> set[int]:
        """The keys of a text's words and adjacent pairs (new words get ids)."""
        ids = [self._word(t, True) for t in toks]
        out: set[int] = set(ids)  # type: ignore[arg-type]
        out.update(((a + 1) << PAIR_SHIFT) | b for a, b in pairwise(ids))  # type: ignore[operator]
        return out

    def of_key(self, key: int) -> Sequence[int]:
        found = self._changed.get(key)
        if found is not None:
            return found
        i = bisect_left(self._keys, key)
        if i < len(self._keys) and self._keys[i] == key:
            return self._view[self._offs[i] : self._offs[i + 1]]
        return ()

    def get(self, term: str, default: Any = None) -> Any:
        """The slots holding a term, in slot order (read only), or `default` when none do."""
        key = self.key(term)
        found = self.of_key(key) if key is not None else ()
        return found if len(found) else default

    def __getitem__(self, term: str) -> Sequence[int]:
        found = self.get(term)
        if found is None:
            raise KeyError(term)
        return found

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self.get(term) is not None

    def held_words(self) -> list[str]:
        """Every single word some task holds."""
        return [w for i, w in enumerate(self.words) if len(self.of_key(i))]

    def freeze(self, flat: array, counts: array, slots: Sequence[int]) -> None:
        """Build the flat arrays: `flat` holds the keys of task `slots[0]` (counts[0] of them), then those
        of `slots[1]`, ... in slot order."""
        df: dict[int, int] = {}
        for k in flat:
            df[k] = df.get(k, 0) + 1
        keys = sorted(df)
        offs = array("q", [0])
        start: dict[int, int] = {}
        for k in keys:
            start[k] = offs[-1]
            offs.append(offs[-1] + df[k])
        del df
        out = array("i", bytes(4 * len(flat)))
        pos = 0
        for slot, n in zip(slots, counts, strict=True):
            for k in flat[pos : pos + n]:
                out[start[k]] = slot
                start[k] += 1
            pos += n
        self._keys, self._offs, self._slots = array("q", keys), offs, out
        self._view = memoryview(out)
        self._changed = {}
        self._copied = 0

    def _own(self, key: int) -> array:
        found = self._changed.get(key)
        if found is None:
            found = self._changed[key] = array("i", self.of_key(key))
            self._copied += len(found)
        return found

    def add(self, slot: int, keys: Iterable[int]) -> None:
        for k in keys:
            lst = self._own(k)
            lst.insert(bisect_left(lst, slot), slot)

    def remove(self, slot: int, keys: Iterable[int]) -> None:
        for k in keys:
            lst = self._own(k)
            i = bisect_left(lst, slot)
            if i < len(lst) and lst[i] == slot:
                del lst[i]

    @property
    def worn(self) -> bool:
        """Have changes copied out so much (lists, or slots beyond half the frozen ones) that a fresh
        build would be both smaller and faster to read?"""
        return len(self._changed) > MAX_CHANGED_LISTS or self._copied > max(MIN_COPIED, len(self._slots) // 2)


class DocTable:
    """The indexed tasks by slot, iterated in plan order (as a list of them would be).

    A sorted array of slots and two lists beside it (the task, its folded text): a few bytes a task,
    where dicts keyed by slot cost a hundred or more each. Changes insert or delete in the middle:
    a memmove of a few hundred kB at 100,000 tasks."""

    def __init__(self) -> None:
        self.slots = array("i")
        self._docs: list[TaskDoc] = []
        self.texts: list[str] = []  # folded
        # A plan's tasks stand together with ranks 0..n-1, so a slot's row is its plan's first row plus
        # its rank: one dict lookup (answers read thousands of tasks by slot) instead of a search.
        self._counts: dict[int, int] = {}  # plan id -> tasks
        self._start: dict[int, int] | None = {}  # plan id -> first row (None: work it out again)
        self._shift: Any = None  # numpy: plan id -> first row - plan id * STRIDE, for `row_mask`...
        self._shift_of: dict[int, int] | None = None  # ... worked out from this `_start`...
        self._shift_n = 0  # ... when it held this many plans

    def _at(self, slot: int) -> int:
        i = bisect_left(self.slots, slot)
        if i == len(self.slots) or self.slots[i] != slot:
            raise KeyError(slot)
        return i

    def _starts(self) -> dict[int, int]:
        start, row = {}, 0
        for pid in sorted(self._counts):
            start[pid] = row
            row += self._counts[pid]
        self._start = start
        return start

    def __getitem__(self, slot: int) -> TaskDoc:
        return self._docs[(self._start or self._starts())[slot >> STRIDE_BITS] + (slot & RANK_MASK)]

    def many(self, slots: Iterable[int]) -> list[TaskDoc]:
        """The tasks at many slots, in that order: `self[slot]` without a method call each (an agency's
        list reads thousands)."""
        start, docs = self._start or self._starts(), self._docs
        return [docs[start[slot >> STRIDE_BITS] + (slot & RANK_MASK)] for slot in slots]

    def folded(self, slot: int) -> str:
        return self.texts[(self._start or self._starts())[slot >> STRIDE_BITS] + (slot & RANK_MASK)]

    def row_mask(self, slots: Iterable[int], numpy_from: int = NUMPY_FROM) -> int:
        """The rows of these slots as the bits of one int (bit r: row r). A posting list (32-bit array) is
        mapped in numpy, a few hundred microseconds for 50,000 slots where a Python loop takes ten ms."""
        start = self._start or self._starts()
        if isinstance(slots, (memoryview, array)) and len(slots) >= numpy_from:
            at = np.frombuffer(slots, dtype=np.int32)
            if self._shift_of is not start or self._shift_n != len(start):  # `put` adds plans to `start`
                # row = slot + its plan's shift (first row - plan id * STRIDE)
                shift = np.zeros(max(start) + 1, dtype=np.int64)
                for pid, row in start.items():
                    shift[pid] = row - pid * STRIDE
                self._shift, self._shift_of, self._shift_n = shift, start, len(start)
            bits = np.zeros(len(self._docs), dtype=np.uint8)
            bits[at + self._shift[at >> STRIDE_BITS]] = 1
            return int.from_bytes(np.packbits(bits, bitorder="little").tobytes(), "little")
        mask = bytearray((len(self._docs) + 7) >> 3)
        for slot in slots:
            row = start[slot >> STRIDE_BITS] + (slot & RANK_MASK)
            mask[row >> 3] |= 1 << (row & 7)
        return int.from_bytes(mask, "little")

    def slots_of(self, mask: int, first: int | None = None) -> list[int]:
        """The slots of a row mask's bits, in slot order (only the `first` ones when given)."""
        out: list[int] = []
        if not mask:
            return out
        data = mask.to_bytes((mask.bit_length() + 7) >> 3, "little")
        slots, want = self.slots, len(data) * 8 if first is None else first
        for m in _NONZERO.finditer(data):
            base = m.start() << 3
            for bit in _BITS[data[base >> 3]]:
                out.append(slots[base + bit])
            if len(out) >= want:
                return out[:want]
        return out

    def exact(self, slot: int) -> tuple[TaskDoc, str]:
        """The task and folded text at a slot, found by search: right even while a change has a plan's
        ranks out of step (Index.apply)."""
        i = self._at(slot)
        return self._docs[i], self.texts[i]

    def __len__(self) -> int:
        return len(self._docs)

    def __bool__(self) -> bool:
        return bool(self._docs)

    def __iter__(self) -> Iterator[TaskDoc]:
        return iter(self._docs)

    def put(self, slot: int, doc: TaskDoc, folded: str) -> None:
        pid = slot // STRIDE
        if not self.slots or self.slots[-1] < slot:
            if self._start is not None and pid not in self._counts:
                self._start[pid] = len(self._docs)
            self.slots.append(slot)
            self._docs.append(doc)
            self.texts.append(folded)
            self._counts[pid] = self._counts.get(pid, 0) + 1
            return
        i = bisect_left(self.slots, slot)
        if self.slots[i] == slot:
            self._docs[i], self.texts[i] = doc, folded
            return
        self.slots.insert(i, slot)
        self._docs.insert(i, doc)
        self.texts.insert(i, folded)
        self._counts[pid] = self._counts.get(pid, 0) + 1
        self._start = None

    def pop(self, slot: int) -> tuple[TaskDoc, str]:
        i = self._at(slot)
        del self.slots[i]
        pid = slot // STRIDE
        self._counts[pid] -= 1
        if not self._counts[pid]:
            del self._counts[pid]
        self._start = None
        return self._docs.pop(i), self.texts.pop(i)


_NONZERO = re.compile(rb"[^\x00]")
_BITS = [tuple(b for b in range(8) if byte >> b & 1) for byte in range(256)]  # a byte's set bits, low first


class _Folded:
    """index.folded[slot]: a task's folded text (read only)."""

    def __init__(self, docs: DocTable) -> None:
        self._docs = docs

    def __getitem__(self, slot: int) -> str:
        return self._docs.folded(slot)


# Keys of Index.cache that depend on the agency registry alone: kept when only plans change.
_REGISTRY_CACHE = frozenset({"names", "related"})


@dataclass
class Index:
    registry: Registry
    plans: dict[int, PlanDoc]
    docs: DocTable = field(default_factory=DocTable)
    postings: Postings = field(default_factory=Postings)
    by_id: dict[int, int] = field(default_factory=dict)  # task id -> slot
    by_agency: dict[int, list[int]] = field(default_factory=dict)  # any role
    by_doer: dict[int, list[int]] = field(default_factory=dict)  # lead or coordinator
    dated: list[tuple[date, int]] = field(default_factory=list)  # one-off deadlines, sorted
    recurring: dict[tuple[str, int | None, int | None], list[int]] = field(default_factory=dict)
    by_lead: dict[int, list[int]] = field(default_factory=dict)
    by_coord: dict[int, list[int]] = field(default_factory=dict)
    total_len: int = 0
    _agency_re: re.Pattern[str] | None = None
    _agency_keys: dict[str, int] = field(default_factory=dict)
    _titles: dict[int, str] = field(default_factory=dict)  # plan id -> folded title
    _numbers: dict[str, list[int]] = field(default_factory=dict)  # leading number -> plan ids
    version: Any = None  # the store's change log as far as this index reflects it (knowledge.store_changes)
    cache: dict[str, Any] = field(default_factory=dict)  # things other modules derive from this index
    learned: dict[str, str] = field(default_factory=dict)  # short forms the plans define ("bcd" -> ban chi dao)
    _learned_re: re.Pattern[str] | None = None
    _by_plan_forms: dict[int, tuple[dict[str, str], re.Pattern[str] | None]] = field(default_factory=dict)
    _vocab: list[str] | None = None
    updates: int = 0  # plans applied since the build (tests and the benchmark read it)

    @property
    def folded(self) -> _Folded:
        """folded[slot]: the task's words as indexed (accents off, glue words out, short forms spelt out)."""
        return _Folded(self.docs)

    @property
    def avg_len(self) -> float:
        return (self.total_len / len(self.docs)) if self.docs else 1.0

    @property
    def vocab(self) -> list[str]:
        """Known single words (typo correction), recomputed after a change brought or took words."""
        if self._vocab is None:
            self._vocab = sorted(w for w in self.postings.held_words() if not w.isdigit())
        return self._vocab

    # ---- building -------------------------------------------------------------------------
    @classmethod
    def build(cls, registry: Registry, plans: dict[int, PlanDoc], docs: list[TaskDoc],
              spellings: list[tuple[int, str]] | None = None) -> Index:
        idx = cls(registry, plans)
        idx._by_plan_forms = _learn(plans, docs)
        idx._merge_learned()
        # Two passes over flat arrays, no list per key: every key of every task in one array, then each
        # task's slot written into its keys' stretches of one slot array. Big arrays are single
        # allocations the process gives back; a list per key (or per task) left the heap fragmented.
        flat, counts = array("q"), array("i")
        for slot, doc in _slotted(plans, docs):
            keys = idx._place(slot, doc)
            flat.extend(keys)
            counts.append(len(keys))
        idx.postings.freeze(flat, counts, idx.docs.slots)
        idx.dated.sort()
        idx._build_agency_scanner(spellings or [])
        for p in plans.values():
            idx._title(p)
        return idx

    def _place(self, slot: int, doc: TaskDoc) -> set[int]:
        """Index one task at its slot (everything but the postings); returns its posting keys."""
        toks = analyze_fast(doc.text)
        if doc.plan_id in self._by_plan_forms:  # the plan's own short forms: index the words they stand for too
            table, pattern = self._by_plan_forms[doc.plan_id]
            toks = expand_shorthands(" ".join(toks), table, pattern).split()
        self.docs.put(slot, doc, " ".join(toks))
        self.total_len += len(toks)
        self.by_id[doc.id] = slot
        for holders, ids in zip(self._role_lists(), _role_ids(doc), strict=True):
            for aid in ids:
                lst = holders.setdefault(aid, [])
                if not lst or lst[-1] < slot:
                    lst.append(slot)
                else:
                    insort(lst, slot)
        due = _due_key(doc)
        if due is not None and due[0] == "dated":
            self.dated.append((due[1], slot))  # sorted by the caller
        elif due is not None:
            insort(self.recurring.setdefault(due[1], []), slot)
        return self.postings.keys_of(toks)

    def _role_lists(self) -> tuple[dict[int, list[int]], ...]:
        return self.by_agency, self.by_doer, self.by_lead, self.by_coord

    def _unplace(self, slot: int) -> None:
        """Take one task out of the index (its postings included); what it added is worked out again
        from the task and its folded text, so nothing per task is kept for this."""
        doc, folded = self.docs.pop(slot)
        self.postings.remove(slot, self.postings.keys_of(folded.split()))
        self.total_len -= _length(folded)
        if self.by_id.get(doc.id) == slot:
            del self.by_id[doc.id]
        for holders, ids in zip(self._role_lists(), _role_ids(doc), strict=True):
            for aid in ids:
                lst = holders[aid]
                lst.remove(slot)
                if not lst:
                    del holders[aid]
        due = _due_key(doc)
        if due is not None and due[0] == "dated":
            del self.dated[bisect_left(self.dated, (due[1], slot))]
        elif due is not None:
            members = self.recurring[due[1]]
            members.remove(slot)
            if not members:
                del self.recurring[due[1]]

    def _title(self, p: PlanDoc) -> None:
        self._titles[p.id] = fold_query(p.title)
        if p.number:
            insort(self._numbers.setdefault(_leading_number(p.number), []), p.id)

    def _untitle(self, pid: int) -> None:
        self._titles.pop(pid, None)
        for num, ids in list(self._numbers.items()):
            if pid in ids:
                ids.remove(pid)
                if not ids:
                    del self._numbers[num]

    def _merge_learned(self) -> None:
        self.learned = {}
        for pid in sorted(self._by_plan_forms):
            for k, v in self._by_plan_forms[pid][0].items():
                self.learned.setdefault(k, v)
        self._learned_re = shorthand_pattern(self.learned)

    # ---- updating -------------------------------------------------------------------------
    def apply(self, plans: dict[int, PlanDoc], docs: list[TaskDoc], gone: Iterable[int],
              registry: Registry | None = None, spellings: list[tuple[int, str]] | None = None) -> None:
        """Bring the index up to date with some plans as the store holds them now: `plans` and their
        `docs` (every task of those plans), `gone` the plan ids no longer stored. Tasks that did not
        change keep their place; the others are taken out and put back. Global figures (document
        count, average length, idf) follow from the lists, so nothing else is recomputed."""
        touched = set(plans) | set(gone)
        forms = _learn(plans, docs)
        reread = {pid for pid in touched
                  if self._by_plan_forms.get(pid, ({}, None))[0] != forms.get(pid, ({}, None))[0]}
        for pid in touched:
            self._by_plan_forms.pop(pid, None)
        self._by_plan_forms.update(forms)
        if reread:
            self._merge_learned()
        wanted = dict(_slotted(plans, docs))
        current = sorted({self.by_id[t] for pid in touched if pid in self.plans
                          for t in self.plans[pid].task_ids if t in self.by_id})
        for slot in current:
            doc, folded = self.docs.exact(slot)
            new = wanted.get(slot)
            if new is None or new != doc or doc.plan_id in reread:
                self._unplace(slot)
            else:
                del wanted[slot]
                self.docs.put(slot, new, folded)  # equal to the indexed one: keep the store's object
        for slot, doc in sorted(wanted.items()):
            self.postings.add(slot, self._place(slot, doc))
        self.dated.sort()
        for pid in touched:
            if pid in self.plans:
                self._untitle(pid)
                del self.plans[pid]
        for pid in sorted(plans):
            self.plans[pid] = plans[pid]
            self._title(plans[pid])
        self.plans = dict(sorted(self.plans.items()))
        if registry is not None:
            self.registry = registry
            self._build_agency_scanner(spellings or [])
            self.cache.clear()
        else:
            for key in [k for k in self.cache if k not in _REGISTRY_CACHE]:
                del self.cache[key]
        self._vocab = None
        self.updates += 1

    def fold_query(self, text: str) -> str:
        """A question folded for this index: built-in short forms and those the plans define spelt out."""
        folded = fold_query(text)
        if self._learned_re is not None:
            folded = expand_shorthands(folded, self.learned, self._learned_re)
        return folded

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
            out += self._plans_by_title(folded_q, out)
        return out

    def _plans_by_title(self, folded_q: str, found: list[Mention]) -> list[Mention]:
        """ "kế hoạch triển khai chiến lược KHCN năm 2024", "kế hoạch chuyển đổi số": the words after "kế hoạch"
        that a few plans' titles hold (two at least, and fewer plans than all) name those plans."""
        words = self.cache.get("title_words")
        if words is None:
            words = self.cache["title_words"] = {pid: set(t.split()) for pid, t in self._titles.items()}
        out: list[Mention] = []
        for m in _PLAN_WORD.finditer(folded_q):
            if any(o.start <= m.start() < o.end for o in found):
                continue
            ids = set(words)
            end, held = m.end(), 0
            for w in re.finditer(r"\S+", folded_q[m.end():]):
                start = m.end() + w.start()
                if any(o.start <= start < o.end for o in found):
                    break
                if w.group(0) in STOP:
                    continue
                narrowed = {pid for pid in ids if w.group(0) in words[pid]}
                if not narrowed:
                    break
                ids, end, held = narrowed, m.end() + w.end(), held + 1
            if held >= 2 and len(ids) <= MAX_TITLED_PLANS and len(ids) < len(words):
                out.append(Mention(m.start(), end, folded_q[m.start():end], sorted(ids)))
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
        if token in self.postings or token.isdigit() or not self.vocab or token in SYNONYM_WORDS:
            return token  # a word of the synonym table is a word, not a typo ("kéo" is not "kẹp")
        # Spellings people confuse: "qui"/"quy", "xoát"/"soát", "trủ trì"/"chủ trì", "dao"/"giao".
        for a, b in _CONFUSED:
            if token.startswith(a) and b + token[len(a):] in self.postings:
                return b + token[len(a):]
            if a in "iy" and len(token) > 1 and token[-2] in _VOWELS and not token.endswith(("qui", "quy")):
                continue  # "mai" is not a typo for "may": only a lone i/y after a consonant is ("ky"/"ki")
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

    def alternatives(self, seq: list[Term | None]) -> dict[str, list[str]]:
        """For each question term (word or word pair) inside a phrase of knowledge/data/synonyms.json,
        the group's other phrases this index holds ("keo" -> ["thu hut", "moi"])."""
        out: dict[str, list[str]] = {}
        run: list[Term] = []
        for t in [*seq, None]:
            if t is not None and not t.name:
                run.append(t)
                continue
            toks = [x.text for x in run]
            for i in range(len(toks)):
                for n in range(min(MAX_SYNONYM_WORDS, len(toks) - i), 0, -1):
                    phrase = " ".join(toks[i : i + n])
                    others = SYNONYMS.get(phrase)
                    if not others:
                        continue
                    typed = tuple(x.accent for x in run[i : i + n])
                    if all(typed) and typed not in SYNONYM_ACCENTS.get(phrase, {typed}):
                        continue  # "công tác" typed: not the "cộng tác" of the table
                    present = [a for a in others if self._holds_phrase(a)][:MAX_ALTERNATIVES]
                    if present:
                        span = toks[i : i + n]
                        for term in (*span, *pairs(span)):
                            out.setdefault(term, []).extend(a for a in present if a not in out.get(term, ()))
                    break
            run = []
        return out

    def _holds_phrase(self, phrase: str) -> bool:
        """Does some task hold this (analysed) phrase's word, or every pair of its words?"""
        toks = phrase.split()
        if len(toks) == 1:
            return toks[0] in self.postings
        return all(p in self.postings for p in pairs(toks))

    def _phrase_postings(self, phrase: str) -> Collection[int]:
        toks = phrase.split()
        keys = toks if len(toks) == 1 else pairs(toks)
        return min((self.postings.get(k, ()) for k in keys), key=len)

    def search(
        self,
        seq: list[Term | None],
        *,
        only: Iterable[int] | None = None,
        limit: int = 50,
    ) -> list[Hit]:
        """Tasks ranked by how much of a question's meaning they hold (None in `seq` breaks a pair).

        Every term counts by its weight (BM25-style, idf): in full when the task holds it (as typed,
        when the user typed accents), partly when it holds another word of the same meaning
        (knowledge/data/synonyms.json) or the same letters with other accents. Nothing is required:
        callers judge from `coverage` whether the best is good enough."""
        unis: dict[str, bool] = {}
        pair_terms: dict[str, bool] = {}
        names: set[str] = set()
        beside: dict[str, list[str]] = {}  # a word's pairs in the question
        typed: dict[str, tuple[str, ...]] = {}  # term -> accent keys of its syllables as typed
        prev: Term | None = None
        for t in seq:
            if t is None:
                prev = None
                continue
            unis[t.text] = unis.get(t.text, False) or t.distinct
            if t.accent:
                typed[t.text] = (t.accent,)
            if t.name:
                names.add(t.text)
            if prev is not None and prev.text != t.text:
                pair = f"{prev.text} {t.text}"
                pair_terms[pair] = prev.distinct or t.distinct
                beside.setdefault(prev.text, []).append(pair)
                beside.setdefault(t.text, []).append(pair)
                if prev.name and t.name:
                    names.add(pair)
                if prev.accent and t.accent:
                    typed[pair] = (prev.accent, t.accent)
            prev = t
        alts = self.alternatives(seq)
        allowed = set(only) if only is not None else None
        n = len(self.docs)
        weights = {term: self.idf(term) for term in (*unis, *pair_terms)}
        for term, alt in alts.items():
            if term in weights and not self.postings.get(term):
                # A word no task holds weighs what its synonyms weigh here ("kéo" as much as "thu hút").
                weights[term] = max(self.idf(a.split()[0]) if " " not in a else self.idf(pairs(a.split())[0])
                                    for a in alt)
        boosts = {term: (1.6 if term in pair_terms else 1.0) * (0.35 if term in names else 1.0) for term in weights}
        # Phase 1, in C, a few hundred candidates. Small stores: count how many of the question's terms
        # (or their synonyms) each task holds, pairs twice. Big ones: gather the tasks holding the rarest
        # terms, then narrow them by the next rarest while enough remain. Tasks holding a very rare term stay.
        sources: dict[str, Collection[int]] = {t: self.postings[t] for t in weights if self.postings.get(t)}
        for a in {a for lst in alts.values() for a in lst}:
            plist = self._phrase_postings(a)
            if len(plist) <= MAX_SYNONYM_POSTINGS:  # a synonym held everywhere finds nothing new
                sources.setdefault(a, plist)
        order = sorted(sources, key=lambda t: len(sources[t]))
        lists: list[tuple[str, Collection[int]]] = [
            (t, sources[t] if allowed is None else _meet(allowed, sources[t])) for t in order
        ]
        cap = limit * 4
        must: set[int] = set()
        for key, plist in lists:
            if len(plist) <= 20 and key in weights:
                must.update(plist)
        total = sum(len(plist) for _, plist in lists)
        if total <= 20000:
            counts: Counter[int] = Counter()
            for term, plist in lists:
                counts.update(plist)
                if term in pair_terms or " " in term:
                    counts.update(plist)
            pool = {i for i, _ in counts.most_common(cap)}
        elif allowed is None:
            # The same steps as below on bit masks over the task rows (row order is slot order): a long
            # posting list's mask is made once per index version, then each union or narrowing is one
            # big-int operation instead of a walk over tens of thousands of slots.
            mask, held = 0, 0
            narrowings = 0
            for key, plist in lists:
                if held < limit:
                    mask |= self._mask(key, plist)
                    held = mask.bit_count()
                    continue
                if held <= cap or narrowings >= 3:
                    break  # few enough, or narrowed by the three rarest terms: phase 2 weighs the rest
                narrowings += 1
                both = mask & self._mask(key, plist)
                if both.bit_count() >= limit:
                    mask, held = both, both.bit_count()
                else:
                    must.update(self.docs.slots_of(both))
            pool = set(self.docs.slots_of(mask, cap))  # the `cap` first slots, as the cut below keeps
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
                narrowed = _meet(pool, plist)
                if len(narrowed) >= limit:
                    pool = narrowed
                else:
                    must |= narrowed
        if allowed is not None and not pool:
            pool = set(list(allowed)[:limit])  # nothing holds a word: still list them, callers judge
        if len(pool) > cap:
            pool = set(sorted(pool)[:cap] if len(pool) < SORT_BELOW else heapq.nsmallest(cap, pool))
        cands = must | pool
        # Phase 2: exact scores and meaning coverage for the candidates, then a fuzzy re-rank.
        distinct_uni = [u for u, d in unis.items() if d]
        distinct_pairs = [p for p, d in pair_terms.items() if d]
        uni_total = sum(weights.get(u, 0.0) or math.log(n + 1) for u in distinct_uni)
        query_text = " ".join(t.text for t in seq if t is not None)
        q = _Query(unis, beside, typed, alts, weights, boosts, distinct_uni, distinct_pairs, uni_total,
                   avg_len=self.avg_len)
        scored: list[tuple[float, int, float, float]] = []
        mass = sum(w for *_, w in q.terms) or 1.0
        raw: dict[int, float] = {}
        for i in cands:
            s, cov, pcov = self._weigh(q, i, accents=False)
            raw[i] = s
            scored.append((s * (0.6 + 0.4 * cov) * (0.8 + 0.2 * pcov), i, cov, pcov))
        top = heapq.nlargest(limit * 2, scored)
        if typed:  # accents as typed: weighed again for the best few only (reading a task's accents costs)
            again = []
            for _, i, _, _ in top[:ACCENT_CHECKED]:
                s, cov, pcov = self._weigh(q, i, accents=True)
                raw[i] = s
                again.append((s * (0.6 + 0.4 * cov) * (0.8 + 0.2 * pcov), i, cov, pcov))
            top = sorted(again + top[ACCENT_CHECKED:], reverse=True)
        hits = []
        for s, i, cov, pcov in top:
            rerank = fuzz.partial_ratio(query_text, self.docs.folded(i)) / 100.0 if query_text else 0.0
            hits.append(Hit(self.docs[i], s + rerank, cov, pcov, len(distinct_pairs), raw[i] / mass))
        hits.sort(key=lambda h: (-h.score, h.doc.plan_id, h.doc.position))
        return hits[:limit]

    def _mask(self, term: str, slots: Collection[int]) -> int:
        """A posting list as a bit mask over the task rows; kept (in `cache`, emptied on every change) for
        the long lists, which questions narrow by again and again."""
        if len(slots) < MASK_MIN:
            return self.docs.row_mask(slots)
        masks: dict[str, int] = self.cache.setdefault("masks", {})
        found = masks.get(term)
        if found is None:
            if len(masks) >= MAX_MASKS:
                masks.clear()
            found = masks[term] = self.docs.row_mask(slots)
        return found

    def _weigh(self, q: _Query, i: int, accents: bool) -> tuple[float, float, float]:
        """(BM25-style score, share of the topic words held, share of the topic pairs held) of task i."""
        folded = self.docs.folded(i)
        text = f" {folded} "  # substring tests on the padded text: cheaper than a set of its words
        marks = _accents_of(self.docs[i].text) if accents and q.typed else None
        direct: dict[str, float] = {}
        credit: dict[str, float] = {}
        score = 0.0
        for term, padded, alt_phrases, weighted in q.terms:
            if padded in text:
                d = 1.0
                if marks is not None and term in q.typed:
                    for syllable, key in zip(term.split(), q.typed[term], strict=False):
                        forms = marks.get(syllable)
                        if forms and key not in forms:
                            d = ACCENT_MISS  # "Hàn" typed, the task says "hạn"
                            break
            else:
                d = 0.0
            direct[term] = d
            c = SYNONYM_CREDIT if d < SYNONYM_CREDIT and alt_phrases and any(map(text.__contains__, alt_phrases)) else d
            credit[term] = c
            score += weighted * c
        score *= 2.2 / (1.2 * (0.5 + 0.5 * (folded.count(" ") + 1 if folded else 0) / q.avg_len) + 1)
        # A word counts where it stands as in the question: with one of its neighbours ("đất đai"
        # is not held by a task saying "đạt" here and "hiện đại" there), or through a synonym.
        held = 0.0
        for u in q.distinct_uni:
            c = direct[u]
            if c and u in q.beside and not any(map(credit.__getitem__, q.beside[u])):
                # Held, but not beside its neighbours in the question: the words rearranged when a neighbour
                # stands elsewhere in the task ("chuyên gia giỏi ngoài tỉnh"), else another compound word
                # ("nhân dân" for "dân vận").
                c *= ALONE if any(map(credit.get, q.neighbours[u])) else 0.0
            held += q.weights[u] * max(c, credit[u] if credit[u] == SYNONYM_CREDIT else 0.0)
        cov = held / q.uni_total if q.uni_total else 1.0
        pcov = (sum(1 for p in q.distinct_pairs if credit[p]) / len(q.distinct_pairs)) if q.distinct_pairs else 1.0
        return score, cov, pcov

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


def _meet(few: set[int], slots: Collection[int]) -> set[int]:
    """`few.intersection(slots)` for a posting list (slot order), the very set it makes: members found are
    added in slot order, as `intersection` adds them while walking the list (a set's order follows its
    insertions, and callers count candidates in that order)."""
    n = len(slots)
    if len(few) * SEARCH_RATIO >= n or not isinstance(slots, (memoryview, array)):
        return few.intersection(slots)
    found = []
    for slot in few:
        i = bisect_left(slots, slot)
        if i < n and slots[i] == slot:
            found.append(slot)
    found.sort()
    return set(found)


def _length(folded: str) -> int:
    """How many words a folded text has (kept as text only: a count per task would cost more)."""
    return folded.count(" ") + 1 if folded else 0


def _role_ids(doc: TaskDoc) -> tuple[set[int], set[int], set[int], set[int]]:
    """The agencies a task names: any role, lead or coordinator, lead, coordinator."""
    leads, coords = set(doc.agency_ids("lead")), set(doc.agency_ids("coordinator"))
    return set(doc.agency_ids()), leads | coords, leads, coords


def _due_key(doc: TaskDoc) -> tuple[str, Any] | None:
    """Where an open task stands in the index's time lists: ("dated", day) or ("recurring", rule)."""
    if doc.status != "open":
        return None  # done or cancelled: never due, never overdue
    if doc.deadline_kind in RECURRING:
        return "recurring", (doc.deadline_kind, doc.deadline_month, doc.deadline_day)
    if doc.deadline_due is not None:
        return "dated", doc.deadline_due
    return None


def _slotted(plans: dict[int, PlanDoc], docs: Iterable[TaskDoc]) -> list[tuple[int, TaskDoc]]:
    """Each task of a known plan at its slot: plan id and rank in the plan by (position, id)."""
    by_plan: dict[int, list[TaskDoc]] = {}
    for d in docs:
        if d.plan_id in plans:
            by_plan.setdefault(d.plan_id, []).append(d)
    out = []
    for pid in sorted(by_plan):
        ranked = sorted(by_plan[pid], key=lambda d: (d.position, d.id))
        out += [(slot_of(pid, rank), d) for rank, d in enumerate(ranked)]
    return out


def _learn(plans: dict[int, PlanDoc],
           docs: Iterable[TaskDoc]) -> dict[int, tuple[dict[str, str], re.Pattern[str] | None]]:
    """Short forms each plan defines in its title or tasks ("(sau đây gọi tắt là BCĐ)"), by plan."""
    texts: dict[int, list[str]] = {}
    for p in plans.values():
        if "tắt" in p.title:
            texts.setdefault(p.id, []).append(p.title)
    for d in docs:
        if "tắt" in d.text:
            texts.setdefault(d.plan_id, []).append(d.text)
    out = {}
    for pid, found in texts.items():
        table = {k: " ".join(analyze(v)) for k, v in learn_abbreviations(found).items()}
        if table:
            out[pid] = (table, shorthand_pattern(table))
    return out


@lru_cache(maxsize=200_000)
def accent_key(word: str) -> str:
    """A word's letters and its marks, whatever the order they were typed in ("hoà" and "hòa" agree;
    "hàn" and "hạn" do not): "han|\u0300"."""
    word = word.lower()
    marks = "".join(sorted(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) == "Mn"))
    if "đ" in word:
        marks += "đ"
    return f"{strip_accents(word)}|{marks}"


def has_accents(text: str) -> bool:
    """Did the user type Vietnamese accents (then an unaccented "ban" means "ban", not "bán")? Also asked of
    every task's whole text, so not through strip_accents' cache (see `unaccented`)."""
    return not text.isascii() and unaccented(text) != text


@lru_cache(maxsize=8192)
def _accents_of(text: str) -> dict[str, frozenset[str]]:
    """Folded syllable -> the accent keys it has in a text ("han" -> {"han|\u0323"} for "hạn")."""
    out: dict[str, set[str]] = {}
    for w in re.findall(r"\w+", text):
        key = accent_key(w)
        out.setdefault(key.split("|", 1)[0], set()).add(key)
    return {k: frozenset(v) for k, v in out.items()}


def _synonym_table() -> dict[str, tuple[str, ...]]:
    """Analysed phrase -> the other phrases of every group it belongs to (knowledge/data/synonyms.json)."""
    table: dict[str, list[str]] = {}
    for group in synonym_groups():
        # A phrase that analysis shrinks to one syllable ("sơ kết" -> "kết", "trong tỉnh" -> "tỉnh") would
        # match far more than it means: left out.
        phrases = [" ".join(a) for w in group if (a := analyze(w)) and (len(a) > 1 or len(w.split()) == 1)]
        phrases = list(dict.fromkeys(phrases))
        for p in phrases:
            table.setdefault(p, []).extend(q for q in phrases if q != p)
    return {k: tuple(dict.fromkeys(v)) for k, v in table.items()}


def _synonym_accents() -> dict[str, set[tuple[str, ...]]]:
    """Analysed phrase -> how its syllables are accented in the table (to tell "cộng tác" from "công tác")."""
    out: dict[str, set[tuple[str, ...]]] = {}
    for group in synonym_raw():
        for w in group:
            words = [x for x in re.findall(r"\w+", w) if fold(x, expand=False) not in STOP]
            out.setdefault(" ".join(analyze(w)), set()).add(tuple(accent_key(x) for x in words))
    return out


SYNONYMS = _synonym_table()
SYNONYM_ACCENTS = _synonym_accents()
MAX_SYNONYM_WORDS = max((len(k.split()) for k in SYNONYMS), default=1)
SYNONYM_WORDS = frozenset(w for k in SYNONYMS for w in k.split())


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
        seen = await store_changes.mark(s)  # before reading: a change written meanwhile is applied again later
        registry = await Registry.load(s)
        plans, docs = await load_docs(s)
        spellings = await agency_spellings(s)
    idx = await asyncio.to_thread(Index.build, registry, plans, docs, spellings)
    idx.version = seen
    # The index is long-lived: keep the cyclic GC from rescanning it on every full collection
    # (that showed as 100 ms pauses in answers on big stores).
    gc.collect()
    gc.freeze()
    _give_back_free_memory()
    return idx


def _give_back_free_memory() -> None:
    """Hand the heap pages a build freed back to the system (glibc keeps them otherwise: the build's
    scratch memory would stay in the process's resident size for its whole life)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


@dataclass
class _Holder:
    """ctx.cache's entry: the index, when the store's change log was last read, builds so far."""

    index: Index | None = None
    checked: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    refresh: asyncio.Task[None] | None = None
    builds: int = 0  # full builds (an update in place does not count)


async def get_index(ctx: Any) -> Index:
    """The index from ctx.cache, up to date with the store. With none yet, build it (one build for
    concurrent questions). Otherwise read the store's change log (at most every RECHECK_S, at once
    after `invalidate`) and update the plans that changed in place, before answering: milliseconds
    for a plan. A change too big for that (a restore, hundreds of plans) rebuilds in the background
    while the current index keeps answering."""
    holder: _Holder = ctx.cache.setdefault(CACHE_KEY, _Holder())
    if holder.index is not None and time.monotonic() - holder.checked < RECHECK_S:
        return holder.index
    async with holder.lock:
        if holder.index is None:
            holder.index = await build_index(ctx)
            holder.builds += 1
        elif time.monotonic() - holder.checked >= RECHECK_S:
            await _catch_up(ctx, holder, holder.index)
        holder.checked = time.monotonic()
        return holder.index


async def _catch_up(ctx: Any, holder: _Holder, idx: Index) -> None:
    async with ctx.db.session() as s:
        changes = await store_changes.since(s, idx.version)
        if changes is None:
            return
        plan_ids = {p for p in changes.plans if p is not None}
        if changes.lost or len(plan_ids) > INCREMENTAL_MAX_PLANS:
            _rebuild_later(ctx, holder)
            return
        plans, docs = await load_docs(s, plan_ids)
        registry, spellings = None, None
        if store_changes.REGISTRY in changes.plans:
            registry, spellings = await Registry.load(s), await agency_spellings(s)
    idx.apply(plans, docs, plan_ids - set(plans), registry, spellings)
    idx.version = changes.seen
    if idx.postings.worn:
        _rebuild_later(ctx, holder)


def _rebuild_later(ctx: Any, holder: _Holder) -> None:
    """A fresh build in the background; the current index answers (and keeps updating) meanwhile."""
    if holder.refresh is None or holder.refresh.done():
        holder.refresh = asyncio.create_task(_refresh(ctx, holder))


async def _refresh(ctx: Any, holder: _Holder) -> None:
    try:
        idx = await build_index(ctx)
    except Exception:
        log.exception("search index rebuild failed; answering from the previous one")
        return
    async with holder.lock:
        holder.index = idx
        holder.builds += 1
        holder.checked = 0.0  # catch up on what changed during the build at the next question


def invalidate(ctx: Any) -> None:
    """The store was just written (an import, an admin change): the next question reads the change
    log first, whenever it was last read."""
    holder = ctx.cache.get(CACHE_KEY)
    if isinstance(holder, _Holder):
        holder.checked = 0.0
    forget_dues(ctx)


def builds(ctx: Any) -> int:
    """How many times this context built its index from scratch (tests: an update is not a rebuild)."""
    holder = ctx.cache.get(CACHE_KEY)
    return holder.builds if isinstance(holder, _Holder) else 0
