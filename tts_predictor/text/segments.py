"""Segment: one piece of a synthesis plan (text with its voice, prosody and the pause after it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    """A span of text to speak with one voice and one prosody, or a pure pause / mark."""

    text: str = ""
    """Text to speak; empty for a pause or a mark."""
    voice: str | None = None
    """Voice id; None means the request's (or the engine's) default voice."""
    language: str | None = None
    """Language code (BCP-47 style, e.g. ``en-US``); None means the voice's language."""
    rate: float = 1.0
    """Speaking-rate multiplier (1.0 = the voice's natural rate, 2.0 = twice as fast)."""
    pitch_semitones: float = 0.0
    """Pitch shift in semitones (applied by DSP where the engine has no pitch control)."""
    volume_db: float = 0.0
    """Gain in dB applied to this segment's audio."""
    pause_before_s: float = 0.0
    """Silence inserted before this segment's speech."""
    pause_after_s: float = 0.0
    """Silence inserted after this segment's speech."""
    mark: str | None = None
    """SSML ``<mark name>`` reached at the start of this segment (reported as a time offset)."""
    gender: str | None = None
    """SSML ``<voice gender>``: speak this span with a voice of this gender (the pipeline picks one)."""
    normalize: bool = True
    """Whether text normalization should still run (False when SSML say-as already expanded it)."""
