"""AudioBuffer: mono float32 PCM with its sample rate, and the one int16 conversion."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AudioBuffer:
    """Mono audio as float32 samples in [-1, 1]."""

    samples: np.ndarray
    """1-D float32 array of samples."""
    sample_rate: int
    """Samples per second."""

    @property
    def duration_s(self) -> float:
        """Length of the audio in seconds."""
        return len(self.samples) / float(self.sample_rate)

    def to_int16(self) -> np.ndarray:
        """Clip to [-1, 1] and scale to signed 16-bit PCM (the only place this is done)."""
        return (np.clip(self.samples, -1.0, 1.0) * 32767.0).astype(np.int16)

    @classmethod
    def silence(cls, seconds: float, sample_rate: int) -> AudioBuffer:
        """A buffer of `seconds` of digital silence."""
        return cls(np.zeros(int(round(seconds * sample_rate)), dtype=np.float32), sample_rate)

    @classmethod
    def concat(cls, parts: list[AudioBuffer]) -> AudioBuffer:
        """Join buffers that share one sample rate."""
        if not parts:
            raise ValueError("nothing to concatenate")
        rates = {p.sample_rate for p in parts}
        if len(rates) != 1:
            raise ValueError(f"cannot concatenate sample rates {sorted(rates)}")
        return cls(np.concatenate([p.samples for p in parts]).astype(np.float32), parts[0].sample_rate)
