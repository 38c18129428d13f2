"""Text normalization: numbers, currency, dates, times and abbreviations spelled out with num2words."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from num2words import CONVERTER_CLASSES, num2words

from tts_predictor.text import lexicon as lx

_WS = re.compile(r"\s+")
_LANG = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}))?")


def num2words_lang(language: str | None) -> str | None:
    """Map ``en-US`` / ``fr-fr`` / ``pt_BR`` to a num2words code, or None when num2words lacks it."""
    m = _LANG.match((language or "").strip())
    if not m:
        return None
    base, region = m.group(1).lower(), (m.group(2) or "").upper()
    if region and f"{base}_{region}" in CONVERTER_CLASSES:
        return f"{base}_{region}"
    return base if base in CONVERTER_CLASSES else None


def _base(lang: str) -> str:
    return lang.split("_")[0]


def _n2w(value: int | Decimal, lang: str, to: str = "cardinal") -> str:
    """num2words with its English commas removed; falls back to digits when num2words gives up."""
    try:
        words = num2words(value, lang=lang, to=to)
    except (NotImplementedError, OverflowError, ValueError, TypeError, IndexError, KeyError, InvalidOperation):
        return say_digits(str(value), lang)
    return words.replace(",", "")


def _require(language: str) -> str:
    if (lang := num2words_lang(language)) is None:
        raise ValueError(f"language {language!r} has no number-to-words support")
    return lang


def _number(text: str, lang: str) -> Decimal:
    """Parse '1,234.5' / '1.234,5' / '-3' into a Decimal using the language's separators."""
    dec = lx.decimal_sep(_base(lang))
    cleaned = re.sub(r"[\s\u00a0\u202f']", "", text.strip())
    group = "," if dec == "." else "."
    if re.fullmatch(r"[-+]?\d{1,3}(?:" + re.escape(group) + r"\d{3})+(?:" + re.escape(dec) + r"\d+)?", cleaned):
        cleaned = cleaned.replace(group, "")
    cleaned = cleaned.replace(dec, ".")
    if not re.fullmatch(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)", cleaned):
        raise ValueError(f"{text!r} is not a number")
    return Decimal(cleaned)


def _words_for(value: Decimal, lang: str) -> str:
    if value == value.to_integral_value() and "." not in str(value):
        return _n2w(int(value), lang)
    return _n2w(value, lang)


def say_cardinal(value: str, language: str = "en") -> str:
    """'1,234' → 'one thousand two hundred and thirty-four' (decimals and negatives too)."""
    lang = _require(language)
    return _words_for(_number(value, lang), lang)


def say_ordinal(value: str, language: str = "en") -> str:
    """'21' / '21st' / '1er' / '3.' → the ordinal in words."""
    lang = _require(language)
    digits = re.fullmatch(r"\s*(\d+)\s*(?:st|nd|rd|th|er|re|e|ème|eme|ᵉ|\.|º|ª|o|a)?\s*", value)
    if not digits:
        raise ValueError(f"{value!r} is not an ordinal")
    number = int(digits.group(1))
    if _base(lang) == "fr" and number == 1 and value.strip().endswith("re"):
        return "première"
    return _n2w(number, lang, to="ordinal")


def say_characters(value: str, language: str = "en") -> str:
    """Spell out: 'AB1' → 'A B one'."""
    lang = num2words_lang(language)
    out = [(_n2w(int(ch), lang) if lang and ch.isdigit() and ch.isascii() else ch) for ch in value if not ch.isspace()]
    return " ".join(out)


def say_digits(value: str, language: str = "en") -> str:
    """Digit by digit: '1990' → 'one nine nine zero'; other characters are dropped."""
    lang = num2words_lang(language)
    digits = [ch for ch in value if ch.isascii() and ch.isdigit()]
    if lang is None:
        return " ".join(digits)
    return " ".join(num2words(int(ch), lang=lang) for ch in digits)


def say_telephone(value: str, language: str = "en") -> str:
    """'+1 (800) 555-0199' → 'plus one, eight zero zero, five five five, zero one nine nine'."""
    lang = _require(language)
    groups = [g for g in re.findall(r"\d+", value)]
    if not groups:
        raise ValueError(f"{value!r} is not a telephone number")
    spoken = [say_digits(g, lang) for g in groups]
    prefix = lx.word(_base(lang), "plus") + " " if value.strip().startswith("+") else ""
    return prefix + ", ".join(spoken)


def _year_words(year: int, lang: str) -> str:
    return _n2w(year, lang, to="year" if _base(lang) == "en" else "cardinal")


