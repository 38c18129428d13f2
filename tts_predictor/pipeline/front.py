"""What the routes and the job worker need from the model they serve: `TTSPredictor`, or `RayFront` in Ray mode.

KServe types the same boundary as its DataPlane; here it is a structural protocol, so a front needs no base class.
"""

from __future__ import annotations

from typing import Any, Protocol

from tts_predictor.audio.output import OutputConfig
from tts_predictor.pipeline.admission import AdmissionController
from tts_predictor.pipeline.audio_cache import AudioCache
from tts_predictor.settings import Settings
from tts_predictor.voices.cloning import VoiceCloner


class Front(Protocol):
    """The served model as the routes see it."""

    name: str
    """The model name (V2 routes, metrics)."""
    settings: Settings
    ready: bool
    """Loaded and warm: inference may start."""
    admission: AdmissionController
    """Request-level admission (429 when full)."""
    output: OutputConfig
    """What every output carries (beds, tags, watermark, credentials)."""
    synth: Any
    """Where segments are synthesized (`LocalSynthesizer`, `RaySynthesizer`); None until the model is loaded."""
    cloner: VoiceCloner | None
    """Voice cloning from samples, where the engine can (None: not offered)."""
    cache: AudioCache | None
    """The audio cache, if configured."""
    api_keys: frozenset[str]
    """Configured API keys (the cache and voices are partitioned per key)."""

    def voices_listing(self) -> dict[str, Any]:
        """The voices of the model, as `GET /v1/voices` lists them."""
        ...

    def status(self) -> dict[str, Any]:
        """The model's load state and counters, as `GET /status` shows them."""
        ...
