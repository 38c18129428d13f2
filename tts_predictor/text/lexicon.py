"""Per-language word tables for normalization (months, units, abbreviations) and date-field parsing."""

from __future__ import annotations

import re
from collections.abc import Callable

CURRENCY_SYMBOLS: dict[str, str] = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}

_DECIMAL_COMMA = frozenset({"fr", "de", "es", "it", "pt", "nl", "pl", "ru", "cs", "da", "sv", "no", "fi", "tr", "ro"})


def decimal_sep(lang: str) -> str:
    """The decimal separator written in `lang` ('.' or ',')."""
    return "," if lang in _DECIMAL_COMMA else "."


_WORDS: dict[str, dict[str, str]] = {
    "en": {"plus": "plus", "minus": "minus", "percent": "percent"},
    "fr": {"plus": "plus", "minus": "moins", "percent": "pour cent"},
    "de": {"plus": "plus", "minus": "minus", "percent": "Prozent"},
    "es": {"plus": "más", "minus": "menos", "percent": "por ciento"},
    "it": {"plus": "più", "minus": "meno", "percent": "per cento"},
    "pt": {"plus": "mais", "minus": "menos", "percent": "por cento"},
}


def word(lang: str, key: str) -> str:
    """A small function word (plus, minus, percent) in `lang`, English when unknown."""
    return _WORDS.get(lang, _WORDS["en"])[key]


_MONTHS: dict[str, tuple[str, ...]] = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
    "de": (
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ),
    "es": (
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
    "it": (
        "gennaio",
        "febbraio",
        "marzo",
        "aprile",
        "maggio",
        "giugno",
        "luglio",
        "agosto",
        "settembre",
        "ottobre",
        "novembre",
        "dicembre",
    ),
    "pt": (
        "janeiro",
        "fevereiro",
        "março",
        "abril",
        "maio",
        "junho",
        "julho",
        "agosto",
        "setembro",
        "outubro",
        "novembro",
        "dezembro",
    ),
}
GERMAN_MONTHS = frozenset(_MONTHS["de"])
ORDINAL_DAYS = frozenset({"en", "de"})
"""Languages that say the day of the month as an ordinal (others use the cardinal)."""


def month(lang: str, number: int) -> str:
    """Month name in `lang` (English when the language has no table)."""
    return _MONTHS.get(lang, _MONTHS["en"])[number - 1]


DATE_FORMATS = ("mdy", "dmy", "ymd", "md", "dm", "ym", "my", "d", "m", "y")


def date_parts(value: str, fmt: str) -> dict[str, int]:
    """Split `value` into {d, m, y} integers following `fmt`; ValueError when it does not fit."""
    if fmt not in DATE_FORMATS:
        raise ValueError(f"date format {fmt!r} is not one of {', '.join(DATE_FORMATS)}")
    fields = re.split(r"[-/.\s]+", value.strip())
    if len(fields) != len(fmt) or not all(f.isdigit() for f in fields):
        raise ValueError(f"date {value!r} does not match format {fmt!r}")
    parts = {key: int(f) for key, f in zip(fmt, fields)}
    if not 1 <= parts.get("m", 1) <= 12 or not 1 <= parts.get("d", 1) <= 31:
        raise ValueError(f"date {value!r} has an out-of-range month or day")
    return parts


def join_date(lang: str, day: str | None, mon: str | None, year: str | None) -> str:
    """Order day/month/year words the way `lang` says them."""
    if lang == "en":
        head = " ".join(p for p in (mon, day) if p)
        return ", ".join(p for p in (head, year) if p)
    if lang in ("es", "pt"):
        return " de ".join(p for p in (day, mon, year) if p)
    return " ".join(p for p in (day, mon, year) if p)


_HOUR_WORD = {"fr": "heures", "de": "Uhr"}


def join_time(lang: str, hour: str, minute: int, say: Callable[[int], str], suffix: str | None) -> str:
    """Hours and minutes in `lang`: 'ten thirty', 'ten oh five', 'dix heures trente', 'zehn Uhr dreißig'."""
    if lang == "en":
        if minute == 0:
            mins = "" if suffix else "o'clock"
        else:
            mins = ("oh " if minute < 10 else "") + say(minute)
        return " ".join(p for p in (hour, mins, suffix) if p)
    if lang in _HOUR_WORD:
        hour_word = "heure" if lang == "fr" and hour == "un" else _HOUR_WORD[lang]
        return " ".join(p for p in (hour, hour_word, say(minute) if minute else "") if p)
    joiner = {"es": " y ", "it": " e ", "pt": " e "}.get(lang, " ")
    return hour + (joiner + say(minute) if minute else "")


