"""Dates in free text: numeric dates by the locale's order, and English month-name dates (rules of `rules`)."""

from __future__ import annotations

import re
from collections.abc import Callable

from tts_predictor.text import german
from tts_predictor.text import lexicon as lx
from tts_predictor.text import verbalize as sy

Reader = Callable[[re.Match[str], str], "str | None"]
MONTHS_EN = "January|February|March|April|May|June|July|August|September|October|November|December"
MONTH_ABBR = r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec"
MONTHS_ANY_CASE = (
    r"(?i:January|February|April|June|July|August|September|October|November|December)|March|MARCH|May|MAY"
)
"""Month names in any case, but 'may' and 'march' only capitalized: 'I may 5 times' is no date."""


def _parts(value: str, order: str) -> dict[str, int] | None:
    try:
        return lx.date_parts(value, order)
    except ValueError:
        return None


def _numeric_date(orders: tuple[str, ...]) -> Reader:
    """A numeric date read in the first of `orders` it is valid in ('15/03/2024' is day-first even in en-US);
    None (other rules read it) when it is a date in none. A two-digit year reads 'oh five' / 'ninety-nine'."""

    def read(m: re.Match[str], lang: str) -> str | None:
        for order in orders:
            parts = _parts(m.group(0), order)
            if parts is not None:
                year_digits = len(re.split(r"[-/.]", m.group(0))[order.index("y")])
                spoken = _date_in_words(parts, year_digits, lang, day_first=order == "dmy")
                if sy.base(lang) == "de":  # 'am zweiten März', 'der zweite März', 'zweiter März'
                    day, _, rest = spoken.partition(" ")
                    spoken = f"{german.inflect(day, m.string[: m.start()])} {rest}"
                return spoken
        return None

    return read


def _date_in_words(parts: dict[str, int], year_digits: int, lang: str, day_first: bool) -> str:
    if year_digits == 2 and sy.base(lang) == "en":
        short = parts.pop("y")
        year = ("oh " if short < 10 else "") + sy.n2w(short, lang)
        return f"{sy.date_words(parts, lang)}, {year}" if not day_first else _day_first(parts, lang, year)
    if day_first and sy.base(lang) == "en":
        return _day_first(parts, lang, sy.say_year(parts["y"], lang) if "y" in parts else None)
    return sy.date_words(parts, lang)


def _day_first(parts: dict[str, int], lang: str, year: str | None) -> str:
    """British-style reading: 'the fifteenth of March, twenty twenty-four'."""
    head = f"the {sy.n2w(parts['d'], lang, 'ordinal')} of {lx.month('en', parts['m'])}"
    return f"{head}, {year}" if year else head


def _month_number(word: str) -> int:
    return next(i for i, name in enumerate(MONTHS_EN.split("|"), 1) if name.startswith(word[:3].capitalize()))


def _month_date(m: re.Match[str], lang: str) -> str | None:
    """'Oct. 3, 1990' / 'march 15th' / 'JAN-15-2020' → 'October third, nineteen ninety' (English)."""
    month = _month_number(m.group(1))
    if not 1 <= int(m.group(2)) <= 31:
        return None
    return sy.date_words({"m": month, "d": int(m.group(2))} | ({"y": int(m.group(3))} if m.group(3) else {}), lang)


def _day_month(m: re.Match[str], lang: str) -> str | None:
    """'15 March 2024' / '3rd of may' / '25 Sept.' → 'the fifteenth of March, twenty twenty four'."""
    if not 1 <= int(m.group(1)) <= 31:
        return None
    year = f", {sy.say_year(int(m.group(3)), lang)}" if m.group(3) else ""
    article = "" if re.search(r"\bthe\s*$", m.string[max(0, m.start() - 5) : m.start()], re.I) else "the "
    month = lx.month("en", _month_number(m.group(2)))
    return f"{article}{sy.n2w(int(m.group(1)), lang, 'ordinal')} of {month}{year}"


def numeric_date_rules(order: str) -> list[tuple[str, str, Reader]]:
    """Numeric dates, before the telephone rules ('03/15/2024' is no phone number); `order`: mdy or dmy."""
    other = "dmy" if order == "mdy" else "mdy"
    return [
        ("date", r"\b\d{4}([-/])\d{1,2}\1\d{1,2}\b", _numeric_date(("ymd",))),
        ("date", r"\b\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})\b", _numeric_date((order, other))),
        ("date", r"\b\d{1,2}-\d{1,2}-\d{4}\b", _numeric_date((order, other))),
        ("date", r"\b\d{1,2}\.\d{1,2}\.\d{4}\b", _numeric_date(("dmy",))),
    ]


def month_name_rules() -> list[tuple[str, str, Reader]]:
    """English dates with a month name: 'Oct. 3, 1990', 'july 25 2012', 'JAN-15-2020', '25 Sept.', '3rd of May'."""
    return [
        (
            "date",
            rf"\b({MONTHS_ANY_CASE}|(?i:{MONTH_ABBR})\.?)(?:\s+|-)(\d{{1,2}})(?:st|nd|rd|th)?\b"
            rf"(?:(?:,?\s+|-)(\d{{4}})\b)?",
            _month_date,
        ),
        (
            "date",
            rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?((?:{MONTHS_ANY_CASE})\b|(?i:{MONTH_ABBR})\b\.?"
            r"|(?:may|march)(?=,?\s+\d{4}\b))"
            rf"(?:,?\s+(\d{{4}})\b)?",
            _day_month,
        ),
    ]
