"""Input guards around planning: refuse text no engine can speak, defuse tokens that would cost without bound."""

from __future__ import annotations

import re

from kserve.errors import InvalidInput

from tts_predictor.errors import TextTooLong

MAX_NUMBER_DIGITS = 24
"""Longer digit strings are read digit by digit: number-to-words (and Decimal's 28-digit precision, Python's
4,300-digit int limit) is only meaningful, and only safe, up to this length."""
MAX_DIGIT_RUN = 256
"""Longest digit string accepted at all (400 beyond): spelled digit by digit it is already a few minutes of audio."""
MAX_TOKEN_CHARS = 100
"""Longer unbroken 'words' are cut into pieces of this length, so chunking can split them (one VITS pass over a
2,000-character token costs tens of seconds, and cannot be interrupted)."""

_SURROGATE = re.compile("[\ud800-\udfff]")
_LONG_NUMBER = re.compile(r"\d(?:[ .,'\u00a0\u202f]?\d){%d,}" % MAX_NUMBER_DIGITS)
_DIGIT_RUN = re.compile(r"\d(?:[ .,'\u00a0\u202f]?\d){%d,}" % MAX_DIGIT_RUN)
_LONG_TOKEN = re.compile(r"\S{%d,}" % (MAX_TOKEN_CHARS + 1))
_PHONEME_BRACKETS = re.compile(r"\[\[+|\]\]+")
"""espeak-ng reads `[[k'Is]]` in plain text as phonemes: an undocumented input channel that spells any word past
the blocklist (issue 23, finding 8)."""


class UnspeakableText(InvalidInput):
    """The text holds characters that are not text (400)."""


def check_speakable(text: str, field: str = "text") -> str:
    """`text` unchanged; UnspeakableText for lone surrogates (JSON `\\ud800`: not encodable), TextTooLong for
    digit strings longer than MAX_DIGIT_RUN."""
    check_digit_runs(text, field)
    found = _SURROGATE.search(text)
    if found:
        raise UnspeakableText(
            f"{field}: lone UTF-16 surrogate at character {found.start()}; send well-formed Unicode text"
        )
    return text


def check_digit_runs(text: str, field: str = "text") -> str:
    """`text` unchanged, or TextTooLong when it holds a digit string longer than MAX_DIGIT_RUN."""
    found = _DIGIT_RUN.search(text)
    if found:
        digits = sum(c.isdigit() for c in found.group(0))
        raise TextTooLong(
            f"{field}: a number of {digits} digits at character {found.start()}; "
            f"at most {MAX_DIGIT_RUN} digits in a row are read"
        )
    return text


def defuse(text: str) -> str:
    """`text` with over-long digit strings spelled digit by digit, over-long tokens cut into pieces and espeak-ng's
    `[[phoneme]]` brackets made single."""
    text = escape_phoneme_input(text)
    text = _LONG_NUMBER.sub(lambda m: " ".join(c for c in m.group(0) if c.isdigit()), text)
    return _LONG_TOKEN.sub(_cut, text)


def escape_phoneme_input(text: str) -> str:
    """`text` with espeak-ng's `[[phoneme]]` brackets spaced apart (`[ k'Is ]`, read as text); same length."""
    return _PHONEME_BRACKETS.sub(_space_brackets, text)


def _space_brackets(match: re.Match[str]) -> str:
    run = match.group(0)
    gap = " " * (len(run) - 1)
    return run[0] + gap if run[0] == "[" else gap + run[0]


def _cut(match: re.Match[str]) -> str:
    token = match.group(0)
    return " ".join(token[i : i + MAX_TOKEN_CHARS] for i in range(0, len(token), MAX_TOKEN_CHARS))
