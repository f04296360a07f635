"""Rule classes found by the third fresh dev batch (tests/data/lang/fresh3_dev.jsonl, README_fresh3.md).

Why: the batch covered the ceasefire-only languages no earlier fresh batch had (th km my ms am so bn ur ps hy
ka sw sr bs). The ceasefire word was found in nearly all of them, but lifecycle state was right for only 0.276
of their positives: most had no state cues at all. It also found a trade truce (th) and a price-war truce (sr)
tagged as ceasefire, and deal terms ("under the deal ... would withdraw") read as a territorial change. The
cases are worded for this test, not copied from the batch, so they fail when a rule class breaks.
"""

from __future__ import annotations

import pytest

from enrich.pipeline import Enricher
from tests.unit.tagging import tagger

tag = tagger("f3")


# (language, headline, state): ceasefire and this state expected; the state cues are new in these languages.
STATES = [
    ("th", "กองทัพไทยและกัมพูชาตกลงหยุดยิงทันที", "agreed"),
    ("th", "การหยุดยิงที่ชายแดนล้มเหลว ทหารกลับมายิงกันอีก", "collapsed"),
    ("ur", "پاکستان اور بھارت جنگ بندی پر رضامند", "agreed"),
    ("ur", "جنگ بندی کی خلاف ورزی، سرحد پر فائرنگ", "violated"),
    ("bn", "ভারত ও পাকিস্তান যুদ্ধবিরতিতে সম্মত", "agreed"),
    ("hy", "Հայաստանն ու Ադրբեջանը համաձայնեցին հրադադարի շուրջ", "agreed"),
    ("hy", "Սահմանին հրադադարը խախտվել է", "violated"),
    ("km", "ថៃ និងកម្ពុជា យល់ព្រមឈប់បាញ់", "agreed"),
]


@pytest.mark.parametrize(("lang", "title", "state"), STATES, ids=[f"{s[0]}-{s[2]}" for s in STATES])
def test_state_cues_in_the_new_ceasefire_languages(enricher: Enricher, lang: str, title: str, state: str) -> None:
    topics, got = tag(enricher, title)
    assert "ceasefire" in topics, (lang, title)
    assert got == state, (lang, title, got)


# Hard negatives: a truce word in a trade or price war is not a ceasefire.
NEGATIVES = [
    ("th", "สหรัฐฯ-จีนตกลงพักรบสงครามการค้า ลดกำแพงภาษีนำเข้า"),
    ("sr", "Telekom i drugi operateri dogovorili primirje u ratu cenama"),
]


@pytest.mark.parametrize(("lang", "title"), NEGATIVES, ids=[n[0] for n in NEGATIVES])
def test_trade_and_price_war_truces_stay_untagged(enricher: Enricher, lang: str, title: str) -> None:
    topics, _ = tag(enricher, title)
    assert "ceasefire" not in topics, (lang, title, topics)


def test_withdrawal_terms_of_a_deal_are_not_a_territorial_change(enricher: Enricher) -> None:
    terms, _ = tag(enricher, "Ceasefire plan: under the deal Russian troops would withdraw from the plant area")
    done, _ = tag(enricher, "Russian troops withdrew from the city after a week of fighting")
    assert "territorial_change" not in terms
    assert "territorial_change" in done  # the same verb reporting a real withdrawal still counts
