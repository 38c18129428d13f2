"""Decode any audio the server sends (streamed or whole, every compressed format) with PyAV, for assertions."""

from __future__ import annotations

import io

import av
import numpy as np


def decode_audio(data: bytes) -> tuple[np.ndarray, int]:
    """Mono float32 samples and their rate; a truncated stream decodes as far as it goes."""
    parts: list[np.ndarray] = []
    rate = 0
    try:
        with av.open(io.BytesIO(data), "r") as container:
            stream = container.streams.audio[0]
            rate = stream.rate
            for frame in container.decode(stream):
                samples = frame.to_ndarray().astype(np.float32)
                if frame.format.name.startswith("s16"):
                    samples /= 32768.0
                parts.append(samples.reshape(len(frame.layout.channels), -1).mean(axis=0)
                             if frame.format.is_planar else samples.reshape(-1, len(frame.layout.channels)).mean(axis=1))
    except (av.error.EOFError, av.error.InvalidDataError):
        pass  # a cut stream: keep what decoded
    return (np.concatenate(parts) if parts else np.zeros(0, np.float32)), rate
