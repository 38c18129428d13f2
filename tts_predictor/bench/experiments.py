"""The engine experiments selectable with ``--experiments``: their settings and how each is run."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .batching import run_batching
from .formats import run_formats
from .rawvoice import coqui_onnx_voice, embedded_voice
from .threads import run_threads
from .workload import BATCH_SENTENCES, INPUTS, THROUGHPUT_INPUT

Log = Callable[[str], None]


@dataclass(frozen=True)
class ExperimentSettings:
    """Sizes of the engine experiments."""

    batch_sizes: tuple[int, ...] = (1, 2, 4, 8)
    """Sentences per batch (batching); sizes above 8 reuse the sentences."""
    repeats: int = 5
    """Timed repeats per batch size (batching) or rounds per layout (threads)."""
    threads: tuple[int, ...] = (1, 2)
    """intra_op_num_threads values (threads)."""
    instances: tuple[int, ...] = (1, 2)
    """Concurrent engine instances (threads)."""
    requests: int = 8
    """One-sentence requests per round (threads)."""


QUICK_EXPERIMENTS = ExperimentSettings(batch_sizes=(1, 2), repeats=1, requests=2)


def _texts(count: int) -> list[str]:
    return [BATCH_SENTENCES[i % len(BATCH_SENTENCES)] for i in range(count)]


def _batching(settings: ExperimentSettings, workdir: Path, log: Log) -> dict[str, Any]:
    voice, rows = embedded_voice(_texts(max(settings.batch_sizes)))
    return run_batching(voice, rows, settings.batch_sizes, settings.repeats, log)


def _batching_coqui(settings: ExperimentSettings, workdir: Path, log: Log) -> dict[str, Any]:
    start = time.perf_counter()
    voice, rows = coqui_onnx_voice(_texts(max(settings.batch_sizes)), workdir)
    prepare_s = time.perf_counter() - start
    return {"prepare_s": prepare_s, **run_batching(voice, rows, settings.batch_sizes, settings.repeats, log)}


def _threads(settings: ExperimentSettings, workdir: Path, log: Log) -> dict[str, Any]:
    voice, rows = embedded_voice([INPUTS[THROUGHPUT_INPUT]])
    return run_threads(voice, rows[0], settings.threads, settings.instances, settings.requests, settings.repeats, log)


def _formats(settings: ExperimentSettings, workdir: Path, log: Log) -> dict[str, Any]:
    return run_formats(settings.repeats, log)


RUNNERS: dict[str, Callable[[ExperimentSettings, Path, Log], dict[str, Any]]] = {
    "batching": _batching,
    "threads": _threads,
    "formats": _formats,
    "batching-coqui": _batching_coqui,
}
EXPERIMENTS = tuple(RUNNERS)
DEFAULT_EXPERIMENTS = ("batching", "threads", "formats")
"""Run by ``make bench`` (about 2.5 minutes on a quiet 2-core machine; ``formats`` alone, about 1 minute:
``make bench BENCH_ARGS="--models none --experiments formats"``); ``batching-coqui`` builds and exports
a full-size Coqui VITS first (about 10 s) and takes 3-4 minutes, so it runs only when asked for."""


def run_experiments(names: Sequence[str], settings: ExperimentSettings, workdir: Path,
                    log: Log = lambda msg: None) -> dict[str, Any]:
    """Run the named experiments one after the other; results keyed by name, each with its elapsed time."""
    unknown = sorted(set(names) - set(RUNNERS))
    if unknown:
        raise ValueError(f"unknown experiment(s) {unknown}; choose from {', '.join(EXPERIMENTS)}")
    results: dict[str, Any] = {}
    for name in names:
        log(f"[bench] experiment {name}")
        start, before = time.perf_counter(), list(os.getloadavg())
        entry = RUNNERS[name](settings, workdir, log)
        entry["loadavg_before"] = before
        entry["elapsed_s"] = time.perf_counter() - start
        entry["loadavg_after"] = list(os.getloadavg())
        results[name] = entry
    return results
