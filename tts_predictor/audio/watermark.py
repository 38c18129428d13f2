"""Optional inaudible watermark: a mounted watermark generator (AudioSeal-style) adds its signal to every output.

No watermarking model ships on PyPI (AudioSeal's weights come from its own hub), so none is bundled: an operator
mounts one as TorchScript and sets `TTS_WATERMARK_MODEL`. The contract is AudioSeal's generator's: the module
takes audio ``(batch, 1, samples)`` at `TTS_WATERMARK_SAMPLE_RATE` (AudioSeal: 16 kHz) and returns the watermark
*signal* of the same shape, which is added (times `TTS_WATERMARK_STRENGTH`) to the speech. For AudioSeal itself,
script a wrapper whose ``forward(x)`` returns ``generator.get_watermark(x, 16000)``. The watermark is computed at
the model's rate and resampled to the output's, then added after pitch, loudness and gain (`output.voice_dsp`), on
every path (whole responses, streamed sentences, job chunks) and before post-processing (beds, fades). torch is
imported only when a model is configured.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np

from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.audio.dsp import resample
from tts_predictor.errors import require_extra

log = logging.getLogger(__name__)


class Watermarker:
    """A loaded TorchScript watermark generator."""

    def __init__(self, path: str, sample_rate: int = 16000, strength: float = 1.0):
        torch = require_extra("torch", "coqui", "TTS_WATERMARK_MODEL")  # only with a model mounted

        if not Path(path).is_file():
            raise FileNotFoundError(f"TTS_WATERMARK_MODEL: no file at {path}")
        self.torch = torch
        self.model = torch.jit.load(path, map_location="cpu").eval()
        self.name = Path(path).name
        self.sample_rate, self.strength = sample_rate, strength
        self._lock = threading.Lock()  # one forward at a time: TorchScript modules are not documented thread-safe

    def signal(self, audio: AudioBuffer) -> np.ndarray:
        """The watermark for `audio`, at its sample rate and length."""
        low = resample(audio, self.sample_rate)
        with self._lock, self.torch.inference_mode():
            mark = self.model(self.torch.from_numpy(np.ascontiguousarray(low.samples, dtype=np.float32))[None, None])
        back = resample(AudioBuffer(mark.reshape(-1).numpy().astype(np.float32), self.sample_rate), audio.sample_rate)
        out = np.zeros_like(audio.samples)
        n = min(len(out), len(back.samples))
        out[:n] = back.samples[:n]
        return out

    def apply(self, audio: AudioBuffer) -> AudioBuffer:
        """`audio` with the watermark added (clipped to [-1, 1])."""
        if not len(audio.samples):
            return audio
        marked = np.clip(audio.samples + self.strength * self.signal(audio), -1.0, 1.0).astype(np.float32)
        return replace(audio, samples=marked)
