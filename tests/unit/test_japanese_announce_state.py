"""Japanese headlines that announce a truce ("停戦を発表", "休戦を表明") report it ``agreed``, as the Chinese
"宣布停火" does; a proposal announced ("停戦案を発表") stays ``proposed``. Found by a hand probe: before the
cue, "ミャンマー軍が停戦を発表" got the topic and no state."""

from __future__ import annotations

import pytest

from enrich.pipeline import Enricher
from tests.unit.tagging import tagger

tag = tagger("ja-announce")


@pytest.mark.parametrize(("title", "state"), [
    ("ミャンマー軍が停戦を発表", "agreed"),
    ("タイとカンボジアが休戦を表明", "agreed"),
    ("ハマスが新たな停戦案を発表", "proposed"),
])
def test_announced_truce_states(enricher: Enricher, title: str, state: str) -> None:
    topics, got = tag(enricher, title)
    assert "ceasefire" in topics
    assert got == state
