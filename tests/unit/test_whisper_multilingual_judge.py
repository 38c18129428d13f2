"""The multilingual Whisper judge hears German and Spanish: espeak-ng (an independent synthesizer) speaks a known
sentence, and the judge must name the language and most of the words. Guards the fixture the fallback-voice and
code-switching tests rely on."""

from __future__ import annotations

import subprocess

import pytest

SENTENCES = {
    "de": "Guten Morgen, heute ist das Wetter in Berlin sehr schön.",
    "es": "Buenos días, hoy hace muy buen tiempo en Madrid.",
}


@pytest.mark.slow
@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_the_multilingual_judge_hears_the_language(whisper_multilingual, tmp_path, language: str) -> None:
    """espeak-ng's reading of a sentence is transcribed in its language, with most of its words."""
    wav = tmp_path / f"{language}.wav"
    subprocess.run(["espeak-ng", "-v", language, "-w", str(wav), SENTENCES[language]], check=True)
    segments, info = whisper_multilingual.transcribe(str(wav), beam_size=1)
    heard = " ".join(s.text for s in segments).lower()
    assert info.language == language
    words = [w.strip(",.").lower() for w in SENTENCES[language].split()]
    assert sum(w in heard for w in words) >= len(words) // 2, heard
