"""deploy/grafana/wirewatch.json charts only metrics the services export, with the label names they carry."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import REGISTRY

import services.metrics  # noqa: F401 - registers the collectors

ROOT = Path(__file__).resolve().parents[2]


def test_every_panel_queries_real_metrics_and_labels() -> None:
    board = json.loads((ROOT / "deploy" / "grafana" / "wirewatch.json").read_text())
    known: dict[str, set[str]] = {}
    for metric in REGISTRY.collect():
        for sample in metric.samples:
            known.setdefault(sample.name, set()).update(sample.labels)
        known.setdefault(metric.name, set())
    names = {n for n in known if n.startswith("wirewatch_")}
    assert board["panels"] and all(p["targets"] for p in board["panels"])
    for panel in board["panels"]:
        for target in panel["targets"]:
            used = set(re.findall(r"wirewatch_[a-z_]+", target["expr"]))
            assert used, target
            for name in used:
                base = re.sub(r"_(bucket|sum|count|total)$", "", name)
                assert name in names or base in names or f"{base}_total" in names, (panel["title"], name)
    covered = {re.sub(r"_(bucket|total)$", "", n) for p in board["panels"] for t in p["targets"]
               for n in re.findall(r"wirewatch_[a-z_]+", t["expr"])}
    exported = {re.sub(r"_(bucket|sum|count|total|created)$", "", n) for n in names}
    assert exported <= covered, f"metrics no panel shows: {sorted(exported - covered)}"
