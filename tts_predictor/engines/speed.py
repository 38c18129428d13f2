"""Speed that means what it says: `speed` s makes speech 1/s as long, on every engine.

VITS engines turn speed into a length scale on the predicted phoneme durations, but the frame counts are
rounded *up* per phoneme (``ceil``), Piper puts a short pad symbol between all phonemes, and Coqui adds a
fixed pause after each sentence; so the duration does not scale as 1/s (measured on the embedded voice:
speed 0.5 gave x1.73 and speed 2.0 x0.62). Per voice we measure the curve once, on first use of a speed
other than 1.0: the duration ratio at a grid of engine speeds. A request then asks the engine for the
engine speed whose measured ratio is 1/s (log-log interpolation), and time-stretches (pitch kept) only what
the engine cannot reach (e.g. speed 4 on Piper, whose durations stop shrinking below about half).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from tts_predictor.audio import dsp
from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.engines.base import SynthesisRequest

log = logging.getLogger(__name__)

ENGINE_SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)
"""Engine speeds measured per voice (the engine's own length-scale response)."""
CALIBRATION_TEXTS = (
    "Temperatures should stay close to the seasonal average for most of the week.",
    "Please call Stella, and ask her to bring these things from the store.",
)
"""What the curve is measured on (phoneme mix of ordinary English; other languages' curves are alike)."""
CALIBRATION_SEED = 1234
"""Seed for engines that take one (Coqui), so the curve is reproducible."""
STRETCH_TOLERANCE = 0.02
"""A residual tempo change smaller than this is left out (not worth a phase vocoder pass)."""
REMEMBERED_VOICES = 256


@dataclass(frozen=True)
class SpeedCurve:
    """Measured duration ratio (duration / duration at engine speed 1.0) per engine speed."""

    engine_speeds: tuple[float, ...]
    ratios: tuple[float, ...]
    """Made non-increasing (a faster engine speed never counts as longer)."""

    def plan(self, speed: float) -> tuple[float, float]:
        """(engine speed to ask for, residual time-stretch rate) so that the duration ratio is 1/`speed`."""
        target = 1.0 / speed
        ratios = np.asarray(self.ratios)
        speeds = np.asarray(self.engine_speeds)
        # x must increase for np.interp: -log(ratio) grows with the engine speed.
        x, y = -np.log(ratios), np.log(speeds)
        engine_speed = float(np.exp(np.interp(-np.log(target), x, y)))
        reached = float(np.exp(-np.interp(np.log(engine_speed), y, x)))
        return engine_speed, reached / target


def measure_curve(synthesize: Callable[[SynthesisRequest], AudioBuffer], request: SynthesisRequest) -> SpeedCurve:
    """Duration ratios of the calibration texts at each engine speed, for `request`'s voice and language."""
    seed = CALIBRATION_SEED if "seed" in request.voice.capabilities else None
    durations = []
    for speed in ENGINE_SPEEDS:
        durations.append(
            sum(
                synthesize(replace(request, text=text, speed=speed, seed=seed)).duration_s for text in CALIBRATION_TEXTS
            )
        )
    base = durations[ENGINE_SPEEDS.index(1.0)]
    ratios = np.minimum.accumulate(np.asarray(durations) / max(base, 1e-6))
    ratios = np.maximum(ratios, 1e-3)
    return SpeedCurve(ENGINE_SPEEDS, tuple(float(r) for r in ratios))


class SpeedControl:
    """Synthesizes at the engine speed that gives the asked duration; curves measured once per voice."""

    def __init__(
        self,
        synthesize: Callable[[SynthesisRequest], AudioBuffer],
        calibrate: Callable[[SynthesisRequest], AudioBuffer] | None = None,
    ):
        """`calibrate` (default `synthesize`) measures the curve: an engine whose own calls cannot be seeded
        (Coqui VITS in ONNX Runtime draws its noise inside the graph) passes a seeded run of the same model."""
        self._synthesize = synthesize
        self._calibrate = calibrate or synthesize
        self._curves: OrderedDict[tuple[str, str | None], SpeedCurve] = OrderedDict()
        self._lock = threading.Lock()

    def synthesize(self, request: SynthesisRequest) -> AudioBuffer:
        """`request` with its speed honoured as a duration ratio (1.0: passed through untouched)."""
        if request.speed == 1.0:
            return self._synthesize(request)
        engine_speed, stretch = self.curve(request).plan(request.speed)
        audio = self._synthesize(replace(request, speed=engine_speed))
        if abs(stretch - 1.0) > STRETCH_TOLERANCE:
            audio = dsp.time_stretch(audio, stretch)
        return audio

    def curve(self, request: SynthesisRequest) -> SpeedCurve:
        """The voice's measured curve (measured now if this is its first speed other than 1.0)."""
        key = (request.voice.id, request.language)
        with self._lock:  # one measurement per voice even when requests arrive together
            curve = self._curves.get(key)
            if curve is None:
                curve = measure_curve(self._calibrate, request)
                log.info(
                    "speed curve of voice %s: %s",
                    request.voice.id,
                    ", ".join(f"{s:g}->{r:.2f}" for s, r in zip(curve.engine_speeds, curve.ratios)),
                )
                self._curves[key] = curve
                if len(self._curves) > REMEMBERED_VOICES:
                    self._curves.popitem(last=False)
            self._curves.move_to_end(key)
            return curve
