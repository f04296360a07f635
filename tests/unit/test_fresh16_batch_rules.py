"""Rule classes found by the sixteenth fresh dev batch (tests/data/lang/fresh16_dev.jsonl, README_fresh16.md).

Why: the aggregate held-out figures showed hard negatives of two classes tagged ceasefire in the ceasefire-only
languages: historical truces (anniversaries, "N years since the 1994 ceasefire", books and exhibitions about a
past truce) and police / anti-gang programmes named with the ceasefire word ("Operation Ceasefire"). The batch and
one probe round found the gaps: year rules that stopped at 1989 or were Latin-only (pl, sh), "N years since"
(pl, sw, msa), hyphenated Somali "sannad-guurada", no book / exhibition words in most languages, no Georgian
policing class, Japanese prefectural police ("府警"), Dutch "jeugdbendes", Serbo-Croatian "bande", Indonesian
"tawuran" / "polda", and Amharic, Somali and Pashto police programmes. Two old history rules also vetoed
present-day truces ("1971 के बाद", "la doar 3 ani de la semnare"). The cases are worded for this test, not
copied from the batch; each fails on the rules of commit 72c54cc unless it is in the CONTROLS lists, which pass
on both.
"""

from __future__ import annotations

import pytest

from enrich.pipeline import Enricher
from tests.unit.tagging import tagger

tag = tagger("f16")

# Hard negatives the old rules tagged ceasefire: (language, headline, text).
NOT_CEASEFIRE = [
    ("pl", "Mija 30 lat od zawieszenia broni w Górskim Karabachu z 1994 roku", ""),
    ("pl", "Warszawa: 25 lat od rozejmu kończącego walki w Czeczenii", ""),
    ("sr", "Књига о Божићном примирју 1914. године", "Аутор описује како су војници у рововима заједно певали."),
    ("hr", "Split uvodi program „Prekid vatre“ protiv nasilja mladih bandi", ""),
    ("nl", "Rotterdam start programma 'Staakt het vuren' tegen jeugdbendes", ""),
    ("ka", "ქუთაისის პოლიცია იწყებს პროგრამას „ცეცხლის შეწყვეტა“ ახალგაზრდული ძალადობის წინააღმდეგ", ""),
    ("ja", "大阪府警、若者の暴力防止プログラム「停戦」を開始", ""),
    ("am", "የ2000ው የተኩስ አቁም ስምምነት 25ኛ ዓመት ታሰበ", ""),
    ("am", "ስለ 1991ው የተኩስ አቁም አዲስ መጽሐፍ ተመረቀ", ""),
    ("am", "የአዲስ አበባ ፖሊስ የወጣቶች ቡድን ጥቃትን ለመከላከል 'የተኩስ አቁም' ፕሮግራም ጀመረ", ""),
    ("so", "Sannad-guurada 30aad ee xabbad joojinta 1991 oo lagu xusay Muqdisho", ""),
    ("so", "Buug cusub oo ku saabsan xabbad joojintii 1991 ayaa la daah-furay", ""),
    ("so", "Booliska Hargeysa oo bilaabay barnaamijka 'Xabbad Joojin' ee ka hortagga rabshadaha kooxaha dhalinyarada",
     ""),
    ("sw", "Miaka 30 tangu usitishaji mapigano wa 1994 nchini Rwanda", ""),
    ("ps", "د کندهار پولیسو د ځوانو ډلو د تاوتریخوالي د مخنیوي لپاره 'اوربند' پروګرام پیل کړ", ""),
    ("th", "อ่านหนังสือใหม่เรื่องการหยุดยิงปี 1918", ""),
    ("id", "Buku baru tentang gencatan senjata 1949 diluncurkan di Yogyakarta", ""),
    ("id", "Polda Metro Jaya gelar program 'Gencatan Senjata' untuk cegah tawuran pelajar", ""),
    ("ms", "Buku mengenai gencatan senjata Krismas 1914 dilancarkan di Kuala Lumpur", ""),
    ("my", "၁၉၈၉ အပစ်အခတ်ရပ်စဲရေး အကြောင်း စာအုပ်သစ် ထုတ်ဝေ", ""),
]


