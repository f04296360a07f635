"""cuegate's folding merges what ``re.IGNORECASE`` treats as one letter, capitals included (issue 14 follow-up).

``fold`` once merged re's extra equivalences (σ/ς, μ/µ, ι/ͅ) before lower-casing, so a capital that lowers
into one of them (Σ, Μ, Ι) kept its small form: an all-caps Greek headline ("ΠΑΥΣΗΣ") hid a cue written
with ς ("παυσης") from the substring gate, though the regex itself matches it.
"""

from __future__ import annotations

import re
import sys

from enrich.cuegate import Cue, fold


def test_an_all_caps_greek_word_folds_as_its_small_form() -> None:
    for caps, small in [("ΠΑΥΣΗΣ", "παυσης"), ("ΣΤΑΣΗ", "σταση"), ("ΜΙΑ", "μια"), ("ΙΣΡΑΗΛ", "ισραηλ")]:
        assert fold(caps) == fold(small)


def test_a_cue_written_with_final_sigma_is_found_in_capitals() -> None:
    text = "ΣΥΜΦΩΝΙΑ ΓΙΑ ΠΑΥΣΗΣ ΠΥΡΟΣ"
    cue = Cue("παυσης πυρος", re.IGNORECASE)
    assert re.search(cue.pattern, text, re.IGNORECASE)
    assert cue.search(text) is not None


def test_fold_keeps_the_length_and_merges_every_pair_re_treats_as_equal() -> None:
    for cp in range(sys.maxunicode + 1):
        c = chr(cp)
        if 0xD800 <= cp <= 0xDFFF:
            continue
        assert len(fold(c)) == 1
        for d in {c.lower(), c.upper(), c.casefold()}:
            if len(d) == 1 and d != c and re.fullmatch(re.escape(c), d, re.IGNORECASE):
                assert fold(c) == fold(d), (hex(cp), hex(ord(d)))
