"""Extending a story's fold by later articles gives the same view as refolding all of them.

The sink relies on it for big stories (services/db/story_view.py): a syndicated report folded batch by
batch must show exactly what a refold from the store shows. Random stories, every split point.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from services.db import story_view
from services.db.stories import _fold_entities

T0 = datetime(2026, 3, 18, tzinfo=UTC)
ENTITIES = [("Q159", "Russia", "GPE"), ("Q212", "Ukraine", "GPE"), ("Q7747", "Vladimir Putin", "PERSON"),
            ("Q22686", "Donald Trump", "PERSON"), ("Q3874799", "Volodymyr Zelensky", "PERSON"), ("Q30", "United States", "GPE")]
TOPICS = ["ceasefire", "peace_talks", "energy_infrastructure_strike"]

article = st.builds(
    lambda minute, ents, tops, state, src, lang, summary, n: SimpleNamespace(
        id=f"a{n:04d}", title=f"Report {n} " + " ".join(e[0][1] for e in ents), link=f"https://x.example/{n}",
        url=f"https://x.example/{n}", summary=summary, lang=lang, source=src, state=state,
        published_at=T0 + timedelta(minutes=minute),
        topics=[{"name": t, "confidence": c, "evidence": []} for t, c in tops.items()],
        entities=[{"id": i, "name": nm, "type": ty, "mentions": m, "in_title": m > 2, "surface": [nm]}
                  for (i, nm, ty), m in ents]),
    st.integers(0, 600),
    st.lists(st.tuples(st.sampled_from(ENTITIES), st.integers(1, 4)), max_size=4, unique_by=lambda x: x[0][0]),
    st.dictionaries(st.sampled_from(TOPICS), st.sampled_from([0.55, 0.7, 0.9])),
    st.sampled_from([None, None, "proposed", "agreed", "violated"]),
    st.sampled_from(["Wire A", "Wire B", "Daily C"]),
    st.sampled_from(["en", "fr", "uk"]),
    st.sampled_from(["", "A summary."]),
    st.integers(0, 9999),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(article, min_size=2, max_size=30, unique_by=lambda a: a.id))
def test_extend_equals_refold_at_every_split(arts: list[SimpleNamespace]) -> None:
    arts.sort(key=lambda a: (a.published_at, a.id))
    whole = story_view.fold(arts, _fold_entities)
    for k in range(1, len(arts)):
        if arts[k - 1].published_at >= arts[k].published_at:
            assert story_view.extend(story_view.fold(arts[:k], _fold_entities), arts[k:], _fold_entities) is None
            continue
        grown = story_view.extend(story_view.fold(arts[:k], _fold_entities), arts[k:], _fold_entities)
        if grown is not None:  # None: the caller refolds from the store
            assert grown.view() == whole.view()
            assert grown.search_titles() == whole.search_titles()
    assert story_view.extends_exactly(arts, whole, _fold_entities)
