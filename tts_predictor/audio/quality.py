"""Audio-quality checks of every output: clipping, silence (leading, trailing, longest inside, share), loudness,
seconds per character against the voice's running norm, and the non-finite sample guard.

The checks are vectorized numpy over 10 ms frames and run once per output in the output chain
(`audio.output`): a whole response measures its final audio in one `QualityMeter.add`, a stream or a job adds each
chunk as it passes, so nothing is kept but a few counters. The results go to Prometheus (`metrics.record_quality`)
with the voice label only, never the text.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import numpy as np

from tts_predictor import metrics
from tts_predictor.audio.loudness import integrated_loudness

CLIP_LEVEL = 0.999
"""A sample at or above this magnitude (full scale 1.0) counts as clipped: int16 conversion saturates it."""
SILENCE_DBFS = -50.0
"""A 10 ms frame whose RMS is under this level counts as silent (the embedded voice's breaths sit near -45)."""
FRAME_S = 0.01
"""Frame length of the silence check."""
_SILENCE_RMS = 10.0 ** (SILENCE_DBFS / 20.0)


def sanitize(samples: np.ndarray) -> tuple[np.ndarray, int]:
    """`samples` with NaN and +-inf replaced by silence, and how many there were (0: the same array back)."""
    finite = np.isfinite(samples)
    bad = int(finite.size - np.count_nonzero(finite))
    if bad == 0:
        return samples, 0
    return np.where(finite, samples, 0.0).astype(samples.dtype), bad


@dataclass(frozen=True)
class QualityReport:
    """The checks of one output."""

    duration_s: float
    """Length of the output."""
    clipped_ratio: float
    """Share of samples at or above `CLIP_LEVEL` in magnitude."""
    leading_silence_s: float
    """Silence before the first non-silent frame (the whole length when nothing is audible)."""
    trailing_silence_s: float
    """Silence after the last non-silent frame (0 when nothing is audible: counted as leading)."""
    longest_silence_s: float
    """The longest silence between two non-silent frames."""
    silence_ratio: float
    """Share of silent frames (1.0: nothing audible)."""
    loudness_lufs: float | None
    """BS.1770 integrated loudness (None for streams and jobs, measured chunk by chunk; -inf for silence)."""
    seconds_per_char: float | None
    """Output seconds per character of spoken text (None when the text has none: a pause-only request)."""


@dataclass
class QualityMeter:
    """Accumulates the checks over the chunks of one output (one chunk for a whole response)."""

    rate: int
    """Sample rate of the chunks."""
    clipped: int = 0
    samples: int = 0
    frames: int = 0
    silent_frames: int = 0
    first_voiced: int | None = None
    last_voiced: int | None = None
    longest_gap: int = 0
    rest: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    """Samples of an unfinished frame, carried to the next chunk."""

    def add(self, samples: np.ndarray) -> None:
        """Count one chunk (finite samples: `sanitize` ran before)."""
        self.clipped += int(np.count_nonzero(np.abs(samples) >= CLIP_LEVEL))
        self.samples += len(samples)
        self._frames(np.concatenate([self.rest, samples.astype(np.float32, copy=False)]))

    def _frames(self, samples: np.ndarray) -> None:
        size = max(1, int(self.rate * FRAME_S))
        whole = len(samples) // size * size
        self.rest = samples[whole:]
        frames = samples[:whole].reshape(-1, size)
        if len(frames) == 0:
            return
        voiced = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1)) >= _SILENCE_RMS
        index = np.flatnonzero(voiced) + self.frames
        self.frames += len(frames)
        self.silent_frames += len(frames) - len(index)
        if len(index) == 0:
            return
        if self.last_voiced is not None:
            index = np.concatenate([[self.last_voiced], index])
        elif self.first_voiced is None:
            self.first_voiced = int(index[0])
        if len(index) > 1:
            self.longest_gap = max(self.longest_gap, int(np.max(np.diff(index))) - 1)
        self.last_voiced = int(index[-1])

    def report(self, chars: int, loudness_of: np.ndarray | None = None) -> QualityReport:
        """The checks over everything added; `chars` is the spoken text's length, `loudness_of` the whole output
        when it is at hand (a whole response)."""
        frame_s = max(1, int(self.rate * FRAME_S)) / self.rate
        duration = self.samples / self.rate
        if self.first_voiced is None or self.last_voiced is None:
            leading, trailing = duration, 0.0
        else:
            leading, trailing = self.first_voiced * frame_s, (self.frames - 1 - self.last_voiced) * frame_s
        loudness = None if loudness_of is None else integrated_loudness(loudness_of, self.rate)
        return QualityReport(
            duration_s=duration,
            clipped_ratio=self.clipped / self.samples if self.samples else 0.0,
            leading_silence_s=leading,
            trailing_silence_s=trailing,
            longest_silence_s=self.longest_gap * frame_s,
            silence_ratio=self.silent_frames / self.frames if self.frames else 1.0,
            loudness_lufs=loudness,
            seconds_per_char=duration / chars if chars > 0 else None,
        )


