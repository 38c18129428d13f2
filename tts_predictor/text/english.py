"""English-only readings of `rules`: serial codes, equations, dimensions, vanity numbers, time zones, symbols.

Each rule reads a pattern the way a person says it and declines (returns None) where another rule should read it.
Every pattern is linear: no two unbounded quantifiers can share characters (possessive runs where they could).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tts_predictor.text import codes
from tts_predictor.text import tables as tb
from tts_predictor.text import verbalize as sy

Reader = Callable[[re.Match[str], str], "str | None"]

_ZONES = r"(?i:[ecmp][sd]t|akst|akdt|hst|gmt|utc|bst|cet|cest|aest|aedt)"
_OPERATORS = {"+": "plus", "-": "minus", "−": "minus", "=": "equals", "*": "times", "×": "times", "/": "divided by"}
_SYMBOL_NAMES = {
    "$": "dollar",
    "€": "euro",
    "£": "pound",
    "¥": "yen",
    "₩": "won",
    "#": "hash",
    "%": "percent",
    "§": "section",
    "@": "at",
}
_SLASH_WORDS = {"and/or": "and or", "w/o": "without", "c/o": "care of", "n/a": "not applicable"}


def _zoned_time(m: re.Match[str], lang: str) -> str | None:
    """'11:30EST' / '1:59 p.m. est' / '1.59 p.m.' (a British dotted time): the time, then the zone spelled."""
    hour, sep, minute, half, zone = m.groups()
    if not (zone or (sep == "." and half)) or (sep is None and half is None):
        return None
    clock = f"{hour}:{minute}" if minute else hour
    spoken = _safe_time(f"{clock} {half}m" if half else clock, lang)
    return None if spoken is None else f"{spoken} {zone.upper()}".strip() if zone else spoken


def _safe_time(value: str, lang: str) -> str | None:
    try:
        return sy.say_time(value, lang)
    except ValueError:
        return None


def _quarter(m: re.Match[str], lang: str) -> str:
    """'2Q22' → 'the second quarter of twenty-two'."""
    year = m.group(2)
    said = sy.say_year(int(year), lang) if len(year) == 4 else sy.n2w(int(year), lang)
    return f"the {sy.n2w(int(m.group(1)), lang, 'ordinal')} quarter of {said}"


def _era(m: re.Match[str], lang: str) -> str:
    """'340 A.D.' → 'three forty AD': a year with its era."""
    return f"{sy.say_year(int(m.group(1)), lang)} {m.group(2).replace('.', '').upper()}"


def _statute(m: re.Match[str], lang: str) -> str:
    """'401(k)', '403(b)', '501(c)(3)': a section of the tax code, said 'four oh one k', 'five oh one c three'."""
    head = f"{sy.n2w(int(m.group(1)), lang)} oh {sy.n2w(int(m.group(2)), lang)}"
    parts = [sy.n2w(int(p), lang) if p.isdigit() else p for p in re.findall(r"\w+", m.group(3))]
    return " ".join([head, *parts])


def _cents(m: re.Match[str], lang: str) -> str:
    """'99¢' → 'ninety-nine cents'."""
    n = int(m.group(1))
    return f"{sy.n2w(n, lang)} cent{'' if n == 1 else 's'}"


def _height(m: re.Match[str], lang: str) -> str:
    """'5'10"' → 'five foot ten', as a height is said."""
    return f"{sy.n2w(int(m.group(1)), lang)} foot {sy.n2w(int(m.group(2)), lang)}"


def _compound_unit(m: re.Match[str], lang: str) -> str | None:
    """'a 12-oz can', 'a 5-km run' → 'a twelve-ounce can', 'a five-kilometer run' (singular before a noun)."""
    name = tb.unit_name("en", m.group(2), True)
    return None if name is None else f"{sy.words_for(sy.number(m.group(1), lang), lang)}-{name}"


_DOLLAR_COUNTRIES = {"US": "US", "A": "Australian", "AU": "Australian", "C": "Canadian", "CA": "Canadian"}
_DOLLAR_COUNTRIES |= {"NZ": "New Zealand", "HK": "Hong Kong", "S": "Singapore"}


def _national_dollars(m: re.Match[str], lang: str) -> str | None:
    """'US$76.3 trillion', 'C$5' → 'seventy-six point three trillion US dollars', 'five Canadian dollars'."""
    try:
        spoken = sy.money_words(sy.number(m.group(2), lang), "USD", lang, (m.group(3) or "").strip() or None)
    except ValueError:
        return None
    return re.sub(r"\bdollar", f"{_DOLLAR_COUNTRIES[m.group(1)]} dollar", spoken, count=1)


def _capital_roman(m: re.Match[str], lang: str) -> str | None:
    """'PART XL', 'CHAPTER XII' (a heading in capitals) → 'PART forty', 'CHAPTER twelve'."""
    try:
        return f"{m.group(1)} {sy.n2w(sy.roman_value(m.group(2)), lang)}"
    except ValueError:
        return None


