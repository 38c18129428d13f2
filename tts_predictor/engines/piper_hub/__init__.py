"""Piper's voice catalogue on demand: `TTS_MODEL=piper:<name>`, catalogue voice names, `voices pull`.

`fetch` downloads a voice into the model cache (`index` reads the catalogue, `download` places the files);
`catalogue_spec` and `available_voices` are what the serving side asks.
"""

from __future__ import annotations

import json
from typing import Any

from tts_predictor.engines.piper_hub.download import fetch, fetch_in_background, installed_names, installed_path
from tts_predictor.engines.piper_hub.index import NAME_SHAPE, SAFE_NAME, Unreachable, load_index
from tts_predictor.errors import EngineNotReady
from tts_predictor.settings import Settings

__all__ = [
    "PIPER_PREFIX",
    "available_voices",
    "catalogue_spec",
    "fetch",
    "fetch_in_background",
    "installed_path",
    "on_demand_spec",
]

PIPER_PREFIX = "piper:"
"""The model spec prefix of a catalogue voice: ``piper:en_GB-alan-medium``."""


def catalogue_spec(voice_id: str, settings: Settings) -> str | None:
    """``piper:<voice_id>`` when `voice_id` names a catalogue voice (installed, in the index, or, when the index
    cannot be read, shaped like Piper's ``<lang>_<REGION>-<name>-<quality>``), else None. May read the index
    over the network the first time (blocking; later calls use the in-process copy)."""
    if not SAFE_NAME.fullmatch(voice_id):
        return None
    if installed_path(voice_id, settings) is not None:
        return PIPER_PREFIX + voice_id
    try:
        known = voice_id in load_index(settings)
    except Unreachable:
        known = NAME_SHAPE.fullmatch(voice_id) is not None
    return PIPER_PREFIX + voice_id if known else None


def available_voices(settings: Settings) -> list[dict[str, Any]]:
    """The catalogue's voices (when it can be read) and the installed ones: id, language, quality,
    num_speakers, size_bytes, installed. Blocking (may read the index over the network)."""
    installed = set(installed_names(settings))
    try:
        entries = load_index(settings)
    except Unreachable:
        entries = {}
    listed = {key: {**entry.to_dict(), "installed": key in installed} for key, entry in entries.items()}
    for name in installed - set(listed):
        listed[name] = _installed_entry(name, settings)
    return [listed[key] for key in sorted(listed)]


def _installed_entry(name: str, settings: Settings) -> dict[str, Any]:
    """An installed voice the index does not list, described from its own config."""
    root = settings.piper_dir()
    try:
        config = json.loads((root / f"{name}.onnx.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = {}
    language = config.get("language") if isinstance(config, dict) else None
    code = language.get("code") if isinstance(language, dict) else None
    audio = config.get("audio") if isinstance(config, dict) else None
    speakers = config.get("num_speakers") if isinstance(config, dict) else None
    files = (root / f"{name}.onnx", root / f"{name}.onnx.json")
    return {
        "id": name,
        "language": code.replace("_", "-") if isinstance(code, str) else "und",
        "quality": str(audio.get("quality", "")) if isinstance(audio, dict) else "",
        "num_speakers": speakers if isinstance(speakers, int) else 1,
        "size_bytes": sum(f.stat().st_size for f in files if f.is_file()),
        "installed": True,
    }


def on_demand_spec(voice_id: str, settings: Settings) -> str | None:
    """The voice pool's resolver for a request naming a catalogue voice no model serves yet (never blocks on a
    download, since it runs on the event loop): an installed voice is served from its file at once; one not yet
    installed starts its download in the background and the request gets a 503 with Retry-After (the client
    retries; every request meanwhile joins the same download). Only Piper-shaped names
    (``<lang>_<REGION>-<name>-<quality>``) are looked up, so an unknown plain id stays a fast 400.

    Raises:
        EngineNotReady: the download runs (503, Retry-After).
        VoiceUnavailable: offline with the voice not cached, unknown to the catalogue, or its download failed.
    """
    if not NAME_SHAPE.fullmatch(voice_id) or catalogue_spec(voice_id, settings) is None:
        return None
    if (path := installed_path(voice_id, settings)) is not None:
        return str(path)
    fetch_in_background(voice_id, settings)
    raise EngineNotReady(voice_id, f"voice '{voice_id}' is being downloaded from Piper's catalogue; retry shortly")
