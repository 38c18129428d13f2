"""The service experiments' summaries (peer, fairness) from recorded rounds: ratios and printed rows, no servers."""

from __future__ import annotations

import pytest

from bench.fairness import fairness_rows
from bench.peer import _summary
from bench.workload import FAIRNESS_LONG_TEXT, PEER_SENTENCES


def _service(p50: float, thr: float, per_cpu: float) -> dict[str, float]:
    return {
        "p50_ms": p50,
        "rtf": p50 / 4000,
        "wall_s": 10.0,
        "audio_s_per_s": thr,
        "cpu_s": 5.0,
        "audio_s_per_cpu_s": per_cpu,
    }


def test_peer_ratios_are_taken_within_each_round():
    rounds = [
        {"piper": _service(200, 10.0, 8.0), "adaptive": _service(190, 12.0, 10.0)},
        {"piper": _service(400, 5.0, 8.0), "adaptive": _service(400, 6.0, 10.0)},  # a slower round for both
    ]
    out = _summary(["adaptive"], rounds, singles=10)
    ratios = out["ratios"]["adaptive"]
    assert ratios["throughput_c4"] == pytest.approx([1.2, 1.2])
    assert ratios["audio_per_cpu_c4"] == pytest.approx([1.25, 1.25])
    assert ratios["p50_c1"] == pytest.approx([0.95, 1.0])
    assert any(line.startswith("adaptive") and "1.20" in line for line in out["table"])


def test_workloads_and_fairness_rows():
    assert len(PEER_SENTENCES) == 30 and len(set(PEER_SENTENCES)) == 30
    assert len(FAIRNESS_LONG_TEXT) == 5000
    exp = {
        "long_chars": 5000,
        "modes": {
            "fair": {
                "short_alone_ms": 900,
                "short_behind_long_ms": [1200.0],
                "short_behind_long_p50_ms": 1200,
                "long_total_s": 12.0,
            }
        },
    }
    rows = fairness_rows(exp)
    assert rows[-1].split()[:3] == ["fair", "900", "1200"]
