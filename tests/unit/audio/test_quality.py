"""Audio-quality checks on synthetic signals whose clipping and silences are known by construction."""

from __future__ import annotations

import math

import numpy as np
import pytest
from prometheus_client import REGISTRY

from tts_predictor.audio import quality
from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.audio.output import voice_dsp
from tts_predictor.protocol.v2 import SynthesisParameters

RATE = 16000


def tone(seconds: float, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * math.pi * 440 * t)).astype(np.float32)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.float32)


def test_clipping_ratio_counts_full_scale_samples():
    samples = tone(1.0)
    samples[:400] = 1.0  # 400 of 16000 at full scale, 100 more just under the line
    samples[400:500] = 0.998
    samples[500:600] = -1.0
    report = quality.measure(samples, RATE, chars=10)
    assert report.clipped_ratio == pytest.approx(500 / 16000)


def test_silences_by_position():
    # 0.5 s silence, 1 s tone, 0.7 s silence, 1 s tone, 0.3 s silence, 1 s tone, 1.2 s silence
    parts = [silence(0.5), tone(1), silence(0.7), tone(1), silence(0.3), tone(1), silence(1.2)]
    report = quality.measure(np.concatenate(parts), RATE, chars=40)
    assert report.leading_silence_s == pytest.approx(0.5)
    assert report.trailing_silence_s == pytest.approx(1.2)
    assert report.longest_silence_s == pytest.approx(0.7)
    assert report.silence_ratio == pytest.approx(2.7 / 5.7, abs=0.002)
    assert report.duration_s == pytest.approx(5.7)
    assert report.seconds_per_char == pytest.approx(5.7 / 40)


def test_chunked_meter_matches_the_whole_signal():
    # the stream path: chunk edges that cut frames in the middle give the same silences
    parts = [silence(0.5), tone(1), silence(0.7), tone(1), silence(1.2)]
    samples = np.concatenate(parts)
    meter = quality.QualityMeter(RATE)
    for chunk in np.array_split(samples, 13):
        meter.add(chunk)
    chunked, whole = meter.report(20), quality.measure(samples, RATE, 20)
    assert (chunked.leading_silence_s, chunked.trailing_silence_s) == pytest.approx((0.5, 1.2))
    assert chunked.longest_silence_s == pytest.approx(0.7)
    assert chunked.silence_ratio == pytest.approx(whole.silence_ratio)
    assert chunked.loudness_lufs is None


def test_all_silent_output():
    report = quality.measure(silence(2.0), RATE, chars=12)
    assert report.silence_ratio == 1.0
    assert report.leading_silence_s == pytest.approx(2.0)
    assert report.trailing_silence_s == 0.0
    assert report.loudness_lufs == -math.inf


def test_quiet_speech_under_the_threshold_is_silence_and_over_is_not():
    under = tone(1.0, amplitude=10 ** (-53 / 20) * math.sqrt(2))  # RMS -53 dBFS
    over = tone(1.0, amplitude=10 ** (-47 / 20) * math.sqrt(2))  # RMS -47 dBFS
    assert quality.measure(under, RATE, 1).silence_ratio == 1.0
    assert quality.measure(over, RATE, 1).silence_ratio == 0.0


def test_loudness_of_a_full_scale_sine():
    # BS.1770: a 997 Hz sine at 0 dBFS peak reads -3.01 LUFS
    t = np.arange(3 * RATE) / RATE
    report = quality.measure(np.sin(2 * math.pi * 997 * t).astype(np.float32), RATE, 1)
    assert report.loudness_lufs == pytest.approx(-3.01, abs=0.1)


def test_pause_only_text_has_no_pace():
    assert quality.measure(silence(1.0), RATE, chars=0).seconds_per_char is None


def test_sanitize_counts_and_replaces_non_finite_samples():
    samples = tone(0.1)
    samples[[3, 7, 9]] = [np.nan, np.inf, -np.inf]
    clean, bad = quality.sanitize(samples)
    assert bad == 3
    assert np.isfinite(clean).all() and clean[3] == clean[7] == clean[9] == 0.0
    assert clean[4] == samples[4]


def test_voice_dsp_sanitizes_and_counts():
    before = REGISTRY.get_sample_value("tts_output_nonfinite_samples_total") or 0.0
    samples = tone(0.1)
    samples[:5] = np.nan
    out = voice_dsp(AudioBuffer(samples, RATE), SynthesisParameters(volume_db=6.0))
    assert np.isfinite(out.samples).all()
    assert REGISTRY.get_sample_value("tts_output_nonfinite_samples_total") == before + 5


def test_rate_norm_flags_an_outlier_after_warmup():
    norms = quality.RateNorm(alpha=0.1, warmup=3)
    assert [norms.observe("v", 0.06) for _ in range(3)] == [None, None, None]
    assert norms.observe("v", 0.12) == pytest.approx(2.0)  # twice the voice's pace of 0.06 s per character
    assert norms.observe("other", 0.12) is None  # per voice
    assert norms.observe("v", 0.06) == pytest.approx(0.06 / (0.06 + 0.1 * 0.06))


def test_record_fills_the_histograms():
    def count(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = count("tts_output_clipped_ratio_bucket", voice="unit-q", le="0.001")
    report = quality.measure(np.concatenate([silence(1.0), np.ones(RATE, dtype=np.float32)]), RATE, 5)
    quality.record(report, "unit-q")
    assert count("tts_output_clipped_ratio_bucket", voice="unit-q", le="0.001") == before  # 50 % clipped
    assert count("tts_output_clipped_ratio_bucket", voice="unit-q", le="0.5") == 1
    assert count("tts_output_silence_seconds_bucket", voice="unit-q", position="leading", le="1.0") == 1
    assert count("tts_output_seconds_per_char_sum", voice="unit-q") == pytest.approx(0.4)
