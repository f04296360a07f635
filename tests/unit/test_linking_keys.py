"""Word keys only for reports that may link by words (api/sink/linking.py ``same_language_caps``,
``words_may_link``, ``keys``), and the screen in ``scores`` that uses the same caps.

Spec: ``same_language_caps(rules)[a.presence & b.presence]`` is never below the logistic score
:func:`probability` gives a pair in one language that passes its gate (inside the window, no near-copy),
whatever the pair and for weights of any sign; so a report whose own cap is below the link floor links to
no report in its language but as a near-copy, and :func:`keys` may leave its word keys out (they are only
ever shared in one language). A report with an entity, a name, a kind or anything else that can carry a
link keeps its word keys, and under a lower threshold every report does.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import timedelta

import pytest

from api.sink.linking import (
    FEATURES,
    HAS_ENTITIES,
    HAS_KINDS,
    HAS_NUMBERS,
    KEY_TERMS,
    LinkRules,
    Profile,
    _z_floor,
    jaccard,
    keys,
    probability,
    same_language_caps,
    scores,
    words_may_link,
)
from tests.unit.test_linking_screen import T0, _profiles, _z


def _same_language(profs: list[Profile], lang: str | None) -> list[Profile]:
    return [replace(p, lang=lang) for p in profs]


def _bare(n: int, **kw: object) -> Profile:
    """A report with words and nothing else (what the backfill farm's items mostly are)."""
    return Profile(article_id=f"x{n}", published_at=T0 + timedelta(minutes=n), lang="en",
                   terms={"relatives": 1.9, "breath": 1.7, "exposure": 1.7, "item": 1.69, "feed": 1.63,
                          "signs": 1.6, "reflected": 1.37, "permitted": 1.36, "politician": 1.35},
                   minhash=tuple(range(n, n + 64)), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", ["en", None])
def test_the_cap_is_never_below_a_pair_score_in_one_language(lang: str | None) -> None:
    rules = LinkRules()
    caps = same_language_caps(rules)
    profs = _same_language(_profiles(11, 200), lang)
    checked = 0
    for a in profs[:100]:
        for b in profs[100:]:
            z = _z(a, b, rules)
            if z is None or jaccard(a.minhash, b.minhash) >= rules.near_duplicate:
                continue
            assert caps[a.presence & b.presence] >= z - 1e-12, (a, b)
            checked += 1
    assert checked > 2_000


def test_the_cap_holds_for_weights_of_any_sign() -> None:
    rng = random.Random(12)
    profs = _same_language(_profiles(13, 120), "de")
    capped = 0
    for _ in range(40):
        weights = tuple(rng.uniform(-3, 3) for _ in range(len(FEATURES) + 1))
        rules = LinkRules(weights=weights, generic_kind_share=rng.choice([0.25, 1.5]),
                          near_duplicate=rng.choice([0.5, 0.9, 1.2]))
        caps = same_language_caps(rules)
        if math.isinf(caps[0]):
            continue
        capped += 1
        for a in profs[:60]:
            for b in profs[60:]:
                z = _z(a, b, rules)
                if z is not None and jaccard(a.minhash, b.minhash) < rules.near_duplicate:
                    assert caps[a.presence & b.presence] >= z - 1e-12
    assert capped > 5


def test_no_cap_when_an_overlap_weight_is_negative() -> None:
    w = list(LinkRules().weights)
    for at in (FEATURES.index("entities"), FEATURES.index("entities_strict"), FEATURES.index("words")):
        neg = list(w)
        neg[at] = -0.1
        assert all(math.isinf(c) for c in same_language_caps(LinkRules(weights=tuple(neg))))


def test_a_report_with_words_and_a_number_only_gets_no_word_keys() -> None:
    rules = LinkRules()
    bare, numbered = _bare(1), _bare(2, numbers=frozenset({"n:12"}))
    for p in (bare, numbered):
        assert not words_may_link(p, rules)
        assert not [k for k in keys(p, ["0:ab"], rules) if k.startswith("w:")]
        assert "b:0:ab" in keys(p, ["0:ab"], rules)
    assert "n:12" in keys(numbered, [], rules)
    # With the fitted weights: 0.01 (p 0.50) and 1.21 (p 0.77), below the 0.8 threshold's 1.386.
    assert same_language_caps(rules)[0] < same_language_caps(rules)[HAS_NUMBERS] < _z_floor(0.8)  # type: ignore[operator]


@pytest.mark.parametrize("extra", [
    {"entities": {"Q212": 0.5}},
    {"names": frozenset({"nm:Zelensky"})},
    {"kinds": ("strike",), "numbers": frozenset({"n:12"})},
    {"title_entities": frozenset({"Q212"}), "entities": {"Q212": 1.5}},
])
def test_a_report_with_something_that_carries_a_link_keeps_its_word_keys(extra: dict[str, object]) -> None:
    p = _bare(3, **extra)
    assert words_may_link(p, LinkRules())
    words = [k for k in keys(p, [], LinkRules()) if k.startswith("w:")]
    assert len(words) == KEY_TERMS and "w:en:relatives" in words


def test_keys_default_to_the_default_rules_and_follow_the_threshold() -> None:
    p = _bare(4)
    assert keys(p) == keys(p, (), LinkRules())
    low = LinkRules(alone=0.5, supported=0.5)  # at 0.5 even words and time alone may reach it (0.01 >= 0)
    assert words_may_link(p, low) and len([k for k in keys(p, (), low) if k.startswith("w:")]) == KEY_TERMS
    # no screen at a floor of 0 or 1: every report keeps its word keys
    assert words_may_link(p, LinkRules(alone=1.0, supported=1.0))
    assert words_may_link(p, LinkRules(alone=0.0, supported=0.0))


def test_a_report_without_word_keys_links_in_its_language_only_as_a_near_copy() -> None:
    """Every pair in one language with a side that :func:`words_may_link` turns down: below the floor, or
    a near-copy (which its band keys find)."""
    rules = LinkRules()
    floor = min(rules.alone, rules.supported)
    profs = _same_language(_profiles(14, 300), "en") + [_bare(n) for n in range(40)] \
        + [replace(_bare(n, numbers=frozenset({"n:1"})), article_id=f"y{n}") for n in range(0, 40, 2)]
    bare = [p for p in profs if not words_may_link(p, rules)]
    assert len(bare) > 50
    near = 0
    for a in bare:
        for b in profs:
            if a is b:
                continue
            p = probability(a, b, rules)
            assert p < floor or jaccard(a.minhash, b.minhash) >= rules.near_duplicate
            near += p >= floor
    assert near > 0  # the near-copies still link


def test_scores_screened_by_the_caps_reach_the_floor_as_the_probabilities_do() -> None:
    """The caps' screen in :func:`scores` (one language, presence in common) keeps every probability that
    reaches the floor, and only pairs below it are screened; with reports that share nothing but words."""
    rules = LinkRules()
    profs = _same_language(_profiles(15, 200), "en") + [_bare(n) for n in range(20, 60)] \
        + [_bare(n, numbers=frozenset({"n:1"}), kinds=("strike",)) for n in range(60, 80)]
    for me in profs[::7]:
        others = [o for o in profs if o is not me]
        for p, s in zip((probability(me, o, rules) for o in others), scores(me, others, rules, 0.8), strict=True):
            assert (s == p) if p >= 0.8 else (s < 0.8)


def test_presence_is_what_the_report_has() -> None:
    p = _bare(5, entities={"Q1": 1.0}, kinds=("talks",))
    assert p.presence == HAS_ENTITIES | HAS_KINDS
    assert Profile(**p.__dict__).presence == p.presence  # derived, whatever is passed
    assert Profile.from_json(p.article_id, p.to_json()).presence == p.presence
