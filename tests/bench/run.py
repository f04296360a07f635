"""`make bench`: run every benchmark, collect var/bench/<name>.json into var/bench/results.json, print one table.

    python -m tests.bench.run [--only ingest,e2e] [--timeout 900]

Each bench is its own process (``python -m tests.bench.ingest``, ``tests.bench.enrich``, ``tests.bench.api``, ``tests.bench.sink``,
``tests.bench.e2e``, ``tests.bench.freshness``, ``tests.bench.backfill``, ``tests.bench.pages``,
``tests.bench.polling``: an hour)
and writes var/bench/<name>.json. One failing bench is reported in the table and tolerated; more fail the run.
Env: WIREWATCH_KAFKA_BOOTSTRAP (default 127.0.0.1:9092) for the benches that need Kafka.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "var" / "bench"
FIGURE = re.compile(r"^\s*(?P<label>[A-Za-z][^\n]*?)\s{2,}(?P<value>\d+(?:\.\d+)?)\b", re.MULTILINE)


def benches(bootstrap: str) -> dict[str, list[str]]:
    return {
        "ingest": ["-m", "tests.bench.ingest", "--bootstrap", bootstrap],
        "enrich": ["-m", "tests.bench.enrich"],
        "api": ["-m", "tests.bench.api"],
        "sink": ["-m", "tests.bench.sink"],
        "e2e": ["-m", "tests.bench.e2e"],
        "freshness": ["-m", "tests.bench.freshness"],
        "backfill": ["-m", "tests.bench.backfill", "--bootstrap", bootstrap],
        "pages": ["-m", "tests.bench.pages"],
        "polling": ["-m", "tests.bench.polling"],
    }


def leaves(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Flatten a figures document to (dotted key, scalar) rows."""
    if isinstance(value, dict):
        out: list[tuple[str, Any]] = []
        for k, v in value.items():
            out += leaves(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(value, list):
        return [(prefix, json.dumps(value)[:60])]
    return [(prefix, value)]


def run_one(name: str, args: list[str], timeout: float) -> dict[str, Any]:
    target = OUT / f"{name}.json"
    started = time.time()
    try:
        proc = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
        rc, output = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc, output = -1, f"timed out after {timeout:.0f}s\n" + str(exc.stdout or "")[-2000:]
    seconds = round(time.time() - started, 1)
    fresh = target.exists() and target.stat().st_mtime >= started - 1
    if rc == 0 and fresh:
        return {"ok": True, "seconds": seconds, "figures": json.loads(target.read_text())}
    if rc == 0 and FIGURE.search(output):  # a bench that only prints: keep its "label   number" lines
        figures = {m["label"].strip(): float(m["value"]) for m in FIGURE.finditer(output)}
        return {"ok": True, "seconds": seconds, "figures": figures, "note": f"no {target.name}; figures from stdout"}
    why = f"exit code {rc}" if rc else f"no fresh {target.relative_to(ROOT)} written"
    return {"ok": False, "seconds": seconds, "error": why, "output_tail": output[-1500:]}


# The issues' goals, each next to the figure that measures it: (what, bench, dotted key, "min"/"max", target).
GOALS: list[tuple[str, str, str, str, float]] = [
    ("ingest: full parse vs plain feedparser", "ingest", "ratio", "min", 0.8),
    ("enrich vs bare spaCy (English)", "enrich", "ratio enrich / bare", "min", 0.8),
    ("sink, SQLite, one story", "sink", "sqlite_syndicated.articles_per_s", "min", 1000),
    ("sink, SQLite, distinct stories", "sink", "sqlite_distinct.articles_per_s", "min", 1000),
    ("sink, PostgreSQL, one story", "sink", "postgres_syndicated.articles_per_s", "min", 1000),
    ("sink, PostgreSQL, distinct stories", "sink", "postgres_distinct.articles_per_s", "min", 1000),
    ("sink, SQLite, real enriched events (distinct stories)", "sink", "sqlite_enriched.articles_per_s", "min", 1000),
    ("sink, PostgreSQL, real enriched events (distinct stories)", "sink", "postgres_enriched.articles_per_s", "min", 1000),
    ("backfill end to end, articles/s", "backfill", "end_to_end_per_s", "min", 300),
    ("/stories vs trivial while writing, SQLite (cached)", "api", "stores.sqlite.cached.saturation.ratio", "min", 0.5),
    ("/stories vs trivial while writing, PostgreSQL (cached)", "api", "stores.postgres.cached.saturation.ratio",
     "min", 0.5),
    ("/stories p99 at 50 % of saturation, SQLite, ms", "api",
     "stores.sqlite.cached.open_loop.50% of /stories saturation.stories.p99_ms", "max", 25),
    ("/stories p99 at 50 % of saturation, PostgreSQL, ms", "api",
     "stores.postgres.cached.open_loop.50% of /stories saturation.stories.p99_ms", "max", 25),
    ("uncached /stories p50, SQLite, ms", "api",
     "stores.sqlite.uncached.open_loop.50% of /stories saturation.stories.p50_ms", "max", 5),
    ("uncached /stories p50, PostgreSQL, ms", "api",
     "stores.postgres.uncached.open_loop.50% of /stories saturation.stories.p50_ms", "max", 5),
    ("background writes during the /stories bench, articles/s", "api", "stores.sqlite.cached.writing_rps", "min", 100),
    ("polled item stored, p95 from the fetch (no background load), s", "e2e", "freshness.stored_from_fetch.p95_s", "max", 0.5),
    ("pushed item at the webhook, p95 (no background load), s", "e2e", "push.webhook_from_push.p95_s", "max", 1.0),
    ("background load of the freshness bench (polled phase), articles/s stored", "freshness",
     "polled.background.stored_per_s", "min", 100),
    ("background load of the freshness bench (push phase), articles/s stored", "freshness",
     "push.background.stored_per_s", "min", 100),
    ("polled item stored, p95 from the fetch, under that background load, s", "freshness",
     "polled.stored_from_fetch.p95_s", "max", 0.5),
    ("pushed item at the webhook, p95, under that background load, s", "freshness",
     "push.webhook_from_push.p95_s", "max", 1.0),
    ("RSS of all services at --feeds (100,000 for the goal), MB", "e2e", "memory.total_rss_mb", "max", 800),
    ("slowest dashboard / GET /feeds page at 100,000 feeds, p95, SQLite, ms", "pages", "stores.sqlite.worst_p95_ms",
     "max", 50),
    ("slowest dashboard / GET /feeds page at 100,000 feeds, p95, PostgreSQL, ms", "pages",
     "stores.postgres.worst_p95_ms", "max", 50),
    ("polls within interval + 10 %, 100,000 feeds over an hour, share", "polling", "lateness.within_10pct_share",
     "min", 1.0),
    ("feeds overdue by > 10 % at any store sample, 100,000 feeds", "polling", "overdue_10pct_max", "max", 0),
    ("ingest RSS at 100,000 feeds while polling, peak MB", "polling", "ingest_peak_rss_mb", "max", 250),
]


def lookup(figures: Any, key: str) -> Any:
    """A dotted key in a figures document (keys may hold spaces and '%'), or None."""
    if isinstance(figures, dict) and key in figures:
        return figures[key]
    head, _, rest = key.partition(".")
    while rest or head:
        if isinstance(figures, dict) and head in figures:
            return lookup(figures[head], rest) if rest else figures[head]
        if not rest:
            return None
        nxt, _, rest = rest.partition(".")
        head = f"{head}.{nxt}"
    return None


def goals_table(results: dict[str, dict[str, Any]]) -> str:
    """Every goal with its measured figure: met, missed, or not measured in this run."""
    rows = [("goal", "measured", "target", "")]
    for what, bench, key, sense, target in GOALS:
        res = results.get(bench) or {}
        value = lookup(res.get("figures"), key) if res.get("ok") else None
        if not isinstance(value, (int, float)):
            rows.append((what, "-", f"{'>=' if sense == 'min' else '<='} {target:g}", "not measured"))
            continue
        met = value >= target if sense == "min" else value <= target
        rows.append((what, f"{value:g}", f"{'>=' if sense == 'min' else '<='} {target:g}", "met" if met else "MISSED"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{a:<{widths[0]}}  {b:>{widths[1]}}  {c:<{widths[2]}}  {d}" for a, b, c, d in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def table(results: dict[str, dict[str, Any]]) -> str:
    rows = [("bench", "figure", "value")]
    for name, res in results.items():
        if not res["ok"]:
            last = res["output_tail"].strip().splitlines()[-1:] or [""]
            rows.append((name, "FAILED", f"{res['error']}: {last[0][:70]}"))
            continue
        for key, value in leaves(res["figures"]):
            rows.append((name, key, f"{value:.3f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)))
        rows.append((name, "(bench wall time s)", str(res["seconds"])))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    lines = [f"{a:<{w0}}  {b:<{w1}}  {c}" for a, b, c in rows]
    lines.insert(1, "-" * min(120, max(len(x) for x in lines)))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.bench.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="", help="comma-separated subset of ingest,enrich,api,sink,e2e,freshness,backfill,pages,polling")
    ap.add_argument("--timeout", type=float, default=900, help="seconds allowed per bench")
    args = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    todo = benches(os.environ.get("WIREWATCH_KAFKA_BOOTSTRAP", "127.0.0.1:9092"))
    if args.only:
        todo = {k: v for k, v in todo.items() if k in args.only.split(",")}
    previous = OUT / "results.json"
    results = json.loads(previous.read_text()) if args.only and previous.exists() else {}
    for name, cmd in todo.items():
        print(f"running {name} bench…", file=sys.stderr, flush=True)
        results[name] = run_one(name, cmd, args.timeout)
    (OUT / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(table(results))
    print()
    print(goals_table(results))
    failed = [n for n, r in results.items() if not r["ok"]]
    if failed:
        print(f"\nfailed: {', '.join(failed)} (details in var/bench/results.json)", file=sys.stderr)
    return 1 if len(failed) > 1 else 0


if __name__ == "__main__":
    sys.exit(main())