def _vanity(m: re.Match[str], lang: str) -> str:
    """'1-800-GO-U-HAUL' → 'one, eight hundred, GO U HAUL': the toll-free prefix as people say it, words kept."""
    words = [sy.say_digits(p, lang) if p.isdigit() else p for p in m.group(2).split("-")]
    return f"one, {sy.n2w(int(m.group(1)), lang)}, {' '.join(words)}"


def _operand(text: str, lang: str) -> str:
    return text if text.isalpha() else sy.words_for(sy.number(text, lang), lang)


def _equation(m: re.Match[str], lang: str) -> str | None:
    """'1-2=5' → 'one minus two equals five', 'x +1 = y', '2+3' → 'two plus three', '2*8' → 'two times eight'.

    Declines without '=', '+' or '*' ('3-5' is a range, '1/2' a fraction) and with letters but no '='."""
    text = m.group(0)
    has_letters = any(ch.isalpha() for ch in text)
    if "=" not in text and (has_letters or not any(op in text for op in "+*×")):
        return None
    parts = re.findall(r"\d+(?:\.\d+)?|[A-Za-z]|[-−+=*×/]", text)
    return " ".join(_OPERATORS[p] if p in _OPERATORS else _operand(p, lang) for p in parts)


def _square(unit: str, plural: bool) -> str | None:
    """'m', 'm2', 'm²', 'ft2' → the unit's name, 'square' before a squared one."""
    squared = unit[-1:] in ("2", "²")
    name = tb.unit_name("en", unit[:-1] if squared else unit, not plural)
    return None if name is None else f"square {name}" if squared else name


def _dimensions(m: re.Match[str], lang: str) -> str | None:
    """'2x8 m2' → 'two by eight square meters', '25 x 7 m' → 'twenty-five by seven meters'."""
    sides = [sy.words_for(sy.number(side, lang), lang) for side in (m.group(1), m.group(2))]
    unit = m.group(3)
    name = _square(unit, plural=True) if unit else ""
    if name is None:
        return None
    return f"{sides[0]} by {sides[1]} {name}".strip()


def _multiplier(m: re.Match[str], lang: str) -> str:
    """'4.4x', '10x' → 'four point four x', 'ten x'."""
    return f"{sy.words_for(sy.number(m.group(1), lang), lang)} x"


def _time_range(m: re.Match[str], lang: str) -> str | None:
    """'3-4pm', '9 - 11 a.m.' → 'three to four PM'."""
    start, end = int(m.group(1)), int(m.group(2))
    if not (1 <= start <= 12 and 1 <= end <= 12):
        return None
    return f"{sy.n2w(start, lang)} to {sy.n2w(end, lang)} {m.group(3).upper()}M"


def _ratio(m: re.Match[str], lang: str) -> str | None:
    """'3:1', '2:8' → 'three to one' (a single digit after the colon is no clock time); 'read Genesis 1:1' (a
    capitalized name inside a sentence before it) is a verse: declined."""
    if re.search(r"[a-z,]\s[A-Z][a-z]{1,15}\.?\s$", m.string[max(0, m.start() - 20) : m.start()]):
        return None
    return f"{sy.n2w(int(m.group(1)), lang)} to {sy.n2w(int(m.group(2)), lang)}"


def _symbols(m: re.Match[str], lang: str) -> str | None:
    """Symbols standing alone or between words: '$ and %' → 'dollar and percent', 'a#b' → 'a hash b',
    '@mypizza' → 'at mypizza', 'C++' → 'C plus plus'."""
    if m.group(0) == "#" and re.search(r"(?:^|[^A-Za-z])[A-G]$", m.string[max(0, m.start() - 2) : m.start()]):
        return "sharp"  # 'C#', 'F#': the note, the programming language
    return " ".join(_SYMBOL_NAMES.get(ch, "plus") for ch in m.group(0))


def _ampersand(m: re.Match[str], lang: str) -> str:
    return "and"


def _slash(m: re.Match[str], lang: str) -> str:
    """'upgrade/update' → 'upgrade slash update' ('and/or', 'w/o', 'c/o', 'n/a': `_slash_word`, which starts
    earlier and so wins)."""
    return " slash "


def _slash_word(m: re.Match[str], lang: str) -> str:
    return _SLASH_WORDS[m.group(0).lower()]


_SIDE_UNITS = r"(?:mm|cm|km|m|ft|yd|px)[2²]?"
"""Units after dimensions ('2x8 m2'): lengths only, so '2 x 4 in the garage' keeps its 'in'."""
_COMPOUND = (
    r"(?<![\w.,-])(\d{1,6}(?:\.\d{1,3})?)-("
    + "|".join(re.escape(u) for u in tb.unit_symbols("en") if "/" not in u)
    + r")(?![\w/²³-])"
)
"""A number joined to a unit by a dash: a compound adjective ('a 12-oz can')."""

