"""Assemble per-segment audio into one buffer: loudness, prosody DSP, pauses, marks and timings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tts_predictor.audio import dsp
from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.audio.loudness import Leveler
from tts_predictor.text.segments import Segment

FADE_S = 0.005
"""Fade at each segment edge, so joins never click."""


@dataclass
class Assembly:
    """The joined audio plus where marks and segments landed (seconds from the start)."""

    sample_rate: int
    level: Leveler | None = None
    """Brings each segment's speech to the output loudness before its SSML volume (`output.leveler`); None: as is."""
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
        """Append one segment: pause before, mark, speech (pitch, loudness and volume applied), pause after."""
        if segment.pause_before_s:
            self._append(np.zeros(int(segment.pause_before_s * self.sample_rate), np.float32))
        if segment.mark:
            self.marks.append({"name": segment.mark, "time_s": round(self.offset_s, 4)})
        if speech is not None and len(speech.samples):
            if speech.sample_rate != self.sample_rate:
                speech = dsp.resample(speech, self.sample_rate)
            if segment.pitch_semitones:
                speech = dsp.pitch_shift(speech, segment.pitch_semitones)
            if self.level is not None:
                speech = self.level(speech)
            if segment.volume_db:
                speech = dsp.apply_gain_db(speech, segment.volume_db)
            start = self.offset_s
            self._append(_fade(speech.samples, int(FADE_S * self.sample_rate)))
            self.timings.append(
                {
                    "text": segment.text,
                    "start_s": round(start, 4),
                    "end_s": round(self.offset_s, 4),
                    "voice": voice,
                    "language": segment.language,
                }
            )
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


class SegmentPieces:
    """One segment's speech as the model hands it over, as `Assembly` would lay it out in one piece.

    The pause and mark before go with the first piece, the pause after with `end()`; the segment's edges are
    faded, the joins between pieces are not (the last few ms of every piece wait for the next one). The loudness
    gain is measured on the first piece and kept for the whole segment (each piece peak-limited), so it never pumps.
    """

    def __init__(self, segment: Segment, rate: int, offset_s: float, level: Leveler | None = None):
        self.segment, self.rate, self.start_s, self.level = segment, rate, offset_s, level
        self.gain_db: float | None = None
        self.fade = int(FADE_S * rate)
        self.tail = np.zeros(0, np.float32)
        self.samples = 0
        self.marks: list[dict[str, Any]] = []
        self.started = False

    def add(self, chunk: AudioBuffer) -> AudioBuffer:
        """The audio to send now for one more chunk of speech."""
        chunk = dsp.resample(chunk, self.rate)
        if self.segment.pitch_semitones:
            chunk = dsp.pitch_shift(chunk, self.segment.pitch_semitones)
        if self.level is not None:
            self.gain_db = self.level.gain_db(chunk) if self.gain_db is None else self.gain_db
            chunk = self.level(chunk, self.gain_db)
        if self.segment.volume_db:
            chunk = dsp.apply_gain_db(chunk, self.segment.volume_db)
        speech = np.concatenate([self.tail, chunk.samples.astype(np.float32)])
        head = np.zeros(0, np.float32)
        if not self.started:
            self.started = True
            head = np.zeros(int(self.segment.pause_before_s * self.rate), np.float32)
            if self.segment.mark:
                self.marks.append({"name": self.segment.mark, "time_s": round(self.start_s + len(head) / self.rate, 4)})
            speech = speech.copy()
            n = min(self.fade, len(speech) // 2)
            speech[:n] *= np.linspace(0.0, 1.0, n, dtype=np.float32)
        keep = min(self.fade, len(speech))
        self.tail = speech[len(speech) - keep :]
        return self._out(np.concatenate([head, speech[: len(speech) - keep]]))

    def end(self) -> tuple[AudioBuffer, dict[str, Any]]:
        """The held-back end (faded) and the pause after; the segment's event."""
        tail = self.tail * np.linspace(1.0, 0.0, len(self.tail), dtype=np.float32)
        audio = self._out(np.concatenate([tail, np.zeros(int(self.segment.pause_after_s * self.rate), np.float32)]))
        end_s = self.start_s + self.samples / self.rate
        event = {
            "type": "segment",
            "text": self.segment.text,
            "start_s": round(self.start_s, 4),
            "end_s": round(end_s, 4),
            "marks": self.marks,
        }
        return audio, event

    def _out(self, samples: np.ndarray) -> AudioBuffer:
        self.samples += len(samples)
        return AudioBuffer(samples, self.rate)
