"""Assemble per-segment audio into one buffer: prosody DSP, pauses, marks and timings."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..text.segments import Segment
from . import dsp
from .buffer import AudioBuffer

FADE_S = 0.005
"""Fade at each segment edge, so joins never click."""


@dataclass
class Assembly:
    """The joined audio plus where marks and segments landed (seconds from the start)."""

    sample_rate: int
    parts: list[np.ndarray] = field(default_factory=list)
    marks: list[dict[str, object]] = field(default_factory=list)
    timings: list[dict[str, object]] = field(default_factory=list)
    samples: int = 0

    @property
    def offset_s(self) -> float:
        """Current end of the audio in seconds."""
        return self.samples / self.sample_rate

    def _append(self, samples: np.ndarray) -> None:
        self.parts.append(samples.astype(np.float32, copy=False))
        self.samples += len(samples)

    def add(self, segment: Segment, speech: AudioBuffer | None, voice: str | None = None) -> None:
        """Append one segment: pause before, mark, speech (pitch/volume applied), pause after."""
        if segment.pause_before_s:
            self._append(np.zeros(int(segment.pause_before_s * self.sample_rate), np.float32))
        if segment.mark:
            self.marks.append({"name": segment.mark, "time_s": round(self.offset_s, 4)})
        if speech is not None and len(speech.samples):
            if speech.sample_rate != self.sample_rate:
                speech = dsp.resample(speech, self.sample_rate)
            if segment.pitch_semitones:
                speech = dsp.pitch_shift(speech, segment.pitch_semitones)
            if segment.volume_db:
                speech = dsp.apply_gain_db(speech, segment.volume_db)
            start = self.offset_s
            self._append(_fade(speech.samples, int(FADE_S * self.sample_rate)))
            self.timings.append({
                "text": segment.text, "start_s": round(start, 4), "end_s": round(self.offset_s, 4),
                "voice": voice, "language": segment.language,
            })
        if segment.pause_after_s:
            self._append(np.zeros(int(segment.pause_after_s * self.sample_rate), np.float32))

    def audio(self) -> AudioBuffer:
        """Everything appended so far as one buffer."""
        samples = np.concatenate(self.parts) if self.parts else np.zeros(0, np.float32)
        return AudioBuffer(samples, self.sample_rate)


def _fade(samples: np.ndarray, n: int) -> np.ndarray:
    if n <= 0 or len(samples) < 2 * n:
        return samples
    out = samples.copy()
    ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
    out[:n] *= ramp
    out[-n:] *= ramp[::-1]
    return out
