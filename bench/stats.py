"""Summary statistics of repeated timed calls."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def summarize(walls: Sequence[float], audio: Sequence[float]) -> dict[str, Any]:
    """Latency percentiles (ms) and real-time factor (wall / audio seconds) of repeated calls."""
    w = np.asarray(walls, dtype=np.float64)
    a = np.asarray(audio, dtype=np.float64)
    rtf = w / np.maximum(a, 1e-9)
    return {
        "n": int(w.size),
        "p50_ms": float(np.percentile(w, 50) * 1e3),
        "p95_ms": float(np.percentile(w, 95) * 1e3),
        "p99_ms": float(np.percentile(w, 99) * 1e3),
        "mean_ms": float(w.mean() * 1e3),
        "min_ms": float(w.min() * 1e3),
        "max_ms": float(w.max() * 1e3),
        "audio_s": float(np.median(a)),
        "rtf": float(np.median(rtf)),
        "rtf_mean": float(rtf.mean()),
    }


def median(values: Sequence[float]) -> float:
    """Median as a plain float."""
    return float(np.median(np.asarray(values, dtype=np.float64)))
