"""Word timings for Coqui VITS: its duration predictor's frames per token id -> per-word spans in frames.

Coqui's tokenizer turns a sentence into ``[BOS] blank c blank c ... [EOS]`` (blank and BOS/EOS only where the
model's config asks for them), where ``c`` are the characters of its phoneme (or plain-text) string. Words are
the space-separated runs of those characters; a word's span runs from its first character to the end of its last
non-punctuation character (blanks inside a word belong to it, a clause's pause to no word).
"""

from __future__ import annotations

import unicodedata
from typing import Any

import numpy as np


def token_word_frames(ids: list[int], characters: Any, frames: np.ndarray) -> list[tuple[float, float]]:
    """(first frame, end frame) of every word of `ids`, with `frames` the predicted frames per id.

    `characters` is the tokenizer's character set (``id_to_char``; its ``blank``, ``bos``, ``eos`` and ``pad``).
    """
    special = {getattr(characters, name, None) for name in ("blank", "bos", "eos", "pad")} - {None, ""}
    bounds = np.concatenate([[0.0], np.cumsum(frames.astype(np.float64)[:len(ids)])])
    words: list[tuple[float, float]] = []
    start = end = None
    for pos, token in enumerate(ids):
        char = characters.id_to_char(int(token))
        if char in special:
            continue
        if char.isspace():
            if start is not None and end is not None:
                words.append((start, end))
            start = end = None
        elif not all(unicodedata.category(c).startswith("P") for c in char):
            start = bounds[pos] if start is None else start
            end = bounds[pos + 1]
    if start is not None and end is not None:
        words.append((start, end))
    return words
