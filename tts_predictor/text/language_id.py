"""Language of each sentence of a text (py3langid), among the languages the served voices speak.

Chosen in docs/voices.md (measured in bench/language_id.py): py3langid is BSD-licensed, ships its model in the
wheel (no run-time download), needs only numpy, and holds ~75 MB whatever the candidate languages, where
lingua-language-detector grows to ~0.9 GB with all its languages. Cost per request is bounded: each sentence is
judged on at most `DETECT_CHARS` characters.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from tts_predictor.text.segments import Segment
from tts_predictor.text.split import split_sentences

DETECT_CHARS = 300
"""Characters of a sentence the detector looks at (a huge run-on sentence costs no more than this)."""
MIN_LETTERS = 12
"""Sentences with fewer letters than this keep the previous sentence's language ("Danke!", "OK.", "42")."""
MIN_CONFIDENCE = 0.75
"""Probability (among the candidate languages) a sentence needs to switch language; below it, it stays."""
_LETTER = re.compile(r"[^\W\d_]")

_LOCK = threading.Lock()
_BASE: list[Any] = []


def _base_identifier() -> Any:
    """The py3langid model, loaded once per process (about 0.4 s, 75 MB)."""
    with _LOCK:
        if not _BASE:
            from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

            _BASE.append(LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True))
        return _BASE[0]


def warm() -> None:
    """Load the model now (at start), not in the first request that detects (0.4 s would stall the event loop)."""
    _base_identifier()


def known_languages() -> frozenset[str]:
    """ISO 639-1 codes the detector can tell apart."""
    return frozenset(_base_identifier().labels)


def primary(tag: str) -> str:
    """'en-US' / 'en_US' / 'EN' -> 'en'."""
    return tag.replace("_", "-").split("-")[0].strip().lower()


def detect(text: str, codes: tuple[str, ...]) -> tuple[str, float] | None:
    """The most likely of `codes` for `text` and its probability; None when the text has too few letters."""
    sample = text[:DETECT_CHARS]
    if len(_LETTER.findall(sample)) < MIN_LETTERS or len(codes) < 2:
        return None
    # one model for every candidate set: the probabilities among `codes` are the full softmax renormalized over
    # them (what py3langid's set_languages computes, without a copy of the model per set)
    ranked = [(code, p) for code, p in _base_identifier().rank(sample) if code in codes]
    total = sum(p for _, p in ranked)
    if total <= 0.0:  # every candidate underflowed: clearly none of them
        return None
    language, probability = max(ranked, key=lambda item: item[1])
    return str(language), float(probability) / total


@dataclass(frozen=True)
class LanguageDetection:
    """Per-sentence detection for one request: which languages may be detected and the tag each becomes."""

    tags: dict[str, str]
    """Detector code -> the language tag put on the segment (the served voice's, e.g. 'de' -> 'de-DE')."""

    @property
    def codes(self) -> tuple[str, ...]:
        """The candidate codes, sorted (the cache key of the restricted model)."""
        return tuple(sorted(self.tags))

    def tag(self, segments: Iterable[Segment], language: str) -> Iterator[Segment]:
        """Give every segment without a language or voice of its own the detected language of each sentence.

        A segment is split into sentences; consecutive sentences of one language stay one segment. A short or
        unsure sentence keeps the language before it (at the start: the first sure one after it). Segments that
        name a language or voice (SSML ``xml:lang``, ``<voice>``) are passed through unchanged.
        """
        for segment in segments:
            if segment.language or segment.voice or not segment.text.strip():
                yield segment
            else:
                yield from self._spans(segment, language)

    def _spans(self, segment: Segment, language: str) -> Iterator[Segment]:
        sentences = split_sentences(segment.text, language) or [segment.text]
        found = [self._judge(s) for s in sentences]
        sure = [code for code in found if code is not None]
        if not sure:
            yield segment
            return
        current = sure[0]
        spans: list[tuple[str, list[str]]] = []
        for sentence, code in zip(sentences, found):
            current = code or current
            if spans and spans[-1][0] == current:
                spans[-1][1].append(sentence)
            else:
                spans.append((current, [sentence]))
        for i, (code, texts) in enumerate(spans):
            first, last = i == 0, i == len(spans) - 1
            yield replace(
                segment,
                text=" ".join(texts),
                language=self.tags[code],
                mark=segment.mark if first else None,
                pause_before_s=segment.pause_before_s if first else 0.0,
                pause_after_s=segment.pause_after_s if last else 0.0,
            )

    def _judge(self, sentence: str) -> str | None:
        found = detect(sentence, self.codes)
        if found is None or found[1] < MIN_CONFIDENCE:
            return None
        return found[0]


def detection_for(languages: Iterable[str]) -> LanguageDetection | None:
    """Detection among `languages` (served tags, first one wins per code); None when fewer than two are known."""
    known = known_languages()
    tags: dict[str, str] = {}
    for tag in languages:
        code = primary(tag)
        if code in known:
            tags.setdefault(code, tag)
    return LanguageDetection(tags) if len(tags) > 1 else None
