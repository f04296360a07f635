"""A story's index rows stay what the story shows while batches join it, on SQLite and PostgreSQL.

Spec: the sink rewrites a stored story's topic, entity and search rows only where they changed (entity
mention counts are updated in place); after every batch, whichever of those happened, each story's
``story_topics``, ``story_entities`` and search row are exactly what its topics, entities, headline and
summary say, and a search for any word of any of its article titles finds it.
"""

from __future__ import annotations

from aiokafka.structs import ConsumerRecord
from sqlalchemy import select

from api.sink.service import store_batch
from services.db.engine import make_engine, make_sessions
from services.db.models import Story, StoryEntity, StoryTopic
from services.db.search import story_search
from services.db.stories import list_stories
from services.events import EnrichedArticle, EntityMention, TopicTag
from services.matching import StoryFilter
from services.settings import Settings
from tests.bench.sink import workload


def _events() -> list[EnrichedArticle]:
    """64 copies of one report: later ones with a title word of their own, a second topic (from 40), a
    second entity (from 48); every copy adds a mention of the first."""
    out = []
    for i, ev in enumerate(workload("syndicated", 64)):
        art = ev.article.model_copy(update={"title": f"{ev.article.title} zebra{i}"}) if i >= 32 else ev.article
        topics = [*ev.topics, TopicTag(name="diplomacy", confidence=0.7)] if i >= 40 else ev.topics
        entities = [*ev.entities, EntityMention(id="Q90", name="Paris", type="GPE")] if i >= 48 else ev.entities
        out.append(ev.model_copy(update={"article": art, "topics": topics, "entities": entities}))
    return out


async def test_index_rows_follow_the_story_batch_after_batch(store_url: str) -> None:
    events = _events()
    engine = make_engine(Settings(), url=store_url)
    sessions = make_sessions(engine)
    try:
        for k in range(0, len(events), 8):
            batch = events[k:k + 8]
            await store_batch(sessions, [ConsumerRecord("articles.enriched", 0, k + i, 0, 0, e.id.encode(),
                                                        e.to_bytes(), None, 0, 0, ()) for i, e in enumerate(batch)])
            async with sessions() as s:
                stories = (await s.execute(select(Story))).scalars().all()
                assert len(stories) == 1
                story = stories[0]
                topics = set((await s.execute(select(StoryTopic.topic, StoryTopic.confidence)
                                              .where(StoryTopic.story_id == story.id))).tuples().all())
                assert topics == {(t["name"], t["confidence"]) for t in story.topics}
                entities = set((await s.execute(select(StoryEntity.entity_id, StoryEntity.name, StoryEntity.type,
                                                       StoryEntity.mentions)
                                                .where(StoryEntity.story_id == story.id))).tuples().all())
                assert entities == {(e["id"], e["name"], e["type"], e["mentions"]) for e in story.entities}
                assert ("Q71", "Geneva", "GPE", k + 8) in entities
                doc = (await s.execute(select(story_search.c.headline, story_search.c.summary)
                                       .where(story_search.c.story_id == story.id))).one()
                assert tuple(doc) == (story.headline, story.summary)
                for i in range(32, k + 8):
                    page, _ = await list_stories(s, filter=StoryFilter(q=f"zebra{i}"), limit=5)
                    assert [r.id for r in page] == [story.id], f"zebra{i} after {k + 8} articles"
    finally:
        await engine.dispose()
