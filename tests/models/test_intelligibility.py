"""The embedded voice is intelligible: Whisper tiny.en transcribes it with a low word error rate.

The sentences (tests/data/intelligibility_sentences.txt, 33 sentences, 326 words) are plain English with no
digits or abbreviations. With that many words one word is 0.3 points of WER, so tolerances stated in points
mean several words and do not flip on the one word that a CPU's float or int8 kernels may change.
"""

from __future__ import annotations

import pytest
from asr import SENTENCES, _words, transcribe, transcribe_sentences, word_error_rate  # noqa: F401

pytestmark = pytest.mark.slow


def test_sentence_set_is_large_enough():
    """>= 300 words, so that a one-word change moves the WER by well under one point."""
    assert sum(len(_words(s)) for s in SENTENCES) >= 300


def test_embedded_voice_word_error_rate(whisper):
    from tts_predictor.engines.onnx.vits import OnnxVitsEngine, embedded_voice_paths

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
