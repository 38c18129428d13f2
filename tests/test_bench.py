"""Smoke test of the benchmark harness (tts_predictor.bench): runs end to end, writes JSON + PNG.

No timing assertions: the numbers depend on the machine and whatever else runs on it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("matplotlib", reason="the bench extra is not installed (pip install '.[bench]')")
pytest.importorskip("psutil", reason="the bench extra is not installed (pip install '.[bench]')")

from tts_predictor import bench  # noqa: E402

pytestmark = pytest.mark.slow


def test_summarize_percentiles_and_rtf() -> None:
    stats = bench.summarize([0.1, 0.2, 0.3, 0.4], [2.0, 2.0, 2.0, 2.0])
    assert stats["n"] == 4
    assert stats["p50_ms"] == pytest.approx(250.0)
    assert stats["min_ms"] <= stats["p50_ms"] <= stats["p95_ms"] <= stats["p99_ms"] <= stats["max_ms"]
    assert stats["rtf"] == pytest.approx(0.125)
    assert stats["audio_s"] == pytest.approx(2.0)


def test_run_benchmark_embedded_smoke(tmp_path: Path) -> None:
    results = bench.run_benchmark(
        models=["embedded"], repeats=1, warmup=1, concurrency=[1, 2], requests=2, out_dir=tmp_path
    )

    written = json.loads((tmp_path / "bench.json").read_text())
    assert written == json.loads(json.dumps(results))
    png = tmp_path / "bench.png"
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    machine = written["machine"]
    for key in ("cpu_model", "cores", "ram_gib", "python", "onnxruntime", "torch", "date"):
        assert key in machine
    assert list(written["models"]) == ["embedded"]
    model = written["models"]["embedded"]
    for path in ("raw", "server"):
        for inp in bench.INPUTS:
            stats = model[path][inp]
            for key in ("n", "p50_ms", "p95_ms", "p99_ms", "rtf", "audio_s"):
                assert key in stats, (path, inp, key)
            assert stats["n"] == 1
            assert stats["audio_s"] > 0 and stats["rtf"] > 0
    assert set(model["server_raw_p50_ratio"]) == set(bench.INPUTS)
    sweep = model["server"]["concurrency"]
    assert [s["concurrency"] for s in sweep] == [1, 2]
    for level in sweep:
        assert level["requests"] == 2
        assert level["throughput_audio_s_per_s"] > 0
    assert model["server"]["peak_rss_mib"] > 0
    assert "embedded" in bench.table(written)
