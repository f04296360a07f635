"""The shared vocabulary and the enricher's taxonomy name the same topics and states."""

from __future__ import annotations

from enrich.topics import TopicModel
from services.vocabulary import LIFECYCLE_STATES, TOPICS


def test_taxonomy_tags_exactly_the_shared_topics_and_states() -> None:
    model = TopicModel()
    assert set(model.topics) == set(TOPICS)
    assert set(model.precedence) <= set(LIFECYCLE_STATES)
