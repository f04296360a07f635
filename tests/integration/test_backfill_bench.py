"""``python -m tests.bench.backfill`` runs (tiny form) against the real services and a real Kafka, prints its
figures and writes them, and its exactly-once check holds: the store has exactly the farm's articles, each
once, and articles.enriched one committed record per raw record."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.kafka, pytest.mark.e2e]


def test_backfill_bench_tiny(kafka_bootstrap: str, tmp_path: Path) -> None:
    out = tmp_path / "backfill.json"
    proc = subprocess.run([sys.executable, "-m", "tests.bench.backfill", "--articles", "300", "--items-per-feed", "50",
                           "--enrichers", "1", "--every", "1", "--stall", "60", "--timeout", "240",
                           "--bootstrap", kafka_bootstrap, "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=360)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "articles/s" in proc.stdout and "lag enrich" in proc.stdout
    res = json.loads(out.read_text())
    assert res["complete"] and (res["articles"], res["feeds"], res["enrichers"]) == (300, 6, 1)
    check = res["exactly_once"]
    assert check["ok"] and check["store_exact"] and check["enrich_exactly_once"]
    assert check["stored"] == check["distinct_ids"] == check["expected"] == 300
    assert check["missing"] == check["unexpected"] == 0
    assert check["enriched_records"] == check["raw_records"] >= 300
    assert res["end_to_end_per_s"] > 0 and res["wall_s"] > 0 and res["bottleneck"] in ("ingest", "enrich", "sink")
    for stage in ("ingest", "enrich", "sink"):
        assert res["stages"][stage]["done_after_s"] >= 0 and res["stages"][stage]["cpu_s"] > 0
    assert {"enrich_max", "sink_max", "enrich_end", "sink_end"} <= set(res["lag"])
    assert res["lag"]["enrich_max"] > 0 and res["lag"]["enrich_end"] == 0
    timeline = json.loads(out.with_suffix(".timeline.json").read_text())
    assert timeline and timeline[-1]["stored"] == 300
