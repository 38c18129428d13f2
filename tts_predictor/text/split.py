"""Sentence splitting (pysbd, regex fallback) and streaming chunking of long text into synthesis-sized pieces."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

import pysbd
from pysbd.languages import LANGUAGE_CODES

PYSBD_WINDOW = 2000
"""pysbd is super-linear in input length, so long paragraphs are fed to it in windows of about this many characters."""

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_REGEX_SENTENCE = re.compile(r"(?<=[.!?。！？।])[\"'”’»)\]]*\s+")
_CLAUSE = re.compile(r"(?<=[,;:—–])\s+|(?<!\s)\s+(?=[—–]\s)")
r"""Clause breaks. `(?<!\s)`: a run of spaces is tried once, from its start (each start in the run was quadratic)."""


def _language_code(language: str | None) -> str:
    return re.split(r"[-_]", (language or "en").strip() or "en")[0].lower()


@lru_cache(maxsize=32)
def _segmenter(code: str) -> pysbd.Segmenter | None:
    if code not in LANGUAGE_CODES:
        return None
    return pysbd.Segmenter(language=code, clean=False)


def _squash(text: str) -> str:
    return "".join(text.split())


def _split_window(text: str, code: str) -> list[str]:
    segmenter = _segmenter(code)
    pieces = segmenter.segment(text) if segmenter is not None else _REGEX_SENTENCE.split(text)
    if segmenter is not None and _squash("".join(pieces)) != _squash(text):  # pysbd can drop text ("?;.??")
        pieces = _REGEX_SENTENCE.split(text)
    return [" ".join(p.split()) for p in pieces if p and p.strip()]


def _iter_sentences(text: str, code: str) -> Iterator[str]:
    """Sentences of one paragraph; windows keep pysbd linear, the last (maybe cut) sentence carries over."""
    carry, pos = "", 0
    while pos < len(text):
        window_end = pos + PYSBD_WINDOW
        if window_end < len(text):
            space = text.rfind(" ", pos, window_end)
            window_end = space + 1 if space > pos else window_end
        sentences = _split_window(carry + text[pos:window_end], code)
        pos = window_end
        if pos < len(text) and len(sentences) > 1:
            yield from sentences[:-1]
            carry = sentences[-1] + " "
        elif pos < len(text):
            carry = (sentences[0] + " ") if sentences else ""
            if len(carry) > 4 * PYSBD_WINDOW:  # no sentence end in sight: hand it on as is
                yield carry.strip()
                carry = ""
        else:
            yield from sentences


def split_sentences(text: str, language: str = "en") -> list[str]:
    """Split `text` into stripped sentences (pysbd for its languages, a punctuation regex otherwise)."""
    code = _language_code(language)
    return [s for para in _paragraphs(text) for s in _iter_sentences(para, code)]


def _paragraphs(text: str) -> Iterator[str]:
    """Paragraphs separated by blank lines, found lazily (no list of every paragraph)."""
    start = 0
    for m in _PARAGRAPH_BREAK.finditer(text):
        if text[start : m.start()].strip():
            yield text[start : m.start()].strip()
        start = m.end()
    if text[start:].strip():
        yield text[start:].strip()


def _split_long(sentence: str, max_chars: int) -> Iterator[str]:
    """Cut an over-long sentence at clause punctuation, then at whitespace; a single word is never cut."""
    for clause in _pack(_CLAUSE.split(sentence), max_chars, " "):
        if len(clause) <= max_chars:
            yield clause
        else:
            yield from _pack(clause.split(), max_chars, " ")


def _pack(pieces: list[str] | Iterator[str], max_chars: int, joiner: str) -> Iterator[str]:
    """Greedily join pieces with `joiner` while the result stays within max_chars."""
    current = ""
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        if current and len(current) + len(joiner) + len(piece) > max_chars:
            yield current
            current = piece
        else:
            current = current + joiner + piece if current else piece
    if current:
        yield current


def chunk_text(text: str, language: str = "en", max_chars: int = 400) -> Iterator[str]:
    """Yield chunks of whole sentences of at most `max_chars` (longer sentences are split; words never are).

    Chunks never span a paragraph break (blank line). Works lazily, paragraph by paragraph.
    A single word longer than `max_chars` is yielded whole.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    code = _language_code(language)
    for para in _paragraphs(text):
        pieces = (part for sentence in _iter_sentences(para, code) for part in _split_long(sentence, max_chars))
        yield from _pack(pieces, max_chars, " ")
