"""Text normalization: one left-to-right pass of the semiotic-class rules, reporting each rewritten span.

Text without digits, symbols, abbreviations or Roman numerals skips the pass (one regex search). The readings
live in `say` (also used by SSML ``<say-as>``), the rules in `rules`, the word tables in `lexicon`/`tables`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tts_predictor.errors import SynthesisFailed
from tts_predictor.text import lexicon as lx
from tts_predictor.text import tables as tb
from tts_predictor.text.locale import date_order
from tts_predictor.text.rules import rules_for
from tts_predictor.text.verbalize import (  # noqa: F401  (re-exported: the say-as readings)
    MAX_DIGITS,
    num2words_lang,
    say_cardinal,
    say_characters,
    say_currency,
    say_date,
    say_digits,
    say_fraction,
    say_ordinal,
    say_telephone,
    say_time,
    say_unit,
)

__all__ = [
    "MAX_DIGITS",
    "Rewrite",
    "apply_rewrites",
    "expand_abbreviations",
    "needs_normalization",
    "normalize_text",
    "warm",
    "num2words_lang",
    "rewrites",
    "say_cardinal",
    "say_characters",
    "say_currency",
    "say_date",
    "say_digits",
    "say_fraction",
    "say_ordinal",
    "say_telephone",
    "say_time",
    "say_unit",
]

_WS = re.compile(r"\s+")
_FR_GROUPS = re.compile(r"(?<![\d,+])\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?![\d]|-\d)")


@dataclass(frozen=True)
class Rewrite:
    """One span of the input that the normalizer replaced."""

    start: int
    """Offset of the span's first character in the input text."""
    end: int
    """Offset just past the span."""
    original: str
    """The input text of the span."""
    spoken: str
    """What the engine is given instead."""
    kind: str
    """The rule that matched: telephone, time, money, fraction, roman, abbreviation, number, ..."""


_SYMBOLS = re.compile(
    r"[0-9$€£¥₹₩%&@#§/+°½⅓⅔¼¾⅕⅛⅜⅝⅞⅖⅗⅘⅙⅚⅐⅑⅒\u2212ʳᵐˡ]|www\.|\.(?:com|org|net|io|dev|edu|gov|info|de|fr|es|uk|eu)\b"
)
_DOTTED = re.compile(r"\b([A-Za-z]{1,6})\.|\b(Mme|Mlle)\b")
_STATE_CODE = re.compile(r", [A-Z]{2}\b")
"""A US state code after a comma ('Austin, TX'): the address rules read it."""
_ROMAN = re.compile(r"\b[IVX]{2,}\b|\b[A-Z]{3,}\s[IVXLCDM]+\b|\b([A-Z][a-z]+\.?)\s+[IVXLC]+\b")
_ABBREVIATIONS = frozenset(
    h.group(0)
    for table in lx.ABBREVIATIONS.values()
    for p, _ in table
    if (h := re.search(r"[A-Za-z]+", p.pattern.replace("\\b", "")))
)
_ROMAN_WORDS = frozenset((*tb.REGNAL_NAMES, *tb.ROMAN_CARDINAL_AFTER))


def warm(languages: list[str]) -> None:
    """Compile the rules of `languages` now (a few ms each), so the first request with numbers does not pay it."""
    for language in languages:
        if (lang := num2words_lang(language)) is not None:
            rules_for(lang.split("_")[0], date_order(language))


def needs_normalization(text: str) -> bool:
    """False for plain words (no digits, symbols, abbreviations, Roman numerals or addresses): nothing to rewrite.

    Three cheap searches with set look-ups instead of one long alternation, so plain text costs microseconds.
    """
    if _SYMBOLS.search(text) or _STATE_CODE.search(text):
        return True
    if any(m.group(1) in _ABBREVIATIONS or m.group(2) for m in _DOTTED.finditer(text)):
        return True
    return any(
        m.group(1) is None or m.group(1) in _ROMAN_WORDS or len(m.group(0).split()[-1]) > 1
        for m in _ROMAN.finditer(text)
    )


