"""On the labelled stream's dev part, the screened scores (api/sink/linking.py ``scores``) group exactly as
scoring every candidate with the full probability does, and each scored candidate pair gets the same
linked / not linked answer at both thresholds (the held-out part is not read here).
"""

from __future__ import annotations

import pytest

from api.sink import grouping
from api.sink.linking import LinkRules, probability
from tests.integration import dev_stream


@pytest.fixture(scope="module")
def dev_profiles():  # type: ignore[no-untyped-def]
    return dev_stream.dev_profiles()


@pytest.mark.parametrize(("alone", "supported"), [(0.8, 0.8), (0.7, 0.9), (0.9, 0.7)])
def test_the_dev_stream_groups_as_with_every_probability(dev_profiles, monkeypatch, alone, supported) -> None:
    rules = LinkRules(alone=alone, supported=supported)
    pairs: list[tuple] = []
    real = grouping.scores

    def recorded(me, others, rules_, floor):  # type: ignore[no-untyped-def]
        pairs.extend((me, o, floor) for o in others)
        return real(me, others, rules_, floor)

    monkeypatch.setattr(grouping, "scores", recorded)
    screened = dev_stream.group(dev_profiles, rules)
    monkeypatch.setattr(grouping, "scores",
                        lambda me, others, rules_, floor: [probability(me, o, rules_) for o in others])
    assert dev_stream.group(dev_profiles, rules) == screened
    assert len(pairs) > 1_000
    for me, o, floor in pairs:
        p, s = probability(me, o, rules), real(me, [o], rules, floor)[0]
        assert (s >= alone, s >= supported) == (p >= alone, p >= supported)
        assert s == p or p < floor