@pytest.mark.parametrize(("lang", "title", "text"), NOT_CEASEFIRE, ids=[f"{c[0]}-{k}" for k, c in enumerate(NOT_CEASEFIRE)])
def test_historical_truces_and_police_programmes_are_not_ceasefire(enricher: Enricher, lang: str, title: str,
                                                                  text: str) -> None:
    topics, _ = tag(enricher, title, text)
    assert "ceasefire" not in topics, (lang, title, topics)


# Present-day truces that mention a past one or a date; the old history rules vetoed them: (lang, headline, state).
STATES = [
    ("hi", "भारत और पाकिस्तान युद्धविराम पर सहमत, 1971 के बाद सबसे बड़ा समझौता", "agreed"),
    ("ro", "Rusia a încălcat armistițiul la doar 3 ani de la semnare", "violated"),
    ("ps", "پاکستان او افغانستان په پولې نوي اوربند ته ورسېدل", "agreed"),  # "reached a truce": state was missed
]


@pytest.mark.parametrize(("lang", "title", "state"), STATES, ids=[f"{s[0]}-{s[2]}-{k}" for k, s in enumerate(STATES)])
def test_present_day_truces_keep_tag_and_state(enricher: Enricher, lang: str, title: str, state: str) -> None:
    topics, got = tag(enricher, title)
    assert "ceasefire" in topics, (lang, title, topics)
    assert got == state, (lang, title, got)


# Controls (pass on the old rules too): the new history / policing words must not veto these.
CONTROLS = [
    ("pl", "Armenia i Azerbejdżan podpisały rozejm, pierwszy od zawieszenia broni z 1994 roku", "agreed"),
    ("pl", "Rozejm w Gazie załamał się dwa lata po podpisaniu", "collapsed"),
    ("nl", "Armenië en Azerbeidzjan sluiten bestand, het eerste sinds de wapenstilstand van 1994", "agreed"),
    ("sr", "Јерменија и Азербејџан потписали примирје, прво од 1994. године", "agreed"),
    ("hr", "Armenija i Azerbajdžan potpisali primirje, prvo nakon primirja iz 1994.", "agreed"),
    ("hy", "Հայաստանն ու Ադրբեջանը համաձայնեցին հրադադարի շուրջ՝ առաջին անգամ 1994 թվականից ի վեր", "agreed"),
    ("id", "Israel dan Hamas sepakati gencatan senjata, pertama dalam 10 tahun", "agreed"),
    ("id", "Gencatan senjata di Gaza runtuh 2 tahun setelah disepakati", "collapsed"),
    ("zh", "以色列与哈马斯达成停火协议，这是自1994年以来首次", "agreed"),
    ("ja", "韓国と北朝鮮、1953年の休戦協定以来初の新たな停戦で合意", "agreed"),
    ("vi", "Cambodia và Thái Lan nhất trí ngừng bắn, lần đầu kể từ năm 1999", "agreed"),
    ("el", "Ισραήλ και Χεζμπολάχ συμφώνησαν εκεχειρία, 18 χρόνια μετά τον πόλεμο του 2006", "agreed"),
    ("sw", "Sudan: jeshi na RSF wakubaliana kusitisha mapigano miaka 2 baada ya vita kuanza", "agreed"),
]


@pytest.mark.parametrize(("lang", "title", "state"), CONTROLS, ids=[f"ctl-{c[0]}-{k}" for k, c in enumerate(CONTROLS)])
def test_controls_keep_their_state(enricher: Enricher, lang: str, title: str, state: str) -> None:
    topics, got = tag(enricher, title)
    assert "ceasefire" in topics, (lang, title, topics)
    assert got == state, (lang, title, got)