_LONG_RUN = re.compile(r"[\d,.\u00a0\u202f'\-–/:]{%d,}" % (MAX_DIGITS + 1))
"""Number-like runs longer than any number we read: spoken digit by digit before the rules run, so no rule's
regex can backtrack over thousands of digits (quadratic time; e.g. 5000 digits followed by a letter)."""


PluginRewrites = Callable[[str, str], Sequence[tuple[int, int, str]]]
"""A plugin's normalizer: (text, language) -> (start, end, spoken) spans, left to right, not overlapping."""
PLUGIN_NORMALIZERS: dict[str, tuple[str, PluginRewrites]] = {}
"""Normalizers added by plugins (entry point group ``tts_predictor.normalizers``), by lower-case language code
(``xx`` for every variant, or ``xx-yy``): (plugin name, rewrites). They replace the built-in rules there."""


def register_normalizer(name: str, languages: Sequence[str], function: PluginRewrites) -> None:
    """Make `function` the normalizer of `languages`; raises ValueError when another plugin has one of them."""
    codes = [code.strip().lower().replace("_", "-") for code in languages]
    if not codes or any(not code or len(code) > 20 for code in codes):
        raise ValueError("languages must be a non-empty list of language codes")
    for code in codes:
        if code in PLUGIN_NORMALIZERS:
            raise ValueError(f"language '{code}' already has the normalizer of plugin '{PLUGIN_NORMALIZERS[code][0]}'")
    for code in codes:
        PLUGIN_NORMALIZERS[code] = (name, function)


def _plugin_for(language: str) -> tuple[str, PluginRewrites] | None:
    code = language.strip().lower().replace("_", "-")
    return PLUGIN_NORMALIZERS.get(code) or PLUGIN_NORMALIZERS.get(code.split("-")[0])


def _plugin_rewrites(plugin: tuple[str, PluginRewrites], text: str, language: str) -> list[Rewrite]:
    """A plugin's spans as Rewrites, checked (in range, in order, not overlapping); SynthesisFailed otherwise."""
    name, function = plugin
    try:
        spans = [(int(a), int(b), str(spoken)) for a, b, spoken in function(text, language)]
    except Exception as exc:
        raise SynthesisFailed(f"normalizer plugin '{name}' failed: {type(exc).__name__}: {exc}") from exc
    out: list[Rewrite] = []
    pos = 0
    for start, end, spoken in spans:
        if not pos <= start <= end <= len(text) or len(spoken) > 10 * (end - start) + 100:
            raise SynthesisFailed(f"normalizer plugin '{name}' returned a bad span ({start}, {end})")
        out.append(Rewrite(start, end, text[start:end], spoken, "plugin"))
        pos = end
    return out


def rewrites(text: str, language: str = "en") -> list[Rewrite]:
    """The spans of `text` to rewrite, left to right, never overlapping; a plugin's where one handles the
    language; empty for unknown languages."""
    if (plugin := _plugin_for(language)) is not None:
        return _plugin_rewrites(plugin, text, language)
    lang = num2words_lang(language)
    if lang is None or not needs_normalization(text):
        return []
    out: list[Rewrite] = []
    pos, order = 0, date_order(language)
    for run in _LONG_RUN.finditer(text):
        if sum(ch.isdigit() for ch in run.group(0)) > MAX_DIGITS:
            out += _scan(text[pos : run.start()], lang, pos, order)
            out.append(Rewrite(run.start(), run.end(), run.group(0), say_digits(run.group(0), lang), "digits"))
            pos = run.end()
    return out + _scan(text[pos:], lang, pos, order)