ORDINAL_SUFFIXES: dict[str, tuple[str, ...]] = {
    "en": ("st", "nd", "rd", "th"),
    "fr": ("er", "re", "e", "ème", "eme"),
}

_UNITS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "km": ("kilometer", "kilometers"),
        "kg": ("kilogram", "kilograms"),
        "cm": ("centimeter", "centimeters"),
        "mm": ("millimeter", "millimeters"),
        "mg": ("milligram", "milligrams"),
        "ml": ("milliliter", "milliliters"),
        "m": ("meter", "meters"),
        "g": ("gram", "grams"),
        "l": ("liter", "liters"),
        "mph": ("mile per hour", "miles per hour"),
        "km/h": ("kilometer per hour", "kilometers per hour"),
        "°C": ("degree Celsius", "degrees Celsius"),
        "°F": ("degree Fahrenheit", "degrees Fahrenheit"),
    },
    "fr": {
        "km": ("kilomètre", "kilomètres"),
        "kg": ("kilogramme", "kilogrammes"),
        "cm": ("centimètre", "centimètres"),
        "mm": ("millimètre", "millimètres"),
        "mg": ("milligramme", "milligrammes"),
        "ml": ("millilitre", "millilitres"),
        "m": ("mètre", "mètres"),
        "g": ("gramme", "grammes"),
        "l": ("litre", "litres"),
        "km/h": ("kilomètre par heure", "kilomètres par heure"),
        "°C": ("degré Celsius", "degrés Celsius"),
        "°F": ("degré Fahrenheit", "degrés Fahrenheit"),
    },
    "de": {
        "km": ("Kilometer", "Kilometer"),
        "kg": ("Kilogramm", "Kilogramm"),
        "cm": ("Zentimeter", "Zentimeter"),
        "mm": ("Millimeter", "Millimeter"),
        "mg": ("Milligramm", "Milligramm"),
        "ml": ("Milliliter", "Milliliter"),
        "m": ("Meter", "Meter"),
        "g": ("Gramm", "Gramm"),
        "l": ("Liter", "Liter"),
        "km/h": ("Kilometer pro Stunde", "Kilometer pro Stunde"),
        "°C": ("Grad Celsius", "Grad Celsius"),
        "°F": ("Grad Fahrenheit", "Grad Fahrenheit"),
    },
    "es": {
        "km": ("kilómetro", "kilómetros"),
        "kg": ("kilogramo", "kilogramos"),
        "cm": ("centímetro", "centímetros"),
        "mm": ("milímetro", "milímetros"),
        "mg": ("miligramo", "miligramos"),
        "ml": ("mililitro", "mililitros"),
        "m": ("metro", "metros"),
        "g": ("gramo", "gramos"),
        "l": ("litro", "litros"),
        "km/h": ("kilómetro por hora", "kilómetros por hora"),
        "°C": ("grado Celsius", "grados Celsius"),
        "°F": ("grado Fahrenheit", "grados Fahrenheit"),
    },
}


UNITS = _UNITS
"""Unit symbol → (singular, plural) per language (extended by tables.unit_name)."""


def unit(lang: str, symbol: str, singular: bool) -> str:
    """Spoken unit name, or the symbol itself when `lang` has no table."""
    forms = _UNITS.get(lang, {}).get(symbol)
    if forms is None:
        return symbol
    return forms[0] if singular else forms[1]


def _table(pairs: list[tuple[str, str]]) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(p), r) for p, r in pairs)


_SENTENCE_STARTS = (
    "It|The|He|She|They|We|I|A|An|This|That|These|Those|There|Then|But|And|So|Now|In|On|At|Its|Our|My|His|Her"
    "|Their|You|Your|After|Before|When|While|If|As|Later|Next"
)
"""Words that begin a new sentence: 'Elm St. It was' is a street at a sentence end, 'Visit St. Louis' a saint."""

