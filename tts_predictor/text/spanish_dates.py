"""Spanish dates with a month name ('abril 30' treinta de abril, '10 mayo 1990'), abbreviated weekdays and eras,
clock times with seconds and time zones ('2:00 pm gmt-4:30'), and phone numbers with a country code."""

from __future__ import annotations

import re
from collections.abc import Callable

from tts_predictor.text import lexicon as lx
from tts_predictor.text import spanish
from tts_predictor.text import verbalize as sy

Reader = Callable[[re.Match[str], str], "str | None"]


def cardinal(n: int) -> str:
    return sy.n2w(n, "es")


_ZONES = "gmt|utc|pst|pdt|est|edt|cst|cdt|mst|mdt|cet|cest|bst|wet|west|eet|jst|ist|art|clt|cot|pet|vet|pyt|uyt"


def _clock(hour: int, minute: int, second: int, period: str | None) -> str | None:
    """'tres y dos de la tarde'; with seconds 'tres horas dos minutos y treinta y dos segundos'."""
    if hour > 24 or (period and not 1 <= hour <= 12):
        return None
    if second:
        said = [
            f"{spanish.agree(cardinal(n), unit)} {unit}{'' if n == 1 else 's'}"
            for n, unit in ((hour, "hora"), (minute, "minuto"), (second, "segundo"))
        ]
        return f"{said[0]} {said[1]} y {said[2]}"
    return spanish.time_words(hour, minute, f"{period.upper()}M" if period else None)


def _zone(m: re.Match[str], at: int) -> str:
    """' g m t menos cuatro treinta' for 'gmt-4:30' (the zone spelled, the offset said)."""
    zone, sign, hours, minutes = (m.group(at + i) for i in range(4))
    if not zone:
        return ""
    said = " " + " ".join(zone.lower())
    if sign:
        offset = spanish.time_words(int(hours), 0, None) if minutes else cardinal(int(hours))
        said += f" {'más' if sign == '+' else 'menos'} {offset}" + (f" {cardinal(int(minutes))}" if minutes else "")
    return said


def _time(m: re.Match[str], lang: str) -> str | None:
    """'24:50' veinticuatro y cincuenta, '3:02:32 pst', '2:00 pm gmt-4:30', '10 h utc+1:30', '12h02m00s'."""
    minutes, seconds = m.group(2) or m.group(4), m.group(3) or m.group(5)
    if minutes is None and not m.group(7):  # '10 h' without a zone is a duration: the unit rule reads it
        return None
    said = _clock(int(m.group(1)), int(minutes or 0), int(seconds or 0), m.group(6))
    return None if said is None else said + _zone(m, 7)


def _spanish_phone(m: re.Match[str], lang: str) -> str:
    """'912 345 678', '91 234 56 78': a Spanish phone number (nine digits from 6, 7, 8 or 9 in groups), said in
    its groups digit by digit."""
    return ", ".join(sy.say_digits(g, lang) for g in re.findall(r"\d+", m.group(0)))


def _phone(m: re.Match[str], lang: str) -> str:
    """'+54 911 1234-5678' más cincuenta y cuatro, nueve uno uno ... (a country code of one or two digits as a
    number, of three digit by digit), 'ext. 12' extensión uno dos; '123-456-789' digit by digit."""
    if not m.re.groups:
        return sy.say_digits(m.group(0), lang)
    code = m.group(1)  # '+54' cincuenta y cuatro, '+593' cinco nueve tres
    code_said = cardinal(int(code)) if len(code) < 3 else sy.say_digits(code, lang)
    groups = ", ".join(sy.say_digits(g, lang) for g in re.findall(r"\d+", m.group(2)))  # a pause between groups
    said = f"más {code_said}, {groups}"
    return f"{said}, extensión {sy.say_digits(m.group(3), lang)}" if m.group(3) else said


_MONTHS = {lx.month("es", i): i for i in range(1, 13)}
_MONTH_ABBR = {name[:3]: i for name, i in _MONTHS.items()} | {"sept": 9, "set": 9}
_MONTH_NAMES = "|".join(_MONTHS)
_MONTH_SHORT = "|".join(sorted(_MONTH_ABBR, key=len, reverse=True))


