"""``python -m tests.bench.sink`` runs (short form) and its workloads are what it says they are: the syndicated
copies make one story, the distinct reports one story each, the real enricher's events (nearly) one story each,
and every article is stored exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_sink_bench_short_form(tmp_path: Path) -> None:
    out = tmp_path / "sink.json"
    proc = subprocess.run([sys.executable, "-m", "tests.bench.sink", "--articles", "160", "--db", "sqlite", "--batch", "32",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "articles/s" in proc.stdout
    res = json.loads(out.read_text())
    syndicated, distinct = res["sqlite_syndicated"], res["sqlite_distinct"]
    assert syndicated["articles"] == distinct["articles"] == 160
    assert (syndicated["stories"], syndicated["largest_story"]) == (1, 160)
    assert (distinct["stories"], distinct["largest_story"]) == (160, 1)
    assert syndicated["articles_per_s"] > 0 and distinct["last_quarter_per_s"] > 0
    assert syndicated["sink_cpu_ms_first_quarter"] > 0 and distinct["sink_cpu_ms_last_quarter"] > 0
    assert syndicated["store_bytes"] > 0 and syndicated["assignment_digest"] != distinct["assignment_digest"]
    enriched = res["sqlite_enriched"]  # the real enricher's events: mostly one story each, all stored once
    assert enriched["articles"] == 160 and enriched["stories"] >= 150 and enriched["articles_per_s"] > 0
