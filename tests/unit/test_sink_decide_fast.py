"""The sink's short-list decision (api/sink/assign.py ``decide_fast``) is the link rule's decision.

Spec: over any candidates, ``decide_fast`` returns what :func:`api.sink.grouping.decide` returns over all of
them; it may stop after a head of the list only when that head already joins every candidate story (a
further candidate can only add links). The syndicated case — every candidate a copy in one story — is
decided from the head.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from api.sink import assign
from api.sink.grouping import decide
from api.sink.linking import LinkRules, Profile

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
ENTITIES = ["Q212", "Q159", "Q30", "Q1860", "Q7747", "Q3409", "Q1055", "Q1899"]
WORDS = ["ceasefire", "truce", "prisoners", "exchange", "talks", "energy", "strikes", "grain", "port", "drone"]


def _profile(rng: random.Random, n: int, base: tuple[int, ...] | None = None) -> Profile:
    ents = rng.sample(ENTITIES, rng.randint(1, 4))
    minhash = base if base is not None and rng.random() < 0.8 else tuple(rng.randrange(4) for _ in range(32))
    return Profile(article_id=f"a{n:03d}", published_at=T0 + timedelta(hours=rng.uniform(0, 90)), lang="en",
                   entities={e: rng.choice([0.5, 1.0, 1.5]) for e in ents},
                   title_entities=frozenset(ents[:1]), topics=frozenset({"ceasefire"}),
                   terms={w: rng.uniform(0.5, 3.0) for w in rng.sample(WORDS, 4)},
                   numbers=frozenset(rng.sample(["30-day", "175", "246"], rng.randint(0, 1))),
                   minhash=minhash)


def _case(rng: random.Random, stories: int, size: int) -> tuple[Profile, list[tuple[Profile, str]], dict]:
    base = tuple(rng.randrange(4) for _ in range(32))
    profs = [_profile(rng, n, base) for n in range(size + 1)]
    story_ids = [f"s{k}" for k in range(stories)]
    cands = [(p, rng.choice(story_ids)) for p in profs[1:]]
    start = {s: (T0 - timedelta(hours=k), s) for k, s in enumerate(story_ids)}
    return profs[0], cands, start


@pytest.mark.parametrize("stories", [1, 2, 3, 6])
def test_the_short_list_decides_what_the_whole_list_decides(stories: int) -> None:
    rules, rng = LinkRules(), random.Random(stories)
    for _ in range(300):
        me, cands, start = _case(rng, stories, rng.randint(0, 40))
        assert assign.decide_fast(me, cands, start, rules) == decide(me, cands, start, rules)


def test_copies_of_one_story_are_decided_from_the_head(monkeypatch: pytest.MonkeyPatch) -> None:
    rules, rng = LinkRules(), random.Random(7)
    base = tuple(range(32))
    me = _profile(rng, 0, base)
    copies = [(Profile(**{**_profile(rng, n).__dict__, "minhash": base}), "s0") for n in range(1, 101)]
    sizes: list[int] = []

    def counted(me_, cands_, start_, rules_):  # type: ignore[no-untyped-def]
        sizes.append(len(list(cands_)))
        return decide(me_, cands_, start_, rules_)

    monkeypatch.setattr(assign, "decide", counted)
    d = assign.decide_fast(me, copies, {"s0": (T0, "s0")}, rules)
    assert (d.story_id, d.merged) == ("s0", ())
    assert sizes == [assign.SHORT_LIST]  # four link scores, not a hundred and 4,950 pairs
