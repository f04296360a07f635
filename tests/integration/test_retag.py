"""``wirewatch retag`` on real SQLite and PostgreSQL: stale tags are restored, stories follow, a second run is a no-op."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiokafka.structs import ConsumerRecord
from sqlalchemy import select

from api.sink.service import store_batch
from enrich.pipeline import shared_enricher
from enrich.retag import parse_since, retag_store
from services.db import stories as repo
from services.db.engine import make_engine, make_sessions
from services.db.models import Article, Story
from services.events import RawArticle

T0 = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)
TEXTS = [
    ("Russia and Ukraine agree to swap 300 prisoners of war",
     "Russia and Ukraine agreed to exchange 300 prisoners of war each, Ukraine's coordination headquarters said on "
     "Friday. The swap was mediated by the United Arab Emirates."),
    ("EU adopts new sanctions on Russian oil exports",
     "The European Union adopted a new package of sanctions on Russia on Monday, targeting tankers of the shadow "
     "fleet that carry Russian oil."),
    ("Storm closes roads across the Highlands",
     "Heavy rain and strong winds closed roads across the Scottish Highlands on Tuesday."),
]


@pytest.fixture
def settings(make_settings, store_url):
    return make_settings(database_url=store_url)


@pytest.fixture
async def sessions(store_url, settings):
    engine = make_engine(settings, url=store_url)
    yield make_sessions(engine)
    await engine.dispose()


async def _snapshot(sessions) -> dict[str, tuple]:
    async with sessions() as s:
        arts = (await s.scalars(select(Article))).all()
        stories = (await s.scalars(select(Story))).all()
        return {**{a.id: (a.story_id, a.version, a.topics, a.entities, a.state) for a in arts},
                **{f"story:{st.id}": (st.version, st.topics, st.state, st.article_count) for st in stories}}


async def test_retag_restores_tags_and_second_run_changes_nothing(settings, sessions, capsys) -> None:
    enricher = shared_enricher()
    events = enricher.enrich([RawArticle(id=f"rt{i}", source="Wire", title=t, content=x,
                                         published_at=T0 + timedelta(days=i)) for i, (t, x) in enumerate(TEXTS)])
    await store_batch(sessions, [ConsumerRecord("t", 0, i, 0, 0, None, ev.to_bytes(), None, 0, 0, ())
                                 for i, ev in enumerate(events)])
    stored = await _snapshot(sessions)
    assert {t["name"] for t in stored["rt0"][2]} >= {"prisoner_exchange"}

    async with sessions() as s, s.begin():  # an old taxonomy tagged them differently
        for art in (await s.scalars(select(Article).where(Article.id.in_(["rt0", "rt1"])))).all():
            art.topics = [{"name": "sanctions", "confidence": 0.6, "evidence": []}] if art.id == "rt0" else []
            art.taxonomy_version = "2000.1.1"
        await s.execute(Story.__table__.update().where(Story.id == "rt0").values(topics=[]))

    assert await retag_store(settings, since=None) == 0
    after = await _snapshot(sessions)
    for aid in ("rt0", "rt1", "rt2"):
        assert after[aid][0] == stored[aid][0]  # the story is kept
        assert after[aid][2:] == stored[aid][2:]  # topics, entities, state restored
    assert after["rt2"][1] == stored["rt2"][1]  # untouched article: no new version
    async with sessions() as s:
        story = await repo.get_story(s, story_id="rt0")
        assert story is not None and "prisoner_exchange" in {t["name"] for t in story.topics}
    assert "2 updated, 1 unchanged" in capsys.readouterr().err

    assert await retag_store(settings, since=None) == 0
    assert await _snapshot(sessions) == after
    assert "0 updated, 3 unchanged" in capsys.readouterr().err


async def test_retag_since_limits_the_scope(settings, sessions, capsys) -> None:
    enricher = shared_enricher()
    events = enricher.enrich([RawArticle(id=f"rs{i}", title=t, content=x, published_at=T0 + timedelta(days=i))
                              for i, (t, x) in enumerate(TEXTS)])
    await store_batch(sessions, [ConsumerRecord("t", 0, i, 0, 0, None, ev.to_bytes(), None, 0, 0, ())
                                 for i, ev in enumerate(events)])
    async with sessions() as s, s.begin():
        for art in (await s.scalars(select(Article))).all():
            art.topics = []
    since = (T0 + timedelta(days=1)).date().isoformat()
    assert await retag_store(settings, since=since) == 0
    assert "retagged 2 articles: 1 updated, 1 unchanged" in capsys.readouterr().err
    async with sessions() as s:
        assert (await s.get(Article, "rs0")).topics == []  # type: ignore[union-attr]
        assert (await s.get(Article, "rs1")).topics  # type: ignore[union-attr]


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01", "01/03/2026", ""])
async def test_invalid_since_is_a_usage_error(make_settings, tmp_path, capsys, bad) -> None:
    settings = make_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'never.db'}")
    assert await retag_store(settings, since=bad) == 2
    assert "--since" in capsys.readouterr().err
    assert not (tmp_path / "never.db").exists()


def test_parse_since() -> None:
    assert parse_since(None) is None
    assert parse_since("2026-03-01") == datetime(2026, 3, 1, tzinfo=UTC)
    assert parse_since("2026-03-01T14:00+02:00") == datetime(2026, 3, 1, 12, tzinfo=UTC)
