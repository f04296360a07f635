"""Name words of QID entities (``api.sink.name_words``, ``Profile.name_words``), on hand-made profiles.

Spec: the words of a gazetteer entity's name that name it alone (no other entry's names contain them, no
given name opening a person's name, at least ``MIN_NAME_KEY`` letters) are name keys of a report that links
the entity, whatever its id: a report in another language that names the person only by surname, without
linking him, spells one of its names alike. A report linking the same entity is not matched again by them
(the entity features count it). A given name or particle two people share ("Mohammed", "Abdel Fattah") is no
key, so two reports about two such people share no name. Countries and nationalities lend no words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from api.sink.linking import LinkRules, Profile, entity_name_words, name_matches, names_alike, probability
from api.sink.name_words import distinctive_words, gazetteer_words

T0 = datetime(2024, 7, 30, 9, 0, tzinfo=UTC)
RULES = LinkRules()
PEZESHKIAN, BURHAN, SISI, MBS = "Q5933752", "Q63111184", "Q307871", "Q6892571"


@dataclass
class Mention:  # the fields of an EntityMention entity_name_words reads
    id: str
    type: str


def prof(aid: str, lang: str, *, ents: dict[str, float] | None = None, types: dict[str, str] | None = None,
         names: tuple[str, ...] = (), terms: dict[str, float] | None = None) -> Profile:
    ents = ents or {}
    mentions = [Mention(e, (types or {}).get(e, "PERSON")) for e in ents]
    return Profile(article_id=aid, published_at=T0, lang=lang, entities=ents, terms=terms or {},
                   names=frozenset(f"nm:{n}" for n in names),
                   name_words=entity_name_words(mentions, gazetteer_words(), RULES))


ENTRIES = [
    {"id": "Q1", "name": "Masoud Pezeshkian", "type": "PERSON", "aliases": ["Pezeshkian", "Masoud Pezeshkian"]},
    {"id": "Q2", "name": "Mohammed bin Salman", "type": "PERSON", "aliases": ["MBS"]},
    {"id": "Q3", "name": "Mohammed Deif", "type": "PERSON"},
    {"id": "Q4", "name": "Abdel Fattah al-Burhan", "type": "PERSON", "aliases": ["Burhan"]},
    {"id": "Q5", "name": "Abdel Fattah el-Sisi", "type": "PERSON", "names": {"fr": ["Abdel Fattah al-Sissi"]}},
    {"id": "Q6", "name": "Luiz Inácio Lula da Silva", "type": "PERSON", "aliases": ["Lula", "Lula da Silva"]},
    {"id": "Q7", "name": "Ali Khamenei", "type": "PERSON"},
    {"id": "Q8", "name": "Ali Abdullah Saleh", "type": "PERSON"},
]


def test_only_words_that_name_one_entry_are_kept() -> None:
    words = distinctive_words(ENTRIES)
    assert words["Q1"] == ("pezeshkian",)  # "Masoud" opens his name: a given name
    assert words["Q2"] == ("salman",) and words["Q3"] == ("deif",)  # "Mohammed" names two; "bin" is short
    assert words["Q4"] == ("burhan",) and words["Q5"] == ("sisi",)  # "Abdel Fattah" both; "al", "el" short
    assert "lula" in words["Q6"] and "inacio" in words["Q6"]  # called "Lula" alone, accents folded
    assert words["Q7"] == ("khamenei",) and words["Q8"] == ("abdullah", "saleh")
    every = {w for ws in words.values() for w in ws}
    assert not every & {"mohammed", "abdel", "fattah", "masoud", "ali", "luiz"}


def test_the_packaged_gazetteer_keys_the_surnames_of_the_converted_people() -> None:
    words = gazetteer_words()
    assert words[PEZESHKIAN] == ("pezeshkian",)
    assert words[BURHAN] == ("burhan",)
    assert words["Q66094865"] == ("shmyhal",)
    every = {w for ws in words.values() for w in ws}
    assert not every & {"mohammed", "mohamed", "abdel", "fattah", "ahmed", "hassan", "donald", "vladimir"}


def test_a_surname_only_mention_meets_the_linked_full_name() -> None:
    full = prof("en", "en", ents={PEZESHKIAN: 1.5}, terms={"visit": 1.0})
    only = prof("pl", "pl", names=("Pezeshkian", "Astana"), terms={"wizyta": 1.0})  # links nothing
    assert full.name_words == {PEZESHKIAN: ("pezeshkian",)}
    assert name_matches(full, only) == 1 and names_alike(full, only) > 0
    bare = Profile(**{**full.__dict__, "name_words": {}})  # what a QID entity had before: no name words
    assert name_matches(bare, only) == 0 and names_alike(bare, only) == 0
    # With a second name spelt alike the two are compared (the gate) and link; without the surname, not.
    both = prof("en2", "en", ents={PEZESHKIAN: 1.5}, names=("Astana",), terms={"visit": 1.0})
    assert name_matches(both, only) == 2
    assert probability(both, only, RULES) >= RULES.alone
    assert probability(Profile(**{**both.__dict__, "name_words": {}}), only, RULES) == 0.0


def test_a_report_linking_the_same_entity_is_not_matched_again_by_its_words() -> None:
    a = prof("en", "en", ents={PEZESHKIAN: 1.5})
    b = prof("fr", "fr", ents={PEZESHKIAN: 1.5})
    assert a.name_words and b.name_words
    assert name_matches(a, b) == 0 and names_alike(a, b) == 0


def test_a_given_name_two_people_share_does_not_link_them() -> None:
    burhan = prof("ar", "en", ents={BURHAN: 1.5}, names=("Khartoum",))
    sisi = prof("fr", "fr", ents={SISI: 1.5}, names=("Khartoum",))
    assert burhan.name_words == {BURHAN: ("burhan",)} and sisi.name_words == {SISI: ("sisi",)}
    assert name_matches(burhan, sisi) == 1  # Khartoum only, not "Abdel" nor "Fattah"
    mbs = prof("en", "en", ents={MBS: 1.5})
    deif = prof("de", "de", ents={"ww:mohammed-deif": 1.5})  # a slug: its words "mohammed", "deif"
    assert name_matches(mbs, deif) == 0 and names_alike(mbs, deif) == 0


def test_countries_lend_no_words_and_slugs_keep_theirs() -> None:
    words = {"Q399": ("armenia",), "ww:us-capitol": ("capitol",), PEZESHKIAN: ("pezeshkian",)}
    got = entity_name_words([Mention("Q399", "GPE"), Mention("ww:us-capitol", "LOC"),
                             Mention(PEZESHKIAN, "PERSON")], words, RULES)
    assert got == {PEZESHKIAN: ("pezeshkian",)}  # GPE weighs half; a slug's words come from its id
    slug = prof("en", "en", ents={"ww:us-capitol": 1.0})
    assert slug.name_keys and not slug.name_words


def test_name_words_survive_storage_and_old_profiles_have_none() -> None:
    p = prof("en", "en", ents={PEZESHKIAN: 1.5, "ww:us-capitol": 1.0})
    q = Profile.from_json("en", p.to_json())
    assert q.name_words == p.name_words and q.name_keys == p.name_keys and q.key_owners == p.key_owners
    old = {k: v for k, v in p.to_json().items() if k != "ew"}  # stored before name words were
    r = Profile.from_json("en", old)
    assert r.name_words == {} and len(r.name_keys) == len(p.name_keys) - 1  # the slug's word stays
