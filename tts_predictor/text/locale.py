"""Regional conventions of a language tag that change how text is read: the order of numeric dates."""

from __future__ import annotations

import re

_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}|\d{3}))?")
_MONTH_FIRST = {"en": frozenset({"US", "PH", "FM", "MH", "PW", "AS", "GU", "MP", "PR", "UM", "VI", "CA", ""})}
"""Regions writing numeric dates month-first (``en`` with no region is read as en-US); everywhere else day-first
(en-GB, en-AU, en-IN, en-IE, en-NZ, en-ZA, es-MX, fr-CA ...). Canada writes both; month-first is its common usage."""


def split_tag(language: str) -> tuple[str, str]:
    """('en', 'GB') for 'en-GB' / 'en_gb'; ('en', '') without a region; ('', '') for a malformed tag."""
    m = _TAG.match((language or "").strip())
    return (m.group(1).lower(), (m.group(2) or "").upper()) if m else ("", "")


def date_order(language: str) -> str:
    """'mdy' or 'dmy': how an ambiguous numeric date such as 03/04/2024 is read in `language`."""
    base, region = split_tag(language)
    return "mdy" if region in _MONTH_FIRST.get(base, frozenset()) else "dmy"
