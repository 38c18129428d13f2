"""Turn the `model` setting into a loaded engine."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from tts_predictor.engines.base import Engine
from tts_predictor.errors import ModelLoadError
from tts_predictor.settings import EMBEDDED_MODEL, Settings

log = logging.getLogger(__name__)
EngineFactory = Callable[[str, Settings], Engine]
"""Makes a plugin's engine from the part of the model spec after ``<name>:`` (maybe empty) and the settings."""
PLUGIN_ENGINES: dict[str, EngineFactory] = {}
"""Engines added by plugins (entry point group ``tts_predictor.engines``, registered at start by
`tts_predictor.plugins`), by name: ``TTS_MODEL=<name>`` or ``<name>:<argument>`` selects one."""


def register_engine(name: str, factory: EngineFactory) -> None:
    """Make `name` (and ``name:<argument>``) a model spec that `factory` loads; raises on a taken name."""
    if name in PLUGIN_ENGINES or name in ("embedded", "coqui", "onnx", "plugin"):
        raise ValueError(f"engine name '{name}' is already taken")
    PLUGIN_ENGINES[name] = factory


def _plugin_spec(spec: str) -> tuple[str, str] | None:
    """(plugin name, argument) when `spec` names a plugin's engine, else None."""
    name, _, argument = spec.partition(":")
    return (name, argument) if name in PLUGIN_ENGINES else None


def describe_source(spec: str) -> tuple[str, str]:
    """Classify a model spec as (kind, location): kind is ``onnx``, ``coqui`` or ``plugin:<name>`` (the location
    is then the argument after ``<name>:``)."""
    if (plugin := _plugin_spec(spec)) is not None:
        return f"plugin:{plugin[0]}", plugin[1]
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


def _busy_threads(settings: Settings) -> int | None:
    """With several engine slots, a call that starts while another runs uses a 1-thread session (ONNX engines)."""
    return 1 if settings.max_concurrency > 1 and settings.threads > 1 else None


def load_engine(settings: Settings) -> Engine:
    """Load the engine the settings name (slow: reads weights); with TTS_VC_MODEL, one that cannot clone by
    itself clones through voice conversion; a model far slower than real time says so in its voices."""
    engine = _load_model(settings)
    if settings.vc_model and not getattr(engine, "can_clone", False):
        from tts_predictor.engines.converted import VoiceConvertedEngine
        from tts_predictor.engines.coqui.vc import shared_converter

        converter = shared_converter(settings.vc_model, device=settings.device, catalogue=settings.coqui_catalogue)
        engine = VoiceConvertedEngine(engine, converter)
    from tts_predictor.engines.slow import SlowVoices, is_slow

    return SlowVoices(engine) if is_slow(engine, settings.slow_models) else engine


def _load_model(settings: Settings) -> Engine:
    kind, location = describe_source(settings.model)
    valid = (
        "valid: compute_type=float32 with any engine; int8 with a Piper/ONNX voice or TTS_COQUI_BACKEND=onnx; "
        "float16 with TTS_COQUI_BACKEND=onnx on a CUDA device"
    )
    if settings.compute_type == "int8" and kind == "coqui" and settings.coqui_backend == "torch":
        raise ModelLoadError(f"compute_type=int8 needs TTS_COQUI_BACKEND=onnx for Coqui models ({valid})")
    if settings.compute_type == "float16" and (kind == "onnx" or settings.coqui_backend == "torch"):
        raise ModelLoadError(f"compute_type=float16 is not supported for this engine ({valid})")
    if settings.compute_type == "float16" and settings.device == "cpu":
        raise ModelLoadError(f"compute_type=float16 needs a CUDA device, not device=cpu ({valid})")
    if kind.startswith("plugin:"):
        return _load_plugin(kind.removeprefix("plugin:"), location, settings)
    if kind == "onnx":
        from tts_predictor.engines.onnx.vits import OnnxVitsEngine, embedded_voice_paths

        model, config = embedded_voice_paths() if location == EMBEDDED_MODEL else (Path(location), None)
        config = config or Path(f"{model}.json")
        if settings.compute_type == "int8":
            from tts_predictor.engines.onnx.graphs import quantized_copy
            from tts_predictor.engines.onnx.vits import calibration_feeds

            # same file name, so the same voice ids
            model = quantized_copy(Path(model), lambda: calibration_feeds(Path(config)), settings.graph_dir())
        return OnnxVitsEngine(
            model,
            config,
            device=settings.device,
            threads=settings.threads,
            busy_threads=_busy_threads(settings),
            cache=settings.graph_dir(),
        )
    try:
        from tts_predictor.engines.coqui.engine import CoquiEngine
    except ImportError as exc:
        raise ModelLoadError(
            f"Coqui models need the 'coqui' extra (pip install 'tts-predictor[coqui]'): {exc}"
        ) from exc
    if settings.coqui_backend == "onnx":
        from tts_predictor.engines.coqui.onnx_export import CoquiOnnxEngine

        return CoquiOnnxEngine(
            location,
            device=settings.device,
            threads=settings.threads,
            compute_type=settings.compute_type,
            busy_threads=_busy_threads(settings),
            cache=settings.graph_dir(),
        )
    return CoquiEngine(
        location,
        device=settings.device,
        threads=settings.threads,
        vocoder=settings.vocoder,
        catalogue=settings.coqui_catalogue,
        bark_max_seconds=settings.bark_max_seconds,
        concurrency=settings.coqui_concurrency or settings.max_concurrency,
    )


