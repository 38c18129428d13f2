"""Whisper helpers shared by the tests: deterministic transcription, word lists and word error rate."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

SENTENCES = [
    line
    for line in (Path(__file__).parents[1] / "data" / "intelligibility_sentences.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]", " ", text.lower()).split()


def word_error_rate(reference: list[str], hypothesis: list[str]) -> float:
    """Levenshtein distance over words, divided by the reference length."""
    row = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        prev, row[0] = row[0], i
        for j, hyp in enumerate(hypothesis, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ref != hyp))
    return row[-1] / max(1, len(reference))


def transcribe(whisper_model, samples: np.ndarray, rate: int) -> str:
    """Whisper's text for mono float32 audio, decoded deterministically.

    Greedy decoding at temperature 0 with no temperature fallback and no conditioning on earlier text: the
    same audio gives the same words on every run (fallback would re-decode with sampling).
    """
    from scipy.signal import resample_poly

    pcm16k = resample_poly(samples, 16000, rate).astype(np.float32)
    segments, _ = whisper_model.transcribe(
        pcm16k, language="en", beam_size=1, temperature=0.0, condition_on_previous_text=False
    )
    return " ".join(s.text for s in segments)


def transcribe_sentences(engine, whisper_model, sentences: list[str] = SENTENCES) -> tuple[list[str], list[str]]:
    """Reference and Whisper-transcribed words of `sentences` spoken by the engine's first voice."""
    from tts_predictor.engines.base import SynthesisRequest

    voice = engine.voices()[0]
    reference, hypothesis = [], []
    for sentence in sentences:
        audio = engine.synthesize(SynthesisRequest(sentence, voice, voice.languages[0]))
        reference += _words(sentence)
        hypothesis += _words(transcribe(whisper_model, audio.samples, audio.sample_rate))
    return reference, hypothesis


def heard(whisper_model, samples: np.ndarray, rate: int, keywords: set[str]) -> set[str]:
    """Which of `keywords` (lower-case words) Whisper hears in the audio."""
    return keywords & set(_words(transcribe(whisper_model, samples, rate)))
