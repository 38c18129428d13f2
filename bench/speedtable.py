"""Experiment ``speed``: duration at `speed` s over the duration at 1.0, times s (1.00 = exact), per engine.

Engines: the embedded Piper voice, and a tiny random-weight Coqui VITS in PyTorch (seeded) and exported to
ONNX. ``raw`` is the engine's own length-scale response, ``corrected`` what the server returns (the measured
curve plus time-stretch of `engines/speed.py`). Same texts at every speed; noise as the engines ship it.
coqui-onnx draws the duration predictor's noise inside its graph, unseeded (±7 % per call on the tiny model),
so each of its points is the mean of `UNSEEDED_REPEATS` calls: the table shows the response, not one draw.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.workload import BATCH_SENTENCES
from tts_predictor.engines.base import SynthesisRequest
from tts_predictor.engines.speed import SpeedControl

SPEEDS = (0.25, 0.5, 0.75, 1.5, 2.0, 4.0)
TEXTS = BATCH_SENTENCES[4:7]
UNSEEDED_REPEATS = 6
Log = Callable[[str], None]


def _engines(workdir: Path) -> dict[str, Any]:
    from tts_predictor.engines.onnx.vits import OnnxVitsEngine, embedded_voice_paths

    engines: dict[str, Any] = {"piper-onnx": OnnxVitsEngine(*embedded_voice_paths(), device="cpu", threads=1)}
    try:
        from devtools.coqui_models import build_vits
        from tts_predictor.engines.coqui.engine import CoquiEngine
        from tts_predictor.engines.coqui.onnx_export import CoquiOnnxEngine
    except ImportError:
        return engines  # no coqui extra: Piper only
    model = build_vits(workdir / "speed-vits")
    os.environ.setdefault("TTS_CACHE_DIR", str(workdir / "onnx-cache"))
    engines["coqui-torch"] = CoquiEngine(model, device="cpu", threads=1)
    engines["coqui-onnx"] = CoquiOnnxEngine(model, device="cpu", threads=1)
    return engines


def _ratios(engine: Any, repeats: int) -> dict[str, dict[str, float]]:
    voice = engine.voices()[0]
    seed = 7 if "seed" in voice.capabilities else None
    control = SpeedControl(engine.synthesize, getattr(engine, "calibration_synthesize", None))

    def seconds(fn: Callable[[SynthesisRequest], Any], speed: float) -> float:
        calls = [fn(SynthesisRequest(t, voice, None, speed, seed)).duration_s for t in TEXTS for _ in range(repeats)]
        return sum(calls) / repeats

    base = seconds(engine.synthesize, 1.0)
    return {
        mode: {f"{s:g}": seconds(fn, s) / base * s for s in SPEEDS}
        for mode, fn in (("raw", engine.synthesize), ("corrected", control.synthesize))
    }


def run_speed(workdir: Path, log: Log = lambda msg: None) -> dict[str, Any]:
    """The table for every engine that can be built here."""
    results = {}
    for name, engine in _engines(workdir).items():
        log(f"[bench]   speed {name}")
        try:
            results[name] = _ratios(engine, UNSEEDED_REPEATS if name == "coqui-onnx" else 1)
        finally:
            engine.close()
    worst = max(abs(v - 1) for r in results.values() for s, v in r["corrected"].items() if 0.5 <= float(s) <= 2.0)
    out: dict[str, Any] = {"speeds": list(SPEEDS), "engines": results, "worst_error_0_5_to_2": worst}
    out["table"] = [
        f"speed: duration x speed / duration at 1.0 (1.00 exact); worst corrected error in 0.5-2.0: {worst:.1%}",
        f"{'engine':<12} {'mode':<10} " + " ".join(f"{s:>6g}" for s in SPEEDS),
    ]
    for name, r in results.items():
        for mode in ("raw", "corrected"):
            out["table"].append(f"{name:<12} {mode:<10} " + " ".join(f"{r[mode][f'{s:g}']:>6.2f}" for s in SPEEDS))
    return out
