"""Country, territory and big-city names in every CLDR language, read from Babel.

Why: typing "Ukraine" in forty languages by hand is slow and error-prone; the Unicode CLDR (shipped
by Babel) already names every territory in every language it covers, and names the exemplar city
of each time zone (Kyiv, Gaza, Beirut, Khartoum …) too. This module turns those tables into
gazetteer aliases, linked to language-independent ids:

* territories: ISO 3166 alpha-2 code -> Wikidata QID from :data:`ISO_QID` (only QIDs we are sure
  of), else the gazetteer entry that claims the code (``"iso"`` in gazetteer.json), else
  ``ww:iso-xx``;
* cities: a gazetteer entry's ``"tz"`` field names its time zone; CLDR gives its local names.

Names are read per language on demand (:func:`territory_names`, :func:`city_names`) and Babel's
locale cache is dropped afterwards, so a worker that only sees English pays for English only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

LANGS: tuple[str, ...] = (
    "en", "ar", "ru", "uk", "he", "fa", "tr", "fr", "es", "pt", "it", "de", "pl", "nl", "ro", "bg", "sr", "hr",
    "bs", "el", "hy", "az", "ka", "zh", "ja", "ko", "hi", "ur", "bn", "my", "th", "km", "id", "ms", "vi", "am",
    "so", "sw", "ps",
)
"""Languages whose CLDR names are offered (any other language Babel knows also works on request)."""

# ISO 3166-1 alpha-2 (plus CLDR's EU, UN and a few regions) -> Wikidata QID. Only ids we are certain
# of: a wrong QID would merge unrelated stories, a missing one only costs a ww:iso-xx id.
ISO_QID: dict[str, str] = {
    # Europe
    "AD": "Q228", "AL": "Q222", "AT": "Q40", "BA": "Q225", "BE": "Q31", "BG": "Q219", "BY": "Q184",
    "CH": "Q39", "CY": "Q229", "CZ": "Q213", "DE": "Q183", "DK": "Q35", "EE": "Q191", "ES": "Q29",
    "FI": "Q33", "FR": "Q142", "GB": "Q145", "GR": "Q41", "HR": "Q224", "HU": "Q28", "IE": "Q27",
    "IS": "Q189", "IT": "Q38", "LI": "Q347", "LT": "Q37", "LU": "Q32", "LV": "Q211", "MC": "Q235",
    "MD": "Q217", "ME": "Q236", "MK": "Q221", "MT": "Q233", "NL": "Q55", "NO": "Q20", "PL": "Q36",
    "PT": "Q45", "RO": "Q218", "RS": "Q403", "RU": "Q159", "SE": "Q34", "SI": "Q215", "SK": "Q214",
    "SM": "Q238", "UA": "Q212", "VA": "Q237", "XK": "Q1246",
    # Caucasus, Middle East, Central and South Asia
    "AE": "Q878", "AF": "Q889", "AM": "Q399", "AZ": "Q227", "BD": "Q902", "BH": "Q398", "BT": "Q917",
    "GE": "Q230", "IL": "Q801", "IN": "Q668", "IQ": "Q796", "IR": "Q794", "JO": "Q810", "KG": "Q813",
    "KW": "Q817", "KZ": "Q232", "LB": "Q822", "LK": "Q854", "MV": "Q826", "NP": "Q837", "OM": "Q842",
    "PK": "Q843", "QA": "Q846", "SA": "Q851", "SY": "Q858", "TJ": "Q863", "TM": "Q874", "TR": "Q43",
    "UZ": "Q265", "YE": "Q805",
    # East and South-East Asia, Oceania
    "AU": "Q408", "BN": "Q921", "CN": "Q148", "FJ": "Q712", "HK": "Q8646", "ID": "Q252", "JP": "Q17",
    "KH": "Q424", "KP": "Q423", "KR": "Q884", "LA": "Q819", "MM": "Q836", "MN": "Q711", "MY": "Q833",
    "NZ": "Q664", "PG": "Q691", "PH": "Q928", "SG": "Q334", "TH": "Q869", "TL": "Q574", "TW": "Q865",
    "VN": "Q881",
    # Africa
    "AO": "Q916", "BF": "Q965", "BI": "Q967", "BJ": "Q962", "BW": "Q963", "CD": "Q974", "CF": "Q929",
    "CG": "Q971", "CI": "Q1008", "CM": "Q1009", "CV": "Q1011", "DJ": "Q977", "DZ": "Q262", "EG": "Q79",
    "EH": "Q6250", "ER": "Q986", "ET": "Q115", "GA": "Q1000", "GH": "Q117", "GM": "Q1005", "GN": "Q1006",
    "GQ": "Q983", "GW": "Q1007", "KE": "Q114", "KM": "Q970", "LR": "Q1014", "LS": "Q1013", "LY": "Q1016",
    "MA": "Q1028", "MG": "Q1019", "ML": "Q912", "MR": "Q1025", "MU": "Q1027", "MW": "Q1020",
    "MZ": "Q1029", "NA": "Q1030", "NE": "Q1032", "NG": "Q1033", "RW": "Q1037", "SC": "Q1042",
    "SD": "Q1049", "SL": "Q1044", "SN": "Q1041", "SO": "Q1045", "SS": "Q958", "ST": "Q1039",
    "SZ": "Q1050", "TD": "Q657", "TG": "Q945", "TN": "Q948", "TZ": "Q924", "UG": "Q1036", "ZA": "Q258",
    "ZM": "Q953", "ZW": "Q954",
    # Americas
    "AR": "Q414", "BO": "Q750", "BR": "Q155", "BS": "Q778", "BZ": "Q242", "CA": "Q16", "CL": "Q298",
    "CO": "Q739", "CR": "Q800", "CU": "Q241", "DO": "Q786", "EC": "Q736", "GT": "Q774", "GY": "Q734",
    "HN": "Q783", "HT": "Q790", "JM": "Q766", "MX": "Q96", "NI": "Q811", "PA": "Q804", "PE": "Q419",
    "PY": "Q733", "SR": "Q730", "SV": "Q792", "TT": "Q754", "US": "Q30", "UY": "Q77", "VE": "Q717",
    "GL": "Q223",
    # Unions and regions CLDR names
    "EU": "Q458", "UN": "Q1065", "150": "Q46", "002": "Q15", "142": "Q48",
}

# CLDR codes that are not places news names: pseudo-locales, "unknown", sub-territories of others.
_SKIP_CODES = frozenset({"ZZ", "XA", "XB", "QO", "EZ", "UM", "AC", "CP", "CQ", "DG", "EA", "IC", "TA",
                         "BV", "HM", "IO", "GS", "TF", "AQ"})
_REGIONS = frozenset({"150", "002", "142"})  # numeric CLDR regions kept (others are too vague)

# Names that are words or other names in that language: kept out of the alias index.
AMBIGUOUS: dict[str, frozenset[str]] = {
    "en": frozenset({"Jersey", "Guernsey", "Man", "Chad"}),  # New Jersey; the first name Chad
    "fr": frozenset({"Maurice", "Jersey", "Guernesey"}),  # also a first name
    "es": frozenset({"Jersey", "Georgia"}),
    "ar": frozenset({"عمان", "مالي"}),  # Amman / Oman; "financial"
    "fa": frozenset({"مالی"}),  # "financial"
    "he": frozenset({"מאלי"}),  # "by itself"
    "ru": frozenset({"Того"}), "uk": frozenset({"Того"}), "bg": frozenset({"Того"}),  # "of that"
    "sr": frozenset({"Того"}),
}

_PAREN = re.compile(r"\s*[(（][^)）]*[)）]\s*")
_QUALIFIER = re.compile(r"(?:\s+(?:SAR\s+China|S\.A\.R\.?.*|САР\b.*)|特别行政区|特別行政區)$")
_MIN_LEN = 2
_ALT_IN_PARENS = frozenset({"MM", "CI", "FK", "TL", "SZ", "CV", "MK", "CZ", "VA"})  # "Myanmar (Burma)"


def territory_id(code: str, claimed: dict[str, str] | None = None) -> str:
    """The entity id of CLDR territory ``code``: its QID, the gazetteer entry claiming it, or ww:iso-xx."""
    if code in ISO_QID:
        return ISO_QID[code]
    if claimed and code in claimed:
        return claimed[code]
    return f"ww:iso-{code.lower()}"


def territory_codes() -> list[str]:
    """CLDR territory codes turned into entities: countries and territories plus EU, UN and continents."""
    return [c for c in _names_raw("en") if c not in _SKIP_CODES and (not c.isdigit() or c in _REGIONS)]


def territory_names(lang: str) -> dict[str, list[str]]:
    """CLDR territory code -> its names in ``lang`` (cleaned; ambiguous and merged duplicates dropped)."""
    raw = _names_raw(lang)
    out: dict[str, list[str]] = {}
    seen: dict[str, str] = {}
    dupes: set[str] = set()
    bad = AMBIGUOUS.get(lang, frozenset())
    for code in territory_codes():
        for name in _clean(raw.get(code, ""), code in _ALT_IN_PARENS):
            if name in bad:
                continue
            if seen.setdefault(name, code) != code:
                dupes.add(name)  # "刚果" for both Congos: names neither
            out.setdefault(code, []).append(name)
    return {c: [n for n in names if n not in dupes] for c, names in out.items()}


def city_names(lang: str, zones: Iterable[str]) -> dict[str, str]:
    """Time zone id -> its CLDR exemplar city in ``lang``, for the zones asked (missing ones left out)."""
    from babel import Locale, UnknownLocaleError

    try:
        zone_data = Locale.parse(lang).time_zones
    except (UnknownLocaleError, ValueError):
        return {}
    out: dict[str, str] = {}
    for tz in zones:
        city = (zone_data.get(tz) or {}).get("city")
        if city and len(city) >= _MIN_LEN:
            out[tz] = city
    _release(lang)
    return out


@lru_cache(maxsize=64)
def _names_raw(lang: str) -> dict[str, str]:
    """Babel's territory table for ``lang`` as a plain dict (Babel's own locale cache is dropped)."""
    from babel import Locale, UnknownLocaleError

    try:
        table = dict(Locale.parse(lang).territories)
    except (UnknownLocaleError, ValueError):
        return {}
    _release(lang)
    return table


def _clean(name: str, alt_in_parens: bool = False) -> list[str]:
    """Alias forms of one CLDR name: "Myanmar (Burma)" -> Myanmar, Burma; "Hong Kong SAR China" -> Hong Kong.

    Parentheses hold an alternative name only for a few codes (elsewhere a qualifier: "SAR China").
    """
    if not name:
        return []
    forms = [_QUALIFIER.sub("", _PAREN.sub(" ", name)).strip()]
    if alt_in_parens:
        forms += [m.strip() for m in re.findall(r"[(（]([^)）]+)[)）]", name)]
    forms = [f.replace("&", "and") if f.isascii() else f for f in forms]
    return [f for f in dict.fromkeys(forms) if len(f) >= _MIN_LEN and " - " not in f and " – " not in f]


def _release(lang: str) -> None:
    """Drop Babel's parsed locale data once read (tens of MB for forty languages; our tables are small).

    Babel reloads a locale it needs again, so other Babel users only pay a re-read.
    """
    from babel import core, localedata

    clear = getattr(localedata, "clear_caches", None)
    if callable(clear):
        clear()
    if getattr(core, "_global_data", None) is not None:  # likely-subtags tables (2 MB), re-read on demand
        core._global_data = None
