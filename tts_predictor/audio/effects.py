"""Speech effects with scipy.signal (BSD): EQ presets, telephone/radio band-pass, compressor, reverb, trim, fades;
and the table of named effects that plugins add (`PLUGIN_EFFECTS`, asked for with the request field ``effects``).

Spotify's `pedalboard` is GPL-3.0, so it cannot be a default dependency of this MIT project; these few effects
are standard filters written directly with scipy instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import signal

from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.errors import SynthesisFailed

ChunkProcessor = Callable[[np.ndarray], np.ndarray]
"""Processes one chunk of float32 mono samples and returns as many; keeps its state (filter memory, phase)
between calls, so a stream processed chunk by chunk sounds as the whole file processed at once."""
EffectOpener = Callable[[int], ChunkProcessor]
"""Opens a fresh processor for one output at the given sample rate."""
PLUGIN_EFFECTS: dict[str, EffectOpener] = {}
"""Effects added by plugins (entry point group ``tts_predictor.effects``), by name; registered at start."""
MAX_EFFECTS = 4
"""At most this many effects per request."""

EQ_PRESETS: dict[str, list[tuple[str, float, float]]] = {
    "warm": [("low_shelf", 250.0, 4.0), ("high_shelf", 6000.0, -3.0)],
    "bright": [("low_shelf", 200.0, -2.0), ("high_shelf", 4000.0, 5.0)],
    "bass_boost": [("low_shelf", 200.0, 8.0)],
    "presence": [("peak", 3000.0, 5.0)],
}
"""EQ preset -> filters (kind, corner/centre Hz, gain dB): RBJ-cookbook biquads."""
BANDS: dict[str, tuple[float, float, int]] = {"telephone": (300.0, 3400.0, 6), "radio": (200.0, 5000.0, 4)}
"""Band-pass presets: low Hz, high Hz, Butterworth order."""


def _biquad(kind: str, freq: float, gain_db: float, rate: int, q: float = 0.707) -> tuple[np.ndarray, np.ndarray]:
    """RBJ Audio EQ Cookbook shelf/peak biquad coefficients (b, a)."""
    amp, w0 = 10 ** (gain_db / 40), 2 * np.pi * min(freq, rate * 0.45) / rate
    cos, alpha = np.cos(w0), np.sin(w0) / (2 * q)
    if kind == "peak":
        b = [1 + alpha * amp, -2 * cos, 1 - alpha * amp]
        a = [1 + alpha / amp, -2 * cos, 1 - alpha / amp]
    else:
        sign = 1 if kind == "low_shelf" else -1
        root = 2 * np.sqrt(amp) * alpha
        b = [
            amp * ((amp + 1) - sign * (amp - 1) * cos + root),
            sign * 2 * amp * ((amp - 1) - sign * (amp + 1) * cos),
            amp * ((amp + 1) - sign * (amp - 1) * cos - root),
        ]
        a = [
            (amp + 1) + sign * (amp - 1) * cos + root,
            -sign * 2 * ((amp - 1) + sign * (amp + 1) * cos),
            (amp + 1) + sign * (amp - 1) * cos - root,
        ]
    return np.asarray(b) / a[0], np.asarray(a) / a[0]


def equalize(audio: AudioBuffer, preset: str) -> AudioBuffer:
    """Apply an EQ preset (see EQ_PRESETS)."""
    out = audio.samples.astype(np.float64)
    for kind, freq, gain in EQ_PRESETS[preset]:
        b, a = _biquad(kind, freq, gain, audio.sample_rate)
        out = signal.lfilter(b, a, out)
    return AudioBuffer(out.astype(np.float32), audio.sample_rate)


def band_pass(audio: AudioBuffer, band: str) -> AudioBuffer:
    """Telephone (300-3400 Hz) or radio (200-5000 Hz, light saturation) band-pass."""
    low, high, order = BANDS[band]
    sos = signal.butter(
        order, [low, min(high, audio.sample_rate * 0.45)], btype="bandpass", fs=audio.sample_rate, output="sos"
    )
    out = signal.sosfilt(sos, audio.samples.astype(np.float64))
    if band == "radio":
        out = np.tanh(2.0 * out) / np.tanh(2.0)
    return AudioBuffer(out.astype(np.float32), audio.sample_rate)


def compress(
    audio: AudioBuffer,
    threshold_db: float = -30.0,
    ratio: float = 4.0,
    makeup_db: float = 8.0,
    attack_s: float = 0.005,
    release_s: float = 0.1,
    block_s: float = 0.005,
) -> AudioBuffer:
    """Feed-forward RMS compressor: 5 ms block levels, gain reduction above the threshold smoothed with
    attack/release time constants, interpolated back to samples, plus make-up gain."""
    x, rate = audio.samples.astype(np.float64), audio.sample_rate
    block = max(1, int(block_s * rate))
    blocks = -(-len(x) // block)
    if blocks == 0:
        return audio
    padded = np.pad(x, (0, blocks * block - len(x)))
    level_db = 10 * np.log10(np.maximum(np.mean(padded.reshape(blocks, block) ** 2, axis=1), 1e-12))
    target = np.minimum(0.0, (threshold_db - level_db) * (1 - 1 / ratio))
    attack, release = np.exp(-block_s / attack_s), np.exp(-block_s / release_s)
    gain = np.empty(blocks)
    current = 0.0
    for i, want in enumerate(target):  # one step per 5 ms block: cheap in Python
        coeff = attack if want < current else release
        current = coeff * current + (1 - coeff) * want
        gain[i] = current
    centres = (np.arange(blocks) + 0.5) * block
    gain_db = np.interp(np.arange(len(x)), centres, gain) + makeup_db
    return AudioBuffer(np.clip(x * 10 ** (gain_db / 20), -1, 1).astype(np.float32), rate)


def reverb(audio: AudioBuffer, wet: float, decay_s: float = 0.6, seed: int = 7) -> AudioBuffer:
    """Convolution reverb with a synthetic room (exponentially decaying noise, fixed seed: same input, same output)."""
    rate = audio.sample_rate
    n = int(decay_s * rate)
    rng = np.random.default_rng(seed)
    ir = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)  # -60 dB at decay_s
    ir /= np.sqrt(np.sum(ir**2))
    tail = signal.fftconvolve(audio.samples.astype(np.float64), ir)[: len(audio.samples)]
    out = (1 - wet) * audio.samples + wet * tail
    return AudioBuffer(out.astype(np.float32), rate)


def trim_silence(
    audio: AudioBuffer, *, start: bool = True, end: bool = True, threshold_db: float = -45.0, keep_s: float = 0.05
) -> AudioBuffer:
    """Cut leading/trailing audio quieter than `threshold_db` (peak, 10 ms frames), keeping `keep_s` of margin."""
    x, rate = audio.samples, audio.sample_rate
    frame = max(1, rate // 100)
    frames = len(x) // frame
    if frames == 0:
        return audio
    peaks = np.abs(x[: frames * frame]).reshape(frames, frame).max(axis=1)
    loud = np.nonzero(peaks > 10 ** (threshold_db / 20))[0]
    if len(loud) == 0:
        return AudioBuffer(x[:0], rate)
    keep = int(keep_s * rate)
    first = max(0, loud[0] * frame - keep) if start else 0
    last = min(len(x), (loud[-1] + 1) * frame + keep) if end else len(x)
    return AudioBuffer(x[first:last], rate)


def fade(audio: AudioBuffer, in_s: float = 0.0, out_s: float = 0.0) -> AudioBuffer:
    """Linear fade-in over the first `in_s` and fade-out over the last `out_s` seconds."""
    x = audio.samples.copy()
    n_in, n_out = min(len(x), int(in_s * audio.sample_rate)), min(len(x), int(out_s * audio.sample_rate))
    if n_in:
        x[:n_in] *= np.linspace(0, 1, n_in, dtype=np.float32)
    if n_out:
        x[len(x) - n_out :] *= np.linspace(1, 0, n_out, dtype=np.float32)
    return AudioBuffer(x, audio.sample_rate)


def register_effect(name: str, opener: EffectOpener) -> None:
    """Make `name` an effect requests may ask for; raises on a taken name (the built-in presets included)."""
    if name in PLUGIN_EFFECTS or name in EQ_PRESETS or name in BANDS:
        raise ValueError(f"effect name '{name}' is already taken")
    PLUGIN_EFFECTS[name] = opener


def parse_effects(value: str | None) -> tuple[str, ...]:
    """The effect names of a request's comma-separated ``effects`` field; ValueError naming the allowed ones."""
    names = tuple(n.strip() for n in (value or "").split(",") if n.strip())
    allowed = ", ".join(sorted(PLUGIN_EFFECTS)) or "none are installed"
    if len(names) > MAX_EFFECTS:
        raise ValueError(f"at most {MAX_EFFECTS} effects per request (allowed: {allowed})")
    for name in names:
        if name not in PLUGIN_EFFECTS:
            raise ValueError(f"unknown effect '{name[:40]}' (allowed: {allowed})")
    return names


class EffectChain:
    """The plugin effects of one output, in the asked order; each opened at the first chunk's rate and kept, so
    streams and job chunks run through the same processors (their state carries over)."""

    def __init__(self, names: Sequence[str]):
        self.names = tuple(names)
        self._open: list[ChunkProcessor] = []
        self._rate = 0

    def __call__(self, audio: AudioBuffer) -> AudioBuffer:
        """`audio` through every effect; SynthesisFailed naming the effect when one misbehaves."""
        if not self.names or len(audio.samples) == 0:
            return audio
        samples = audio.samples
        for index, name in enumerate(self.names):
            try:
                if index == 0 and (not self._open or audio.sample_rate != self._rate):
                    self._rate = audio.sample_rate
                    self._open = [PLUGIN_EFFECTS[n](audio.sample_rate) for n in self.names]
                out = np.asarray(self._open[index](samples), dtype=np.float32)
            except Exception as exc:
                raise SynthesisFailed(f"effect '{name}' failed: {type(exc).__name__}: {exc}") from exc
            if out.shape != samples.shape or not np.all(np.isfinite(out)):
                raise SynthesisFailed(f"effect '{name}' returned {out.shape} samples or non-finite values")
            samples = out
        return AudioBuffer(samples, audio.sample_rate)
