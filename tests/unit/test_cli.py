"""The `wirewatch` CLI as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

SEED = (ROOT / "tests" / "data" / "seed_article.txt").read_text(encoding="utf-8")


def wirewatch(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "services.cli", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=120)


def test_tag_reads_json_lines_and_writes_topics_and_entities():
    headline, body = SEED.split("\n", 1)
    lines = [
        json.dumps({"id": "seed", "title": headline, "text": body}),
        json.dumps({"id": "golf", "title": "Rivals call truce before the final round",
                    "text": "The two golfers called a truce after a heated week at the Open."}),
        "",
        "not json",
    ]
    out = wirewatch("tag", stdin="\n".join(lines) + "\n")
    assert out.returncode == 1 and "line 4" in out.stderr  # the bad line is reported, the others still tagged
    seed, golf = (json.loads(x) for x in out.stdout.splitlines())
    assert set(seed) == {"id", "topics", "entities"} and seed["id"] == "seed"
    topics = {t["name"]: t for t in seed["topics"]}
    assert "ceasefire" in topics and topics["ceasefire"]["confidence"] > 0.5 and topics["ceasefire"]["evidence"]
    names = {e["name"] for e in seed["entities"]}
    assert {"Vladimir Putin", "Donald Trump", "Volodymyr Zelensky", "Kyiv", "Kremlin"} <= names
    assert all({"id", "name", "type", "mentions", "surface", "spans"} <= set(e) for e in seed["entities"])
    assert golf["topics"] == []


def test_help_lists_every_service():
    out = wirewatch("run", "--help")
    assert out.returncode == 0
    for name in ("all", "ingest", "enrich", "sink", "webhooks", "api"):
        assert name in out.stdout
