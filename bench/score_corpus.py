"""Score the importer on the real-plan corpus, document by document, with the project's own scorer.

    .venv/bin/python bench/score_corpus.py [--dir /work/corpus/docs] [--only dev|holdout] [--details]

For every plan of tests/corpus/gold_dev.yaml and gold_holdout.yaml it writes a one-plan gold file and runs
`../shared/eval/evaluate.py extract` on it (the same scorer and command line a user's import goes through),
then reads the plan's metadata from `nhacviec import --dry-run --json` and compares number, issuer and date
with the reference. Prints one row per document and a total per gold file (tasks pooled, as the scorer
pools them). The corpus folder lives outside git (tests/corpus/README.md): when it is absent the script
says so and exits 0. --details also prints the scorer's miss lines under each document (the holdout's too: it
was scored blind once and is development material since; a fresh held-back set is kept outside this repository).
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
GOLDS = {"dev": CORPUS / "gold_dev.yaml", "holdout": CORPUS / "gold_holdout.yaml"}
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


def metadata(plan: dict[str, Any], docs: Path, ev: Any) -> dict[str, str]:
    """'ok' / 'noisy' / 'miss' / 'wrong' / 'n/a' / 'extra' for number, issuer and date of one plan."""
    proc = subprocess.run(
        [*nhacviec(), "import", "--dry-run", "--json", str(docs / plan["file"])],
        capture_output=True, text=True, timeout=300,
    )
    got: dict[str, Any] = {}
    if proc.returncode == 0:
        got = (json.loads(proc.stdout).get("plans") or [{}])[0]
    want = plan["plan"]

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


def run(name: str, docs: Path, details: bool) -> None:
    ev = evaluate_module()
    plans = yaml.safe_load(GOLDS[name].read_text(encoding="utf-8"))["plans"]
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
    args = ap.parse_args()
    if not args.dir.is_dir():
        print(f"corpus not present at {args.dir}: nothing to score (see tests/corpus/README.md)")
        return 0
    if not EVALUATE.exists():
        print(f"scorer not found at {EVALUATE}: nothing to score")
        return 0
    for name in [args.only] if args.only else list(GOLDS):
        run(name, args.dir, args.details)
    return 0


if __name__ == "__main__":
    sys.exit(main())
