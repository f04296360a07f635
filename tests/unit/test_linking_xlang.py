"""Names spelt alike across languages (``names_alike``), on hand-made profiles (no models, no store).

Spec: one name written by transliteration conventions of different languages ("Gorbatschow", "Gorbatchev",
"Gorbachov", "Горбачёв"), with or without accents, or with a language's own ending ("Barcelona",
"Barcelone"), is spelt alike; a name that opens one headline is among that article's words, not its
capitalised words, and still matches; short words and numbers are no names. Across languages, two
names spelt alike are something specific to share (the gate), as two shared names are; one is not. The
feature never counts for one language (the words already compare there) and never counts again what
``names`` counts (names spelt the same). Headlines: their capitalised words (the first one too) that no
linked entity covers, spelt alike in both headlines, count the same way (``title_alike``); one is enough
to be compared. Salient words compare across languages by their skeletons (cognates), from five letters.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from api.sink.linking import (
    FEATURES,
    LinkRules,
    Profile,
    cognates,
    features,
    name_keys,
    name_matches,
    names_alike,
    probability,
    title_alike,
    title_matches,
    title_words,
)

T0 = datetime(2021, 8, 10, 19, 0, tzinfo=UTC)
RULES = LinkRules()


def prof(aid: str, lang: str, *, names: tuple[str, ...] = (), terms: dict[str, float] | None = None,
         ents: dict[str, float] | None = None, hours: float = 0, title: str = "") -> Profile:
    return Profile(article_id=aid, published_at=T0 + timedelta(hours=hours), lang=lang, entities=ents or {},
                   terms=terms or {}, names=frozenset(f"nm:{n}" for n in names), title_names=title_words(title))


@dataclass
class Mention:  # the fields of an EntityMention title_words reads
    id: str
    surface: list[str]


def test_transliterations_of_one_name_share_a_key() -> None:
    forms = ["Gorbatschow", "gorbatchev", "Gorbachov", "gorbachev", "Горбачёв", "Горбачов"]
    common = frozenset.intersection(*(name_keys(f) for f in forms))
    assert common == {"s:grbcv"}
    assert name_keys("Barcelona") & name_keys("barcelone")
    assert name_keys("Мелони") & name_keys("meloni") and name_keys("Mikhaïl") & name_keys("mikhail")


def test_short_words_and_numbers_are_matched_only_as_they_are() -> None:
    assert name_keys("PSG") == {"n:PSG"}  # two equal names always matched, as before
    assert name_keys("PSG", as_is=False) == frozenset()
    assert name_keys("2024") == frozenset()
    assert not name_keys("Biden") & name_keys("Bidet")  # a skeleton of three letters is no key


def test_a_name_opening_a_headline_matches_as_a_word() -> None:
    fr = prof("fr", "fr", names=("messi", "barcelone"))
    es = prof("es", "es", names=("barcelona", "laliga"), terms={"messi": 2.0, "azulgrana": 2.4})
    assert name_matches(fr, es) == 2
    assert probability(fr, es, RULES) > 0.0  # through the gate: two names spelt alike


def test_one_name_spelt_alike_is_not_enough_to_compare() -> None:
    fr = prof("fr", "fr", names=("messi",))
    es = prof("es", "es", terms={"messi": 2.0, "jugador": 1.5})
    assert name_matches(fr, es) == 1
    assert probability(fr, es, RULES) == 0.0


def test_unlinked_entities_lend_their_long_words_only() -> None:
    en = prof("en", "en", ents={"ww:gorbachev": 1.5, "ww:us-congress": 1.5})
    de = prof("de", "de", names=("gorbatschow", "us"))
    assert name_matches(en, de) == 1  # "gorbachev" ~ "gorbatschow"; "us" of the entity is no name


def test_names_alike_counts_only_across_languages_and_only_beyond_equal_names() -> None:
    i = FEATURES.index("names_alike")
    a = prof("a", "fr", names=("lula", "bolsonaro"))
    b = prof("b", "pt", names=("lula", "bolsonaro"))
    assert names_alike(a, b) == 0.0  # spelt the same: ``names`` counts them
    c = prof("c", "de", names=("bolsonaró", "lulá"))
    assert names_alike(a, c) == 1.0 and features(a, c, RULES)[i] == 1.0
    assert names_alike(a, replace(c, lang="fr")) == 0.0


def test_copies_of_a_profile_get_their_own_name_keys() -> None:
    p = prof("p", "en", names=("gorbachev",))
    q = replace(p, names=frozenset({"nm:barcelona"}))
    assert q.all_keys & name_keys("barcelone") and not q.all_keys & name_keys("gorbatchev")
    assert Profile(**{**q.__dict__, "name_keys": ()}).name_keys == q.name_keys
    assert Profile.from_json("p", p.to_json()).all_keys == p.all_keys


def test_headline_words_are_capitalised_words_no_linked_entity_covers() -> None:
    assert title_words("Suez, nave incagliata: si lavora con le draghe") == {"suez"}
    assert title_words("Умер Михаил Горбачёв") == {"умер", "михаил", "горбачёв"}
    assert title_words("Messi joins PSG on two-year deal") == {"messi", "psg"}
    trump = Mention("Q22686", ["Donald Trump", "Trump"])
    assert title_words("Pro-Trump mob storms US Capitol", [trump]) == {"pro", "capitol"}
    assert title_words("Trump-Anhänger", [Mention("ww:trump", ["Trump"])]) == {"trump", "anhänger"}  # unlinked


def test_one_headline_word_spelt_alike_is_enough_to_compare() -> None:
    i = FEATURES.index("title_alike")
    ru = prof("ru", "ru", title="Умер Михаил Горбачёв")
    fr = prof("fr", "fr", title="Mort de Mikhaïl Gorbatchev, l'homme de la perestroïka", hours=2)
    assert title_matches(ru, fr) == 2 and title_alike(ru, fr) == 1.0 == features(ru, fr, RULES)[i]
    it = prof("it", "it", title="Suez, nave incagliata")
    es = prof("es", "es", title="El atasco del canal de Suez dispara el precio del petróleo", hours=3)
    assert title_matches(it, es) == 1 and probability(it, es, RULES) > 0.0
    assert title_alike(it, replace(es, lang="it")) == 0.0  # one language: the words compare already
    assert probability(it, prof("de", "de", title="Containerriese blockiert Kanal"), RULES) == 0.0
    assert Profile.from_json("ru", ru.to_json()).title_keys == ru.title_keys


def test_words_compare_across_languages_by_skeleton() -> None:
    i = FEATURES.index("words")
    assert set(cognates({"catedral": 1.0})) == set(cognates({"cathedral": 2.0})) == set(cognates({"kathedrale": 1.0}))
    assert cognates({"para": 1.0, "2024": 1.0}) == {}  # short words and numbers are no cognates
    es = prof("es", "es", title="Suez, bloqueado", terms={"catedral": 2.0, "incendio": 2.0, "suez": 1.0})
    en = prof("en", "en", title="Suez blaze", terms={"cathedral": 2.0, "incendio": 1.0, "fire": 2.0}, hours=1)
    f = features(es, en, RULES)
    assert 0.0 < f[i] <= 1.0 and f[FEATURES.index("no_shared_words")] == 0.0
