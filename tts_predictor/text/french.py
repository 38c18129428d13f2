"""French rules the shared ones lack: day lists before a month ('les 17/18/19 mars'), a day and month written with
a dot ('17.06' dix-sept juin), ordinals with thousands grouped or a feminine ending ('1 000 000 000e', '1ère') and
mixed numbers with a half ('1 1/2' un et demi)."""

from __future__ import annotations

import re
from collections.abc import Callable

from tts_predictor.text import lexicon as lx
from tts_predictor.text import verbalize as sy

Reader = Callable[[re.Match[str], str], "str | None"]
_MONTHS = "|".join(lx.month("fr", i) for i in range(1, 13))


def cardinal(n: int) -> str:
    return sy.n2w(n, "fr")


def _day(n: int) -> str:
    return "premier" if n == 1 else cardinal(n)


def _day_list(m: re.Match[str], lang: str) -> str | None:
    """'17/18 juin' dix-sept et dix-huit juin, '17-18-19 juin' dix-sept, dix-huit et dix-neuf juin."""
    days = [int(d) for d in re.split(r"[/-]", m.group(1))]
    if not all(1 <= d <= 31 for d in days):
        return None
    said = [_day(d) for d in days]
    return f"{', '.join(said[:-1])} et {said[-1]} {m.group(3)}"


def _dotted_date(m: re.Match[str], lang: str) -> str | None:
    """'17.06' dix-sept juin: French writes decimals with a comma, so two-digit day.month is a date."""
    day, month = int(m.group(1)), int(m.group(2))
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return None
    return f"{_day(day)} {lx.month('fr', month)}"


def _ordinal(m: re.Match[str], lang: str) -> str:
    """'1ère' première, '1er' premier, '1 000 000 000e' un milliardième, '2es' deuxièmes."""
    n = int(re.sub(r"\D", "", m.group(1)))
    suffix = m.group(2)
    plural = "s" if suffix.endswith("s") else ""
    if n == 1:
        return ("premier" if suffix.startswith("er") else "première") + plural
    return sy.n2w(n, "fr", "ordinal") + plural


def _half(m: re.Match[str], lang: str) -> str:
    """'1 1/2' un et demi, '3 1/2' trois et demi."""
    return f"{cardinal(int(m.group(1)))} et demi"


def _heures(m: re.Match[str], lang: str) -> str | None:
    """'14h30' quatorze heures trente, '9h' neuf heures, '1h05' une heure cinq, '21h' vingt et une heures."""
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if hour > 24:
        return None
    words = cardinal(hour)
    words = words + "e" if words.endswith("un") else words  # 'une heure', 'vingt et une heures'
    said = lx.join_time("fr", words, minute, cardinal, None)
    return said.replace(" heures", " heure", 1) if hour < 2 else said  # zéro heure, une heure


RULES: list[tuple[str, str, Reader]] = [
    ("time", r"(?<![\w.,:])([01]?\d|2[0-4])[ ]?h[ ]?([0-5]\d)?\b(?![.,]\d)", _heures),
    ("date", rf"(?<![\w.,/-])(\d{{1,2}}(?:([/-])\d{{1,2}})(?:\2\d{{1,2}})?)[ ]((?i:{_MONTHS}))\b", _day_list),
    ("date", r"(?<![\w.,])(\d{2})\.(\d{2})(?![\w.,]|[.,]\d)", _dotted_date),
    (
        "ordinal",
        r"(?<![\w.,])(\d{1,3}(?:\u202f\d{3})+|\d{1,15})(ère|ères|ere|er|ers|re|res|ème|èmes|eme|e|es)\b",
        _ordinal,
    ),
    ("fraction", r"(?<![\w/.,])(\d{1,9}) 1/2(?![\w/]|[.,]\d)", _half),
]
"""French rules, tried before the shared ones (rules.rules_for)."""
