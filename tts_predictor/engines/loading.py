"""The configured models as a voice pool: built, loaded progressively at start, served one by one, and the
on-demand hook that may add models to it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.engines.base import Engine, SynthesisRequest, Voice
from tts_predictor.engines.pool import VoicePool
from tts_predictor.engines.registry import fallback_engine, load_engine, model_specs, spec_name
from tts_predictor.settings import Settings

log = logging.getLogger(__name__)


def spec_resolver(settings: Settings) -> Callable[[str], str | None] | None:
    """The on-demand hook of the voice pool: maps a voice id no loaded or configured model has to a model spec that
    serves it, or None (a 400). The one place a catalogue of voices plugs in: Piper's (engines/piper_hub), whose
    voices download in the background on first request (`on_demand_spec`)."""
    from tts_predictor.engines.piper_hub import on_demand_spec

    return lambda voice_id: on_demand_spec(voice_id, settings)


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
        fallback=fallback_engine(settings),
    )


def load_first(pool: VoicePool) -> None:
    """Load, before the server is ready, the first member (the default voice's) and every member whose voices are
    only known by loading it (Coqui models, plugins: requests could not name their voices before)."""
    members = pool.members()
    for member in [members[0], *(m for m in members[1:] if not m.voices)]:
        pool.ensure_loaded(member, "start")


def load_rest_in_background(pool: VoicePool) -> threading.Thread:
    """Load the other members in a thread, in order, while they fit in TTS_MAX_MODELS and the memory budget."""

    def run() -> None:
        for member in pool.members()[1:]:
            if member.engine is not None or member.loads:
                continue  # loaded already (or loaded once and evicted since)
            if not pool.has_room(member):
                break
            try:
                pool.ensure_loaded(member, "start")
            except Exception as exc:
                log.error("model %s failed to load in the background: %s", member.name, exc)

    thread = threading.Thread(target=run, name="tts-pool-load", daemon=True)
    thread.start()
    return thread


class PoolMember:
    """One member of a pool served alone (the repository's `/v2/models/<name>`), loaded on use like in the pool."""

    def __init__(self, pool: VoicePool, name: str):
        self.pool, self.name = pool, name
        self.device = pool.device
        voices = self.voices()
        self.kind = voices[0].engine if voices else "coqui"  # only Coqui models are listed before their first load

    def voices(self) -> list[Voice]:
        """The member's own voices (ids as its engine names them)."""
        return list(self.pool.member(self.name).voices)

    def synthesize(self, request: SynthesisRequest) -> AudioBuffer:
        """Synthesize on the member's engine."""
        with self.pool.use(self.pool.member(self.name)) as engine:
            return engine.synthesize(request)

    def close(self) -> None:
        """Nothing: the pool owns the engine."""
