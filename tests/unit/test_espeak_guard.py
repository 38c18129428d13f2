"""espeak-ng 1.51 aborts with `*** stack smashing detected ***` on about 85 dotted single letters in one clause
(issue 23, finding 13). The phonemizer spaces such runs out, and a text that still kills the process is retried
word by word: a contained failure, never a 500 for the caller's text."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tts_predictor.engines.onnx import espeak
from tts_predictor.text.guard import UnspeakableText

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
TRIGGERS = ["a." * 100, "U.S.A." * 30, "\u00e9." * 60, " ".join(["a." * 16] * 7), "a._" * 100, "\u0430." * 100]


def _crashes(text: str) -> bool:
    proc = subprocess.run(
        ["espeak-ng", "-q", "--ipa", "-v", "en-us"], input=(text + "\n").encode(), capture_output=True
    )
    return proc.returncode != 0


@pytest.fixture(scope="module")
def phonemizer():
    p = espeak.EspeakPhonemizer("en-us", workers=1)
    yield p
    p.close()


def test_the_trigger_class_crashes_raw_espeak_and_not_after_the_guard():
    """Documents the trigger (a regression of espeak-ng would show here) and that espeak_safe defuses each."""
    assert all(_crashes(t) for t in TRIGGERS)
    assert not any(_crashes(espeak.espeak_safe(t)) for t in TRIGGERS)
    assert espeak.espeak_safe("U.S.A. and e.g. stay") == "U.S.A. and e.g. stay"  # a few dotted letters are kept


@pytest.mark.parametrize("text", TRIGGERS)
def test_dotted_letter_runs_are_phonemized(phonemizer, text):
    assert phonemizer.phonemize(text)


def test_a_dying_phonemizer_is_retried_word_by_word(phonemizer, monkeypatch):
    """With the guard off, the sentence kills espeak-ng twice; the other words are still read."""
    monkeypatch.setattr(espeak, "MAX_DOTTED_LETTERS", 10**9)
    ipa = phonemizer.phonemize("Hello there " + "a." * 100 + " friend.")
    assert "h" in ipa and "fɹ" in ipa, ipa
    with pytest.raises(UnspeakableText, match="text: the phonemizer"):
        phonemizer.phonemize(" ".join(["a." * 100] * 8))
    assert phonemizer.phonemize("Still alive.")
