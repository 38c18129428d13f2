"""English-only readings of `rules`: serial codes, equations, dimensions, vanity numbers, time zones, symbols.

Each rule reads a pattern the way a person says it and declines (returns None) where another rule should read it.
Every pattern is linear: no two unbounded quantifiers can share characters (possessive runs where they could).
"""

from __future__ import annotations

import re
from collections.abc import Callable

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
_SUFFIXES = frozenset({"s", "st", "nd", "rd", "th", "x", "am", "pm"})
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


def _digits_group(digits: str, lang: str) -> str:
    """A run of digits inside a code: '7' seven, '25' twenty-five, '321' three twenty-one, '2000' two thousand,
    '2019' twenty nineteen; a leading zero or five digits and more one by one."""
    n = len(digits)
    if digits[0] == "0" and n > 1 or n > 4:
        return sy.say_digits(digits, lang)
    if n <= 2 or digits.endswith("00" if n == 3 else "000"):
        return sy.n2w(int(digits), lang)
    if n == 3:  # a model number in pairs: 'A321' three twenty-one, 'A305' three oh five
        tail = int(digits[1:])
        return f"{sy.n2w(int(digits[0]), lang)} {'oh ' if tail < 10 else ''}{sy.n2w(tail, lang)}"
    if re.fullmatch(r"1[1-9]\d\d|20\d\d", digits):
        return sy.say_year(int(digits), lang)
    return sy.say_digits(digits, lang)


def _serial(m: re.Match[str], lang: str) -> str | None:
    """'B2A23C' → 'B two A twenty-three C', 'ab9453' → 'ab nine four five three', '12text' → 'twelve text';
    left alone inside a bracketed phoneme transcription ('[HH AH0 L OW1]')."""
    before = m.string[max(0, m.start() - 200) : m.start()]
    if before.rfind("[") > before.rfind("]") and re.match(r"[^\[\]]{0,200}\]", m.string[m.end() :]):
        return None
    parts = re.findall(r"\d+|[A-Za-z]+", m.group(0))
    return " ".join(_digits_group(p, lang) if p.isdigit() else p for p in parts)


def _dashed_code(m: re.Match[str], lang: str) -> str | None:
    """'SN-4829-XK7' → 'SN-four eight two nine-XK seven', '1-413-te-b' → 'one-four hundred and thirteen-te-b':
    parts joined by dashes, with letters and digits among them, read part by part (the dashes stay: a pause)."""
    text = m.group(0)
    if not (any(ch.isalpha() for ch in text) and any(ch.isdigit() for ch in text)):
        return None
    if any(_read_elsewhere(part) for part in text.split("-")):
        return None  # 'mid-1980s', 'the 2-21st', '3-4pm', '5-10kg': their own rules read these
    return "-".join(_code_part(part, lang) for part in text.split("-"))


def _read_elsewhere(part: str) -> bool:
    """A decade, ordinal, multiplier, clock time or measure ('1980s', '21st', '2x', '4pm', '10kg')."""
    m = re.fullmatch(r"\d{1,9}([A-Za-z]{1,5})", part)
    return m is not None and (m.group(1).lower() in _SUFFIXES or tb.unit_name("en", m.group(1), False) is not None)


def _time_range(m: re.Match[str], lang: str) -> str | None:
    """'3-4pm', '9 - 11 a.m.' → 'three to four PM'."""
    start, end = int(m.group(1)), int(m.group(2))
    if not (1 <= start <= 12 and 1 <= end <= 12):
        return None
    return f"{sy.n2w(start, lang)} to {sy.n2w(end, lang)} {m.group(3).upper()}M"


def _code_part(part: str, lang: str) -> str:
    if part.isalpha():
        return part
    if part.isdigit():
        return sy.n2w(int(part), lang) if len(part) <= 3 and part[0] != "0" else _digits_group(part, lang)
    return " ".join(_digits_group(p, lang) if p.isdigit() else p for p in re.findall(r"\d+|[A-Za-z]+", part))


def _slash_chain(m: re.Match[str], lang: str) -> str:
    """'123/261788/2021', '31/31/100' (no date, no fraction): each number read, the slashes kept."""
    return re.sub(r"\d+", lambda d: _chain_number(d.group(0), lang), m.group(0))


