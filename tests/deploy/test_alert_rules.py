"""The shipped alert rules, evaluated by Prometheus's own promtool: the file is valid, and the audio-quality alerts
fire on the voice whose outputs clip, go silent, change pace or hold non-finite samples, and not on a healthy one.

(tests/server/test_audio_quality.py runs the same rules on the values a real server exported.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

from promtool import RULES, expected, promtool, run_rule_tests


def test_shipped_rules_pass_promtool_check():
    result = subprocess.run([promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def _per_voice(voice: str, outputs: int, clipped: int, silent: int, off_pace: int) -> list[dict]:
    """Per minute: `outputs` outputs of `voice`, so many clipped, silent, and twice as slow as the voice's norm."""

    def grow(step: int) -> str:
        return f"0+{step}x30"

    def series(name: str, le: str | None = None) -> str:
        return f'{name}{{voice="{voice}"' + (f',le="{le}"' if le else "") + "}"

    return [
        {"series": series("tts_output_clipped_ratio_bucket", "0.001"), "values": grow(outputs - clipped)},
        {"series": series("tts_output_clipped_ratio_count"), "values": grow(outputs)},
        {"series": series("tts_output_silence_ratio_bucket", "0.99"), "values": grow(outputs - silent)},
        {"series": series("tts_output_silence_ratio_count"), "values": grow(outputs)},
        {"series": series("tts_output_rate_ratio_bucket", "0.67"), "values": grow(0)},
        {"series": series("tts_output_rate_ratio_bucket", "1.5"), "values": grow(outputs - off_pace)},
        {"series": series("tts_output_rate_ratio_count"), "values": grow(outputs)},
    ]


def test_quality_alerts_fire_on_the_faulty_voice_only(tmp_path: Path):
    series = _per_voice("a", 10, clipped=2, silent=1, off_pace=2) + _per_voice("b", 10, 0, 0, 0)
    series.append({"series": "tts_output_nonfinite_samples_total", "values": "0x10 12x10"})
    checks = [
        {"eval_time": "20m", "alertname": "TTSClippedOutput", "exp_alerts": [expected("TTSClippedOutput", voice="a")]},
        {"eval_time": "20m", "alertname": "TTSSilentOutput", "exp_alerts": [expected("TTSSilentOutput", voice="a")]},
        {
            "eval_time": "25m",
            "alertname": "TTSSpeechRateOutlier",
            "exp_alerts": [expected("TTSSpeechRateOutlier", voice="a")],
        },
        {"eval_time": "12m", "alertname": "TTSNonFiniteAudio", "exp_alerts": [expected("TTSNonFiniteAudio")]},
        {"eval_time": "5m", "alertname": "TTSNonFiniteAudio", "exp_alerts": []},
        {"eval_time": "3m", "alertname": "TTSClippedOutput", "exp_alerts": []},  # before its `for`
    ]
    result = run_rule_tests(tmp_path, series, checks)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
