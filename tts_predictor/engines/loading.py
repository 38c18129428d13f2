"""Start-up: the configured models as a voice pool, and the on-demand hook that may add models to it."""

from __future__ import annotations

import time
from collections.abc import Callable

from tts_predictor.engines.base import Engine
from tts_predictor.engines.pool import VoicePool
from tts_predictor.engines.registry import load_engine, model_specs, spec_name
from tts_predictor.settings import Settings


def spec_resolver(settings: Settings) -> Callable[[str], str | None] | None:
    """The on-demand hook of the voice pool: maps a voice id no loaded or configured model has to a model spec that
    serves it, or None. None here: unknown voices are 400s. (The one place to plug in a catalogue of voices.)"""
    return None


def _pool_loader(settings: Settings) -> Callable[[str], Engine]:
    """Loads one pool member from its spec with the process's settings (and the slow-load test hook)."""
    slow = dict(
        (name.strip(), float(seconds))
        for name, _, seconds in (item.partition("=") for item in settings.test_slow_model_load.split(","))
        if name.strip()
    )

    def load(spec: str) -> Engine:
        if delay := slow.get(spec_name(spec)):
            time.sleep(delay)
        return load_engine(settings.model_copy(update={"model": spec}))

    return load


def load_all(settings: Settings, resolver: Callable[[str], str | None] | None = None) -> VoicePool:
    """A voice pool of every model spec, nothing loaded yet: members load on use (`VoicePool.load_first` and
    `load_rest_in_background` load them at start), at most TTS_MAX_MODELS / TTS_MODELS_MEMORY_MB at once."""
    return VoicePool(
        model_specs(settings),
        _pool_loader(settings),
        spec_name,
        max_models=settings.max_models,
        memory_bytes=settings.models_memory_mb * 2**20,
        wait_s=settings.request_timeout_s,
        resolver=resolver if resolver is not None else spec_resolver(settings),
    )
