"""Spoken forms of one value (cardinal, ordinal, digits, telephone, date, time, money, fraction, unit, Roman numeral).

These are the readings behind both the free-text rules and SSML ``<say-as>``; numbers become words with num2words.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal, InvalidOperation, localcontext

from num2words import CONVERTER_CLASSES, num2words

from tts_predictor.text import decimal_digits, spanish
from tts_predictor.text import lexicon as lx
from tts_predictor.text import tables as tb

_LANG = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}))?")
MAX_DIGITS = 50
"""Numbers with more digits are read digit by digit (never int() on thousands of digits: DoS and num2words limits)."""


def num2words_lang(language: str | None) -> str | None:
    """Map ``en-US`` / ``fr-fr`` / ``pt_BR`` to a num2words code, or None when num2words lacks it."""
    m = _LANG.match((language or "").strip())
    if not m:
        return None
    base, region = m.group(1).lower(), (m.group(2) or "").upper()
    if region and f"{base}_{region}" in CONVERTER_CLASSES:
        return f"{base}_{region}"
    return base if base in CONVERTER_CLASSES else None


def base(lang: str) -> str:
    """'en_IN' -> 'en'."""
    return lang.split("_")[0]


def n2w(value: int | Decimal, lang: str, to: str = "cardinal") -> str:
    """num2words with its English commas removed; digits when num2words gives up."""
    if len(str(value)) > MAX_DIGITS:
        return say_digits(str(value), lang)
    try:
        words = num2words(value, lang=lang, to=to)
    except (NotImplementedError, OverflowError, ValueError, TypeError, IndexError, KeyError, InvalidOperation):
        return say_digits(str(value), lang)
    return words.replace(",", "")


def require(language: str) -> str:
    """The num2words code of `language`; ValueError when num2words has none."""
    if (lang := num2words_lang(language)) is None:
        raise ValueError(f"language {language!r} has no number-to-words support")
    return lang


def number(text: str, lang: str) -> Decimal:
    """Parse '1,234.5' / '1.234,5' / '-3' into a Decimal using the language's separators."""
    dec = lx.decimal_sep(base(lang))
    cleaned = re.sub(r"[\s\u00a0\u202f']", "", text.strip()).replace("\u2212", "-")
    if sum(ch.isdigit() for ch in cleaned) > MAX_DIGITS:
        raise ValueError(f"number longer than {MAX_DIGITS} digits")
    group = "," if dec == "." else "."
    if re.fullmatch(r"[-+]?\d{1,3}(?:" + re.escape(group) + r"\d{3})+(?:" + re.escape(dec) + r"\d+)?", cleaned):
        cleaned = cleaned.replace(group, "")
    cleaned = cleaned.replace(dec, ".")
    if not re.fullmatch(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)", cleaned):
        raise ValueError(f"{text!r} is not a number")
    return Decimal(cleaned)


def words_for(value: Decimal, lang: str) -> str:
    """A Decimal in words: integers as cardinals, decimals digit by digit after the point."""
    if value == value.to_integral_value() and "." not in str(value):
        return n2w(int(value), lang)
    if base(lang) == "en":  # "three point one four", also for "3.10" (num2words would drop the zero)
        whole, _, frac = str(abs(value)).partition(".")
        sign = "minus " if value < 0 else ""
        return f"{sign}{n2w(int(whole), lang)} point {say_digits(frac, lang)}"
    if base(lang) in _DECIMAL_COMMA_WORD:  # '3,1415' tres coma catorce quince (decimal_digits)
        whole, _, frac = format(abs(value), "f").partition(".")
        sign = lx.word(base(lang), "minus") + " " if value < 0 else ""
        said = decimal_digits.grouped(frac, lambda n: n2w(n, lang))
        return f"{sign}{n2w(int(whole), lang)} {_DECIMAL_COMMA_WORD[base(lang)]} {said}"
    return n2w(value, lang)


_DECIMAL_COMMA_WORD = {"es": "coma", "fr": "virgule"}


def say_cardinal(value: str, language: str = "en") -> str:
    """'1,234' → 'one thousand two hundred and thirty four' (decimals and negatives too)."""
    lang = require(language)
    return words_for(number(value, lang), lang)


def say_ordinal(value: str, language: str = "en") -> str:
    """'21' / '21st' / '1er' / '3.' → the ordinal in words."""
    lang = require(language)
    digits = re.fullmatch(r"\s*(\d{1,%d})\s*(?:st|nd|rd|th|er|re|e|ème|eme|ᵉ|\.|º|ª|o|a)?\s*" % MAX_DIGITS, value)
    if not digits:
        raise ValueError(f"{value!r} is not an ordinal")
    n = int(digits.group(1))
    if base(lang) == "fr" and n == 1 and value.strip().endswith("re"):
        return "première"
    return n2w(n, lang, to="ordinal")


def say_characters(value: str, language: str = "en") -> str:
    """Spell out: 'AB1' → 'A B one'."""
    lang = num2words_lang(language)
    out = [(n2w(int(ch), lang) if lang and ch.isdigit() and ch.isascii() else ch) for ch in value if not ch.isspace()]
    return " ".join(out)


