"""Experiment: intra-op threads x concurrent engine instances, one sentence per request, on bare sessions.

Each layout runs a round of `requests` calls drained by `workers` Python threads (ONNX Runtime releases the
GIL). ``separate``: one session per worker (engine instances); ``shared``: one session run by all workers at
once, which is what ``TTS_MAX_CONCURRENCY=workers`` does in the server. Layouts take turns round by round
(rotating who goes first) so that load from other processes hits all of them alike.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.rawvoice import RawVoice
from bench.stats import median


@dataclass(frozen=True)
class Layout:
    """How requests are run: threads per session, concurrent workers, sessions shared or not."""

    threads: int
    """intra_op_num_threads of each session."""
    workers: int
    """Requests in flight at once, each on its own Python thread."""
    shared: bool
    """True: all workers call one session; False: one session per worker."""

    @property
    def label(self) -> str:
        if self.workers == 1:
            return f"{self.threads} thr x 1 inst"
        return f"{self.threads} thr x {self.workers} " + ("callers/1 sess" if self.shared else "inst")


def layouts(threads: Sequence[int], instances: Sequence[int]) -> list[Layout]:
    """Every threads x instances pair (separate sessions), plus shared-session variants for instances > 1."""
    out = []
    for t in threads:
        for i in instances:
            out.append(Layout(t, i, shared=False))
            if i > 1:
                out.append(Layout(t, i, shared=True))
    return out


@dataclass(frozen=True)
class Round:
    """One round of a layout: wall time, per-call latencies (s) and total audio samples."""

    wall_s: float
    latencies_s: list[float]
    audio_samples: int


def run_round(voice: RawVoice, sessions: Sequence[Any], row: Sequence[int], requests: int) -> Round:
    """`requests` one-sentence calls drained by one Python thread per entry of `sessions`."""
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(requests):
        todo.put(i)
    latencies: list[float] = []
    samples: list[int] = []

    def worker(session: Any) -> None:
        while True:
            try:
                todo.get_nowait()
            except queue.Empty:
                return
            t0 = time.perf_counter()
            run = voice.run(session, [row])
            latencies.append(time.perf_counter() - t0)
            samples.append(run.output_samples)

    pool = [threading.Thread(target=worker, args=(s,)) for s in sessions]
    start = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return Round(time.perf_counter() - start, latencies, sum(samples))


def summarize_layout(layout: Layout, rounds: Sequence[Round], rate: int) -> dict[str, Any]:
    """Throughput (median over rounds) and latency percentiles (over all calls) of one layout."""
    latencies = np.asarray([x for r in rounds for x in r.latencies_s])
    audio_per_call = sum(r.audio_samples for r in rounds) / rate / max(latencies.size, 1)
    cores = os.cpu_count() or 1
    throughputs = [r.audio_samples / rate / r.wall_s for r in rounds]
    return {
        "label": layout.label,
        "threads": layout.threads,
        "instances": layout.workers,
        "sessions": 1 if layout.shared else layout.workers,
        "busy_threads": layout.threads * layout.workers,
        "oversubscribed": layout.threads * layout.workers > cores,
        "audio_s_per_s": median(throughputs),
        "audio_s_per_s_each": throughputs,
        "p50_ms": float(np.percentile(latencies, 50) * 1e3),
        "p95_ms": float(np.percentile(latencies, 95) * 1e3),
        "audio_s_per_call": audio_per_call,
        "rounds": len(rounds),
        "calls": int(latencies.size),
    }


def run_threads(
    voice: RawVoice,
    row: Sequence[int],
    threads: Sequence[int],
    instances: Sequence[int],
    requests: int,
    repeats: int,
    log: Callable[[str], None] = lambda msg: None,
) -> dict[str, Any]:
    """Throughput and latency per layout; sessions are made once per thread count and reused across layouts."""
    plan = layouts(threads, instances)
    pool = {t: [voice.session(t) for _ in range(max(instances))] for t in threads}

    def sessions(layout: Layout) -> list[Any]:
        mine = pool[layout.threads]
        return [mine[0]] * layout.workers if layout.shared else mine[: layout.workers]

    log(f"[bench]   threads {voice.name}: {len(plan)} layouts x {repeats} rounds of {requests} requests")
    for layout in plan:  # warm-up: one call per worker
        run_round(voice, sessions(layout), row, layout.workers)
    rounds: dict[Layout, list[Round]] = {layout: [] for layout in plan}
    for r in range(repeats):
        for layout in plan[r % len(plan) :] + plan[: r % len(plan)]:
            rounds[layout].append(run_round(voice, sessions(layout), row, max(requests, layout.workers)))
    return {
        "model": voice.name,
        "engine_threads": voice.threads,
        "cores": os.cpu_count(),
        "repeats": repeats,
        "requests_per_round": requests,
        "ids": len(row),
        "order": "layouts take turns round by round, the first layout rotating each repeat",
        "results": [summarize_layout(layout, rounds[layout], voice.sample_rate) for layout in plan],
    }
