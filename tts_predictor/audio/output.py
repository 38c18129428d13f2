"""The one output chain: voice DSP (pitch, loudness, gain) -> watermark -> post-processing -> resample -> encode -> tags.

Every path that produces audio for a caller uses it: whole responses, streams (HTTP and WebSocket), jobs and `say`.
"""

from __future__ import annotations

import numpy as np

from tts_predictor.audio import watermark
from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.audio.dsp import apply_gain_db, loudness_normalize, pitch_shift


def request_dsp(
    buf: AudioBuffer, *, pitch: float | None = None, loudness_lufs: float | None = None, volume_db: float | None = None
) -> AudioBuffer:
    """A request's voice DSP in its fixed order: pitch shift, loudness normalization, gain (each only when asked),
    then the watermark when a model is mounted (`watermark`).

    Every path applies it the same way: whole responses, streamed chunks and job chunks."""
    if pitch:
        buf = pitch_shift(buf, pitch)
    if loudness_lufs is not None and len(buf.samples) and np.any(buf.samples):
        buf = loudness_normalize(buf, loudness_lufs)
    if volume_db:
        buf = apply_gain_db(buf, volume_db)
    return watermark.apply(buf)
