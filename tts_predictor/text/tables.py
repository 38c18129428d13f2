"""Word tables behind the normalizer's readings: currencies, number scales, fractions, units, ranges, Roman numerals."""

from __future__ import annotations

from collections.abc import Callable

from num2words import CONVERTER_CLASSES

from tts_predictor.text import lexicon as lx

CURRENCY_SYMBOLS: dict[str, str] = {**lx.CURRENCY_SYMBOLS, "₹": "INR", "₩": "KRW"}
CURRENCY_WORDS: dict[str, str] = {
    "dollars": "USD",
    "dollar": "USD",
    "euros": "EUR",
    "euro": "EUR",
    "pounds": "GBP",
    "pound": "GBP",
    "yen": "JPY",
    "USD": "USD",
    "EUR": "EUR",
    "GBP": "GBP",
    "CHF": "CHF",
}
"""Currency written after an amount ("80 euros", "12 USD"): only the ISO codes are rewritten, words stay."""

_EN_CURRENCY: dict[str, tuple[str, str, str | None, str | None]] = {
    "USD": ("dollar", "dollars", "cent", "cents"),
    "EUR": ("euro", "euros", "cent", "cents"),
    "GBP": ("pound", "pounds", "penny", "pence"),
    "JPY": ("yen", "yen", None, None),
    "INR": ("rupee", "rupees", "paisa", "paise"),
    "CHF": ("Swiss franc", "Swiss francs", "centime", "centimes"),
    "KRW": ("won", "won", None, None),
}
MONEY_AND = {"en": "and", "fr": "et", "de": "und", "es": "con"}
"""Joins the major and the minor unit: 'twelve dollars and fifty cents'."""
AND = {"en": "and", "fr": "et", "de": "und", "es": "y"}


def _forms(lang: str, code: str, minor: bool) -> tuple[str, str] | None:
    if lang.split("_")[0] == "en":
        row = _EN_CURRENCY.get(code)
        if row is None or (minor and row[2] is None):
            return None
        return (row[2], row[3]) if minor else (row[0], row[1])  # type: ignore[return-value]
    forms = getattr(CONVERTER_CLASSES.get(lang), "CURRENCY_FORMS", {}).get(code)
    if forms is None:
        return None
    pair = forms[1 if minor else 0]
    return (pair[0], pair[-1]) if isinstance(pair, tuple) else (pair, pair)


def currency_name(lang: str, code: str, plural: bool) -> str:
    """'dollars', 'Euro', 'euros'; the ISO code itself when the language has no name for it."""
    forms = _forms(lang, code, minor=False)
    return code if forms is None else forms[plural]


def currency_minor(lang: str, code: str, plural: bool) -> str | None:
    """'cents', 'pence', 'centimes'; None when the currency has no minor unit we can name."""
    forms = _forms(lang, code, minor=True)
    return None if forms is None else forms[plural]


_SCALES: dict[str, dict[str, str]] = {
    "en": {
        "thousand": "thousand",
        "k": "thousand",
        "million": "million",
        "m": "million",
        "mn": "million",
        "mm": "million",
        "billion": "billion",
        "bn": "billion",
        "b": "billion",
        "trillion": "trillion",
        "tn": "trillion",
    },
    "de": {
        "tausend": "tausend",
        "mio": "Millionen",
        "million": "Millionen",
        "millionen": "Millionen",
        "mrd": "Milliarden",
        "milliarde": "Milliarden",
        "milliarden": "Milliarden",
    },
    "fr": {
        "mille": "mille",
        "million": "millions",
        "millions": "millions",
        "md": "milliards",
        "mds": "milliards",
        "milliard": "milliards",
        "milliards": "milliards",
    },
    "es": {
        "mil": "mil",
        "millón": "millones",
        "millones": "millones",
        "mm": "millones",
        "mil millones": "mil millones",
    },
}


_NOUN_SCALES = {
    "es": {"millones": "millón", "mil millones": "mil millones"},
    "fr": {"millions": "million", "milliards": "milliard"},
}
"""Scales that are nouns (plural -> singular): the thing counted follows with "de" (RAE, Diccionario panhispánico
de dudas, "millón": "un millón de euros"; French: "un million d'euros", "deux milliards de dollars")."""


def scaled_amount(lang: str, amount: str, one: bool, scale: str, unit: str) -> str:
    """`amount` `scale` `unit` as spoken: "tres coma dos millones de euros", "un million d'euros"."""
    nouns = _NOUN_SCALES.get(lang)
    if nouns is None or scale not in nouns:
        return f"{amount} {scale} {unit}"
    if one:  # "un millón" (apocope of "uno" before a noun), "un million"; "mil millones" takes no article
        scale = nouns[scale]
        amount = "" if scale == "mil millones" else "un"
    of = "d'" if lang == "fr" and unit[:1].lower() in "aeiouyh" else "de "
    return f"{amount} {scale} {of}{unit}".strip()


