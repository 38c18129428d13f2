"""The whole benchmark run: each model (raw engine, then server), then the experiments; writes JSON + PNG."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.experiments import DEFAULT_EXPERIMENTS, QUICK_EXPERIMENTS, ExperimentSettings, run_experiments
from bench.machine import machine_info
from bench.models import DEFAULT_MODELS, MODEL_SETTINGS, family, prepare_model
from bench.plot import plot
from bench.report import write_json
from bench.runner import bench_model
from bench.workload import (
    DEFAULT_CONCURRENCY,
    DEFAULT_REPEATS,
    DEFAULT_REQUESTS,
    INPUTS,
    QUICK_CONCURRENCY,
    QUICK_REPEATS,
    QUICK_REQUESTS,
    SERVER_ENV,
    THROUGHPUT_INPUT,
    WARMUP_CALLS,
)


def _config(quick: bool, warmup: int, concurrency: list[int]) -> dict[str, Any]:
    return {
        "quick": quick,
        "warmup_calls": warmup,
        "inputs": INPUTS,
        "throughput_input": THROUGHPUT_INPUT,
        "concurrency": concurrency,
        "server_env": {**SERVER_ENV, "TTS_THREADS": "unset: 0 = cores", "TTS_MAX_CONCURRENCY": "unset: default"},
        "order": "per input: warm-up calls, then raw and server calls alternate, one at a time",
        "latency": "client-side wall time; raw = engine.synthesize(), server = HTTP POST /v2/models/tts/infer",
    }


def _bench_one(
    name: str,
    workdir: Path,
    repeats: int,
    requests: int,
    warmup: int,
    concurrency: list[int],
    log: Callable[[str], None],
) -> dict[str, Any]:
    """One model: build it, raw vs server, sweep; with the server/raw ratios."""
    log(f"[bench] {name}: preparing model")
    started = time.perf_counter()
    spec = prepare_model(name, workdir)
    entry: dict[str, Any] = {
        "spec": spec if name.startswith("embedded") else "<tmp>/coqui-full",
        "repeats": repeats,
        "settings": MODEL_SETTINGS.get(name, {}),
    }
    entry["prepare_s"] = time.perf_counter() - started
    log(f"[bench] {name}: raw engine vs server, then concurrency {concurrency} x {requests} requests")
    entry.update(bench_model(spec, repeats, warmup, concurrency, requests, log=log, extra=MODEL_SETTINGS.get(name)))
    for key, path_, stat in (
        ("server_raw_p50_ratio", "server", "p50_ms"),
        ("server_raw_rtf_ratio", "server", "rtf"),
        ("transformer_raw_p50_ratio", "transformer", "p50_ms"),
    ):
        entry[key] = {inp: entry[path_][inp][stat] / entry["raw"][inp][stat] for inp in INPUTS}
    entry["loadavg_after"] = list(os.getloadavg())
    return entry


def run_benchmark(
    models: Sequence[str] = DEFAULT_MODELS,
    *,
    repeats: int | None = None,
    concurrency: Sequence[int] | None = None,
    requests: int | None = None,
    warmup: int | None = None,
    out_dir: Path | str = "bench-results",
    quick: bool = False,
    experiments: Sequence[str] = DEFAULT_EXPERIMENTS,
    experiment_settings: ExperimentSettings | None = None,
    log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr, flush=True),
) -> dict[str, Any]:
    """Benchmark each model (raw engine, then server), then run the experiments; write the results, return them.

    Writes ``bench.json`` and, when at least one model ran, ``bench.png`` to `out_dir`. Experiments use
    `experiment_settings`, else the quick or default sizes.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    concurrency = list(concurrency or (QUICK_CONCURRENCY if quick else DEFAULT_CONCURRENCY))
    warmup = (1 if quick else WARMUP_CALLS) if warmup is None else warmup
    settings = experiment_settings or (QUICK_EXPERIMENTS if quick else ExperimentSettings())
    results: dict[str, Any] = {
        "machine": machine_info(),
        "config": _config(quick, warmup, concurrency),
        "models": {},
        "experiments": {},
    }
    with tempfile.TemporaryDirectory(prefix="tts-bench-") as tmp:
        for name in models:
            n = repeats or (QUICK_REPEATS if quick else DEFAULT_REPEATS).get(family(name), 5)
            reqs = requests or (QUICK_REQUESTS if quick else DEFAULT_REQUESTS).get(family(name), 8)
            results["models"][name] = _bench_one(name, Path(tmp), n, reqs, warmup, concurrency, log)
        results["experiments"] = run_experiments(experiments, settings, Path(tmp), log)
    results["machine"]["loadavg_at_end"] = list(os.getloadavg())
    write_json(results, out_dir / "bench.json")
    if results["models"]:
        plot(results, out_dir / "bench.png")
    return results