def _date_words(day: int, month: int, joiner: str, year: str | None) -> str | None:
    """'primero de enero', 'diez de mayo de mil novecientos noventa', '... del dos mil veinte'."""
    if not 1 <= day <= 31:
        return None
    said = f"{'primero' if day == 1 else cardinal(day)} de {lx.month('es', month)}"
    return f"{said} {joiner or 'de'} {sy.say_year(int(year), 'es')}" if year else said


def _month_of(name: str) -> int:
    name = name.lower().rstrip(".")
    return _MONTHS.get(name) or _MONTH_ABBR[name]


def _day_month(m: re.Match[str], lang: str) -> str | None:
    """'1 enero' primero de enero, '10 mayo 1990', '30 julio del 2020'."""
    return _date_words(int(m.group(1)), _month_of(m.group(2)), m.group(3) or "", m.group(4))


def _month_day(m: re.Match[str], lang: str) -> str | None:
    """'abril 30' treinta de abril, 'junio 11 2000', 'abr. 22'."""
    return _date_words(int(m.group(2)), _month_of(m.group(1)), "", m.group(3))


_WEEKDAYS = {"lun": "lunes", "miérc": "miércoles", "mié": "miércoles", "jue": "jueves", "vier": "viernes"}
_WEEKDAYS |= {"vie": "viernes", "sáb": "sábado", "dom": "domingo"}
"""Abbreviated weekdays before a day number ('vier. 10 de mayo'); 'mar.' is left alone (martes or marzo)."""


def _weekday(m: re.Match[str], lang: str) -> str:
    return _WEEKDAYS[m.group(1).lower()]


def _era(m: re.Match[str], lang: str) -> str:
    """'10.000 a. C.' antes de Cristo, '476 d. C.' después de Cristo (after a number only)."""
    return "antes de Cristo" if m.group(1).lower() == "a" else "después de Cristo"


_MONTH = rf"((?i:{_MONTH_NAMES})\b|(?i:{_MONTH_SHORT})\.)"
RULES: list[tuple[str, str, Reader]] = [
    (
        "telephone",
        r"(?<![\w.,+\u202f])(?:[6789]\d{2}(?:[ \u202f]\d{3}){2}|[89]\d[ \u202f]\d{3}(?:[ \u202f]\d{2}){2})"
        r"(?![\w\u202f]|[ .,]\d)",
        _spanish_phone,
    ),
    (
        "telephone",
        r"(?<![\w+])\+(\d{1,3})[ ]((?:\(?\d{2,5}\)?[ -]?){1,4}\d{2,5})(?:[ ]ext\.?[ ](\d{1,5}))?(?!\w|[.,-]\d)",
        _phone,
    ),
    ("telephone", r"(?<![\w.,-])\d{3,4}(?:-\d{3,4}){2,3}(?![\w-]|[.,]\d)", _phone),
    (
        "time",
        r"(?<![\w.,:])(\d{1,2})(?::([0-5]\d)(?::([0-5]\d))?(?:[ ]?h\b)?|h([0-5]\d)m([0-5]\d)s|[ ]h\b(?=[ ]?[a-z]))"
        r"(?:[ ]?([ap])\.?[ ]?m\b\.?)?"
        rf"(?:[ ]?((?i:{_ZONES}))\b(?:[ ]?([+-])(\d{{1,2}})(?::([0-5]\d))?(?!\d))?)?",
        _time,
    ),
    ("date", rf"(?<![\w.])((?i:{'|'.join(_WEEKDAYS)}))\.(?=[ ]\d)", _weekday),
    ("date", r"(?<=\d[ ])([aAdD])\.[ ]?[cC]\.", _era),
    (
        "date",
        rf"(?<![\w.,])(\d{{1,2}})[ ](?:de[ ])?{_MONTH}(?:[ ](?:(de|del)[ ])?(\d{{4}})\b)?",
        _day_month,
    ),
    ("date", rf"(?<![\w.]){_MONTH}[ ](\d{{1,2}})\b(?!:)(?:,?[ ](\d{{4}})\b)?", _month_day),
]
"""Tried first among the Spanish rules (spanish_rules.RULES)."""
