"""A 'robot' engine: each letter becomes 60 ms of a pulse train (a buzz rich in harmonics up to the Nyquist
frequency), vowels at 125 Hz, other letters at 250 Hz; spaces and punctuation are 60 ms of silence."""

from __future__ import annotations

from typing import Any

import numpy as np

from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.engines.base import SynthesisRequest, Voice

requires_api = 1
RATE = 16000
LETTER_S = 0.06


class RobotEngine:
    """Satisfies tts_predictor.engines.base.Engine."""

    kind = "robot"
    device = "cpu"

    def __init__(self, name: str):
        self.name = name

    def voices(self) -> list[Voice]:
        return [Voice(self.name, ("en", "tlh"), engine="robot", sample_rate=RATE, capabilities=("speed",))]

    def synthesize(self, request: SynthesisRequest) -> AudioBuffer:
        n = int(LETTER_S * RATE / request.speed)
        pieces = []
        for char in request.text:
            piece = np.zeros(n, dtype=np.float32)
            if char.isalnum():
                period = RATE // (125 if char.lower() in "aeiou" else 250)
                piece[::period] = 0.8
            pieces.append(piece)
        return AudioBuffer(np.concatenate(pieces or [np.zeros(n, dtype=np.float32)]), RATE)

    def close(self) -> None:
        pass


def load_engine(argument: str, settings: Any) -> RobotEngine:
    """TTS_MODEL=robot (voice 'robot') or robot:<voice name>."""
    return RobotEngine(argument or "robot")
