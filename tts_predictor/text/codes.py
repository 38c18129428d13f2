"""English codes: serial numbers ('B2A23C'), codes joined by dashes or slashes, leading zeros, card digits.

Rules of `english` (English only); each reader declines where a decade, ordinal, time or unit rule reads the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tts_predictor.text import tables as tb
from tts_predictor.text import verbalize as sy

Reader = Callable[[re.Match[str], str], "str | None"]
_SUFFIXES = frozenset({"s", "st", "nd", "rd", "th", "x", "am", "pm"})


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
    if ordinal := re.fullmatch(r"(\d{1,9})(?:ST|ND|RD|TH)", m.group(0)):  # '21ST CENTURY': a heading in capitals
        return sy.n2w(int(ordinal.group(1)), lang, "ordinal")
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


def _card_digits(m: re.Match[str], lang: str) -> str:
    """'card ending in 8876' → '... eight eight seven six': the last digits of an account are read one by one."""
    return f"{m.group(1)}{sy.say_digits(m.group(2), lang)}"


_DASHED = r"(?<![\w'’.@#$-])[A-Za-z0-9]++(?:-[A-Za-z0-9]++)++(?![\w'’@-]|\.\w)"
"""Words and numbers joined by dashes ('SN-4829-XK7'); the reader declines unless letters and digits both occur."""
_CODE = r"(?<![\w'’.@#$])(?=[A-Za-z]++\d|\d++[A-Za-z])[A-Za-z0-9]++(?![\w'’@]|\.\w)"
"""A word of letters and digits: the lookahead needs a letter-digit or digit-letter border, the run is possessive."""
DIGITS_FROM = 16
"""An integer of this many digits and more, written without separators, is a code (a card or account number),
read digit by digit: nobody writes a quadrillion as '1234567890123124'."""

RULES: list[tuple[str, str, Reader]] = [
    ("serial", _DASHED, _dashed_code),
    ("serial", _CODE, _serial),
    ("number", r"(?<![\w.,/])\d{1,9}(?:/\d{1,9})++(?![\w/]|[.,]\d)", _slash_chain),
    ("number", r"(?<![\w.,:/-])0\d{1,15}(?![\w]|[.,:/]\d)", _leading_zero),
]
"""Ahead of the plain numbers, after ordinals, units, decades and times."""
CARD_ENDING: tuple[str, str, Reader] = (
    "telephone",
    r"\b((?i:card|account|number|phone)(?: number)? (?:ending|ends) (?:in|with) )(\d{2,8})\b",
    _card_digits,
)
"""'card ending in 8876': ahead of the plain numbers, which would read a quantity."""
