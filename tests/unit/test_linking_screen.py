"""The link rule's screened scores (api/sink/linking.py ``scores``, ``z_bound``) decide what the full
probability decides.

Spec: :func:`z_bound` is never below the logistic score :func:`probability` gives a pair that passes its gate
(whatever the pair: one language or two, names, headline words, kinds, states, numbers, topics); ``scores``
returns a pair's exact probability wherever it reaches the floor, and a value below the floor wherever the
probability is below it; so :func:`api.sink.grouping.decide` (which only compares with ``alone`` and
``supported``) decides as it did when it scored every candidate with :func:`probability`. The pairs are
random over every feature, with many near the thresholds.
"""

from __future__ import annotations

import math
import operator
import random
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest

from api.sink import grouping
from api.sink.linking import (
    LinkRules,
    Profile,
    _bound_of,
    _features,
    _shared_words,
    jaccard,
    probability,
    scores,
    z_bound,
)

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
ENTITIES = ["Q212", "Q159", "Q30", "Q1860", "Q7747", "Q3409", "ww:us-congress", "ww:black-sea-grain", "Q1055"]
WORDS = ["ceasefire", "truce", "prisoners", "exchange", "talks", "energy", "strikes", "grain", "port", "drone",
         "cathedral", "catedral", "Kathedrale", "explosion", "explosión", "negotiations", "negociaciones"]
NAMES = ["nm:Gorbachev", "nm:Gorbatschow", "nm:Горбачёв", "nm:Zelensky", "nm:Selenskyj", "nm:Messi", "nm:Suez"]
TITLE = ["suez", "gorbatchev", "горбачёв", "messi", "odesa", "odessa", "kharkiv", "charkiw"]
KINDS = ["ceasefire", "strike", "talks", "killing", "arrest", "exchange"]
STATES = ["proposed", "agreed", "in_force", "extended", "collapsed", "violated"]


def _profile(rng: random.Random, n: int, base: tuple[int, ...]) -> Profile:
    ents = rng.sample(ENTITIES, rng.randint(0, 5))
    share = rng.choice([0.0, 0.2, 0.4, 0.5, 0.6, 0.9])
    minhash = tuple(v if rng.random() < share else rng.randrange(1 << 61) for v in base)
    return Profile(
        article_id=f"a{n:04d}", published_at=T0 + timedelta(seconds=rng.uniform(0, 100 * 3600)),
        lang=rng.choice(["en", "en", "de", "fr", None]),
        entities={e: rng.choice([0.2, 0.5, 0.75, 1.0, 1.5]) for e in ents},
        title_entities=frozenset(ents[:rng.randint(0, 2)]),
        topics=frozenset(rng.sample(["ceasefire", "peace_talks", "sanctions"], rng.randint(0, 2))),
        states=frozenset(rng.sample(STATES, rng.randint(0, 2))),
        terms={w: rng.uniform(0.2, 3.0) for w in rng.sample(WORDS, rng.randint(0, 8))},
        numbers=frozenset(rng.sample(["30-day", "175", "246"], rng.randint(0, 2))),
        names=frozenset(rng.sample(NAMES, rng.randint(0, 3))),
        minhash=minhash if rng.random() < 0.95 else minhash[:32],
        kinds=tuple(rng.sample(KINDS, rng.randint(0, 3))),
        title_names=frozenset(rng.sample(TITLE, rng.randint(0, 3))))


def _profiles(seed: int, count: int) -> list[Profile]:
    rng = random.Random(seed)
    base = tuple(rng.randrange(1 << 61) for _ in range(64))
    return [_profile(rng, n, base) for n in range(count)]


def _z(a: Profile, b: Profile, rules: LinkRules) -> float | None:
    """The logistic score :func:`probability` weighs (None: the gate says the two share nothing)."""
    seconds = abs((a.published_at - b.published_at).total_seconds())
    words = _shared_words(a, b, rules)
    if words is None:
        return None
    w = rules.weights
    return w[-1] + sum(map(operator.mul, w, _features(a, b, rules, seconds, words, jaccard(a.minhash, b.minhash))))


@pytest.mark.parametrize("floor", [None, 0.8, 0.5, 0.2, 0.95])
def test_the_bound_is_never_below_the_score(floor: float | None) -> None:
    """Whether it stops at the entities' totals (below the floor's score) or computes their overlaps."""
    rules, profs = LinkRules(), _profiles(1, 160)
    checked = 0
    for a in profs[:80]:
        bound = _bound_of(a, rules, -math.inf if floor is None else math.log(floor / (1 - floor)))
        for b in profs[80:]:
            z = _z(a, b, rules)
            if z is None:
                continue
            seconds = abs((a.published_at - b.published_at).total_seconds())
            minhash = jaccard(a.minhash, b.minhash)
            assert bound(b, seconds, minhash) >= z - 1e-12, (a, b)
            assert z_bound(a, b, rules, seconds, minhash) >= z - 1e-12, (a, b)
            checked += 1
    assert checked > 2_000


