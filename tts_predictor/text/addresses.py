"""US addresses and numbers that name things, read as people say them (English rules of `rules`).

House numbers in pairs before a street ('1428 Elm St.' → fourteen twenty-eight), directions ('N 1st St' → North),
street types without a dot after a street name ('Laguna Ct' → Court), state codes before a ZIP code ('CA 95051' →
California nine five zero five one), and numbers after a word that names a thing ('Flight 1549', 'Room 101').
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tts_predictor.text import tables as tb
from tts_predictor.text import verbalize as sy

_STREET_TYPES = (
    "St|Street|Ave|Avenue|Rd|Road|Blvd|Boulevard|Dr|Drive|Ln|Lane|Ct|Court|Way|Pl|Place|Ter|Terrace|Hwy|Highway"
    "|Expy|Expressway|Pkwy|Parkway|Sq|Square|Cir|Circle"
)
_HOUSE_NUMBER = (
    r"(?<![\w.,#-])([1-9]\d{2,4})(?=\s(?:[NSEW]\.?\s)?(?:(?:[A-Z][a-z]{1,20}|\d{1,3}(?:st|nd|rd|th))\s){1,3}(?:"
    + _STREET_TYPES
    + r")\b)"
)
"""A house number before a street ('1428 Elm St.'), read in pairs: 'fourteen twenty-eight'."""


_AFTER_STREET_NAME = "|".join(
    [*(rf"(?<=[A-Z][a-z]{{{k}}} )" for k in range(1, 13)), *(rf"(?<=\d{s} )" for s in ("st", "nd", "rd", "th"))]
)
"""Fixed-width lookbehinds (Python's re needs them): a capitalized word or an ordinal street ('1st') before."""
_STREET_TYPE = rf"(?:{_AFTER_STREET_NAME})((?i:{'|'.join(tb.STREET_TYPES)}))\b(?!\.)(?=\s*(?:,|$|\s[A-Z]))"
_DIRECTION = r"(?<=\d )([NSEW])(?= (?:[A-Z][a-z]{1,20}|\d{1,3}(?:st|nd|rd|th)) )"
_STATE = rf"(?<=, )({'|'.join(tb.US_STATES)})\b(?:(,?\s)(\d{{5}})(?:-(\d{{4}}))?\b)?(?![\w'-])"


def _street_type(m: re.Match[str], lang: str) -> str:
    return tb.STREET_TYPES[m.group(1).capitalize()]


def _direction(m: re.Match[str], lang: str) -> str:
    return {"N": "North", "S": "South", "E": "East", "W": "West"}[m.group(1)]


def _state(m: re.Match[str], lang: str) -> str | None:
    """'CA 95051' → 'California nine five zero five one'; a code that is also a word ('OR') needs its ZIP."""
    code, zip_code = m.group(1), m.group(3)
    if zip_code is None and (code in tb.AMBIGUOUS_STATES or m.string[m.end() : m.end() + 1] not in ("", ",", ".")):
        return None
    spoken = tb.US_STATES[code]
    if zip_code:
        spoken += f"{',' if ',' in m.group(2) else ''} {sy.say_digits(zip_code, lang)}"
        spoken += f" {sy.say_digits(m.group(4), lang)}" if m.group(4) else ""
    return spoken


_NAMED_NUMBER = (
    r"\b(Room|Rm\.|Flight|Gate|Suite|Apt\.?|Apartment|Platform|Bus|Route|Interstate|Boeing|Airbus|Track|Channel"
    r"|Terminal|Studio|Ward|Pier|Dock|Exit)\s([1-9]\d{2,3})(?![\w.,]?\d|\w)"
)
"""A number that names something (a room, a flight, an aircraft) is said in pairs: 'Flight 1549' → fifteen
forty-nine, 'Room 101' → one oh one, 'Boeing 747' → seven forty-seven; after other words it is a quantity."""


def _named_number(m: re.Match[str], lang: str) -> str:
    return f"{m.group(1)} {_in_pairs(m.group(2), lang)}"


def _house_number(m: re.Match[str], lang: str) -> str:
    return _in_pairs(m.group(1), lang)


def _in_pairs(digits: str, lang: str) -> str:
    """'1428' → fourteen twenty-eight, '708' → seven oh eight, '1200' → twelve hundred."""
    head, pair = digits[:-2], digits[-2:]
    tail = "hundred" if pair == "00" else f"oh {sy.n2w(int(pair), lang)}" if pair[0] == "0" else sy.n2w(int(pair), lang)
    return f"{sy.n2w(int(head), lang)} {tail}"


RULES: list[tuple[str, str, Callable[[re.Match[str], str], str | None]]] = [
    ("address", _HOUSE_NUMBER, _house_number),
    ("number", _NAMED_NUMBER, _named_number),
    ("address", _DIRECTION, _direction),
    ("address", _STREET_TYPE, _street_type),
    ("address", _STATE, _state),
]
"""(class, regex, reader) of the English address rules, in priority order (before times and numbers)."""
