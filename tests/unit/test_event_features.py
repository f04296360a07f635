"""What enrich extracts for story linking beyond entities: names spelt alike across languages, numbers.

Spec: in a Latin-script text a name is a capitalised word not at a sentence start, or an acronym; in a text
in another script every Latin-script word is a name ("Wiz" in Hebrew, "SpaceX" in Chinese); words inside
an entity mention are left to the entity; numbers are language-independent tokens without years.
"""

from __future__ import annotations

import pytest

from enrich.event_features import names, numbers


@pytest.mark.parametrize(("doc", "expected"), [
    ("Google agrees to buy Wiz for $32 billion, a record for an Israeli start-up.", {"nm:wiz", "nm:israeli"}),
    ("Tourists were killed near Pahalgam. The attack shocked Kashmir.", {"nm:pahalgam", "nm:kashmir"}),
    ("Le PSG sacré champion d'Europe", {"nm:europe", "nm:psg"}),
    ("גוגל רוכשת את Wiz ב-32 מיליארד דולר", {"nm:wiz"}),
    ("SpaceX星舰第八次试飞再度失利", {"nm:spacex"}),
    ("«Нам вдалося» — Зеленський про зустріч", set()),
])
def test_names_are_spelt_alike_across_languages(doc: str, expected: set[str]) -> None:
    assert set(names(doc)) == expected


def test_sentence_starts_two_letter_acronyms_and_entity_mentions_are_not_names() -> None:
    doc = "After the talks the US and Ukraine agreed. Officials in Riyadh said so."
    assert "nm:after" not in names(doc) and "nm:officials" not in names(doc) and "nm:us" not in names(doc)
    start = doc.index("Riyadh")
    assert "nm:riyadh" in names(doc) and "nm:riyadh" not in names(doc, [(start, start + len("Riyadh"))])


def test_numbers_leave_out_years_and_keep_thousands_whole() -> None:
    assert numbers("On 19 March 2025 Russia and Ukraine swapped 175 prisoners; 1,000 more in May.") == [
        "n:19", "n:175", "n:1000"]
    assert numbers("تبادل ٣٥٠ أسيراً") == ["n:350"]


def test_span_lookup_equals_the_pairwise_scan() -> None:
    """``Spans.reach`` answers what scanning every span did, overlapping and nested spans included."""
    import random

    from enrich.event_features import Spans

    rnd = random.Random(5)
    for _ in range(2000):
        spans = [(a, a + rnd.randint(1, 15)) for a in (rnd.randint(0, 60) for _ in range(rnd.randint(0, 6)))]
        index = Spans(spans)
        for start in range(0, 80):
            end = start + rnd.randint(1, 8)
            assert (index.reach(start) > start) == any(s <= start < e for s, e in spans)
            assert (index.reach(start) >= end) == any(s <= start and end <= e for s, e in spans)


def test_term_weights_follow_wordfreq_and_keep_no_strings() -> None:
    """The compact table answers as wordfreq does, and wordfreq's own caches are let go once it is built."""
    import wordfreq

    from enrich.event_features import COMMON_ZIPF, RARE_ZIPF, _zipf_table, salient_terms, term_weights

    _zipf_table.cache_clear()
    words = ["the", "ceasefire", "maritime", "prisoners", "zqxwvy"]
    got = term_weights(words, "en")
    assert wordfreq.get_frequency_list.cache_info().currsize == 0
    for word, weight in zip(words, got, strict=True):
        zipf = wordfreq.zipf_frequency(word, "en", wordlist="small") or RARE_ZIPF
        assert weight == pytest.approx(max(COMMON_ZIPF - zipf, 0.0), abs=0.011), word
    assert got[0] == 0.0 and got[-1] == COMMON_ZIPF  # commonest word weighs nothing, an unknown one the most
    assert term_weights(["xyz"], "tlh") == [1.0]  # no list for the language: every word counts alike
    terms = salient_terms("Black Sea ceasefire\n\nThe maritime ceasefire covers the Black Sea.", 19, "en")
    assert "the" not in terms and terms["ceasefire"] > terms["covers"]
