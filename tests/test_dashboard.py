"""deploy/grafana-dashboard.json asks only for metrics that /metrics exports (a renamed metric breaks a test,
not a dashboard in production)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import Metrics

DASHBOARD = Path(__file__).resolve().parent.parent / "deploy" / "grafana-dashboard.json"
SUFFIXES = ("_total", "_bucket", "_count", "_sum", "_created")


def _family(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def test_every_metric_the_dashboard_queries_is_exported() -> None:
    exported = {f.name for f in text_string_to_metric_families(Metrics().render().decode())}
    exprs = [t["expr"] for p in json.loads(DASHBOARD.read_text())["panels"] for t in p["targets"]]
    asked = {_family(n) for e in exprs for n in re.findall(r"\bnhacviec_[a-z_]+", e)}
    assert asked, "the dashboard queries no nhacviec metric"
    assert asked <= exported, f"not exported: {sorted(asked - exported)}"
