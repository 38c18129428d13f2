"""The embedded voice is intelligible: Whisper tiny.en transcribes it with a low word error rate.

The sentences (tests/data/intelligibility_sentences.txt, 33 sentences, 326 words) are plain English with no
digits or abbreviations. With that many words one word is 0.3 points of WER, so tolerances stated in points
mean several words and do not flip on the one word that a CPU's float or int8 kernels may change.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

SENTENCES = [
    line
    for line in (Path(__file__).parent / "data" / "intelligibility_sentences.txt").read_text().splitlines()
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


def test_sentence_set_is_large_enough():
    """>= 300 words, so that a one-word change moves the WER by well under one point."""
    assert sum(len(_words(s)) for s in SENTENCES) >= 300


def test_embedded_voice_word_error_rate(whisper):
    from tts_predictor.engines.onnx_vits import OnnxVitsEngine, embedded_voice_paths

    engine = OnnxVitsEngine(*embedded_voice_paths(), device="cpu", threads=2)
    reference, hypothesis = transcribe_sentences(engine, whisper)
    wer = word_error_rate(reference, hypothesis)
    print(f"WER {wer:.3f} over {len(reference)} words")
    # Measured 0.02-0.04 here; 0.10 is 32 of 326 words: a voice that speaks is far below it on any CPU, a broken
    # phonemizer, sample rate or voice is far above it.
    assert wer <= 0.10


def test_word_error_rate_helper():
    assert word_error_rate(["a", "b", "c"], ["a", "x", "c"]) == pytest.approx(1 / 3)
    assert word_error_rate(["a", "b"], ["a", "b"]) == 0.0
    assert word_error_rate(["a"], []) == 1.0
