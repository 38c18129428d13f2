"""Word timings from a VITS duration predictor: per-phoneme frames -> per-word start/end in seconds.

A Piper voice takes ids ``BOS PAD (phoneme PAD)* EOS`` and its graph predicts a whole number of frames per id
(``w_ceil`` in VITS). Words are the space-separated runs of the IPA string; a word's span runs from its first
phoneme to its last non-punctuation phoneme (a clause's pause belongs to no word).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from tts_predictor.audio.buffer import AudioBuffer

_TEXT_WORD = re.compile(r"\w+(?:['’]\w+)*")


@dataclass(frozen=True)
class WordTiming:
    """One spoken word of a segment, in seconds from the start of the segment's audio."""

    text: str
    """The word as the engine was given it (after normalization)."""
    start_s: float
    end_s: float


@dataclass(frozen=True)
class TimedAudio(AudioBuffer):
    """Engine output that also knows when each word is spoken."""

    words: tuple[WordTiming, ...] = ()


def text_words(text: str) -> list[str]:
    """The words of `text` the way timings count them (letters/digits, inner apostrophes)."""
    return _TEXT_WORD.findall(text)


def ipa_word_frames(
    phonemes: str, id_map: dict[str, list[int]], frames: np.ndarray, bos: str = "^", pad: str = "_"
) -> list[tuple[float, float]]:
    """(first frame, end frame) of every IPA word, with `frames` the predicted frames per input id."""
    pad_len = len(id_map.get(pad, []))
    bounds = np.concatenate([[0.0], np.cumsum(frames.astype(np.float64))])
    pos = len(id_map[bos]) + pad_len
    words: list[tuple[float, float]] = []
    start = end = None
    for char in unicodedata.normalize("NFD", phonemes):
        if char not in id_map:
            continue
        width = len(id_map[char]) + pad_len
        if char == " ":
            if start is not None and end is not None:
                words.append((start, end))
            start = end = None
        elif not unicodedata.category(char).startswith("P"):
            start = bounds[pos] if start is None else start
            end = bounds[min(pos + width, len(bounds) - 1)]
        pos += width
    if start is not None and end is not None:
        words.append((start, end))
    return words


def word_timings(text: str, spans: list[tuple[float, float]], seconds_per_frame: float) -> tuple[WordTiming, ...]:
    """The text's words with times: one IPA word per text word when the counts agree, else spread by length."""
    words = text_words(text)
    if not words or not spans:
        return ()
    if len(words) == len(spans):
        return tuple(
            WordTiming(w, round(float(s) * seconds_per_frame, 4), round(float(e) * seconds_per_frame, 4))
            for w, (s, e) in zip(words, spans)
        )
    # espeak joined or split words (numbers, compounds): share the spoken span out by letter count.
    first, last = spans[0][0], spans[-1][1]
    weights = np.cumsum([0] + [len(w) for w in words], dtype=np.float64)
    edges = first + (last - first) * weights / weights[-1]
    return tuple(
        WordTiming(w, round(float(edges[i]) * seconds_per_frame, 4), round(float(edges[i + 1]) * seconds_per_frame, 4))
        for i, w in enumerate(words)
    )
