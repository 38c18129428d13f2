"""The engine experiments selectable with ``--experiments``: their settings and how each is run."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.batching import run_batching
from bench.coqui_concurrency import run_coqui_concurrency
from bench.fairness import run_fairness
from bench.formats import run_formats
from bench.jobs import DEFAULT_TIMEOUT_S, run_jobs
from bench.language_id import run_language_id
from bench.nemo_cases import run_nemo
from bench.normalization import run_normalization
from bench.peer import run_peer
from bench.phonemes import run_rtf
from bench.rawvoice import coqui_onnx_voice, embedded_voice
from bench.speedtable import run_speed
from bench.threads import run_threads
from bench.workload import BATCH_SENTENCES, INPUTS, THROUGHPUT_INPUT
from bench.xtts_stream import run_xtts_stream

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
    normalization_sentences: int | None = None
    """Sentences of the normalization set to run (None: all)."""
    peer_rounds: int = 3
    """Interleaved rounds of the peer comparison (each: one-at-a-time requests, then a burst of 30)."""
    peer_singles: int = 10
    """One-at-a-time requests per service and round (peer)."""
    peer_profiles: tuple[str, ...] = ("latency", "throughput", "adaptive")
    """Our server profiles compared with Piper's server (`workload.PROFILES`)."""
    fairness_shorts: int = 3
    """One-sentence requests sent while the long one runs (fairness)."""
    job_chars: int = 200_000
    """Characters of the long-form job (jobs)."""
    job_timeout_s: float = DEFAULT_TIMEOUT_S
    """The jobs experiment stops following the job after this long."""
    coqui_models: tuple[str, ...] = ("vits-tiny", "vits-full", "xtts-tiny")
    """Models of coqui-concurrency (`bench.coqui_concurrency.MODELS`; xtts-full: builds a ~2 GB XTTS v2 GPT)."""
    coqui_levels: tuple[int, ...] = (1, 2, 4, 8)
    """Calls at once on one Coqui model (coqui-concurrency)."""


QUICK_EXPERIMENTS = ExperimentSettings(
    batch_sizes=(1, 2),
    repeats=1,
    requests=2,
    normalization_sentences=8,
    peer_rounds=1,
    peer_singles=3,
    fairness_shorts=1,
    job_chars=3000,
    coqui_models=("vits-tiny",),
    coqui_levels=(1, 4),
)


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


def _xtts_stream(settings: ExperimentSettings, workdir: Path, log: Log) -> dict[str, Any]:
    return run_xtts_stream(min(settings.repeats, 3), workdir, log)


def _coqui_concurrency(settings: ExperimentSettings, workdir: Path, log: Log) -> dict[str, Any]:
    return run_coqui_concurrency(settings.coqui_models, settings.coqui_levels, os.cpu_count() or 1, workdir, log)


def _normalization(settings: ExperimentSettings, workdir: Path, log: Log) -> dict[str, Any]:
    return run_normalization(log, limit=settings.normalization_sentences, cache=workdir)


def _nemo(settings: ExperimentSettings, workdir: Path, log: Log) -> dict[str, Any]:
    return run_nemo(log)


def _peer(settings: ExperimentSettings, workdir: Path, log: Log) -> dict[str, Any]:
    return run_peer(settings.peer_profiles, settings.peer_rounds, settings.peer_singles, log)


def _fairness(settings: ExperimentSettings, workdir: Path, log: Log) -> dict[str, Any]:
    return run_fairness(settings.fairness_shorts, log)


def _rtf(settings: ExperimentSettings, workdir: Path, log: Log) -> dict[str, Any]:
    return run_rtf("latency", log)


def _speed(settings: ExperimentSettings, workdir: Path, log: Log) -> dict[str, Any]:
    return run_speed(workdir, log)


def _formats(settings: ExperimentSettings, workdir: Path, log: Log) -> dict[str, Any]:
    return run_formats(settings.repeats, log)


def _jobs(settings: ExperimentSettings, workdir: Path, log: Log) -> dict[str, Any]:
    return run_jobs(settings.job_chars, timeout_s=settings.job_timeout_s, log=log)


def _language_id(settings: ExperimentSettings, workdir: Path, log: Log) -> dict[str, Any]:
    return run_language_id(log)


RUNNERS: dict[str, Callable[[ExperimentSettings, Path, Log], dict[str, Any]]] = {
    "batching": _batching,
    "threads": _threads,
    "normalization": _normalization,
    "nemo": _nemo,
    "formats": _formats,
    "batching-coqui": _batching_coqui,
    "xtts-stream": _xtts_stream,
    "peer": _peer,
    "fairness": _fairness,
    "rtf": _rtf,
    "speed": _speed,
    "jobs": _jobs,
    "coqui-concurrency": _coqui_concurrency,
    "language-id": _language_id,
}
EXPERIMENTS = tuple(RUNNERS)
DEFAULT_EXPERIMENTS = (
    "batching",
    "threads",
    "normalization",
    "nemo",
    "xtts-stream",
    "peer",
    "fairness",
    "rtf",
    "speed",
    "formats",
    "coqui-concurrency",
    "language-id",
)
"""Run by ``make bench``. On a quiet 2-core machine: batching + threads about 1.5 minutes; ``normalization``
synthesizes and transcribes 40 sentences twice, about a minute; ``nemo`` scores the normalizer on NeMo's
text-normalization test cases (en/de/fr/es, no audio: a second); ``xtts-stream`` builds a tiny XTTS v2 and times its
first streamed audio against the whole sentence, about 30 s; ``peer`` (Piper's own server vs ours, needs the bench
extra's piper-tts) about 2 minutes; ``fairness``, ``rtf`` and ``speed`` under a minute each; ``formats`` (time to
first audio per format vs pcm, encode cost vs wav) about a minute; ``language-id`` (the language identification
libraries on short sentences, those installed) about 20 s; ``coqui-concurrency`` (tiny and full-size VITS,
tiny XTTS, 8 requests at concurrency 1/2/4/8 each) about 6 minutes. ``batching-coqui`` builds and exports a full-size
Coqui VITS first (about 10 s) and takes 3-4 minutes, so it runs only when asked for, as does ``jobs`` (a
200,000-character job, about 3 h of audio, while one-sentence latency is probed: 20-25 minutes on 2 cores, limited
to an hour; ``--quick`` makes it 3,000 characters). Each can run alone:
``--models none --experiments peer``."""


def run_experiments(
    names: Sequence[str], settings: ExperimentSettings, workdir: Path, log: Log = lambda msg: None
) -> dict[str, Any]:
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
