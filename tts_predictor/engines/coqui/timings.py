"""Word timings for Coqui VITS: its duration predictor's frames per token id -> per-word spans in frames.

Coqui's tokenizer turns a sentence into ``[BOS] blank c blank c ... [EOS]`` (blank and BOS/EOS only where the
model's config asks for them), where ``c`` are the characters of its phoneme (or plain-text) string. Words are
the space-separated runs of those characters; a word's span runs from its first character to the end of its last
non-punctuation character (blanks inside a word belong to it, a clause's pause to no word).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from tts_predictor.audio.alignment import WordTiming, word_timings


def token_word_frames(ids: list[int], characters: Any, frames: np.ndarray) -> list[tuple[float, float]]:
    """(first frame, end frame) of every word of `ids`, with `frames` the predicted frames per id.

    `characters` is the tokenizer's character set (``id_to_char``; its ``blank``, ``bos``, ``eos`` and ``pad``).
    """
    special = {getattr(characters, name, None) for name in ("blank", "bos", "eos", "pad")} - {None, ""}
    bounds = np.concatenate([[0.0], np.cumsum(frames.astype(np.float64)[: len(ids)])])
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


@contextmanager
def captured_sentences(model: Any) -> Iterator[list[dict[str, Any]]]:
    """Record each sentence's token ids and model outputs while Coqui's Synthesizer runs `model` (PyTorch).

    `Synthesizer.tts` calls ``model.synthesize`` once per sentence and keeps only the audio; VITS's outputs also
    hold ``durations`` (frames per id, ``w_ceil``). Hold the engine lock around this (it patches the instance).
    """
    captured: list[dict[str, Any]] = []
    original = model.synthesize

    def synthesize(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if isinstance(result, dict):
            captured.append({"text": kwargs.get("text", args[0] if args else ""), **result})
        return result

    model.synthesize = synthesize
    try:
        yield captured
    finally:
        del model.synthesize  # the class's method again


def torch_word_timings(
    captured: list[dict[str, Any]],
    characters: Any,
    sample_rate: int,
    endpoint: Callable[[np.ndarray], int] | None,
    pad_samples: int,
) -> tuple[WordTiming, ...]:
    """Words of every captured sentence, placed as `Synthesizer.tts` joins them (each sentence trimmed at
    `endpoint` when given, then `pad_samples` of silence). () when the model gives no durations (not VITS)."""
    words: list[WordTiming] = []
    offset = 0.0
    for sentence in captured:
        outputs = sentence.get("outputs") or {}
        wav = np.asarray(outputs.get("model_outputs"), dtype=np.float32).reshape(-1)
        if outputs.get("durations") is None or sentence.get("text_inputs") is None:
            return ()
        frames = np.asarray(outputs["durations"].detach().cpu(), dtype=np.float32).reshape(-1)
        ids = [int(i) for i in sentence["text_inputs"].reshape(-1)]
        per_frame = len(wav) / sample_rate / max(float(frames.sum()), 1.0)
        timed = word_timings(str(sentence["text"]), token_word_frames(ids, characters, frames), per_frame)
        end = (endpoint(wav) if endpoint else len(wav)) / sample_rate
        words += [
            WordTiming(w.text, round(min(w.start_s, end) + offset, 4), round(min(w.end_s, end) + offset, 4))
            for w in timed
        ]
        offset += end + pad_samples / sample_rate
    return tuple(words)
