"""'u8': raw unsigned 8-bit PCM (128 is zero), no header."""

from __future__ import annotations

import numpy as np

requires_api = 1
media_type = "audio/x-u8"


def encode(samples: np.ndarray, sample_rate: int) -> bytes:
    return np.round(np.clip(samples, -1, 1) * 127 + 128).astype(np.uint8).tobytes()