def scale_word(lang: str, token: str) -> str | None:
    """'million' / 'bn' / 'k' → the scale in words, or None when `token` is not a scale."""
    return _SCALES.get(lang, _SCALES["en"]).get(token.lower().rstrip("."))


def scale_pattern() -> str:
    """Regex alternation of every scale token (longest first)."""
    tokens = sorted({t for table in _SCALES.values() for t in table if " " not in t}, key=len, reverse=True)
    return "|".join(tokens)


VULGAR = {
    "½": "1/2",
    "⅓": "1/3",
    "⅔": "2/3",
    "¼": "1/4",
    "¾": "3/4",
    "⅕": "1/5",
    "⅛": "1/8",
    "⅜": "3/8",
    "⅝": "5/8",
    "⅞": "7/8",
}

_FR_DEN = {2: ("demi", "demis"), 3: ("tiers", "tiers"), 4: ("quart", "quarts")}
_DE_DEN = {
    2: "halb",
    3: "Drittel",
    4: "Viertel",
    5: "Fünftel",
    6: "Sechstel",
    7: "Siebtel",
    8: "Achtel",
    9: "Neuntel",
    10: "Zehntel",
}
_ES_DEN = {
    2: "medio",
    3: "tercio",
    4: "cuarto",
    5: "quinto",
    6: "sexto",
    7: "séptimo",
    8: "octavo",
    9: "noveno",
    10: "décimo",
}
_OVER = {"fr": "sur", "de": "durch", "es": "sobre"}


def fraction_words(lang: str, num_words: str, num: int, den: int, ordinal: Callable[[int], str]) -> str:
    """'one half', 'three quarters', 'two fifths'; 'trois quarts', 'drei Viertel', 'dos tercios'."""
    one = num == 1
    if lang == "en":
        name = {2: ("half", "halves"), 4: ("quarter", "quarters")}.get(den)
        noun = (name[0] if one else name[1]) if name else ordinal(den) + ("" if one else "s")
        return f"{num_words} {noun}"
    if lang == "fr" and den in _FR_DEN:
        return f"{'un' if one else num_words} {_FR_DEN[den][not one]}"
    if lang == "fr" and den > 4:
        return f"{'un' if one else num_words} {ordinal(den)}{'' if one else 's'}"
    if lang == "de" and den in _DE_DEN:
        return f"{'ein' if one else num_words} {_DE_DEN[den]}"
    if lang == "es" and den in _ES_DEN:
        return f"{'un' if one else num_words} {_ES_DEN[den]}{'' if one else 's'}"
    return f"{num_words} {_OVER.get(lang, 'over')} {den}"


_EN_UNITS: dict[str, tuple[str, str]] = {
    "ft": ("foot", "feet"),
    "mi": ("mile", "miles"),
    "yd": ("yard", "yards"),
    "lb": ("pound", "pounds"),
    "lbs": ("pounds", "pounds"),
    "LB": ("pound", "pounds"),
    "LBS": ("pounds", "pounds"),
    "KG": ("kilogram", "kilograms"),
    "KM": ("kilometer", "kilometers"),
    "m²": ("square meter", "square meters"),
    "km²": ("square kilometer", "square kilometers"),
    "cm²": ("square centimeter", "square centimeters"),
    "m³": ("cubic meter", "cubic meters"),
    "km³": ("cubic kilometer", "cubic kilometers"),
    "cm³": ("cubic centimeter", "cubic centimeters"),
    "kbps": ("kilobit per second", "kilobits per second"),
    "Kbps": ("kilobit per second", "kilobits per second"),
    "mbps": ("megabit per second", "megabits per second"),
    "Mbps": ("megabit per second", "megabits per second"),
    "gbps": ("gigabit per second", "gigabits per second"),
    "Gbps": ("gigabit per second", "gigabits per second"),
    "oz": ("ounce", "ounces"),
    "kph": ("kilometer per hour", "kilometers per hour"),
    "m/s": ("meter per second", "meters per second"),
    "L": ("liter", "liters"),
    "mL": ("milliliter", "milliliters"),
    "kWh": ("kilowatt hour", "kilowatt hours"),
    "kW": ("kilowatt", "kilowatts"),
    "W": ("watt", "watts"),
    "V": ("volt", "volts"),
    "Hz": ("hertz", "hertz"),
    "kHz": ("kilohertz", "kilohertz"),
    "MHz": ("megahertz", "megahertz"),
    "GHz": ("gigahertz", "gigahertz"),
    "KB": ("kilobyte", "kilobytes"),
    "kB": ("kilobyte", "kilobytes"),
    "MB": ("megabyte", "megabytes"),
    "GB": ("gigabyte", "gigabytes"),
    "TB": ("terabyte", "terabytes"),
    "ms": ("millisecond", "milliseconds"),
    "s": ("second", "seconds"),
    "sec": ("second", "seconds"),
    "min": ("minute", "minutes"),
    "h": ("hour", "hours"),
    "hr": ("hour", "hours"),
    "hrs": ("hours", "hours"),
    "°": ("degree", "degrees"),
    "t": ("ton", "tons"),
    "ha": ("hectare", "hectares"),
}
_COMMON_UNITS = {
    "°": {"fr": ("degré", "degrés"), "de": ("Grad", "Grad"), "es": ("grado", "grados")},
    "h": {"fr": ("heure", "heures"), "de": ("Stunde", "Stunden"), "es": ("hora", "horas")},
    "min": {"fr": ("minute", "minutes"), "de": ("Minute", "Minuten"), "es": ("minuto", "minutos")},
    "s": {"fr": ("seconde", "secondes"), "de": ("Sekunde", "Sekunden"), "es": ("segundo", "segundos")},
}


