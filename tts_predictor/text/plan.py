"""Plan: one request text -> ordered Segments (SSML parsed, text normalized, long text chunked)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from tts_predictor.text import pls
from tts_predictor.text.guard import check_speakable, defuse
from tts_predictor.text.language_id import LanguageDetection
from tts_predictor.text.normalize import Rewrite, apply_rewrites, rewrites
from tts_predictor.text.segments import Segment
from tts_predictor.text.split import chunk_text
from tts_predictor.text.ssml import is_ssml, parse_ssml

CHUNK_CHARS = 400
"""Longest text handed to an engine at once: VITS attention cost grows with input length."""


def plan_text(
    text: str,
    *,
    language: str,
    ssml: bool | None = None,
    normalize: bool = True,
    chunk_chars: int = CHUNK_CHARS,
    lexicons: list[str] | None = None,
    detect: LanguageDetection | None = None,
) -> Iterator[Segment]:
    """Segments to synthesize in order; a generator, so long texts are planned chunk by chunk.

    Args:
        text: Plain text or an SSML document.
        language: Language used for normalization and sentence splitting when the text does not say.
        ssml: True/False forces the mode; None detects SSML by a leading ``<speak``.
        normalize: Expand numbers, dates, currency and abbreviations into words.
        chunk_chars: Longest chunk of text per segment.
        lexicons: Names of loaded PLS lexicons to apply (before those configured for the language).
        detect: Tag each sentence without a language of its own with the detected one (before normalization, so
            numbers are read in the sentence's language).
    """
    check_speakable(text)
    use_ssml = is_ssml(text) if ssml is None else ssml
    segments: Iterable[Segment] = parse_ssml(text, default_language=language) if use_ssml else [Segment(text=text)]
    if detect is not None:
        segments = detect.tag(segments, language)
    for segment in segments:
        yield from _expand(segment, language, normalize, chunk_chars, lexicons)


def lexicon_names(value: str | None) -> list[str] | None:
    """'a, b' → ['a', 'b'] (the `lexicons` request parameter)."""
    names = [n.strip() for n in (value or "").split(",") if n.strip()]
    return names or None


@dataclass(frozen=True)
class Spoken:
    """What the engine is given for one segment, and how it came from the segment's text."""

    text: str
    rewrites: list[Rewrite] = field(default_factory=list)
    """Normalizer rewrites, with offsets into the segment's text."""
    lexicon: list[dict[str, str]] = field(default_factory=list)
    """PLS entries applied after normalization."""


def speakable(
    text: str, language: str, *, normalize: bool = True, voice: str | None = None, lexicons: list[str] | None = None
) -> Spoken:
    """Normalize one segment's text, then apply the PLS lexicons: the text the engine speaks."""
    spans = rewrites(text, language) if normalize else []
    if spans and pls.LEXICONS.entries:  # a word the caller's lexicon defines ('W3C') is theirs, not a rule's
        chosen = pls.LEXICONS.select(language, voice, lexicons)
        spans = [s for s in spans if not any(s.original in lexicon.by_grapheme for lexicon in chosen)]
    normalized = " ".join(apply_rewrites(text, spans).split())
    spoken, applied = pls.LEXICONS.apply(normalized, language, voice, lexicons)
    return Spoken(spoken, spans, applied)


def _expand(
    segment: Segment, language: str, normalize: bool, chunk_chars: int, lexicons: list[str] | None = None
) -> Iterator[Segment]:
    if not segment.text.strip():
        yield segment
        return
    lang = segment.language or language
    text = defuse(segment.text)  # before normalization: no number or token it cannot afford
    text = speakable(text, lang, normalize=normalize and segment.normalize, voice=segment.voice, lexicons=lexicons).text
    chunks = list(chunk_text(text, lang, max_chars=chunk_chars)) or [text]
    for i, chunk in enumerate(chunks):
        first, last = i == 0, i == len(chunks) - 1
        yield replace(
            segment,
            text=chunk,
            normalize=False,
            mark=segment.mark if first else None,
            pause_before_s=segment.pause_before_s if first else 0.0,
            pause_after_s=segment.pause_after_s if last else 0.0,
        )