def say_date(value: str, fmt: str = "ymd", language: str = "en") -> str:
    """Speak a date given in `fmt` order (mdy, dmy, ymd, md, dm, ym, my, d, m, y)."""
    lang = _require(language)
    parts = lx.date_parts(value, fmt)
    base = _base(lang)
    day = month = year = None
    if "d" in parts:
        d = parts["d"]
        day = "premier" if base == "fr" and d == 1 else (_n2w(d, lang, "ordinal") if base in lx.ORDINAL_DAYS else _n2w(d, lang))
    if "m" in parts:
        month = lx.month(base, parts["m"])
    if "y" in parts:
        year = _year_words(parts["y"], lang)
    return lx.join_date(base, day, month, year)


def say_time(value: str, language: str = "en") -> str:
    """'10:30' / '7pm' / '7:15 a.m.' / '14:05' → spoken time."""
    lang = _require(language)
    m = re.fullmatch(r"\s*(\d{1,2})(?:[:h.](\d{2}))?(?::(\d{2}))?\s*([ap])?\.?\s*(?:m\.?)?\s*", value, re.I)
    if not m or (m.group(2) is None and m.group(4) is None):
        raise ValueError(f"{value!r} is not a time (expected H:MM, H:MM:SS, Ham/Hpm)")
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if hour > 24 or minute > 59 or (m.group(4) and not 1 <= hour <= 12):
        raise ValueError(f"time {value!r} is out of range")
    suffix = f"{m.group(4).lower()} m" if m.group(4) else None
    return lx.join_time(_base(lang), _n2w(hour, lang), minute, lambda n: _n2w(n, lang), suffix)


_CURRENCY = re.compile(
    r"^\s*(?P<pre>[$€£¥]|[A-Z]{3})?\s*(?P<num>[-+]?\d[\d,.\s\u00a0\u202f']*)\s*(?P<post>[$€£¥]|[A-Z]{3})?\s*$"
)


def say_currency(value: str, language: str = "en") -> str:
    """'$3.50' / '3,50 €' / 'EUR 12' → 'three dollars fifty cents' (currency words from num2words)."""
    lang = _require(language)
    m = _CURRENCY.match(value)
    if not m or not (m.group("pre") or m.group("post")):
        raise ValueError(f"{value!r} is not an amount with a currency symbol or ISO code")
    code = lx.CURRENCY_SYMBOLS.get(m.group("pre") or m.group("post"), m.group("pre") or m.group("post"))
    return _currency_words(_number(m.group("num").strip(), lang), code, lang)


def _currency_words(amount: Decimal, code: str, lang: str) -> str:
    amount = amount.quantize(Decimal("0.01"))
    converter = CONVERTER_CLASSES[lang]
    forms = getattr(converter, "CURRENCY_FORMS", {}).get(code)
    if forms is None:
        return f"{_words_for(amount, lang)} {code}"
    whole, cents = int(abs(amount)), int(abs(amount) * 100) % 100
    sign = lx.word(_base(lang), "minus") + " " if amount < 0 else ""
    if cents == 0:
        try:
            unit = converter.pluralize(whole, forms[0])
        except (NotImplementedError, IndexError, TypeError, KeyError):
            unit = code
        return f"{sign}{_n2w(whole, lang)} {unit}".strip()
    separator = "" if _base(lang) == "en" else None
    kwargs = {"separator": separator} if separator is not None else {}
    try:
        return sign + num2words(float(abs(amount)), lang=lang, to="currency", currency=code, **kwargs).replace(",", "")
    except (NotImplementedError, ValueError, TypeError, KeyError):
        return f"{sign}{_words_for(abs(amount), lang)} {code}"


# ---------------------------------------------------------------- free-text normalization

_Rule = Callable[[re.Match[str], str], str]
_RULES: list[tuple[re.Pattern[str], _Rule]] = []


def _rule(pattern: str, flags: int = 0) -> Callable[[_Rule], _Rule]:
    """Register a free-text rule; rules run in definition order."""
    return lambda fn: _RULES.append((re.compile(pattern, flags), fn)) or fn


def _safe(fn: Callable[[], str], original: str) -> str:
    try:
        return fn()
    except ValueError:
        return original


_NUM = r"\d[\d,.\u00a0\u202f]*\d|\d"


@_rule(r"(?P<sym>[$€£¥])\s?(?P<num>" + _NUM + r")|(?P<num2>" + _NUM + r")\s?(?P<sym2>[€£$¥])(?!\s?\d)")
def _currency_rule(m: re.Match[str], lang: str) -> str:
    sym, num = m.group("sym") or m.group("sym2"), m.group("num") or m.group("num2")
    return _safe(lambda: _currency_words(_number(num, lang), lx.CURRENCY_SYMBOLS[sym], lang), m.group(0))


