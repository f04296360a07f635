"""The pairwise same-event rule and the grouping it drives, on hand-made profiles (no models, no store).

Spec: near-copies always link; reports sharing the event's entities, words and numbers link; the same
parties in a different event (another topic, or the ceasefire's collapse) do not; nothing links across
the time window; a story is a connected component, so any arrival order groups the same way, and an
article that links two stories merges them into the oldest.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from api.sink.grouping import Grouping, decide
from api.sink.linking import LinkRules, Profile, keys, linked, probability

T0 = datetime(2025, 3, 18, 16, 0, tzinfo=UTC)
RULES = LinkRules()
RU, UA, US = "Q159", "Q212", "Q30"
PUTIN, TRUMP, BLACK_SEA = "Q7747", "Q22686", "ww:black-sea"


def prof(aid: str, *, hours: float = 0, lang: str = "en", ents: dict[str, float] | None = None,
         topics: tuple[str, ...] = ("ceasefire",), state: str | None = None, terms: dict[str, float] | None = None,
         numbers: tuple[str, ...] = (), minhash: tuple[int, ...] = ()) -> Profile:
    return Profile(article_id=aid, published_at=T0 + timedelta(hours=hours), lang=lang, entities=ents or {},
                   topics=frozenset(topics), states=frozenset([state] if state else []), terms=terms or {},
                   numbers=frozenset(numbers),
                   minhash=minhash)


CALL = dict(ents={PUTIN: 1.5, TRUMP: 1.5, RU: 0.5, UA: 0.5}, topics=("ceasefire", "energy_infrastructure_strike"),
            numbers=("n:30",), state="agreed")
SEA = dict(ents={RU: 0.5, UA: 0.5, US: 0.5, BLACK_SEA: 1.5}, topics=("ceasefire",), state="agreed")


def test_near_copies_link_whatever_else_differs() -> None:
    mh = tuple(range(64))
    a, b = prof("a", minhash=mh), prof("b", hours=1, minhash=mh[:40] + (0,) * 24, topics=("sanctions",))
    assert probability(a, b, RULES) == 1.0 and linked(a, b, RULES)


def test_nothing_shared_nothing_linked() -> None:
    """A nationality adjective and the same hour are not an event: the pair must share something specific."""
    a = prof("a", ents={"ww:american": 0.2}, topics=(), terms={"rates": 2.0})
    b = prof("b", hours=0.5, ents={"ww:american": 0.2, PUTIN: 1.5}, terms={"truce": 2.0})
    assert probability(a, b, RULES) == 0.0


def test_reports_of_one_event_link_in_one_language_and_across_languages() -> None:
    en = prof("en", **CALL, terms={"energy": 2.0, "pause": 2.4, "call": 1.5, "infrastructure": 1.8})
    en2 = prof("en2", hours=2, **CALL, terms={"energy": 2.0, "halt": 2.5, "pause": 2.4, "phone": 1.9})
    ru = prof("ru", hours=3, lang="ru", **CALL, terms={"энергетике": 2.2, "ударов": 1.9})
    assert linked(en, en2, RULES)
    assert linked(en, ru, RULES)  # no shared words: entities, number and topics carry it


def test_same_parties_other_event_or_the_collapse_stay_apart() -> None:
    call = prof("call", **CALL, terms={"energy": 2.0, "pause": 2.4})
    sea = prof("sea", hours=20, **SEA, terms={"maritime": 2.0, "navigation": 2.3, "sea": 1.0})
    swap = prof("swap", hours=24, ents={RU: 0.5, UA: 0.5}, topics=("prisoner_exchange",), numbers=("n:175",))
    collapse = prof("collapse", hours=30, **{**CALL, "state": "collapsed"}, terms={"energy": 2.0, "resumed": 2.3})
    assert not linked(call, sea, RULES)
    assert not linked(call, swap, RULES)
    assert probability(call, collapse, RULES) < probability(call, prof("again", hours=30, **CALL, terms={"energy": 2.0}), RULES)
    assert not linked(call, collapse, RULES)


def test_nothing_links_across_the_window() -> None:
    a = prof("a", **CALL, minhash=tuple(range(64)))
    late = prof("late", hours=RULES.window_s / 3600 + 1, **CALL, minhash=tuple(range(64)))
    assert probability(a, late, RULES) == 0.0


def test_keys_reach_every_article_a_link_needs() -> None:
    a = prof("a", **CALL, terms={"energy": 2.0})
    assert {"e:Q7747", "n:30", "w:en:energy"} <= set(keys(a, ["0:abc"])) and "b:0:abc" in keys(a, ["0:abc"])


def test_a_bridge_merges_two_stories_into_the_oldest() -> None:
    a = prof("a", **CALL, terms={"energy": 2.0, "pause": 2.4})
    b = prof("b", hours=1, lang="ru", ents={PUTIN: 1.5, RU: 0.5}, topics=("ceasefire",), terms={"удары": 2.0})
    start = {"s-a": (a.published_at, "s-a"), "s-b": (b.published_at, "s-b")}
    bridge = prof("c", hours=2, lang="ru", **CALL, terms={"удары": 2.0})
    d = decide(bridge, [(a, "s-a"), (b, "s-b")], start, RULES)
    if linked(bridge, a, RULES) and linked(bridge, b, RULES):
        assert (d.story_id, d.merged) == ("s-a", ("s-b",))


def _scenario() -> list[tuple[Profile, list[str]]]:
    out = []
    for i in range(4):
        p = prof(f"call{i}", hours=i, lang=("en", "ru")[i % 2], **CALL, terms={"energy": 2.0, "pause": 2.4})
        out.append((p, keys(p)))
    for i in range(3):
        p = prof(f"sea{i}", hours=30 + i, **SEA, terms={"maritime": 2.0, "navigation": 2.3})
        out.append((p, keys(p)))
    for i in range(2):
        p = prof(f"swap{i}", hours=20 + i, ents={RU: 0.5, UA: 0.5}, topics=("prisoner_exchange",),
                 numbers=("n:175",), terms={"prisoners": 2.0, "swap": 2.2})
        out.append((p, keys(p)))
    return out


def _partition(g: Grouping) -> set[frozenset[str]]:
    return {frozenset(v) for v in g.groups().values()}


@pytest.mark.parametrize("seed", range(20))
def test_any_arrival_order_groups_the_same(seed: int) -> None:
    items = _scenario()
    reference = Grouping(RULES)
    for p, k in items:
        reference.add(p, k)
    shuffled = items[:]
    random.Random(seed).shuffle(shuffled)
    g = Grouping(RULES)
    for p, k in shuffled:
        g.add(p, k)
    assert _partition(g) == _partition(reference)
    assert _partition(reference) == {frozenset({f"call{i}" for i in range(4)}),
                                     frozenset({f"sea{i}" for i in range(3)}), frozenset({"swap0", "swap1"})}


def test_settings_defaults_are_the_rules_defaults() -> None:
    from api.sink.service import grouping_rules
    from services.settings import Settings

    rules, d = grouping_rules(Settings()), LinkRules()
    assert (rules.link.alone, rules.link.supported, rules.link.window_s, rules.link.near_duplicate) == (
        d.alone, d.supported, d.window_s, d.near_duplicate)


def test_a_profile_derives_its_weight_totals_whatever_it_is_built_from() -> None:
    """The totals every overlap divides by are computed once per profile, and never taken from the caller:
    a copy with other entities (``replace``, ``Profile(**p.__dict__)``) gets its own."""
    p = prof("t1", ents={PUTIN: 1.5, RU: 0.5}, terms={"truce": 2.0, "energy": 1.0})
    assert (p.entity_total, p.term_total) == (2.0, 3.0)
    q = replace(p, entities={PUTIN: 1.5})
    assert q.entity_total == 1.5 and Profile(**{**q.__dict__, "entity_total": 99.0}).entity_total == 1.5
    assert Profile.from_json("t1", p.to_json()).term_total == 3.0


def test_weights_that_do_not_fit_the_features_are_refused() -> None:
    a, b = prof("w1", **CALL), prof("w2", hours=1, **CALL)
    assert 0.0 < probability(a, b, LinkRules()) <= 1.0
    with pytest.raises(ValueError, match="features"):
        probability(a, b, LinkRules(weights=LinkRules().weights[:-2]))
