"""Free-text normalization rules: one regex and one reading per semiotic class, in priority order, per language."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from tts_predictor.text import addresses, codes, dates, english, french, german, spanish, spanish_rules
from tts_predictor.text import lexicon as lx
from tts_predictor.text import tables as tb
from tts_predictor.text import verbalize as sy

Reader = Callable[[re.Match[str], str], "str | None"]
"""(match, num2words language) → the spoken text, or None to let a later rule try the same place."""


@dataclass(frozen=True)
class Rule:
    """One semiotic class: where it matches and how it is read."""

    name: str
    pattern: re.Pattern[str]
    read: Reader


_NUM = r"(?<!\d)(?<!\d[,.\u00a0\u202f])(?:\d[\d,.\u00a0\u202f]*\d|\d)"
"""A number, starting only where one starts: without the lookbehinds a scan tried every digit of a long run as a
start and backtracked over the rest of it (quadratic; issue 23's ReDoS property test, tests/unit/text)."""
_SIGNED = r"(?<![\w.,/])([-−]?)(" + _NUM + r")"
_SIGNED_EN = r"(?<![\w./%])(?<![^A-Za-z],)([-−]?)(" + _NUM + r")"
"""English also reads a number glued to a word's comma ('yes,34', 'July,1998'); '1,234' stays one number."""
_END = r"(?!\w|[.,-]\d)"
"""A telephone number ends at a word boundary, or at a full stop or comma that no digit follows."""
_YEAR_BEFORE = {
    "in",
    "since",
    "from",
    "by",
    "until",
    "till",
    "of",
    "year",
    "circa",
    "before",
    "after",
    "during",
    "around",
    "early",
    "late",
    "mid",
    "spring",
    "summer",
    "autumn",
    "fall",
    "winter",
    "im",
    "seit",
    "bis",
    "en",
    "depuis",
    "desde",
    "hasta",
    "año",
    "jahr",
    "année",
    *dates.MONTHS_EN.lower().split("|"),
}
_SEPARATORS = {
    "en": {
        ".": "dot",
        "/": "slash",
        "-": "dash",
        "_": "underscore",
        ":": "colon",
        "@": "at",
        "?": "question mark",
        "=": "equals",
        "&": "ampersand",
        "#": "hash",
        "~": "tilde",
        "+": "plus",
    },
    "fr": {".": "point", "/": "barre oblique", "-": "tiret", "_": "tiret bas", ":": "deux points", "@": "arobase"},
    "de": {".": "Punkt", "/": "Schrägstrich", "-": "Bindestrich", "_": "Unterstrich", ":": "Doppelpunkt", "@": "at"},
    "es": {".": "punto", "/": "barra", "-": "guion", "_": "guion bajo", ":": "dos puntos", "@": "arroba"},
}


T = TypeVar("T")


def _safe(fn: Callable[[], T]) -> T | None:
    try:
        return fn()
    except ValueError:
        return None


def _address(m: re.Match[str], lang: str) -> str:
    """URLs and e-mail addresses as people say them: no 'https://', words kept, separators named, digits one by
    one, two-letter labels after a dot spelled ('dot D E', 'dot I O'); a trailing slash is not said."""
    seps = {**_SEPARATORS["en"], **_SEPARATORS.get(sy.base(lang), {})}
    text = re.sub(r"^https?://", "", m.group(0)).rstrip("/")
    text = re.sub(r"\bwww\.", "W W W.", text)
    parts = re.findall(r"[A-Za-z\u00c0-\u024f]+|\d|[^\w\s]|_", text)
    spoken = []
    for i, p in enumerate(parts):
        if p.isdigit():
            spoken.append(sy.say_digits(p, lang))
        elif (
            len(p) == 2
            and p.isalpha()
            and sy.base(lang) == "en"
            and parts[i - 1 : i] == ["."]
            and _ends_label(parts, i)
        ):
            spoken.append(" ".join(p.upper()))
        elif sy.base(lang) == "en" and parts[i - 1 : i] == ["."] and i + 1 == len(parts):
            spoken.append(english.FILE_TYPES.get(p.lower(), p))
        else:
            spoken.append(seps.get(p, p))
    return " ".join(p for p in spoken if p.strip())


def _ends_label(parts: list[str], i: int) -> bool:
    """Part `i` ends a host name (a top-level domain such as 'de'): last, or before '/', ':' or '.'."""
    return i + 1 == len(parts) or parts[i + 1] in ("/", ":", ".")


def _telephone(m: re.Match[str], lang: str) -> str | None:
    return sy.say_telephone(m.group(0), lang) if sum(c.isdigit() for c in m.group(0)) >= 7 else None


def _digit_groups(m: re.Match[str], lang: str) -> str:
    """'111-11-1111' (a social security number), '123-123-5678-1111' (a number with an extension): digit by
    digit, a pause between groups."""
    return ", ".join(sy.say_digits(group, lang) for group in m.group(0).split("-"))


def _ampm(m: re.Match[str], lang: str) -> str | None:
    return _safe(lambda: sy.say_time(m.group(0), lang))


def _clock(m: re.Match[str], lang: str) -> str | None:
    spoken = _safe(lambda: sy.say_time(f"{m.group(1)}:{m.group(2)}", lang))
    if spoken is None or not m.group(3) or sy.base(lang) == "de":
        return spoken
    return spoken + m.group(3)


_PER_PERIOD = {"mo": "month", "yr": "year", "hr": "hour", "h": "hour", "wk": "week", "d": "day", "min": "minute"}
_PERIODS = "|".join(sorted({*_PER_PERIOD, *_PER_PERIOD.values(), "night", "person", "user", "seat"}, key=len)[::-1])


def _clock_seconds(m: re.Match[str], lang: str) -> str | None:
    """'14:10:30' → 'fourteen hours ten minutes and thirty seconds' (English; other languages decline)."""
    if sy.base(lang) != "en":
        return None
    units = zip((int(g) for g in m.groups()), ("hour", "minute", "second"), strict=True)
    said = [f"{sy.n2w(n, lang)} {unit}{'' if n == 1 else 's'}" for n, unit in units]
    return f"{said[0]} {said[1]} and {said[2]}"


def _point_digits(m: re.Match[str], lang: str) -> str | None:
    """'.1665' → 'point one six six five' (English)."""
    return f"point {sy.say_digits(m.group(1), lang)}" if sy.base(lang) == "en" else None


def _money_scaled(m: re.Match[str], lang: str) -> str | None:
    # two alternatives: (symbol)(number)(scale) or (number)(scale)(symbol); then an English '/mo' (group 7)
    sym, num, scale = m.group(1) or m.group(6), m.group(2) or m.group(4), m.group(3) or m.group(5) or ""
    code = tb.CURRENCY_SYMBOLS.get(sym) or tb.CURRENCY_WORDS.get(sym, sym)
    sign = "-" if m.group(0)[0] in "-−" else ""  # '-$3.50': the sign stands before the symbol
    spoken = _safe(lambda: sy.money_words(sy.number(sign + num, lang), code, lang, scale.strip() or None))
    if spoken and sy.base(lang) == "en" and num.startswith("."):  # '$.506': 'point five zero six dollars'
        spoken = spoken.replace("zero point ", "point ", 1)
    period = m.group(7) if m.re.groups >= 7 else None
    if spoken is None or not period:
        return spoken
    return f"{spoken} per {_PER_PERIOD.get(period.lower(), period.lower())}"


def _percent(m: re.Match[str], lang: str) -> str | None:
    words = _safe(lambda: sy.words_for(sy.number(m.group(1) + m.group(2), lang), lang))
    return None if words is None else f"{words} {lx.word(sy.base(lang), 'percent')}"


def _fraction(m: re.Match[str], lang: str) -> str | None:
    num, den = int(m.group(2)), int(m.group(3))
    if sy.base(lang) == "en" and (english_fraction := english.fraction(m, num, den, lang)) is not None:
        return english_fraction
    if m.group(1) or 0 < num < den <= 100:
        return _safe(lambda: sy.say_fraction(m.group(0), lang))
    return f"{sy.n2w(num, lang)} {sy.n2w(den, lang)}"  # "24/7", "50/50"


def _vulgar(m: re.Match[str], lang: str) -> str | None:
    return _safe(lambda: sy.say_fraction(m.group(0), lang))


def _range(m: re.Match[str], lang: str) -> str | None:
    def one(text: str) -> str:
        value = sy.number(text, lang)
        return _year_or_cardinal(value, text, lang, year=len(m.group(1)) == len(m.group(2)) == 4)

    left, right = _safe(lambda: one(m.group(1))), _safe(lambda: one(m.group(2)))
    if sy.base(lang) == "en" and re.match(r"-\w|[A-Za-z]", m.string[m.end() :]):  # '1-413-te-b', '2-21st'
        return None
    if left is None or right is None:
        return None
    tail = m.group(3) or ""
    if tail == "%":
        tail = " " + lx.word(sy.base(lang), "percent")
    elif tail:
        tail = " " + (tb.unit_name(sy.base(lang), tail.strip(), False) or tail.strip())
    return f"{left} {tb.RANGE_WORD.get(sy.base(lang), 'to')} {right}{tail}"


def _version(m: re.Match[str], lang: str) -> str | None:
    parts = m.group(2).split(".")
    if any(len(p) > 4 for p in parts):
        return None
    point = "point" if sy.base(lang) == "en" else _SEPARATORS.get(sy.base(lang), {}).get(".", "point")
    if not m.group(1) and len(parts) == 4 and all(len(p) <= 3 for p in parts):  # an IPv4 address
        point = _SEPARATORS.get(sy.base(lang), _SEPARATORS["en"])["."]
        if sy.base(lang) == "en":  # 'one two three dot one two three dot zero dot four zero'
            return f" {point} ".join(sy.say_digits(p, lang) for p in parts)
    keyword = m.group(1) or ""
    keyword = "version " if keyword.strip().lower() == "v" else keyword
    return keyword + f" {point} ".join(sy.n2w(int(p), lang) for p in parts)


def _ordinal(m: re.Match[str], lang: str) -> str | None:
    if m.group(2) not in lx.ORDINAL_SUFFIXES.get(sy.base(lang), ()):
        return None
    return _safe(lambda: sy.say_ordinal(m.group(1).replace(",", "") + m.group(2), lang))


def _spanish_ordinal(m: re.Match[str], lang: str) -> str | None:
    """'1.º', '1.ª', '1.ᵉʳ', '1.000.º', and the informal '1er', '1ro', '2da'."""
    informal = m.group(3) or ""
    marker = m.group(2) or ("ᵉʳ" if informal == "er" else "ª" if informal.endswith("a") else "º")
    return spanish.ordinal(int(re.sub(r"\D", "", m.group(1))), marker)


def _spanish_clock(m: re.Match[str], lang: str) -> str | None:
    """'13.30' / '1.05 h': a dotted time (Spanish writes decimals with a comma)."""
    period = f" {m.group(4)}m" if m.group(4) else ""
    return _safe(lambda: sy.say_time(f"{m.group(1)}:{m.group(2)}{period}", lang))


def _english_measures(units: str, scales: str) -> list[tuple[str, str, Reader]]:
    """Measures with a per-unit ('12kg/kg', '12/kg') or a scale word ('100 million kg'), English only (a mixed
    fraction before a unit, '4 1/2 lbs', is its own rule ahead of the fractions)."""
    return [
        ("unit", _SIGNED + rf"\s?(?:({units})\s?)?/\s?({units})(?![\w/²³])", _per_unit),
        ("unit", _SIGNED + rf"\s((?i:{scales}))\s({units})(?![\w/²³])", _scaled_unit),
    ]


def _per_unit(m: re.Match[str], lang: str) -> str | None:
    value = _safe(lambda: sy.number(m.group(1) + m.group(2), lang))
    per = tb.unit_name("en", m.group(4), True)
    if value is None or per is None:
        return None
    head = sy.words_for(value, lang)
    if m.group(3):
        name = tb.unit_name("en", m.group(3), value == 1)
        if name is None:
            return None
        head = f"{head} {name}"
    return f"{head} per {per}"


def _scaled_unit(m: re.Match[str], lang: str) -> str | None:
    value = _safe(lambda: sy.number(m.group(1) + m.group(2), lang))
    name = tb.unit_name("en", m.group(4), False)
    scale = tb.scale_word("en", m.group(3))
    if value is None or name is None or scale is None:
        return None
    return f"{sy.words_for(value, lang)} {scale} {name}"


def _fraction_unit(m: re.Match[str], lang: str) -> str | None:
    spoken = _safe(lambda: sy.say_fraction(m.group(1), lang))
    name = tb.unit_name("en", m.group(2), False)
    if spoken is None or name is None:
        return None
    return f"{spoken.replace(' and one half', ' and a half')} {name}"


def _unit(m: re.Match[str], lang: str) -> str | None:
    value = _safe(lambda: sy.number(m.group(1) + m.group(2), lang))
    if value is None:
        return None
    name = tb.unit_name(sy.base(lang), m.group(3), value == 1)
    return None if name is None else f"{sy.before_noun(sy.words_for(value, lang), name, lang)} {name}"


def _roman(m: re.Match[str], lang: str) -> str | None:
    word, numeral = m.group(1), m.group(2)
    value = _safe(lambda: sy.roman_value(numeral))
    if value is None:
        return None
    n, b = value, sy.base(lang)
    if word in tb.REGNAL_NAMES:
        return f"{word} {_regnal(n, lang)}"
    if word in tb.ROMAN_CARDINAL_AFTER or (len(numeral) > 1 and set(numeral) <= set("IVX")):
        spoken_word = "Volume" if word == "Vol." and b == "en" else word
        return f"{spoken_word} {sy.n2w(n, lang)}"
    return None


def _regnal(n: int, lang: str) -> str:
    b = sy.base(lang)
    if b == "fr":
        return "premier" if n == 1 else sy.n2w(n, lang)
    if b == "es":
        return sy.n2w(n, lang, "ordinal") if n <= 10 else sy.n2w(n, lang)
    article = {"en": "the", "de": "der"}.get(b, "")
    ordinal = sy.n2w(n, lang, "ordinal")
    return f"{article} {ordinal.capitalize() if b == 'de' else ordinal}".strip()


def _decade(m: re.Match[str], lang: str) -> str | None:
    words = sy.n2w(int(m.group(1)), lang, "year")
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


def _number(m: re.Match[str], lang: str) -> str:
    text = m.group(1) + m.group(2)
    if sy.base(lang) == "en" and text.isdigit() and len(text) >= codes.DIGITS_FROM:
        return sy.say_digits(text, lang)
    try:
        value = sy.number(text, lang)
    except ValueError:  # "1,2,3", or more than MAX_DIGITS digits: say each digit run
        return re.sub(
            r"\d+",
            lambda d: (
                sy.say_digits(d.group(0), lang) if len(d.group(0)) > sy.MAX_DIGITS else sy.n2w(int(d.group(0)), lang)
            ),
            text,
        ).replace(",", ", ")
    before = m.string[max(0, m.start() - 12) : m.start()].split()
    after = m.string[m.end() : m.end() + 2]
    year = bool(before and before[-1].strip(",").lower() in _YEAR_BEFORE) or not re.match(r"\s*[^\W\d_]", after)
    return _year_or_cardinal(value, text, lang, year=year and not m.group(1))


def _year_or_cardinal(value: Decimal, text: str, lang: str, year: bool) -> str:
    if year and re.fullmatch(r"1[1-9]\d\d|20\d\d", text):
        return sy.say_year(int(text), lang)
    return sy.words_for(value, lang)


def _abbreviation(replacement: str) -> Reader:
    return lambda m, lang: replacement


def _core_rules(lang: str, order: str) -> list[tuple[str, str, Reader]]:
    """(class, regex, reader) shared by every language, in priority order."""
    units = "|".join(re.escape(u) for u in tb.unit_symbols(lang))
    scales = tb.scale_pattern()
    sym = r"[$€£¥₹₩]" if lang == "en" else r"[$€£¥₹]"  # the won sign: English names it (tables._EN_CURRENCY)
    return [
        (
            "url",
            r"(?<![\w./:@-])(?:https?://|www\.|file:///?)[^\s<>\"]*[^\s<>\".,;:!?)]"
            r"|(?<![a-z0-9.-])\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|dev|edu"
            r"|gov|info|de|fr|es|uk|eu)\b(?:/[^\s<>\"]*[^\s<>\".,;:!?)])?",
            _address,
        ),
        ("email", r"(?<![\w.+&-])\b[\w.+&-]+@[\w-]+(?:\.[\w-]+)+\b", _address),
        *dates.numeric_date_rules(order),
        ("telephone", r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}" + _END, _telephone),
        ("telephone", r"(?<![\w-])(?:1[-. ])?\(?\d{3}\)?[-. ]?\d{3}[-. ]\d{4}" + _END, _telephone),
        ("telephone", r"(?<![\w.,-])\d{3}-\d{2}-\d{4}" + _END, _digit_groups),
        ("telephone", r"(?<![\w.,-])\d{3}-\d{3}-\d{4}-\d{1,5}" + _END, _digit_groups),
        ("telephone", r"(?<![\w.,-])\d{3}-\d{4}" + _END, _telephone),
        ("telephone", r"(?<![\w.,])0\d{1,4}(?:[ /-]\d{2,8}){1,4}" + _END, _telephone),
        ("time", r"\b\d{1,2}(?::[0-5]\d)?\s?[AaPp]\.?[Mm]\b\.?", _ampm),
        ("time", r"\b([01]?\d|2[0-3]):([0-5]\d):([0-5]\d)\b(?![:.]\d)", _clock_seconds),
        ("time", r"\b([01]?\d|2[0-3]):([0-5]\d)\b(?!:\d)(\s?Uhr\b)?", _clock),
        (
            "money",
            rf"(?:(?<![\w.,])[-−](?={sym}|\d))?(?:({sym})\s?({_NUM}|\.\d{{1,9}}(?!\d))(\s?(?i:{scales})\b\.?)?"
            rf"|({_NUM})(\s?(?i:{scales})\b\.?)?\s?({sym}|USD|EUR|GBP|CHF)(?![\w\d]))"
            + (rf"(?:\s?/\s?((?i:{_PERIODS}))\b)?" if lang == "en" else ""),
            _money_scaled,
        ),
        ("percent", (r"(?<![\w.,%])" if lang == "en" else r"(?<![\w.,])") + r"([-−]?)(" + _NUM + r")\s?%", _percent),
        (
            "range",
            r"(?<![\w.,/-])(\d+(?:[.,]\d+)?)\s?[–—-]\s?(\d+(?:[.,]\d+)?)(?![\d/]|\.\d)"
            rf"(%|\s?(?:{units})(?![\w/]))?",
            _range,
        ),
        *(
            [("unit", rf"(?<![\w/.,])(\d{{1,9}}\s\d{{1,3}}/\d{{1,3}})\s?({units})(?![\w/²³])", _fraction_unit)]
            if lang == "en"
            else []
        ),
        (
            "fraction",
            r"(?<![\w/.,])(?:(\d{1,9})\s)?(\d{1,3})/(\d{1,3})"
            + (r"(?i:st|nd|rd|th)?" if lang == "en" else "")
            + r"(?![\w/])",
            _fraction,
        ),
        ("fraction", r"(?:\b\d{1,9}\s?)?[½⅓⅔¼¾⅕⅛⅜⅝⅞]", _vulgar),
        (
            "version",
            r"(?i:\b(v|version\s|release\s|python\s|java\s|node\s|ios\s|android\s|macos\s|ubuntu\s))"
            r"(\d+(?:\.\d+)+)(?![\d.]\d)",
            _version,
        ),
        ("version", r"()(?<![\w.])(\d+\.\d+\.\d+(?:\.\d+)*)(?![\d.]\d)", _version),
        ("decade", r"\b(1[1-9]\d0|20[0-9]0)'?s\b", _decade),
        ("decade", r"(?<![\w'’])['’]?([1-9]0)'?s\b", _decade),
        ("ordinal", r"\b(\d{1,3}(?:,\d{3})+|\d+)(st|nd|rd|th|er|re|e|ème|eme)\b", _ordinal),
        *(_english_measures(units, scales) if lang == "en" else []),
        ("unit", _SIGNED + rf"\s?({units})(?![\w/²³])", _unit),
        (
            "number",
            r"#(?=\d)",
            lambda m, lang: (
                {"en": "number", "de": "Nummer", "fr": "numéro", "es": "número"}.get(sy.base(lang), "#") + " "
            ),
        ),
        ("number", (_SIGNED_EN if lang == "en" else _SIGNED) + r"(?!\w)", _number),
        ("number", r"(?<![\w.,=-])\.(\d{1,20})(?![\d.,])", _point_digits),
    ]


LANGUAGE_RULES: dict[str, list[tuple[str, str, Reader]]] = {
    "de": german.RULES,
    "es": spanish_rules.RULES,
    "fr": french.RULES,
}
"""A language's own rules (its module's RULES), tried before the shared ones at the same place."""


def _rules(lang: str, order: str) -> list[tuple[str, str, Reader]]:
    """The shared rules plus the language's own: month-name dates (en), "3." ordinals (de), abbreviations."""
    rules = _core_rules(lang, order)
    if lang == "en":
        first_time = next(i for i, rule in enumerate(rules) if rule[0] == "time")
        rules[first_time:first_time] = [*addresses.RULES, *dates.month_name_rules(), *english.EARLY]
        first_number = next(i for i, rule in enumerate(rules) if rule[0] == "number" and rule[1].startswith("#"))
        rules[first_number:first_number] = english.LATE
    before_units = next(i for i, rule in enumerate(rules) if rule[0] == "unit")
    if lang == "es":
        ordinal = r"(?<![\w.,])(\d{1,3}(?:[.\u00a0\u202f ]\d{3})+|\d{1,4})(?:\.?(º|ª|ᵉʳ)|(er|ro|ra|do|da|to|ta)\b)"
        clock = r"(?<![\w.,])([01]?\d|2[0-3])\.([0-5]\d)(?![\d,]|\.\d)(\s?h\b)?(?:\s?([ap])\.?\s?m\b\.?)?"
        rules[before_units:before_units] = [("ordinal", ordinal, _spanish_ordinal), ("time", clock, _spanish_clock)]
    rules[0:0] = LANGUAGE_RULES.get(lang, ())
    names = "|".join(re.escape(w) for w in (*tb.REGNAL_NAMES, *tb.ROMAN_CARDINAL_AFTER))
    ordinal_dot = r"(?:\.(?=\s+[a-zäöüß]))?" if lang == "de" else ""  # German "Karl V. regierte"
    rules.insert(0, ("roman", rf"(?<![\w.])({names}|[A-Z][a-z]+)\s+([IVXLC]+)\b{ordinal_dot}(?![.'-]?\w)", _roman))
    rules += [("abbreviation", p.pattern, _abbreviation(r)) for p, r in lx.ABBREVIATIONS.get(lang, ())]
    return rules


@functools.lru_cache(maxsize=16)
def rules_for(lang: str, order: str = "mdy") -> tuple[Rule, ...]:
    """The compiled rules of a base language ('en', 'de', ...) and date order (mdy, dmy), in priority order."""
    return tuple(Rule(name, re.compile(pattern), read) for name, pattern, read in _rules(lang, order))