def say_digits(value: str, language: str = "en") -> str:
    """Digit by digit: '1990' → 'one nine nine zero'; other characters are dropped."""
    lang = num2words_lang(language)
    digits = [ch for ch in value if ch.isascii() and ch.isdigit()]
    if lang is None:
        return " ".join(digits)
    names = _digit_names(lang)
    return " ".join(names[int(ch)] for ch in digits)


@functools.lru_cache(maxsize=64)
def _digit_names(lang: str) -> tuple[str, ...]:
    return tuple(num2words(d, lang=lang) for d in range(10))


def say_telephone(value: str, language: str = "en") -> str:
    """'+1 (800) 555-0199' → 'plus one, eight zero zero, five five five, zero one nine nine'."""
    lang = require(language)
    groups = re.findall(r"\d+", value)
    if not groups:
        raise ValueError(f"{value!r} is not a telephone number")
    if len(groups) == 1 and len(groups[0]) > 4:  # "5550134": read in groups of three/four as people do
        g = groups[0]
        groups = [g[:-4][i : i + 3] for i in range(0, len(g) - 4, 3)] + [g[-4:]]
    spoken = [say_digits(g, lang) for g in groups]
    prefix = lx.word(base(lang), "plus") + " " if value.strip().startswith("+") else ""
    return prefix + ", ".join(spoken)


def say_year(year: int, language: str = "en") -> str:
    """'1998' → 'nineteen ninety-eight', 'neunzehnhundertachtundneunzig' (num2words' year reading)."""
    lang = require(language)
    return n2w(year, lang, to="year")


def say_date(value: str, fmt: str = "ymd", language: str = "en") -> str:
    """Speak a date given in `fmt` order (mdy, dmy, ymd, md, dm, ym, my, d, m, y)."""
    lang = require(language)
    return date_words(lx.date_parts(value, fmt), lang)


def date_words(parts: dict[str, int], lang: str) -> str:
    """{d, m, y} → the date in words, ordered the way `lang` says dates."""
    b = base(lang)
    day = month = year = None
    if "d" in parts:
        d = parts["d"]
        day = "premier" if b == "fr" and d == 1 else (n2w(d, lang, "ordinal") if b in lx.ORDINAL_DAYS else n2w(d, lang))
    if "m" in parts:
        month = lx.month(b, parts["m"])
    if "y" in parts:
        year = say_year(parts["y"], lang)
    return lx.join_date(b, day, month, year)


def say_time(value: str, language: str = "en") -> str:
    """'10:30' / '7pm' / '9 AM' / '7:15 a.m.' / '14:05' → spoken time."""
    lang = require(language)
    m = re.fullmatch(r"(\d{1,2})(?:[:h.](\d{2}))?(?::(\d{2}))?\s*(?:([ap])\.?\s*m\.?)?", value.strip(), re.I)
    if not m or (m.group(2) is None and m.group(4) is None):
        raise ValueError(f"{value!r} is not a time (expected H:MM, H:MM:SS, H am, H:MM pm)")
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if hour > 24 or minute > 59 or (m.group(4) and not 1 <= hour <= 12):
        raise ValueError(f"time {value!r} is out of range")
    suffix = f"{m.group(4).upper()}M" if m.group(4) else None
    if base(lang) == "es":
        return spanish.time_words(hour, minute, suffix)
    if base(lang) == "en" and suffix is None and minute == 0 and hour > 12:
        return f"{n2w(hour, lang)} hundred"
    return lx.join_time(base(lang), n2w(hour, lang), minute, lambda n: n2w(n, lang), suffix)


_CURRENCY_SYMBOL = re.compile(r"[$€£¥₹]|[A-Z]{3}")
_AMOUNT = re.compile(r"[-+]?\d[\d,.\s\u00a0\u202f']*")
_AMOUNT_TAIL = re.compile(r"([A-Za-z]+)?\s*([$€£¥₹]|[A-Z]{3})?")
# Issue 23 (finding 3): one regex with four adjacent `\s*` around a lazy `[\d\s...]*?` cost ~n^3.8 (360 bytes of
# `<say-as interpret-as="currency">` froze the process for 4 s). The value is now cut in three steps, each a single
# unbounded quantifier that cannot backtrack into its neighbour.


def _currency_parts(value: str) -> tuple[str | None, str, str | None, str | None] | None:
    """(prefix symbol, amount, scale word, suffix symbol) of '$3.2 million' / 'EUR 12' / '3,50 €', or None."""
    rest = value.strip()
    pre = _CURRENCY_SYMBOL.match(rest)
    if pre:
        rest = rest[pre.end() :].lstrip()
    amount = _AMOUNT.match(rest)
    if not amount:
        return None
    tail = _AMOUNT_TAIL.fullmatch(rest[amount.end() :].strip())
    if not tail:
        return None
    scale, post = tail.group(1), tail.group(2)
    if post is None and scale and _CURRENCY_SYMBOL.fullmatch(scale):  # '12 EUR': a code, not a scale word
        scale, post = None, scale
    return (pre.group(0) if pre else None), amount.group(0).strip(), scale, post


