"""Per-request output limits: the total audio a request may produce (pauses and speech), checked before and during
synthesis, so one small request cannot make the server hold gigabytes of audio."""

from __future__ import annotations

from collections.abc import Iterable

from tts_predictor.errors import TextTooLong
from tts_predictor.text.segments import Segment

DEFAULT_MAX_AUDIO_S = 600.0


class OutputTooLong(TextTooLong):
    """The request would produce more audio than TTS_MAX_AUDIO_SECONDS (400)."""


def pauses_s(segments: Iterable[Segment]) -> float:
    """Seconds of pauses (SSML breaks, paragraph and sentence pauses) in `segments`."""
    return sum(s.pause_before_s + s.pause_after_s for s in segments)


def check_audio_s(seconds: float, max_s: float, what: str = "pauses") -> None:
    """OutputTooLong when `seconds` of audio pass `max_s`."""
    if seconds > max_s:
        raise OutputTooLong(
            f"text: {what} add up to {seconds:.0f} s of audio; the limit is {max_s:g} s per request "
            "(TTS_MAX_AUDIO_SECONDS); split the text or use fewer/shorter <break> elements"
        )


def max_audio_s(synth: object) -> float:
    """The synthesizer's limit (`max_audio_s` attribute), else the default."""
    return float(getattr(synth, "max_audio_s", None) or DEFAULT_MAX_AUDIO_S)
