"""The benchmark's PNG: real-time factor per model and path, and server latency vs client concurrency."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bench.workload import INPUTS, THROUGHPUT_INPUT


def _rtf_bars(ax: Any, results: dict[str, Any], models: list[str]) -> None:
    bars = [(inp, path_) for inp in INPUTS for path_ in ("raw", "server")]
    width = 0.8 / len(bars)
    x = np.arange(len(models))
    for i, (inp, path_) in enumerate(bars):
        values = [results["models"][m][path_][inp]["rtf"] for m in models]
        ax.bar(x + (i - (len(bars) - 1) / 2) * width, values, width, label=f"{path_} / {inp}")
    ax.set_xticks(x, models)
    ax.set_ylabel("real-time factor (wall / audio s), lower is better")
    ax.set_title("RTF: raw engine vs server")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)


def _latency_lines(ax: Any, results: dict[str, Any], models: list[str]) -> None:
    for m in models:
        sweep = results["models"][m]["server"]["concurrency"]
        conc = [s["concurrency"] for s in sweep]
        ax.plot(conc, [s["p50_ms"] for s in sweep], marker="o", label=f"{m} p50")
        ax.plot(conc, [s["p95_ms"] for s in sweep], marker="x", linestyle="--", label=f"{m} p95")
    ax.set_xscale("log", base=2)
    all_conc = sorted({s["concurrency"] for m in models for s in results["models"][m]["server"]["concurrency"]})
    ax.set_xticks(all_conc, [str(c) for c in all_conc])
    ax.minorticks_off()
    ax.set_yscale("log")
    ax.set_xlabel("client concurrency")
    ax.set_ylabel(f"latency per request (ms), {THROUGHPUT_INPUT}")
    ax.set_title("Server latency vs concurrency")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")


def plot(results: dict[str, Any], path: Path) -> None:
    """Left: RTF per model/path/input; right: p50 latency (and throughput) vs concurrency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(results["models"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    _rtf_bars(left, results, models)
    _latency_lines(right, results, models)
    machine = results["machine"]
    fig.suptitle(
        f"tts-predictor bench: {machine['cpu_model']}, {machine['cores']} cores, {machine['date']}", fontsize=9
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
