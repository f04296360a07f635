"""The labelled story stream's dev part as the sink sees it, for the linking tests that compare one grouping
rule with another on it (the held-out part is never read here)."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from api.sink.grouping import Grouping
from api.sink.linking import LinkRules, Profile, keys, profile_of
from enrich.pipeline import shared_enricher
from tests.eval.stories import load_stream, raw_article


@functools.cache
def dev_profiles() -> tuple[tuple[Profile, list[str]], ...]:
    """Every dev report's link profile and MinHash band keys, in publication order (enriched once a process)."""
    items = sorted((it for it in load_stream() if it["split"] == "dev"), key=lambda it: (it["published_at"], it["id"]))
    events = shared_enricher().enrich([raw_article(it) for it in items])
    rules = LinkRules()
    return tuple((profile_of(ev, rules), ev.cluster_bands) for ev in events)


def group(profiles: Sequence[tuple[Profile, list[str]]], rules: LinkRules,
          key_rules: LinkRules | None = None) -> dict[str, str]:
    """Story of each report when ``profiles`` arrive in order, indexed by :func:`keys` under ``key_rules``."""
    g = Grouping(rules)
    for p, bands in profiles:
        g.add(p, keys(p, bands, key_rules))
    return dict(g.story_of)
