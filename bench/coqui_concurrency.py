"""Coqui PyTorch engines under concurrent calls: throughput and latency at concurrency 1/2/4/8 on one model.

Each level sends the same requests (one short sentence each) through `CoquiEngine.synthesize` from that many
threads, so the levels do equal work and differ only in how many calls share the model (and the cores) at once.
Random weights have the real compute cost of their architecture: `full` VITS is Coqui's stock VITS; `full` XTTS
is XTTS v2's GPT (30 layers, 1024 wide) with its audio tokens capped (random weights never stop on their own).
What it shows is the scaling shape on this machine's CPU, not absolute speed.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

TEXT = "The quick brown fox jumps over the lazy dog."
REQUESTS = 8
"""Requests per concurrency level (the same at every level)."""
XTTS_AUDIO_TOKENS = 20
"""GPT audio tokens per sentence (~0.9 s of audio): random weights run to this cap."""
XTTS_FULL_ARGS = {"gpt_layers": 30, "gpt_n_model_channels": 1024, "gpt_n_heads": 16, "decoder_input_dim": 1024}
"""XTTS v2's released GPT sizes (its config.json), over the tiny builder's."""
MODELS = ("vits-tiny", "vits-full", "xtts-tiny", "xtts-full")


def _build(name: str, workdir: Path) -> Path:
    from devtools.coqui_models import build_vits
    from devtools.coqui_xtts import build_xtts

    family, size = name.split("-")
    if family == "vits":
        return build_vits(workdir / name, size=size)
    extra = XTTS_FULL_ARGS if size == "full" else {}
    return build_xtts(workdir / name, gpt_max_audio_tokens=XTTS_AUDIO_TOKENS, **extra)


def _level(engine: Any, request: Any, concurrency: int) -> dict[str, Any]:
    """REQUESTS calls from `concurrency` threads: wall time, requests per second, per-call latency."""

    def call(_: int) -> float:
        start = time.perf_counter()
        engine.synthesize(request)
        return time.perf_counter() - start

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(call, range(REQUESTS)))
    wall = time.perf_counter() - start
    return {
        "concurrency": concurrency,
        "requests": REQUESTS,
        "wall_s": round(wall, 3),
        "requests_per_s": round(REQUESTS / wall, 4),
        "latency_p50_s": round(statistics.median(latencies), 3),
        "latency_max_s": round(max(latencies), 3),
    }


def run_model(name: str, levels: Sequence[int], threads: int, workdir: Path, log: Callable[[str], None]) -> dict:
    """Build and load one model (CPU, `threads` intra-op threads, room for the largest level), then time each
    level; `c4_vs_c1`: throughput at concurrency 4 over concurrency 1."""
    from tts_predictor.engines.base import SynthesisRequest
    from tts_predictor.engines.coqui.engine import CoquiEngine

    start = time.perf_counter()
    engine = CoquiEngine(_build(name, workdir), device="cpu", threads=threads, concurrency=max(levels))
    prepare_s = time.perf_counter() - start
    request = SynthesisRequest(TEXT, engine.voices()[0], "en")
    engine.synthesize(request)  # warm-up
    rows = []
    for level in levels:
        rows.append(_level(engine, request, level))
        log(f"[bench] coqui-concurrency {name} c{level}: {rows[-1]['requests_per_s']} req/s")
    engine.close()
    by_level = {row["concurrency"]: row["requests_per_s"] for row in rows}
    ratio = round(by_level[4] / by_level[1], 3) if 1 in by_level and 4 in by_level else None
    return {"prepare_s": round(prepare_s, 1), "levels": rows, "c4_vs_c1": ratio}


def run_coqui_concurrency(
    models: Sequence[str], levels: Sequence[int], threads: int, workdir: Path, log: Callable[[str], None]
) -> dict[str, Any]:
    """Every named model (`MODELS`) at every level, on CPU."""
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        raise ValueError(f"unknown Coqui bench model(s) {unknown}; choose from {', '.join(MODELS)}")
    results = {name: run_model(name, levels, threads, workdir, log) for name in models}
    return {"device": "cpu", "text": TEXT, "threads": threads, "models": results}


def concurrency_table(result: dict[str, Any]) -> list[str]:
    """Markdown rows: model, level, requests/s, p50 and max latency."""
    lines = ["| model | concurrency | requests/s | p50 latency s | max latency s |", "|---|---:|---:|---:|---:|"]
    for name, model in result["models"].items():
        for row in model["levels"]:
            lines.append(
                f"| {name} | {row['concurrency']} | {row['requests_per_s']} | {row['latency_p50_s']} | "
                f"{row['latency_max_s']} |"
            )
    return lines