def _unit_table(lang: str) -> dict[str, tuple[str, str]]:
    table = dict(lx.UNITS.get(lang, {}))
    if lang == "en":
        table.update(_EN_UNITS)
    for symbol, per_lang in _COMMON_UNITS.items():
        if lang in per_lang:
            table[symbol] = per_lang[lang]
    return table


_TABLES = {lang: _unit_table(lang) for lang in ("en", "fr", "de", "es")}


def unit_name(lang: str, symbol: str, singular: bool) -> str | None:
    """Spoken unit name for a symbol written after a number, or None when unknown."""
    forms = _TABLES.get(lang, {}).get(symbol.strip())
    return None if forms is None else forms[0 if singular else 1]


def unit_symbols(lang: str) -> list[str]:
    """Every unit symbol known in `lang`, longest first (for the regex alternation)."""
    return sorted(_TABLES.get(lang, _TABLES["en"]), key=len, reverse=True)


RANGE_WORD = {"en": "to", "fr": "à", "de": "bis", "es": "a"}

ROMAN_CARDINAL_AFTER = (
    "War",
    "Chapter",
    "Part",
    "Act",
    "Volume",
    "Vol.",
    "Book",
    "Phase",
    "Stage",
    "Type",
    "Class",
    "Section",
    "Article",
    "Round",
    "Level",
    "Grade",
    "Scene",
    "Episode",
    "Season",
    "Bowl",
    "Apollo",
    "Vatican",
    "Guerre",
    "Weltkrieg",
    "Guerra",
    "Kapitel",
    "Teil",
    "Chapitre",
    "Capítulo",
)
"""Words after which a Roman numeral is read as a cardinal: 'World War II' → 'World War two'."""
REGNAL_NAMES = (
    "King",
    "Queen",
    "Pope",
    "Emperor",
    "Tsar",
    "Czar",
    "Henry",
    "Elizabeth",
    "Charles",
    "George",
    "Edward",
    "William",
    "James",
    "Richard",
    "Mary",
    "Louis",
    "Napoleon",
    "Peter",
    "Catherine",
    "John",
    "Paul",
    "Pius",
    "Leo",
    "Benedict",
    "Gregory",
    "Alexander",
    "Frederick",
    "Philip",
    "Victor",
    "Ludwig",
    "Wilhelm",
    "Karl",
    "Felipe",
    "Carlos",
    "Juan",
    "Alfonso",
    "Fernando",
    "Isabel",
    "Luis",
    "Ramses",
    "Constantine",
    "Nicholas",
    "Ivan",
    "Francis",
    "Innocent",
    "Clement",
    "Boniface",
    "Urban",
    "Harold",
    "Stephen",
    "Anne",
    "Victoria",
)
"""Names after which a Roman numeral is a regnal number ('Henry VIII' → 'Henry the eighth'), even a lone I, V or X."""


US_STATES = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
    "DC": "D C",
}
"""US state codes, read as names in an address ('Santa Clara, CA 95051')."""
AMBIGUOUS_STATES = frozenset({"OR", "IN", "ME", "OK", "HI", "OH", "DE", "CO", "ID", "LA", "MA", "PA", "AL", "MI"})
"""Codes that are also words or common initials: read as a state only before a ZIP code."""
STREET_TYPES = {
    "St": "Street",
    "Ave": "Avenue",
    "Rd": "Road",
    "Blvd": "Boulevard",
    "Dr": "Drive",
    "Ln": "Lane",
    "Ct": "Court",
    "Pl": "Place",
    "Ter": "Terrace",
    "Hwy": "Highway",
    "Expy": "Expressway",
    "Pkwy": "Parkway",
    "Sq": "Square",
    "Cir": "Circle",
}
"""Street-type abbreviations written without a dot after a street name ('Laguna Ct', 'San Tomas hwy')."""