EARLY: list[tuple[str, str, Reader]] = [
    ("telephone", r"(?<![\w-])1-(8[0-8]{2})-((?=[0-9-]*+[A-Z])[A-Z0-9]++(?:-[A-Z0-9]++)*+)(?![\w-])", _vanity),
    (
        "time",
        r"\b([01]?\d|2[0-3])(?:([:.])([0-5]\d))?(?:\s?([AaPp])\.?\s?[Mm]\b\.?)?(?:\s?(" + _ZONES + r"))?(?![\w:])",
        _zoned_time,
    ),
    ("number", r"(?<![\w.,])([1-9])0([1-9])((?:\([a-z0-9]{1,2}\))++)(?!\w)", _statute),
    ("time", r"(?<![\w.,:-])(\d{1,2})\s?[-–]\s?(\d{1,2})\s?([AaPp])\.?[Mm]\b\.?", _time_range),
    ("money", r"(?<![\w.,])(\d{1,3})\s?¢", _cents),
    (
        "roman",
        r"\b(PART|CHAPTER|BOOK|VOLUME|ACT|SCENE|SECTION|ARTICLE|EPISODE|SEASON|PHASE)\s([IVXLCDM]+)\b",
        _capital_roman,
    ),
    (
        "money",
        r"\b(US|AU|A|CA|C|NZ|HK|S)\$\s?(\d{1,3}(?:,\d{3})++(?:\.\d{1,9})?|\d{1,15}(?:\.\d{1,9})?)"
        r"(\s?(?i:thousand|million|billion|trillion|bn|tn|k|m)\b)?",
        _national_dollars,
    ),
    ("unit", r"(?<![\w.,'′])([1-9])['′]\s?(1[01]|\d)(?:\"|''|″|”)", _height),
    ("date", r"\b([1-4])Q(\d{4}|\d{2})\b", _quarter),
    ("date", r"(?<![\w.,])([1-9]\d{0,3})\s?(A\.D\b\.?|B\.C\b\.?|AD\b|BC\b)", _era),
    (
        "math",
        r"(?<![\w.=+*/-])(?:\d+(?:\.\d+)?|[a-z])(?:\s?[-−+=*×/]\s?(?:\d+(?:\.\d+)?|[a-z]))+(?![\w=+*/-]|\.\d)",
        _equation,
    ),
    (
        "dimensions",
        r"(?<![\w.,])(\d+(?:\.\d+)?)\s?[x×]\s?(\d+(?:\.\d+)?)(?:\s?(" + _SIDE_UNITS + r"))?(?!\w)",
        _dimensions,
    ),
    ("dimensions", r"(?<![\w.,])(\d+(?:\.\d+)?)x(?![\w])", _multiplier),
    codes.CARD_ENDING,
    ("ratio", r"(?<![\w:.])(\d{1,3}):(\d)(?![\w:]|\.\d)", _ratio),
]
"""Ahead of the times, ranges and fractions: they read part of these ('1-2' of '1-2=5', '2:8')."""

LATE: list[tuple[str, str, Reader]] = [
    ("unit", _COMPOUND, _compound_unit),
    *codes.RULES,
    ("symbol", r"(?<![\d$€£¥₩#%§.,])[$€£¥₩#%§]++(?!\d|\.\d)", _symbols),
    ("symbol", r"(?<![\w@])@(?=\w)|(?<=\w)@(?![\w@])|(?<=[A-Za-z])\+\+(?!\w)", _symbols),
    ("symbol", r"(?<=\s)&(?=\s)|(?<=[A-Z])&(?=[A-Z])", _ampersand),
    ("slash", r"\b(?i:and/or|w/o|c/o|n/a)\b", _slash_word),
    ("slash", r"(?<=[A-Za-z])\s?/\s?(?=[A-Za-z])", _slash),
]
"""Ahead of the plain numbers only: ordinals, units, decades and times read '21st', '5kg', '80s', '5pm' first."""

_IDIOMS = frozenset({(24, 7)})
"""'24/7' is 'twenty-four seven', not a fraction."""


def fraction(m: re.Match[str], num: int, den: int, lang: str) -> str | None:
    """English fractions the shared rule reads otherwise: '1/4th' (a suffix on the denominator), '22/3' (an
    improper fraction with a small denominator and a numerator that is no month), '142/1' ('over one')."""
    whole = f"{sy.n2w(int(m.group(1)), lang)} and " if m.group(1) else ""
    if den == 1:
        return f"{whole}{sy.n2w(num, lang)} over one"
    if num > 12 and 2 <= den <= 10 and (num, den) not in _IDIOMS:
        return whole + tb.fraction_words("en", sy.n2w(num, lang), num, den, lambda n: sy.n2w(n, lang, "ordinal"))
    if m.group(0)[-1].isalpha() and 0 < num and den:
        return whole + tb.fraction_words("en", sy.n2w(num, lang), num, den, lambda n: sy.n2w(n, lang, "ordinal"))
    return None


FILE_TYPES = {
    "html": "HTML",
    "htm": "HTM",
    "pdf": "PDF",
    "jpg": "jpeg",
    "png": "PNG",
    "svg": "SVG",
    "csv": "CSV",
    "xml": "XML",
    "txt": "text",
    "mp3": "MP three",
    "mp4": "MP four",
    "gif": "gif",
}
"""File extensions at the end of a URL as people say them: 'intro dot HTML', 'image dot jpeg'."""
