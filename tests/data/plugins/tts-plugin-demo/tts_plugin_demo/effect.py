"""'lofi': an 8th-order Butterworth band-pass, 300-3000 Hz, whose filter state carries from chunk to chunk."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import signal

requires_api = 1


def open(sample_rate: int) -> Callable[[np.ndarray], np.ndarray]:  # noqa: A001  (the plugin interface's name)
    sos = signal.butter(4, [300.0, 3000.0], btype="bandpass", fs=sample_rate, output="sos")
    state = signal.sosfilt_zi(sos) * 0.0

    def process(samples: np.ndarray) -> np.ndarray:
        nonlocal state
        out, state = signal.sosfilt(sos, samples.astype(np.float64), zi=state)
        return out.astype(np.float32)

    return process
