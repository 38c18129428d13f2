"""Which models the benchmark runs, and how each is built and loaded in-process."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

MODELS = ("embedded", "coqui-full", "embedded-int8", "coqui-full-onnx", "coqui-full-int8")
MODEL_SETTINGS: dict[str, dict[str, str]] = {
    "embedded-int8": {"TTS_COMPUTE_TYPE": "int8"},
    "coqui-full-onnx": {"TTS_COQUI_BACKEND": "onnx"},
    "coqui-full-int8": {"TTS_COQUI_BACKEND": "onnx", "TTS_COMPUTE_TYPE": "int8"},
}
"""Engine settings per benchmark model, applied to the raw engine and the server alike."""
DEFAULT_MODELS = ("embedded", "coqui-full", "coqui-full-onnx")


def family(name: str) -> str:
    """``embedded`` or ``coqui-full``: the key of the per-family repeat and request defaults."""
    return "embedded" if name.startswith("embedded") else "coqui-full"


def prepare_model(name: str, workdir: Path) -> str:
    """The TTS_MODEL value for a benchmark model name (builds the random-weight Coqui model)."""
    if name.startswith("embedded"):
        return "embedded"
    if name.startswith("coqui-full"):
        from devtools.coqui_models import build_vits

        target = workdir / "coqui-full"  # built once, shared by the torch and ONNX variants
        return str(target if (target / "model.pth").is_file() else build_vits(target, size="full"))
    raise SystemExit(f"unknown benchmark model {name!r}; choose from {', '.join(MODELS)}")


def load_raw_engine(spec: str, extra: dict[str, str] | None = None) -> tuple[Any, Any, dict[str, Any]]:
    """Load the engine in-process exactly as the server does (same settings, same thread count)."""
    from tts_predictor.engines.registry import load_engine
    from tts_predictor.settings import load_settings

    overrides = {k.removeprefix("TTS_").lower(): v for k, v in (extra or {}).items()}
    settings = load_settings(model=spec, device="cpu", **overrides)
    start = time.perf_counter()
    engine = load_engine(settings)
    info = {"load_s": time.perf_counter() - start, "threads": settings.threads}
    return engine, engine.voices()[0], info
