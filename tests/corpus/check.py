#!/usr/bin/env python3
"""Check that a corpus folder holds exactly the documents listed in sources.tsv, byte for byte.

    python3 tests/corpus/check.py [--dir /work/corpus/docs]

The documents are others' text, so they stay out of git; this script re-obtains nothing, it only says
what is missing, extra or changed (sha256). Exit 0 when the folder matches, or when it is absent
(the corpus is optional on a developer machine); exit 1 on any difference.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from pathlib import Path

SOURCES = Path(__file__).resolve().parent / "sources.tsv"
DEFAULT_DIR = Path("/work/corpus/docs")


def listed() -> dict[str, str]:
    """File name -> sha256 as committed."""
    with SOURCES.open(encoding="utf-8") as fh:
        return {row["file"]: row["sha256"] for row in csv.DictReader(fh, delimiter="\t")}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def problems(folder: Path) -> list[str]:
    want = listed()
    have = {p.name: p for p in folder.iterdir() if p.is_file()}
    out = [f"missing   {name}" for name in sorted(want.keys() - have.keys())]
    out += [f"extra     {name}" for name in sorted(have.keys() - want.keys())]
    out += [f"changed   {name}" for name in sorted(want.keys() & have.keys()) if sha256(have[name]) != want[name]]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    folder = ap.parse_args().dir
    if not folder.is_dir():
        print(f"corpus not present at {folder}: nothing to check (see tests/corpus/README.md)")
        return 0
    found = problems(folder)
    for line in found:
        print(line)
    print(f"{len(listed())} documents listed; {'OK' if not found else f'{len(found)} problem(s)'}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
