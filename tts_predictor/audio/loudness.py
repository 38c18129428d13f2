"""Loudness: an ITU-R BS.1770 meter (K-weighting, gating), a look-ahead peak limiter, and normalization to a target.

All of it is vectorized numpy/scipy (two IIR filters, a cumulative sum, a sliding minimum): a few tenths of a
millisecond per second of audio, cheap enough to run on every sentence of every request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import lfilter

from tts_predictor.audio.buffer import AudioBuffer

BLOCK_S, STEP_S = 0.4, 0.1
"""BS.1770 gating blocks: 400 ms with 75 % overlap."""
ABSOLUTE_GATE, RELATIVE_GATE = -70.0, -10.0
"""Blocks under -70 LUFS (silence) and then those 10 LU under the mean of the rest (pauses) are not counted."""
LIMITER_RAMP_S = 0.005
"""The limiter's gain falls this long before a peak and recovers as long after it (no clicks)."""
MAKEUP_PASSES, MAKEUP_TOLERANCE_DB = 2, 0.1
"""After limiting, the loudness is measured again and the shortfall given back (and limited) up to this many times,
until it is within the tolerance: measured on the embedded voice at -19 LUFS, one pass leaves up to 0.7 dB, two 0.3."""


def _k_coefficients(rate: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The two K-weighting biquads (high shelf, then high pass) at `rate`, from BS.1770's analog prototype.

    The constants and the bilinear design follow libebur128 (ebur128.c, ebur128_init_filter), so any sample rate
    gets the filter that BS.1770 tabulates at 48 kHz."""
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / rate)
    vh, vb = 10.0 ** (gain_db / 20.0), 10.0 ** (gain_db / 20.0 * 0.4996667741545416)
    a0 = 1.0 + k / q + k * k
    shelf = (
        np.array([(vh + vb * k / q + k * k) / a0, 2.0 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0]),
        np.array([1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]),
    )
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / rate)
    a0 = 1.0 + k / q + k * k
    high_pass = (np.array([1.0, -2.0, 1.0]), np.array([1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]))
    return [shelf, high_pass]


def integrated_loudness(samples: np.ndarray, rate: int) -> float:
    """Integrated loudness of mono `samples` in LUFS (BS.1770-4: K-weighting, 400 ms blocks, two gates).

    Audio shorter than one block is measured as one block. Returns -inf for silence."""
    if len(samples) == 0:
        return -math.inf
    (b1, a1), (b2, a2) = _k_coefficients(rate)
    y = lfilter(np.convolve(b1, b2), np.convolve(a1, a2), samples.astype(np.float64))  # both biquads in one pass
    energy = np.concatenate([[0.0], np.cumsum(y * y)])
    block, step = max(1, int(BLOCK_S * rate)), max(1, int(STEP_S * rate))
    if len(y) <= block:
        powers = np.array([energy[-1] / len(y)])
    else:
        starts = np.arange(0, len(y) - block + 1, step)
        powers = (energy[starts + block] - energy[starts]) / block
    levels = -0.691 + 10.0 * np.log10(np.maximum(powers, 1e-30))
    kept = powers[levels > ABSOLUTE_GATE]
    if len(kept) == 0:
        return -math.inf
    relative = -0.691 + 10.0 * math.log10(float(np.mean(kept))) + RELATIVE_GATE
    kept = powers[(levels > ABSOLUTE_GATE) & (levels > relative)]
    return float(-0.691 + 10.0 * math.log10(float(np.mean(kept))))


def limit_peaks(samples: np.ndarray, rate: int, ceiling: float) -> np.ndarray:
    """`samples` with every sample peak at or under `ceiling` (linear), by a smooth gain that dips around peaks.

    Offline look-ahead: the gain each sample needs is spread by a sliding minimum over +-2 ramps, then smoothed by a
    moving average one ramp wide, so the smoothed gain at any sample is the mean of values no larger than what that
    sample needs (the ceiling holds exactly) and it moves in ramps of `LIMITER_RAMP_S`, never in steps."""
    peak = np.abs(samples)
    if len(samples) == 0 or float(peak.max()) <= ceiling:
        return samples
    need = np.minimum(1.0, ceiling / np.maximum(peak, 1e-12))
    ramp = max(1, int(LIMITER_RAMP_S * rate))
    gain = uniform_filter1d(minimum_filter1d(need, 4 * ramp + 1, mode="nearest"), ramp, mode="nearest")
    out = samples * np.minimum(gain, need)  # min(): float rounding of the moving average can overshoot by 1e-7
    return out.astype(np.float32)


@dataclass(frozen=True)
class Leveler:
    """Brings speech to a loudness target under a peak ceiling: gain, then the limiter where peaks pass the ceiling,
    then the gain the limiter took back (measured again) and the limiter once more."""

    target_lufs: float
    """Integrated loudness to reach (BS.1770, LUFS)."""
    peak_dbfs: float = -1.0
    """Sample-peak ceiling in dBFS."""

    def gain_db(self, buf: AudioBuffer) -> float | None:
        """The gain that brings `buf` to the target (None: silence, left as it is)."""
        current = integrated_loudness(buf.samples, buf.sample_rate)
        return self.target_lufs - current if math.isfinite(current) else None

    def __call__(self, buf: AudioBuffer, gain_db: float | None = None) -> AudioBuffer:
        """`buf` at the target. A given `gain_db` (from `gain_db()` on an earlier piece of the same speech) is
        applied as it is, limited but not measured again, so the pieces of one sentence keep one gain."""
        measured = gain_db is None
        gain_db = self.gain_db(buf) if gain_db is None else gain_db
        if gain_db is None or len(buf.samples) == 0:
            return buf
        ceiling = 10.0 ** (self.peak_dbfs / 20.0)
        scaled = buf.samples * np.float32(10.0 ** (gain_db / 20.0))
        out = limit_peaks(scaled, buf.sample_rate, ceiling)
        for _ in range(MAKEUP_PASSES if measured and out is not scaled else 0):  # the limiter took some loudness
            short = self.target_lufs - integrated_loudness(out, buf.sample_rate)
            if not short > MAKEUP_TOLERANCE_DB:
                break
            out = limit_peaks(out * np.float32(10.0 ** (short / 20.0)), buf.sample_rate, ceiling)
        return AudioBuffer(np.ascontiguousarray(out, dtype=np.float32), buf.sample_rate)