def say_currency(value: str, language: str = "en") -> str:
    """'$3.50' / '3,50 €' / 'EUR 12' / '$3.2 million' → the amount with its currency in words."""
    lang = require(language)
    parts = _currency_parts(value)
    sym = parts and (parts[0] or parts[3])
    if not parts or not sym:
        raise ValueError(f"{value!r} is not an amount with a currency symbol or ISO code")
    return money_words(number(parts[1], lang), tb.CURRENCY_SYMBOLS.get(sym, sym), lang, parts[2])


def money_words(amount: Decimal, code: str, lang: str, scale: str | None = None) -> str:
    """An amount of `code` (ISO 4217) in words; `scale` ('million', 'bn', 'k') multiplies and is read as a word."""
    if scale:
        scale_word = tb.scale_word(base(lang), scale)
        if scale_word is None:
            raise ValueError(f"{scale!r} is not a number scale")
        unit = tb.currency_name(lang, code, plural=True)
        return tb.scaled_amount(base(lang), words_for(amount, lang), amount == 1, scale_word, unit)
    with localcontext() as context:  # Decimal's default 28 digits: quantize raised on '$' + 30 digits (a 500)
        context.prec = 2 * MAX_DIGITS + 4
        exact, amount = amount, amount.quantize(Decimal("0.01"))
    if exact != amount:  # '$20.506', a unit price: said with its decimals, never rounded to cents
        return f"{words_for(exact, lang)} {tb.currency_name(lang, code, plural=True)}"
    whole, cents = int(abs(amount)), int(abs(amount) * 100) % 100
    sign = lx.word(base(lang), "minus") + " " if amount < 0 else ""
    unit = tb.currency_name(lang, code, plural=whole != 1)
    head = f"{sign}{before_noun(n2w(whole, lang), unit, lang)} {unit}"
    if cents == 0:
        return head
    minor = tb.currency_minor(lang, code, plural=cents != 1)
    if minor is None:
        return f"{sign}{words_for(abs(amount), lang)} {tb.currency_name(lang, code, plural=True)}"
    cents_words = f"{before_noun(n2w(cents, lang), minor, lang)} {minor}"
    if whole == 0:  # '$0.99': 'ninety-nine cents', not 'zero dollars and ...'
        return f"{sign}{cents_words}"
    return f"{head} {tb.MONEY_AND.get(base(lang), 'and')} {cents_words}"


def before_noun(words: str, noun: str, lang: str) -> str:
    """A cardinal as said before `noun`: Spanish 'un dólar', 'una libra'; other languages unchanged."""
    return spanish.agree(words, noun) if base(lang) == "es" else words


def say_fraction(value: str, language: str = "en") -> str:
    """'1/2' → 'one half', '3/4' → 'three quarters', '2 1/3' → 'two and one third', '½' → 'one half'."""
    lang = require(language)
    value = "".join(f" {tb.VULGAR[ch]}" if ch in tb.VULGAR else ch for ch in value).strip()
    m = re.fullmatch(r"(?:(\d{1,9})\s+)?(\d{1,9})\s*[/⁄]\s*(\d{1,9})", value)
    if not m or int(m.group(3)) == 0:
        raise ValueError(f"{value!r} is not a fraction like 3/4 or 1 1/2")
    num, den = int(m.group(2)), int(m.group(3))
    spoken = tb.fraction_words(base(lang), n2w(num, lang), num, den, lambda n: n2w(n, lang, "ordinal"))
    if m.group(1):
        return f"{n2w(int(m.group(1)), lang)} {tb.AND.get(base(lang), 'and')} {spoken}"
    return spoken


_UNIT_AMOUNT = re.compile(r"[-+−]?\d[\d,.\s]*")


def say_unit(value: str, language: str = "en") -> str:
    """'27 m' / '65 mph' / '3.5kg' → the number and the unit's name (singular after exactly one)."""
    lang = require(language)
    value = value.strip()
    amount_m = _UNIT_AMOUNT.match(value)  # one greedy run, then the rest: no backtracking between the two
    unit = value[amount_m.end() :].strip() if amount_m else ""
    if not amount_m or "\n" in unit or tb.unit_name(base(lang), unit, True) is None:
        raise ValueError(
            f"{value!r} is not a number followed by a known unit ({', '.join(tb.unit_symbols(base(lang)))})"
        )
    amount = number(amount_m.group(0), lang)
    return f"{words_for(amount, lang)} {tb.unit_name(base(lang), unit, amount == 1)}"


def roman_value(numeral: str) -> int:
    """'XIV' → 14; ValueError when `numeral` is not a well-formed Roman numeral (1-3999)."""
    if not numeral or not re.fullmatch(r"M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})", numeral.upper()):
        raise ValueError(f"{numeral!r} is not a Roman numeral")
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
    digits = [values[ch] for ch in numeral.upper()]
    return sum(-d if i + 1 < len(digits) and d < digits[i + 1] else d for i, d in enumerate(digits))
