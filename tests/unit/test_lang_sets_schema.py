"""Every hand-labelled language set keeps the schema of tests/data/lang/README_full.md.

Why: the eval trusts these files blindly; a state on a non-ceasefire item, a topic the taxonomy does not
have, or an id shared by a dev and a held-out file would silently change the figures the README reports.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import ROOT

LANG = ROOT / "tests" / "data" / "lang"
KEYS = ("id", "lang", "title", "text", "topics", "state", "entities", "entity_qids", "hard_negative", "form")
STATES = {"proposed", "agreed", "in_force", "violated", "extended", "rejected", "collapsed"}
FORMS = {"headline", "summary", "full"}
NEGATIVE_CLASSES = {"trade", "politics", "sports", "policing", "firefighting", "business", "arts", "labour",
                    "crime", "history",
                    "legal", "celebrity", "metaphor", "games"}  # the later dev batches' extra classes
SETS = sorted(p for p in LANG.glob("*.jsonl") if not p.name.startswith("langid"))
TOPICS = set(json.loads((ROOT / "enrich" / "taxonomy.json").read_text(encoding="utf-8"))["topics"])


def _items(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_sets_are_there() -> None:
    names = {p.name for p in SETS}
    assert {"full_heldout3.jsonl", "ceasefire_heldout3.jsonl", "full_dev.jsonl"} <= names


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.name)
def test_items_keep_the_schema(path: Path) -> None:
    for it in _items(path):
        where = f"{path.name}:{it.get('id')}"
        assert tuple(it) == KEYS, where
        assert set(it["topics"]) <= TOPICS, where
        assert ("ceasefire" in it["topics"]) == (it["state"] is not None), where
        assert it["state"] is None or it["state"] in STATES, where
        if it["hard_negative"] is not None:
            assert it["hard_negative"] in NEGATIVE_CLASSES and it["topics"] == [], where
        assert it["form"] in FORMS, where
        assert (it["form"] == "headline") == (it["text"] == ""), where
        assert set(it["entity_qids"]) <= set(it["entities"]), where
        assert all(q.startswith("Q") and q[1:].isdigit() for q in it["entity_qids"].values()), where


def test_ids_are_unique_across_every_set() -> None:
    counts = Counter(it["id"] for p in SETS for it in _items(p))
    assert [k for k, n in counts.items() if n > 1] == []
