"""Turn the `model` setting into a loaded engine."""

from __future__ import annotations

from pathlib import Path

from ..errors import ModelLoadError
from ..settings import EMBEDDED_MODEL, Settings
from .base import Engine


def describe_source(spec: str) -> tuple[str, str]:
    """Classify a model spec as (kind, location): kind is ``onnx`` or ``coqui``."""
    if spec == EMBEDDED_MODEL:
        return "onnx", EMBEDDED_MODEL
    if spec.startswith("coqui:"):
        return "coqui", spec.removeprefix("coqui:")
    if spec.startswith("onnx:"):
        return "onnx", spec.removeprefix("onnx:")
    path = Path(spec)
    if path.suffix == ".onnx":
        return "onnx", spec
    if path.is_dir():
        voices = sorted(path.glob("*.onnx"))
        if (path / "config.json").is_file():
            return "coqui", spec
        if voices:
            return "onnx", str(voices[0])
        raise ModelLoadError(f"{spec} holds neither a Coqui model (config.json) nor a Piper voice (*.onnx)")
    if "/" in spec and not spec.startswith(("/", ".")):
        return "coqui", spec  # a bare catalogue name like tts_models/en/vctk/vits
    raise ModelLoadError(
        f"model '{spec}' not found: use 'embedded', 'coqui:<catalogue name>', a model directory or a .onnx file"
    )


def load_engine(settings: Settings) -> Engine:
    """Load the engine the settings name (slow: reads weights)."""
    kind, location = describe_source(settings.model)
    if kind == "onnx":
        from .onnx_vits import OnnxVitsEngine, embedded_voice_paths

        if location == EMBEDDED_MODEL:
            model, config = embedded_voice_paths()
            return OnnxVitsEngine(model, config, device=settings.device, threads=settings.threads)
        return OnnxVitsEngine(Path(location), device=settings.device, threads=settings.threads)
    try:
        from .coqui import CoquiEngine
    except ImportError as exc:
        raise ModelLoadError(f"Coqui models need the 'coqui' extra (pip install 'tts-predictor[coqui]'): {exc}")
    return CoquiEngine(location, device=settings.device, threads=settings.threads)