def _scan(text: str, lang: str, offset: int, order: str) -> list[Rewrite]:
    """One left-to-right pass of the language's rules over `text` (which starts at `offset` of the input)."""
    source, text = text, _prepare(text, lang)
    rules = rules_for(lang.split("_")[0], order)
    upcoming: list[re.Match[str] | None] = [rule.pattern.search(text) for rule in rules]
    out: list[Rewrite] = []
    pos = 0
    while True:
        best = -1
        for i, rule in enumerate(rules):
            m = upcoming[i]
            if m is not None and m.start() < pos:
                m = upcoming[i] = rule.pattern.search(text, pos)
            if m is not None and (best < 0 or m.start() < upcoming[best].start()):  # type: ignore[union-attr]
                best = i
        if best < 0:
            return _ranges_read_to(out, text, offset, lang)
        m = upcoming[best]
        assert m is not None
        spoken = rules[best].read(m, lang) if m.end() > m.start() else None
        if spoken is None:  # this rule declines here: look for its next match, let the others try this place
            upcoming[best] = rules[best].pattern.search(text, m.start() + 1)
            continue
        spoken = _keep_full_stop(m, spoken, rules[best].name)
        out.append(Rewrite(m.start() + offset, m.end() + offset, source[m.start() : m.end()], spoken, rules[best].name))
        pos = m.end()


_DASH = re.compile(r"\s?[-–—]\s?")
_RANGE_WORD = {"en": "to", "de": "bis", "fr": "à", "es": "a"}


def _ranges_read_to(spans: list[Rewrite], text: str, offset: int, lang: str) -> list[Rewrite]:
    """A dash between two amounts, times or decades of the same kind reads as a range: '$250-$300', '2pm-5pm'."""
    word = _RANGE_WORD.get(lang.split("_")[0])
    out: list[Rewrite] = []
    for i, span in enumerate(spans):
        out.append(span)
        nxt = spans[i + 1] if i + 1 < len(spans) else None
        kinds = ("money", "time", "decade", "percent") if lang.startswith("en") else ("money", "time", "decade")
        if word and nxt and span.kind == nxt.kind and span.kind in kinds:
            gap = (span.end - offset, nxt.start - offset)
            if _DASH.fullmatch(text, *gap):
                out.append(Rewrite(span.end, nxt.start, text[gap[0] : gap[1]], f" {word} ", "range"))
    return out


def _keep_full_stop(m: re.Match[str], spoken: str, kind: str) -> str:
    """A rule that swallowed a sentence's final dot ('… on Baker St.', '… at 9 a.m. Then') gives it back."""
    if kind not in ("abbreviation", "time", "money") or not m.group(0).endswith(".") or spoken.endswith("."):
        return spoken
    end = r"\s*$" if kind == "abbreviation" else r"\s*$|\s+[A-Z\"“]"  # "Dr. Smith": a title, not a sentence end
    return spoken + "." if re.match(end, m.string[m.end() :]) else spoken


def apply_rewrites(text: str, spans: list[Rewrite]) -> str:
    """`text` with each span replaced by its spoken form (spans sorted and disjoint, as `rewrites` returns them)."""
    pieces, pos = [], 0
    for span in spans:
        before = " " if span.start and text[span.start - 1].isalnum() else ""  # "MP3x" style neighbours stay apart
        after = " " if span.end < len(text) and text[span.end].isalnum() else ""
        pieces += [text[pos : span.start], before, span.spoken, after]
        pos = span.end
    pieces.append(text[pos:])
    return "".join(pieces)


def _prepare(text: str, lang: str) -> str:
    """French and Spanish group thousands with spaces ('1 234'): make them narrow no-break spaces, which numbers
    may contain.

    Same length as `text`, so offsets found in the result hold for the input.
    """
    if lang.startswith(("fr", "es")):
        return _FR_GROUPS.sub(lambda m: m.group(0).replace(" ", "\u202f"), text)
    return text


def expand_abbreviations(text: str, language: str = "en") -> str:
    """Only the language's abbreviations (Dr., e.g., No. …) replaced with words."""
    spans = [r for r in rewrites(text, language) if r.kind == "abbreviation"]
    return apply_rewrites(text, spans)


def normalize_text(text: str, language: str = "en") -> str:
    """Spell out numbers, money, dates, times, units, phone numbers, Roman numerals and abbreviations.

    Unknown languages (no num2words support) only get their whitespace collapsed.
    """
    return _WS.sub(" ", apply_rewrites(text, rewrites(text, language))).strip()
