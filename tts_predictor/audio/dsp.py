"""Signal processing on AudioBuffer: resampling, gain, loudness, pitch/tempo changes, crossfades, silence."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.signal import resample_poly

from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.audio.loudness import Leveler, integrated_loudness


def _buffer(samples: np.ndarray, rate: int) -> AudioBuffer:
    return AudioBuffer(np.ascontiguousarray(samples, dtype=np.float32), int(rate))


def resample(buf: AudioBuffer, rate: int) -> AudioBuffer:
    """Polyphase resampling (scipy ``resample_poly``, up/down reduced by their gcd); identity when rates match."""
    if rate <= 0:
        raise ValueError(f"sample rate must be positive, got {rate}")
    if rate == buf.sample_rate:
        return buf
    if len(buf.samples) == 0:
        return _buffer(np.zeros(0), rate)
    g = math.gcd(int(rate), int(buf.sample_rate))
    up, down = int(rate) // g, int(buf.sample_rate) // g
    out = resample_poly(buf.samples.astype(np.float64), up, down)
    return _buffer(out, rate)


def apply_gain_db(buf: AudioBuffer, db: float) -> AudioBuffer:
    """Multiply by 10^(db/20) (no clipping here; ``AudioBuffer.to_int16`` clips)."""
    if db == 0.0:
        return buf
    return _buffer(buf.samples * np.float32(10.0 ** (db / 20.0)), buf.sample_rate)


def measure_loudness(buf: AudioBuffer) -> float:
    """Integrated loudness in LUFS (ITU-R BS.1770: K-weighting and gating; `audio.loudness`); -inf for silence."""
    return integrated_loudness(buf.samples, buf.sample_rate)


def loudness_normalize(buf: AudioBuffer, target_lufs: float = -23.0, peak_dbfs: float = -1.0) -> AudioBuffer:
    """`buf` at `target_lufs` with its sample peaks limited to `peak_dbfs` (`audio.loudness.Leveler`); silence
    is returned unchanged."""
    return Leveler(target_lufs, peak_dbfs)(buf)


def _librosa_effects() -> Any | None:
    try:
        import librosa.effects  # heavy import, done lazily
    except ImportError:
        return None
    return librosa.effects


def _ola_stretch(samples: np.ndarray, rate: float, frame: int = 1024) -> np.ndarray:
    """Fallback time stretch: plain overlap-add of Hann frames (audible artefacts, keeps pitch)."""
    hop_out = frame // 4
    hop_in = hop_out * rate
    n_frames = max(1, int((len(samples) - frame) / hop_in) + 1) if len(samples) > frame else 1
    out_len = int(round(len(samples) / rate))
    out = np.zeros(out_len + frame, dtype=np.float64)
    norm = np.zeros_like(out)
    window = np.hanning(frame)
    padded = np.concatenate([samples, np.zeros(frame)])
    for i in range(n_frames):
        start = int(i * hop_in)
        out[i * hop_out : i * hop_out + frame] += padded[start : start + frame] * window
        norm[i * hop_out : i * hop_out + frame] += window
    return (out / np.maximum(norm, 1e-3))[:out_len]


def time_stretch(buf: AudioBuffer, rate: float) -> AudioBuffer:
    """Change tempo keeping pitch: rate 2.0 = twice as fast (half as long). librosa phase vocoder, else plain OLA."""
    if rate <= 0:
        raise ValueError(f"rate must be positive, got {rate}")
    if rate == 1.0 or len(buf.samples) == 0:
        return buf
    effects = _librosa_effects()
    if effects is not None and len(buf.samples) >= 2048:
        out = effects.time_stretch(buf.samples.astype(np.float32), rate=rate)
    else:
        out = _ola_stretch(buf.samples.astype(np.float64), rate)
    return _buffer(out, buf.sample_rate)


def pitch_shift(buf: AudioBuffer, semitones: float) -> AudioBuffer:
    """Shift pitch keeping duration: librosa ``pitch_shift`` if importable, else OLA stretch followed by resampling."""
    if semitones == 0.0 or len(buf.samples) == 0:
        return buf
    effects = _librosa_effects()
    if effects is not None and len(buf.samples) >= 2048:
        out = effects.pitch_shift(buf.samples.astype(np.float32), sr=buf.sample_rate, n_steps=semitones)
        return _buffer(out, buf.sample_rate)
    factor = 2.0 ** (semitones / 12.0)
    stretched = _ola_stretch(buf.samples.astype(np.float64), 1.0 / factor)
    up, down = _ratio(factor)
    shifted = resample_poly(stretched, down, up)
    n = len(buf.samples)
    return _buffer(np.pad(shifted, (0, max(0, n - len(shifted))))[:n], buf.sample_rate)


def _ratio(value: float, limit: int = 1000) -> tuple[int, int]:
    from fractions import Fraction

    frac = Fraction(value).limit_denominator(limit)
    return frac.numerator, frac.denominator


def silence(seconds: float, rate: int) -> AudioBuffer:
    """`seconds` of digital silence at `rate` Hz."""
    if seconds < 0:
        raise ValueError(f"silence length must be >= 0, got {seconds}")
    return AudioBuffer.silence(seconds, rate)


def crossfade_concat(buffers: Sequence[AudioBuffer], fade_ms: float = 10.0) -> AudioBuffer:
    """Join buffers of one sample rate, overlapping each boundary with an equal-power crossfade of `fade_ms`.

    The overlap is shortened to fit short buffers, so the result is ``sum(lengths) - overlaps`` samples long.
    """
    if not buffers:
        raise ValueError("nothing to concatenate")
    rates = {b.sample_rate for b in buffers}
    if len(rates) != 1:
        raise ValueError(f"cannot concatenate sample rates {sorted(rates)}")
    rate = buffers[0].sample_rate
    out = buffers[0].samples.astype(np.float32)
    for nxt in buffers[1:]:
        n = min(int(round(fade_ms * rate / 1000.0)), len(out), len(nxt.samples))
        if n <= 0:
            out = np.concatenate([out, nxt.samples.astype(np.float32)])
            continue
        t = np.linspace(0.0, math.pi / 2, n, dtype=np.float32)
        mixed = out[-n:] * np.cos(t) + nxt.samples[:n] * np.sin(t)
        out = np.concatenate([out[:-n], mixed, nxt.samples[n:]]).astype(np.float32)
    return _buffer(out, rate)
