"""Benchmark harness: raw engine vs the real server, latency, throughput, memory, and engine experiments.

Run with ``python -m bench`` (or ``make bench``). For each model it measures, in one run:

* the raw engine called in-process (loaded exactly as the server loads it, same thread count);
* the same text sent to a real ``python -m tts_predictor serve`` subprocess over HTTP (V2 REST, audio
  cache off), raw and server calls alternating one at a time so that outside load hits both alike;
* throughput through the server at several client concurrencies;
* the server process's peak resident memory.

Models: ``embedded`` (the packaged Piper voice, ONNX Runtime) and ``coqui-full`` (a full-size Coqui VITS
with random weights, built into a temporary directory: its speed is real, its speech is noise).
Experiments (``--experiments``) time bare ONNX Runtime sessions: ``batching`` (N sentences one by one vs
one padded batch), ``threads`` (intra-op threads x concurrent instances) and ``batching-coqui``;
``xtts-stream`` times a tiny XTTS v2's first streamed audio against the whole sentence (the ratio); the service
experiments run real servers: ``peer`` (Piper's own HTTP server vs ours), ``fairness`` (a short request behind
a 5,000-character one), ``rtf`` (service vs bare piper-tts, phonemizer cost) and ``speed`` (speed accuracy).
Things are measured one at a time, never two at once. Results go to ``<out>/bench.json`` and
``<out>/bench.png``; a compact table is printed.

Modules: `workload` (texts, counts), `models` (what is benched, how it is built), `runner` (raw / server /
transformer measurements), `rawvoice`, `batching`, `threads`, `xtts_stream`, `peer`, `fairness`, `phonemes`,
`speedtable`, `experiments` (the experiment registry), `stats`,
`machine`, `memory`, `report` (JSON + table), `plot` (PNG), `suite` (the whole run), `__main__` (CLI).
"""

from __future__ import annotations

from bench.experiments import DEFAULT_EXPERIMENTS, EXPERIMENTS, ExperimentSettings
from bench.models import DEFAULT_MODELS, MODELS
from bench.report import table
from bench.stats import summarize
from bench.suite import run_benchmark
from bench.workload import INPUTS

__all__ = [
    "DEFAULT_EXPERIMENTS",
    "DEFAULT_MODELS",
    "EXPERIMENTS",
    "INPUTS",
    "MODELS",
    "ExperimentSettings",
    "run_benchmark",
    "summarize",
    "table",
]