ABBREVIATIONS: dict[str, tuple[tuple[re.Pattern[str], str], ...]] = {
    "en": _table(
        [
            (r"(?<=[a-z] )Dr\.(?=\s+[a-z]|\s*$|\s*[,;:!?])", "Drive"),
            (r"\bDr\.(?=\s)", "Doctor"),
            (r"\bMr\.(?=\s)", "Mister"),
            (r"\bMrs\.(?=\s)", "Missus"),
            (r"\bMs\.(?=\s)", "Miz"),
            (r"\bProf\.(?=\s)", "Professor"),
            (r"\bJr\.", "Junior"),
            (r"\bSr\.", "Senior"),
            *[(rf"(?<=[A-Z][a-z]{{{k}}} )St\.(?=\s+(?:{_SENTENCE_STARTS})\b)", "Street.") for k in range(1, 12)],
            (r"\bSt\.(?=\s+[A-Z])", "Saint"),
            (r"(?<=[a-z] )St\.", "Street"),
            (r"\bSt\.", "Street"),
            (r"\bAve\.", "Avenue"),
            (r"\be\.g\.", "for example"),
            (r"\bi\.e\.", "that is"),
            (r"\betc\.", "et cetera"),
            (r"\bvs\.?(?=\s)", "versus"),
            (r"\bapprox\.", "approximately"),
            (r"\b[Nn]o\.(?=\s*\d)", "number"),
            (r"\b[Nn]os\.(?=\s*\d)", "numbers"),
            (r"\b[Cc]h\.(?=\s*\d)", "chapter"),
            (r"\b[Ee]xt\.(?=\s*\d)", "extension"),
            (r"\b[Cc]hap\.(?=\s*\d)", "chapter"),
            (r"\bpp\.(?=\s*\d)", "pages"),
            (r"\bp\.(?=\s*\d)", "page"),
            (r"\b[Vv]ol\.(?=\s*\d)", "volume"),
            (r"\b[Vv]ols\.(?=\s*\d)", "volumes"),
            (r"\b[Ff]igs\.(?=\s*\d)", "figures"),
            (r"\b[Ff]ig\.(?=\s*\d)", "figure"),
            (r"\b[Ee]q\.(?=\s*\d)", "equation"),
            (r"\b[Ss]ec\.(?=\s*\d)", "section"),
            (r"\b[Pp]ara\.(?=\s*\d)", "paragraph"),
            (r"\b[Ee]d\.(?=\s*\d)", "edition"),
            (r"\bcf\.", "compare"),
            (r"\bviz\.", "namely"),
            (r"\bInc\.", "Incorporated"),
            (r"\bLtd\.", "Limited"),
            (r"\bCorp\.", "Corporation"),
            (r"\bBros\.", "Brothers"),
            (r"\bBlvd\.", "Boulevard"),
            (r"\bRd\.", "Road"),
            (r"\bHwy\.", "Highway"),
            (r"\bFt\.(?=\s+[A-Z])", "Fort"),
            (r"\bGen\.(?=\s+[A-Z])", "General"),
            (r"\bGov\.(?=\s+[A-Z])", "Governor"),
            (r"\bSen\.(?=\s+[A-Z])", "Senator"),
            (r"\bRep\.(?=\s+[A-Z])", "Representative"),
            (r"\bCapt\.(?=\s+[A-Z])", "Captain"),
            (r"\bLt\.(?=\s+[A-Z])", "Lieutenant"),
            (r"\bSgt\.(?=\s+[A-Z])", "Sergeant"),
            (r"\bRev\.(?=\s+[A-Z])", "Reverend"),
            (r"\bHon\.(?=\s+[A-Z])", "Honorable"),
            (r"\bDept\.", "Department"),
            (r"\bUniv\.", "University"),
            (r"\bAssoc\.", "Association"),
            (r"\bMon\.(?=[\s,])", "Monday"),
            (r"\bTues?\.(?=[\s,])", "Tuesday"),
            (r"\bWed\.(?=[\s,])", "Wednesday"),
            (r"\bThu(?:rs?)?\.(?=[\s,])", "Thursday"),
            (r"\bFri\.(?=[\s,])", "Friday"),
            (r"\bSat\.(?=[\s,])", "Saturday"),
            (r"\bSun\.(?=[\s,])", "Sunday"),
            (r"\bJan\.", "January"),
            (r"\bFeb\.", "February"),
            (r"\bMar\.(?=[\s,])", "March"),
            (r"\bApr\.", "April"),
            (r"\bJun\.", "June"),
            (r"\bJul\.", "July"),
            (r"\bAug\.", "August"),
            (r"\bSept?\.", "September"),
            (r"\bOct\.", "October"),
            (r"\bNov\.", "November"),
            (r"\bDec\.", "December"),
            (r"\bTel\.(?=\s)", "telephone"),
            (r"\bMt\.(?=\s+[A-Z])", "Mount"),
        ]
    ),
    "fr": _table(
        [
            (r"\bM\.(?=\s+[A-Z])", "Monsieur"),
            (r"\bMM\.(?=\s)", "Messieurs"),
            (r"\bMme\b\.?", "Madame"),
            (r"\bDʳᵉˢ(?!\w)", "docteures"),
            (r"\bDʳᵉ(?!\w)", "docteure"),
            (r"\bDʳ(?!\w)", "docteur"),
            (r"\bMᵐᵉˢ(?!\w)", "mesdames"),
            (r"\bMᵐᵉ(?!\w)", "madame"),
            (r"\bMˡˡᵉˢ(?!\w)", "mesdemoiselles"),
            (r"\bMˡˡᵉ(?!\w)", "mademoiselle"),
            (r"\bMlle\b\.?", "Mademoiselle"),
            (r"\bDr\b\.?", "Docteur"),
            (r"\bPr\b\.?(?=\s+[A-Z])", "Professeur"),
            (r"\bp\.\s?ex\.", "par exemple"),
            (r"\bc\.-à-d\.", "c'est-à-dire"),
            (r"\betc\.", "et cetera"),
            (r"\bav\.(?=\s)", "avenue"),
            (r"\bSt\b\.?(?=[-\s][A-Z])", "Saint"),
            (r"\bSte\b\.?(?=[-\s][A-Z])", "Sainte"),
        ]
    ),
    "de": _table(
        [
            (r"\bDr\.(?=\s)", "Doktor"),
            (r"\bHr\.(?=\s)", "Herr"),
            (r"\bHrn\.(?=\s)", "Herrn"),
            (r"\bFr\.(?=\s+[A-Z])", "Frau"),
            (r"\bProf\.(?=\s)", "Professor"),
            (r"\bz\.\s?B\.", "zum Beispiel"),
            (r"\busw\.", "und so weiter"),
            (r"\bbzw\.", "beziehungsweise"),
            (r"\bca\.", "circa"),
            (r"\bd\.\s?h\.", "das heißt"),
            (r"\bStr\.", "Straße"),
            (r"\bNr\.(?=\s*\d)", "Nummer"),
            (r"\bTel\.(?=\s)", "Telefon"),
            (r"\bu\.\s?a\.", "unter anderem"),
            (r"\bMr\.(?=\s)", "Mister"),
            (r"\bMrs\.(?=\s)", "Misses"),
            (r"\bMs\.(?=\s)", "Miss"),
        ]
    ),
    "es": _table(
        [
            (r"\bSr\.(?=\s)", "señor"),
            (r"\bSra\.(?=\s)", "señora"),
            (r"\bSrta\.(?=\s)", "señorita"),
            (r"\bDr\.(?=\s)", "doctor"),
            (r"\bDra\.(?=\s)", "doctora"),
            (r"\bp\.\s?ej\.", "por ejemplo"),
            (r"\betc\.", "etcétera"),
            (r"\bUd\.", "usted"),
            (r"\bUds\.", "ustedes"),
            (r"\bdr\.", "doctor"),
            (r"\bdra\.", "doctora"),
            (r"\bsr\.", "señor"),
            (r"\bsra\.", "señora"),
            (r"\bDña\.", "doña"),
            (r"\bDa\.(?=\s)", "doña"),
            (r"\besq\.", "esquina"),
            (r"\bpza\.", "plaza"),
            (r"\bPza\.", "plaza"),
            (r"\bEE\.\s?UU\.", "Estados Unidos"),
            (r"\bee\.\s?uu\.", "Estados Unidos"),
        ]
    ),
}