def _load_plugin(name: str, argument: str, settings: Settings) -> Engine:
    """A plugin's engine; whatever its factory raises becomes a ModelLoadError naming the plugin."""
    try:
        engine = PLUGIN_ENGINES[name](argument, settings)
    except ModelLoadError:
        raise
    except Exception as exc:
        raise ModelLoadError(f"plugin engine '{name}' failed to load: {type(exc).__name__}: {exc}") from exc
    if not isinstance(engine, Engine):
        raise ModelLoadError(f"plugin engine '{name}' returned {type(engine).__name__}, not an Engine")
    return engine


def _setting_specs(settings: Settings) -> list[str]:
    """The comma-separated `model` setting as a list."""
    return [s.strip() for s in settings.model.split(",") if s.strip()]


def _voices_dir_specs(settings: Settings) -> list[str]:
    if not settings.voices_dir:
        return []
    root = Path(settings.voices_dir)
    if not root.is_dir():
        raise ModelLoadError(f"TTS_VOICES_DIR {root} is not a directory")
    specs = [str(p) for p in sorted(root.glob("*.onnx"))]
    return specs + [str(p) for p in sorted(root.iterdir()) if p.is_dir() and (p / "config.json").is_file()]


def model_specs(settings: Settings) -> list[str]:
    """The models to load at start: the comma-separated `model` setting, then (unless `load_voices_dir` is off)
    every model found in `voices_dir`."""
    specs = _setting_specs(settings)
    if settings.load_voices_dir:
        specs += _voices_dir_specs(settings)
    if len(specs) > settings.max_models:
        raise ModelLoadError(f"{len(specs)} models configured; the limit is {settings.max_models} (TTS_MAX_MODELS)")
    return specs


def spec_name(spec: str) -> str:
    """The name a model spec is served under: its engine's name (voice file stem, directory or catalogue name)."""
    kind, location = describe_source(spec)
    if kind.startswith("plugin:"):
        return kind.removeprefix("plugin:")
    if location == EMBEDDED_MODEL:
        from tts_predictor.engines.onnx.vits import embedded_voice_paths

        return embedded_voice_paths()[0].name.removesuffix(".onnx")
    if kind == "onnx":
        return Path(location).name.removesuffix(".onnx")  # as OnnxVitsEngine names itself
    from tts_predictor.engines.coqui.files import model_name

    return model_name(location)


def available_specs(settings: Settings) -> dict[str, str]:
    """Every model this process may load (the `model` setting and all of `voices_dir`), by name."""
    specs = _setting_specs(settings) + _voices_dir_specs(settings)
    return {spec_name(spec): spec for spec in specs}


def load_all(settings: Settings) -> Engine:
    """One engine per model spec, and the fallback voices (TTS_FALLBACK_VOICES) after them; several are served
    together by a CompositeEngine."""
    specs = model_specs(settings)
    engines = [load_engine(settings.model_copy(update={"model": spec})) for spec in specs]
    return combine(engines, fallback_engine(settings))


def fallback_engine(settings: Settings) -> Engine | None:
    """The formant voices of every language espeak-ng knows (TTS_FALLBACK_VOICES=espeak), or None (off, or
    espeak-ng is not installed: logged, the configured voices are served alone)."""
    if settings.fallback_voices == "off":
        return None
    from tts_predictor.engines.formant import FormantEngine

    try:
        return FormantEngine()
    except ModelLoadError as exc:
        log.warning("no fallback voices (TTS_FALLBACK_VOICES=%s): %s", settings.fallback_voices, exc)
        return None


def combine(engines: list[Engine], fallback: Engine | None) -> Engine:
    """One engine serving `engines` in order, then `fallback`'s voices (the only engine when it is alone)."""
    from tts_predictor.engines.composite import CompositeEngine

    if len(engines) == 1 and fallback is None:
        return engines[0]
    return CompositeEngine(engines, fallback)
