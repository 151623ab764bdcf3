"""Score the importer on the real-plan corpus, document by document, with the project's own scorer.

    .venv/bin/python bench/score_corpus.py [--dir /work/corpus/docs] [--only dev|holdout] [--details]
    .venv/bin/python bench/score_corpus.py --metadata        # number / issuer / date of all documents

For every plan of tests/corpus/gold_dev.yaml and gold_holdout.yaml it writes a one-plan gold file and runs
`../shared/eval/evaluate.py extract` on it (the same scorer and command line a user's import goes through),
then reads the plan's metadata from `nhacviec import --dry-run --json` and compares number, issuer and date
with the reference. Prints one row per document and a total per gold file (tasks pooled, as the scorer
pools them). The corpus folder lives outside git (tests/corpus/README.md): when it is absent the script
says so and exits 0. --details also prints the scorer's miss lines under each document (the holdout's too: it
was scored blind once and is development material since; holdout2 is the fresh held-back set).
--metadata instead reads every document of tests/corpus/metadata.yaml (all of the corpus, not only the
plans with reference tasks) and judges its number, issuer and date: 'ok' (or 'n/a' when the document leaves
it blank and none was invented) counts as right; the issuer is right only when it names the body cleanly.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
GOLDS = {"dev": CORPUS / "gold_dev.yaml", "holdout": CORPUS / "gold_holdout.yaml",
         "holdout2": CORPUS / "gold_holdout2.yaml", "holdout3": CORPUS / "gold_holdout3.yaml",
         "holdout4a": CORPUS / "gold_holdout4a.yaml", "holdout4b": CORPUS / "gold_holdout4b.yaml",
         "holdout5a": CORPUS / "gold_holdout5a.yaml", "holdout5b": CORPUS / "gold_holdout5b.yaml"}
METADATA = CORPUS / "metadata.yaml"
FIELDS = ("number", "issuer", "date")
RIGHT = ("ok", "n/a")
DEFAULT_DOCS = Path("/work/corpus/docs")
EVALUATE = ROOT.parent.parent / "shared" / "eval" / "evaluate.py"
if not EVALUATE.exists():  # a checkout of main sits next to shared/
    EVALUATE = ROOT.parent / "shared" / "eval" / "evaluate.py"
EXTRA_ISSUER_WORDS = 1  # "UBND tỉnh X" written "Ủy ban nhân dân tỉnh X" is not noise; a second column is
SCORE_LINE = re.compile(
    r"^(?P<score>[\d.]+) extraction over (?P<n>\d+) gold tasks: found (?P<found>\d+), lead (?P<lead>\d+), "
    r"deadline (?P<deadline>\d+), coordinators F1 (?P<coord>[\d.]+), report_to (?P<rep>\d+)/(?P<nrep>\d+), "
    r"(?P<extra>\d+) extracted"
)


def evaluate_module() -> Any:
    """The scorer's own normaliser and agency match, so metadata is judged like tasks are."""
    sys.path.insert(0, str(EVALUATE.parent))
    import evaluate  # type: ignore[import-not-found]

    return evaluate


def nhacviec() -> list[str]:
    exe = os.environ.get("NHACVIEC")
    return exe.split() if exe else [str(ROOT / ".venv" / "bin" / "nhacviec")]


