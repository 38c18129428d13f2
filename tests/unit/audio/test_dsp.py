"""DSP helpers: resampling, gain, loudness, pitch/tempo, crossfade, silence."""

from __future__ import annotations

import numpy as np
import pytest

from tts_predictor.audio import dsp
from tts_predictor.audio.buffer import AudioBuffer


def _tone(rate: int, seconds: float = 1.0, freq: float = 440.0, amp: float = 0.5) -> AudioBuffer:
    t = np.arange(int(seconds * rate)) / rate
    return AudioBuffer((amp * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate)


def _peak_hz(buf: AudioBuffer) -> float:
    spectrum = np.abs(np.fft.rfft(buf.samples * np.hanning(len(buf.samples))))
    return float(np.argmax(spectrum) * buf.sample_rate / len(buf.samples))


@pytest.mark.parametrize(("src", "dst"), [(8000, 48000), (22050, 16000), (24000, 22050), (44100, 8000), (16000, 16000)])
def test_resample_keeps_duration_and_pitch(src: int, dst: int) -> None:
    out = dsp.resample(_tone(src), dst)
    assert out.sample_rate == dst and out.samples.dtype == np.float32
    assert out.duration_s == pytest.approx(1.0, abs=1.0 / dst)
    assert _peak_hz(out) == pytest.approx(440.0, abs=3.0)


def test_resample_identity_returns_same_buffer() -> None:
    buf = _tone(16000)
    assert dsp.resample(buf, 16000) is buf


def test_gain_and_silence() -> None:
    out = dsp.apply_gain_db(_tone(16000, amp=0.1), 20.0)
    assert np.max(np.abs(out.samples)) == pytest.approx(1.0, rel=1e-3)
    assert dsp.silence(0.25, 16000).samples.shape == (4000,)
    assert not dsp.silence(0.25, 16000).samples.any()


def test_loudness_normalize_reaches_target() -> None:
    out = dsp.loudness_normalize(_tone(16000, 2.0, amp=0.01), -23.0)
    assert dsp.measure_loudness(out) == pytest.approx(-23.0, abs=0.5)
    quiet_silence = AudioBuffer.silence(1.0, 16000)
    assert dsp.loudness_normalize(quiet_silence) is quiet_silence
    loud = dsp.loudness_normalize(_tone(16000, amp=0.5), 0.0)
    assert np.max(np.abs(loud.samples)) <= 10 ** (-1 / 20) + 1e-6  # peak-limited to -1 dBFS


def test_time_stretch_changes_length_not_pitch() -> None:
    out = dsp.time_stretch(_tone(16000, 2.0), 2.0)
    assert out.duration_s == pytest.approx(1.0, rel=0.02)
    assert _peak_hz(out) == pytest.approx(440.0, abs=10.0)


def test_pitch_shift_keeps_length() -> None:
    out = dsp.pitch_shift(_tone(16000, 1.0), 12.0)
    assert len(out.samples) == 16000
    assert _peak_hz(out) == pytest.approx(880.0, abs=20.0)


def test_fallbacks_without_librosa(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dsp, "_librosa_effects", lambda: None)
    stretched = dsp.time_stretch(_tone(16000, 2.0), 2.0)
    assert stretched.duration_s == pytest.approx(1.0, rel=0.02)
    shifted = dsp.pitch_shift(_tone(16000, 1.0), 12.0)
    assert len(shifted.samples) == 16000
    assert _peak_hz(shifted) == pytest.approx(880.0, rel=0.1)  # crude OLA: frame-rate sidebands


def test_crossfade_concat() -> None:
    a, b = _tone(16000, 0.5), _tone(16000, 0.5, freq=220.0)
    out = dsp.crossfade_concat([a, b], fade_ms=10)
    assert len(out.samples) == 16000 - 160
    assert np.max(np.abs(out.samples)) <= 0.75
    assert len(dsp.crossfade_concat([a], fade_ms=10).samples) == 8000
    with pytest.raises(ValueError):
        dsp.crossfade_concat([a, _tone(8000)])
    with pytest.raises(ValueError):
        dsp.crossfade_concat([])
