"""The BS.1770 meter, the peak limiter and the leveler of audio/loudness.py, against pyloudnorm as the ground."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.audio.loudness import Leveler, integrated_loudness, limit_peaks
from tts_predictor.audio.output import OutputConfig, leveler
from tts_predictor.protocol.v2 import SynthesisParameters
from tts_predictor.settings import Settings

pyloudnorm = pytest.importorskip("pyloudnorm", reason="pip install '.[test]' (the independent BS.1770 meter)")


def _speechlike(rate: int, seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    """Noise bursts with pauses and a few sharp clicks: gating and peaks both matter."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    envelope = (np.sin(2 * np.pi * 1.5 * t) > -0.2).astype(np.float64) * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2)
    x = rng.standard_normal(len(t)) * 0.05 * envelope
    x[rng.integers(0, len(t), 20)] = 0.6
    return x.astype(np.float32)


@pytest.mark.parametrize("rate", [16000, 22050, 24000, 48000])
def test_meter_agrees_with_pyloudnorm(rate: int) -> None:
    x = _speechlike(rate)
    assert integrated_loudness(x, rate) == pytest.approx(pyloudnorm.Meter(rate).integrated_loudness(x), abs=0.3)
    assert integrated_loudness(np.zeros(rate, np.float32), rate) == -math.inf


def test_limiter_holds_the_ceiling_without_steps() -> None:
    x = np.full(22050, 0.2, np.float32)  # a level under the ceiling with a few peaks over it: gain = out / x
    x[[3000, 3050, 9000, 15000]] = [0.9, -0.7, 0.6, 0.95]
    out = limit_peaks(x, 22050, 0.5)
    assert np.abs(out).max() <= 0.5 + 1e-6
    gain = out / x
    assert np.abs(np.diff(gain)).max() < 0.02, "the gain moves in ramps, never in steps"
    assert gain[:2000].min() == gain[-2000:].min() == 1.0, "untouched away from the peaks"
    quiet = x * 0.1
    assert limit_peaks(quiet, 22050, 0.5) is quiet


@pytest.mark.parametrize("target", [-16.0, -19.0, -23.0])
def test_leveler_reaches_the_target_under_the_ceiling(target: float) -> None:
    buf = AudioBuffer(_speechlike(22050, seed=3), 22050)
    out = Leveler(target, -1.0)(buf)
    assert pyloudnorm.Meter(22050).integrated_loudness(out.samples) == pytest.approx(target, abs=0.5)
    assert np.abs(out.samples).max() <= 10 ** (-1 / 20) + 1e-6
    silence = AudioBuffer.silence(1.0, 22050)
    assert Leveler(target)(silence) is silence


def test_target_setting_off_and_request_override() -> None:
    assert OutputConfig.from_settings(Settings(loudness_target_lufs="off")).loudness_lufs is None
    assert leveler(SynthesisParameters(), OutputConfig(loudness_lufs=None)) is None
    assert leveler(SynthesisParameters(loudness_lufs=-23), OutputConfig(loudness_lufs=None)) == Leveler(-23.0, -1.0)
    assert leveler(SynthesisParameters(), OutputConfig.from_settings(Settings())) == Leveler(-19.0, -1.0)
    defaults = OutputConfig.from_settings(Settings())
    assert (OutputConfig().loudness_lufs, OutputConfig().peak_dbfs) == (defaults.loudness_lufs, defaults.peak_dbfs)


@pytest.mark.parametrize("value", ["0", "-100", "loud", "nan"])
def test_bad_target_setting_is_refused_naming_it(value: str) -> None:
    from tts_predictor.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="TTS_LOUDNESS_TARGET_LUFS"):
        load_settings(loudness_target_lufs=value)