def _chain_number(digits: str, lang: str) -> str:
    if digits[0] == "0" and len(digits) > 1 or len(digits) > 4:
        return sy.say_digits(digits, lang)
    return sy.n2w(int(digits), lang)


def _leading_zero(m: re.Match[str], lang: str) -> str:
    """'004', '05', '02134': a number written with a leading zero is a code, read digit by digit."""
    return sy.say_digits(m.group(0), lang)


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


def _card_digits(m: re.Match[str], lang: str) -> str:
    """'card ending in 8876' → '... eight eight seven six': the last digits of an account are read one by one."""
    return f"{m.group(1)}{sy.say_digits(m.group(2), lang)}"


_SIDE_UNITS = r"(?:mm|cm|km|m|ft|yd|px)[2²]?"
"""Units after dimensions ('2x8 m2'): lengths only, so '2 x 4 in the garage' keeps its 'in'."""
_DASHED = r"(?<![\w'’.@#$-])[A-Za-z0-9]++(?:-[A-Za-z0-9]++)++(?![\w'’@-]|\.\w)"
"""Words and numbers joined by dashes ('SN-4829-XK7'); the reader declines unless letters and digits both occur."""
_CODE = r"(?<![\w'’.@#$])(?=[A-Za-z]++\d|\d++[A-Za-z])[A-Za-z0-9]++(?![\w'’@]|\.\w)"
"""A word of letters and digits: the lookahead needs a letter-digit or digit-letter border, the run is possessive."""

EARLY: list[tuple[str, str, Reader]] = [
    ("telephone", r"(?<![\w-])1-(8[0-8]{2})-((?=[0-9-]*+[A-Z])[A-Z0-9]++(?:-[A-Z0-9]++)*+)(?![\w-])", _vanity),
    (
        "time",
        r"\b([01]?\d|2[0-3])(?:([:.])([0-5]\d))?(?:\s?([AaPp])\.?\s?[Mm]\b\.?)?(?:\s?(" + _ZONES + r"))?(?![\w:])",
        _zoned_time,
    ),
    ("number", r"(?<![\w.,])([1-9])0([1-9])((?:\([a-z0-9]{1,2}\))++)(?!\w)", _statute),
    ("time", r"(?<![\w.,:-])(\d{1,2})\s?[-–]\s?(\d{1,2})\s?([AaPp])\.?[Mm]\b\.?", _time_range),
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
    (
        "telephone",
        r"\b((?i:card|account|number|phone)(?: number)? (?:ending|ends) (?:in|with) )(\d{2,8})\b",
        _card_digits,
    ),
    ("ratio", r"(?<![\w:.])(\d{1,3}):(\d)(?![\w:]|\.\d)", _ratio),
]
"""Ahead of the times, ranges and fractions: they read part of these ('1-2' of '1-2=5', '2:8')."""

LATE: list[tuple[str, str, Reader]] = [
    ("serial", _DASHED, _dashed_code),
    ("serial", _CODE, _serial),
    ("number", r"(?<![\w.,/])\d{1,9}(?:/\d{1,9})++(?![\w/]|[.,]\d)", _slash_chain),
    ("number", r"(?<![\w.,:/-])0\d{1,15}(?![\w]|[.,:/]\d)", _leading_zero),
    ("symbol", r"(?<![\d$€£¥₩#%§.,])[$€£¥₩#%§]++(?!\d|\.\d)", _symbols),
    ("symbol", r"(?<![\w@])@(?=\w)|(?<=\w)@(?![\w@])|(?<=[A-Za-z])\+\+(?!\w)", _symbols),
    ("symbol", r"(?<=\s)&(?=\s)|(?<=[A-Z])&(?=[A-Z])", _ampersand),
    ("slash", r"\b(?i:and/or|w/o|c/o|n/a)\b", _slash_word),
    ("slash", r"(?<=[A-Za-z])\s?/\s?(?=[A-Za-z])", _slash),
]
"""Ahead of the plain numbers only: ordinals, units, decades and times read '21st', '5kg', '80s', '5pm' first."""

DIGITS_FROM = 16
"""An integer of this many digits and more, written without separators, is a code (a card or account number),
read digit by digit: nobody writes a quadrillion as '1234567890123124'."""
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