def score_plan(plan: dict[str, Any], docs: Path, tmp: Path) -> tuple[dict[str, str], list[str]]:
    """Run the scorer on one plan; return its figures and its miss lines."""
    gold = tmp / "one.yaml"
    gold.write_text(yaml.safe_dump({"plans": [plan]}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(EVALUATE), "extract", str(gold), str(docs), "--min", "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    lines = proc.stdout.strip().splitlines()
    match = SCORE_LINE.match(lines[-1]) if lines else None
    if not match:
        raise SystemExit(f"scorer output not understood for {plan['file']}:\n{proc.stdout}\n{proc.stderr[-1000:]}")
    return match.groupdict(), lines[:-1]


def dry_run(path: Path) -> dict[str, Any]:
    """The plan `nhacviec import --dry-run --json` reads from one file ({} when it refuses the file)."""
    proc = subprocess.run([*nhacviec(), "import", "--dry-run", "--json", str(path)],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        return {}
    return dict((json.loads(proc.stdout).get("plans") or [{}])[0])


def judge_metadata(want: dict[str, Any], got: dict[str, Any], ev: Any) -> dict[str, str]:
    """'ok' / 'noisy' / 'miss' / 'wrong' / 'n/a' / 'extra' for number, issuer and date of one plan."""

    def same_number(a: str, b: str) -> str:
        return "ok" if ev.norm(a).replace(" ", "") == ev.norm(b).replace(" ", "") else "wrong"

    def same_issuer(a: str, b: str) -> str:
        """The scorer's agency match; words the reference lacks (a header's other column) make it 'noisy'."""
        if not ev.same_agency(a, b):
            return "wrong"
        return "ok" if len(ev.norm(b).split()) <= len(ev.norm(a).split()) + EXTRA_ISSUER_WORDS else "noisy"

    def same_date(a: str, b: str) -> str:
        return "ok" if a[:10] == b[:10] else "wrong"

    def judge(field: str, compare: Any) -> str:
        if want.get(field) in (None, ""):
            return "n/a" if not got.get(field) else "extra"
        if not got.get(field):
            return "miss"
        return str(compare(str(want[field]), str(got[field])))

    return {"number": judge("number", same_number), "issuer": judge("issuer", same_issuer),
            "date": judge("date", same_date)}


def metadata(plan: dict[str, Any], docs: Path, ev: Any) -> dict[str, str]:
    return judge_metadata(plan["plan"], dry_run(docs / plan["file"]), ev)


def read_in_process(path: Path) -> dict[str, Any]:
    """The plan's metadata read by the importer in this process (the seeded registry an empty store holds):
    the same parser `nhacviec import` runs, without starting a command per document."""
    sys.path.insert(0, str(ROOT))
    from knowledge.importer import NameFinder, parse_path, seed_registry

    try:
        plan = parse_path(path, NameFinder(seed_registry()))
    except Exception as exc:  # a refused document shows as misses, with its reason
        print(f"  {path.name}: {type(exc).__name__}: {exc}")
        return {}
    return {"number": plan.number, "issuer": plan.issuer,
            "date": plan.issued_on.isoformat() if plan.issued_on else None}


def run_metadata(docs: Path) -> None:
    """Every document of metadata.yaml: what was read beside what the header says, and x/N per field."""
    ev = evaluate_module()
    documents = yaml.safe_load(METADATA.read_text(encoding="utf-8"))["documents"]
    right = dict.fromkeys(FIELDS, 0)
    print(f"{'document':38} number issuer date   (read: number | issuer | date)")
    for doc in documents:
        got = read_in_process(docs / doc["file"])
        verdict = judge_metadata(doc, got, ev)
        for field in FIELDS:
            right[field] += verdict[field] in RIGHT
        print(f"{doc['file'][:38]:38} {verdict['number']:6} {verdict['issuer']:6} {verdict['date']:6} "
              f"({got.get('number')} | {got.get('issuer')} | {str(got.get('date') or '')[:10] or None})")
    n = len(documents)
    print("right: " + ", ".join(f"{field} {right[field]}/{n}" for field in FIELDS))


def run(name: str, docs: Path, details: bool, only_file: str = "") -> None:
    ev = evaluate_module()
    plans = [p for p in yaml.safe_load(GOLDS[name].read_text(encoding="utf-8"))["plans"] if only_file in p["file"]]
    print(f"\n{name}: {GOLDS[name].relative_to(ROOT)}")
    print(f"{'document':38} {'tasks':>5} {'found':>5} {'lead':>5} {'due':>5} {'score':>6}  number issuer date")
    total = {"n": 0, "found": 0, "lead": 0, "deadline": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for plan in plans:
            figures, misses = score_plan(plan, docs, Path(tmp))
            meta = metadata(plan, docs, ev)
            for key in total:
                total[key] += int(figures[key])
            print(f"{plan['file'][:38]:38} {figures['n']:>5} {figures['found']:>5} {figures['lead']:>5} "
                  f"{figures['deadline']:>5} {float(figures['score']):>6.3f}  "
                  f"{meta['number']:6} {meta['issuer']:6} {meta['date']}")
            if details:
                for line in misses:
                    print("    " + line)
    n = total["n"] or 1
    print(f"{'total':38} {total['n']:>5} {total['found']:>5} {total['lead']:>5} {total['deadline']:>5} "
          f"{(total['lead'] + total['deadline']) / (2 * n):>6.3f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", type=Path, default=DEFAULT_DOCS, help="folder holding the corpus documents")
    ap.add_argument("--only", choices=sorted(GOLDS), help="score one gold file only")
    ap.add_argument("--details", action="store_true", help="print the scorer's misses under each document")
    ap.add_argument("--file", default="", help="score only the documents whose file name contains this")
    ap.add_argument("--metadata", action="store_true", help="number, issuer and date of every corpus document")
    args = ap.parse_args()
    if not args.dir.is_dir():
        print(f"corpus not present at {args.dir}: nothing to score (see tests/corpus/README.md)")
        return 0
    if not EVALUATE.exists():
        print(f"scorer not found at {EVALUATE}: nothing to score")
        return 0
    if args.metadata:
        run_metadata(args.dir)
        return 0
    for name in [args.only] if args.only else list(GOLDS):
        run(name, args.dir, args.details, args.file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