def measure(samples: np.ndarray, rate: int, chars: int) -> QualityReport:
    """The checks of one whole output (loudness included)."""
    meter = QualityMeter(rate)
    meter.add(samples)
    return meter.report(chars, samples)


class RateNorm:
    """A running per-voice norm of seconds per character (exponential moving average), thread-safe.

    A voice's first `warmup` outputs only build the norm; after that each output gets its ratio to the norm before
    it joins it, so one outlier is measured against the voice's usual pace, not against itself."""

    def __init__(self, alpha: float = 0.05, warmup: int = 5) -> None:
        self.alpha, self.warmup = alpha, warmup
        self._norms: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def observe(self, voice: str, seconds_per_char: float) -> float | None:
        """The ratio of `seconds_per_char` to the voice's norm (None while warming up), then update the norm."""
        if not math.isfinite(seconds_per_char) or seconds_per_char <= 0:
            return None
        with self._lock:
            norm, count = self._norms.get(voice, (0.0, 0))
            ratio = seconds_per_char / norm if count >= self.warmup else None
            if count < self.warmup:  # a plain mean while warming up
                norm = (norm * count + seconds_per_char) / (count + 1)
            else:
                norm += self.alpha * (seconds_per_char - norm)
            self._norms[voice] = (norm, count + 1)
        return ratio


NORMS = RateNorm()
"""This process's per-voice pace norms."""


def record(report: QualityReport, voice: str, norms: RateNorm = NORMS) -> None:
    """Export one output's checks (`voice` is the bounded label of tts_requests_total)."""
    metrics.OUTPUT_CLIPPED.labels(voice).observe(report.clipped_ratio)
    metrics.OUTPUT_SILENCE_RATIO.labels(voice).observe(report.silence_ratio)
    for position, seconds in (
        ("leading", report.leading_silence_s),
        ("trailing", report.trailing_silence_s),
        ("internal", report.longest_silence_s),
    ):
        metrics.OUTPUT_SILENCE_SECONDS.labels(voice, position).observe(seconds)
    if report.loudness_lufs is not None:
        metrics.OUTPUT_LOUDNESS.labels(voice).observe(max(report.loudness_lufs, -120.0))
    if report.seconds_per_char is not None:
        metrics.OUTPUT_SECONDS_PER_CHAR.labels(voice).observe(report.seconds_per_char)
        ratio = norms.observe(voice, report.seconds_per_char)
        if ratio is not None:
            metrics.OUTPUT_RATE_RATIO.labels(voice).observe(ratio)


@dataclass
class OutputWatch:
    """The quality checks of one output on its way through the chain (`audio.output`), recorded when it ends."""

    voice: str
    """The bounded voice label."""
    chars: int
    """Characters of spoken text (no pauses, no markup)."""
    meter: QualityMeter | None = None

    def add(self, samples: np.ndarray, rate: int) -> None:
        """One chunk of a stream or a job, in order."""
        self.meter = self.meter or QualityMeter(rate)
        self.meter.add(samples)

    def whole(self, samples: np.ndarray, rate: int) -> QualityReport:
        """A whole output at once (loudness included); recorded."""
        report = measure(samples, rate, self.chars)
        record(report, self.voice)
        return report

    def finish(self) -> QualityReport | None:
        """Record the chunks added (None when there were none)."""
        if self.meter is None:
            return None
        report = self.meter.report(self.chars)
        record(report, self.voice)
        return report
