"""The headline gives an article its sense: a topic word the headline uses of something else (a tariff
"truce", a "Waffenstillstand" in handball) is not made a ceasefire by the body referring back to it next to
a war mentioned in passing; a body sentence with conflict context of its own still counts."""

from __future__ import annotations

import pytest

from enrich.pipeline import Enricher


def topics(enricher: Enricher, title: str, text: str) -> set[str]:
    return {t["name"] for t in enricher.tag_text(id="t", title=title, text=text)["topics"]}


@pytest.mark.parametrize(("title", "text"), [
    ("Washington and Tokyo agree truce in steel tariff row",
     "Exporters welcomed the truce on Friday. The dispute had rattled markets already shaken by the war in "
     "Ukraine and by Houthi attacks on shipping in the Red Sea."),
    ("Brussels and Beijing agree a truce over electric-car tariffs",
     "Carmakers said the truce would hold until the summer. Russia's war against Ukraine and the fighting in "
     "Gaza have already pushed up shipping costs."),
])
def test_a_vetoed_headline_sense_carries_to_the_body(enricher: Enricher, title: str, text: str) -> None:
    assert "ceasefire" not in topics(enricher, title, text)


@pytest.mark.parametrize(("title", "text"), [
    ("Tariff truce between Washington and Tokyo holds",  # a real ceasefire told in the body, with its parties
     "Separately, Israel and Hamas agreed a ceasefire in Gaza on Sunday, mediators in Qatar said."),
    ("Russia and Ukraine agree a 30-day ceasefire",  # headline not vetoed: body references count as before
     "Both sides said the truce would begin at midnight. Officials welcomed the truce."),
])
def test_a_body_sentence_with_its_own_conflict_context_still_counts(enricher: Enricher, title: str,
                                                                     text: str) -> None:
    assert "ceasefire" in topics(enricher, title, text)