@pytest.mark.parametrize("floor", [0.8, 0.5, 0.2, 0.95, 0.0, 1.0, 1e-9])
def test_scores_are_the_probabilities_that_reach_the_floor(floor: float) -> None:
    rules, profs = LinkRules(alone=floor, supported=floor), _profiles(2, 240)
    screened = reached = 0
    for k in range(0, 240, 40):
        me, others = profs[k], profs[:k] + profs[k + 1:]
        for p, s in zip((probability(me, o, rules) for o in others), scores(me, others, rules, floor), strict=True):
            if p >= floor:
                assert s == p
                reached += 1
            else:
                assert s < floor
                screened += s != p
    assert reached > 0 and (floor in (0.0, 1.0, 1e-9) or screened > 0)


def _every_probability(me: Profile, others: list[Profile], rules: LinkRules, floor: float) -> list[float]:
    """What :func:`scores` stands in for in :func:`grouping.decide`: every pair scored in full."""
    return [probability(me, o, rules) for o in others]


def _decide_exact(me, candidates, story_start, rules):  # type: ignore[no-untyped-def]
    """:func:`grouping.decide` as it was: every candidate scored with :func:`probability`."""
    with mock.patch.object(grouping, "scores", _every_probability):
        return grouping.decide(me, candidates, story_start, rules)


@pytest.mark.parametrize(("alone", "supported"), [(0.8, 0.8), (0.9, 0.6), (0.6, 0.9)])
def test_decide_decides_as_with_every_probability(alone: float, supported: float) -> None:
    rules, rng = LinkRules(alone=alone, supported=supported), random.Random(3)
    profs = _profiles(4, 400)
    story_ids = [f"s{k}" for k in range(8)]
    start = {s: (T0 - timedelta(hours=k), s) for k, s in enumerate(story_ids)}
    joined = 0
    for _ in range(300):
        me, *rest = rng.sample(profs, rng.randint(1, 40))
        cands = [(p, rng.choice(story_ids)) for p in rest]
        d = grouping.decide(me, cands, start, rules)
        assert d == _decide_exact(me, cands, start, rules)
        joined += d.story_id != me.article_id
    assert joined > 20


def test_the_seconds_and_jaccards_are_those_of_the_pair() -> None:
    """The integer-µs seconds and the packed-lane Jaccards are the values :func:`probability` computes."""
    profs = _profiles(5, 60)
    me = profs[0]
    others = profs[1:]
    for o in others:
        assert abs(me.at_us - o.at_us) / 1_000_000 == abs((me.published_at - o.published_at).total_seconds())
    from api.sink.linking import _jaccards

    assert _jaccards(me, others) == [jaccard(me.minhash, o.minhash) for o in others]
    odd = Profile(**{**others[0].__dict__, "minhash": (1.5, 2.0)})  # not integers: compared one by one
    assert odd.minhash_lanes is None
    assert _jaccards(me, [odd, *others]) == [jaccard(me.minhash, o.minhash) for o in [odd, *others]]


def test_the_screen_does_not_apply_at_a_floor_near_zero_or_one() -> None:
    from api.sink.linking import _z_floor

    assert _z_floor(0.0) is None and _z_floor(1.0) is None
    assert math.isclose(_z_floor(0.8) or 0.0, math.log(4), abs_tol=1e-5)


def test_packed_lanes_count_equal_positions_whatever_the_bytes() -> None:
    """The lanes trick counts equal values exactly, even where unequal values share zero bytes, a value
    is 0 or 2**32 - 1, or a zero run would straddle two lanes; values outside 32 bits fall back."""
    import random

    from api.sink.linking import _jaccards

    rng = random.Random(7)
    pool = [0, 1, 255, 256, 65536, 2**24, 2**32 - 1, 0x00FF0000, 0xFF000000]
    base = _profiles(2, 60)[0]
    for _ in range(300):
        n = rng.choice([1, 2, 5, 64])
        a = tuple(rng.choice(pool) if rng.random() < 0.5 else rng.randrange(2**32) for _ in range(n))
        b = tuple(x if rng.random() < 0.4 else rng.choice(pool) for x in a)
        pa = Profile(**{**base.__dict__, "minhash": a})
        pb = Profile(**{**base.__dict__, "minhash": b})
        assert _jaccards(pa, [pb]) == [jaccard(a, b)]
    big = Profile(**{**base.__dict__, "minhash": (2**32, 5)})
    assert big.minhash_lanes is None
    assert _jaccards(big, [Profile(**{**base.__dict__, "minhash": (2**32, 6)})]) == [0.5]