@_rule(r"\b(\d{4})-(\d{2})-(\d{2})\b")
def _iso_date_rule(m: re.Match[str], lang: str) -> str:
    return _safe(lambda: say_date(m.group(0), "ymd", lang), m.group(0))


@_rule(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{4})\b")
def _slash_date_rule(m: re.Match[str], lang: str) -> str:
    return _safe(lambda: say_date(m.group(0), "mdy" if _base(lang) == "en" else "dmy", lang), m.group(0))


@_rule(r"\b(\d{1,2})(?::(\d{2}))?\s?([ap])\.?m\b\.?", re.I)
def _ampm_rule(m: re.Match[str], lang: str) -> str:
    spoken = _safe(lambda: say_time(m.group(0), lang), m.group(0))
    sentence_end = m.group(0).endswith(".") and re.match(r"\s+[A-Z]|\s*$", m.string[m.end() :])
    return spoken + ("." if sentence_end else "")


@_rule(r"\b([01]?\d|2[0-3]):([0-5]\d)\b(?!:\d)(\s?Uhr\b)?")
def _clock_rule(m: re.Match[str], lang: str) -> str:
    clock = f"{m.group(1)}:{m.group(2)}"
    spoken = _safe(lambda: say_time(clock, lang), clock)
    return spoken if _base(lang) == "de" or not m.group(3) else spoken + m.group(3)


@_rule(r"(?<![\w.,])(-?)(" + _NUM + r")\s?%")
def _percent_rule(m: re.Match[str], lang: str) -> str:
    words = _safe(lambda: _words_for(_number(m.group(1) + m.group(2), lang), lang), m.group(0))
    return f"{words} {lx.word(_base(lang), 'percent')}"


@_rule(r"\b(\d+)(st|nd|rd|th|er|re|e|ème|eme)\b")
def _ordinal_rule(m: re.Match[str], lang: str) -> str:
    if m.group(2) not in lx.ORDINAL_SUFFIXES.get(_base(lang), ()):
        return m.group(0)
    return _safe(lambda: say_ordinal(m.group(0), lang), m.group(0))


@_rule(r"(?<![\d.,])(\d{1,3})\.(?=\s+(\w+))")
def _german_ordinal_rule(m: re.Match[str], lang: str) -> str:
    """German '3. Oktober' / 'am 3. des Monats': a number with a dot before a month or a lowercase word."""
    following = m.group(2)
    if _base(lang) != "de" or not (following[0].islower() or following in lx.GERMAN_MONTHS):
        return m.group(0)
    return _n2w(int(m.group(1)), lang, "ordinal")


@_rule(r"(?<![\w.,])(-?)(" + _NUM + r")\s?(°[CF]|km/h|km|kg|cm|mm|mg|ml|mph|m|g|l)(?![\w/])")
def _unit_rule(m: re.Match[str], lang: str) -> str:
    number = _safe(lambda: _words_for(_number(m.group(1) + m.group(2), lang), lang), m.group(0))
    if number == m.group(0):
        return number
    one = m.group(2) == "1" and not m.group(1)
    return f"{number} {lx.unit(_base(lang), m.group(3), one)}"


@_rule(r"(?<![\w.,])(-?)(" + _NUM + r")(?!\w)")
def _number_rule(m: re.Match[str], lang: str) -> str:
    try:
        return _words_for(_number(m.group(1) + m.group(2), lang), lang)
    except ValueError:  # e.g. "1,2,3": say each digit run
        return re.sub(r"\d+", lambda d: _n2w(int(d.group(0)), lang), m.group(0)).replace(",", ", ")


_FR_GROUPS = re.compile(r"(?<![\d,])\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?![\d])")


def expand_abbreviations(text: str, language: str = "en") -> str:
    """Replace the language's common abbreviations (Dr., e.g., km ...) with words."""
    table = lx.ABBREVIATIONS.get(_base(num2words_lang(language) or ""), ())
    for pattern, replacement in table:
        text = pattern.sub(replacement, text)
    return text


def normalize_text(text: str, language: str = "en") -> str:
    """Spell out numbers, currency, dates, times, units and abbreviations; unknown languages: whitespace only."""
    lang = num2words_lang(language)
    if lang is not None:
        text = expand_abbreviations(text, lang)
        if _base(lang) == "fr":  # French groups thousands with (narrow) spaces: "1 234"
            text = _FR_GROUPS.sub(lambda m: re.sub(r"\D", "", m.group(0)), text)
        for pattern, fn in _RULES:
            text = pattern.sub(lambda m, fn=fn: fn(m, lang), text)
    return _WS.sub(" ", text).strip()
