"""On the labelled stream's dev part, leaving out the word keys of reports that cannot link by words
(api/sink/linking.py ``words_may_link``) groups exactly as keying every report by its top words did, and no
pair the rule links loses every key it shared (the held-out part is not read here).
"""

from __future__ import annotations

import itertools

import pytest

from api.sink import linking
from api.sink.linking import LinkRules, keys, probability, words_may_link
from tests.integration import dev_stream


@pytest.fixture(scope="module")
def dev_profiles():  # type: ignore[no-untyped-def]
    return dev_stream.dev_profiles()


@pytest.mark.parametrize(("alone", "supported"), [(0.8, 0.8), (0.7, 0.9)])
def test_the_dev_stream_groups_as_with_every_word_key(dev_profiles, monkeypatch, alone, supported) -> None:
    rules = LinkRules(alone=alone, supported=supported)
    fewer = dev_stream.group(dev_profiles, rules, rules)
    monkeypatch.setattr(linking, "words_may_link", lambda p, r: True)
    assert dev_stream.group(dev_profiles, rules, rules) == fewer


def test_every_linked_dev_pair_still_shares_a_key(dev_profiles, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Each pair the rule links that shared a key with every report's word keys shares one still (a few
    linked pairs shared none before either: the index never handed them to each other)."""
    rules = LinkRules()
    fewer = [set(keys(p, bands, rules)) for p, bands in dev_profiles]
    assert sum(not words_may_link(p, rules) for p, _ in dev_profiles) >= 10  # some dev reports lose them
    monkeypatch.setattr(linking, "words_may_link", lambda p, r: True)
    every = [set(keys(p, bands, rules)) for p, bands in dev_profiles]
    linked = 0
    for i, j in itertools.combinations(range(len(dev_profiles)), 2):
        if every[i] & every[j] and probability(dev_profiles[i][0], dev_profiles[j][0], rules) >= rules.alone:
            assert fewer[i] & fewer[j], (dev_profiles[i][0].article_id, dev_profiles[j][0].article_id)
            linked += 1
    assert linked > 500
