"""Experiment: N sentences as N sequential single-item calls vs one zero-padded batch call, on a bare session.

Answers whether grouping concurrent requests into one padded batch (a micro-batcher) would raise throughput.
Both variants use one session with the engine's thread count; they alternate (the order flips every repeat)
so that load from other processes hits both alike. Throughput counts each item's own audio (padding cut).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.rawvoice import RawRun, RawVoice
from bench.stats import median

Rows = Sequence[Sequence[int]]


@dataclass(frozen=True)
class Sample:
    """One timed run of a variant."""

    wall_s: float
    run: RawRun
    mean_done_s: float
    """Mean time from the start until an item's audio is ready (all N arrived at once)."""


def sequential(voice: RawVoice, session: Any, rows: Rows) -> Sample:
    """One call per row, one after the other."""
    start = time.perf_counter()
    runs, done = [], []
    for row in rows:
        runs.append(voice.run(session, [row]))
        done.append(time.perf_counter() - start)
    items = [n for r in runs for n in (r.item_samples or [])]
    return Sample(done[-1], RawRun(items, sum(r.output_samples for r in runs)), sum(done) / len(done))


def batched(voice: RawVoice, session: Any, rows: Rows) -> Sample:
    """All rows in one zero-padded call."""
    start = time.perf_counter()
    run = voice.run(session, rows)
    wall = time.perf_counter() - start
    return Sample(wall, run, wall)


VARIANTS: dict[str, Callable[[RawVoice, Any, Rows], Sample]] = {"sequential": sequential, "batched": batched}


def _variant_stats(samples: Sequence[Sample], rate: int) -> dict[str, Any]:
    def audio(s: Sample) -> float:  # each item's own audio; the whole output when the graph gives no lengths
        items = s.run.item_samples
        return (sum(items) if items is not None else s.run.output_samples) / rate

    throughputs = [audio(s) / s.wall_s for s in samples]
    return {
        "wall_ms": median([s.wall_s * 1e3 for s in samples]),
        "mean_item_latency_ms": median([s.mean_done_s * 1e3 for s in samples]),
        "audio_s": median([audio(s) for s in samples]),
        "padded_audio_s": median([s.run.output_samples / rate for s in samples]),
        "audio_s_per_s": median(throughputs),
        "audio_s_per_s_each": throughputs,
    }


def summarize_size(n: int, rows: Rows, seq: Sequence[Sample], bat: Sequence[Sample], rate: int) -> dict[str, Any]:
    """Medians per variant for one batch size, and the median of the per-repeat throughput ratios."""
    s, b = _variant_stats(seq, rate), _variant_stats(bat, rate)
    ratios = [tb / ts for tb, ts in zip(b["audio_s_per_s_each"], s["audio_s_per_s_each"])]
    return {
        "n": n,
        "ids_per_item": [len(r) for r in rows[:n]],
        "sequential": s,
        "batched": b,
        "ratio_batched_over_sequential": median(ratios),
        "ratio_each": ratios,
    }


def run_batching(
    voice: RawVoice, rows: Rows, batch_sizes: Sequence[int], repeats: int, log: Callable[[str], None] = lambda msg: None
) -> dict[str, Any]:
    """Sequential vs batched for each batch size; `rows` must hold at least max(batch_sizes) rows."""
    session = voice.session()
    log(f"[bench]   batching {voice.name}: sizes {list(batch_sizes)}, {repeats} repeats, {voice.threads} threads")
    for n in batch_sizes:  # warm-up, one of each
        for variant in VARIANTS.values():
            variant(voice, session, rows[:n])
    samples: dict[tuple[int, str], list[Sample]] = {(n, v): [] for n in batch_sizes for v in VARIANTS}
    for r in range(repeats):
        order = list(VARIANTS) if r % 2 == 0 else list(reversed(VARIANTS))
        for n in batch_sizes:
            for v in order:
                samples[(n, v)].append(VARIANTS[v](voice, session, rows[:n]))
    results = [
        summarize_size(n, rows, samples[(n, "sequential")], samples[(n, "batched")], voice.sample_rate)
        for n in batch_sizes
    ]
    return {
        "model": voice.name,
        "threads": voice.threads,
        "repeats": repeats,
        "batch_sizes": list(batch_sizes),
        "order": "per repeat and size: sequential then batched, order flipped every repeat; medians over repeats",
        "per_item_lengths": voice.lengths_note,
        "batched_audio": "per-item audio" if voice.lengths_output else "whole padded output",
        "results": results,
    }
