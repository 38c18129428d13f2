"""TTSPredictor: the kserve.Model that loads an engine and answers V2 inference requests."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import kserve
from kserve.errors import InvalidInput
from kserve.protocol.infer_type import InferRequest, InferResponse

from .engines.base import Engine
from .engines.registry import load_all
from .errors import EngineNotReady
from . import metrics
from .audio.stream_encoder import use_backend
from .admission import AdmissionController
from .cache import make_cache
from .cloning import VoiceCloner, engines_by_name
from .content_filter import Blocklist
from .gateway import check_grpc_key
from .pipeline import LocalSynthesizer, ServiceContext, answer
from .prosody import EMOTIONS, STYLES
from .protocol import v2
from .settings import Settings
from .voices import VoiceCatalog

log = logging.getLogger(__name__)


class TTSPredictor(kserve.Model):
    """Text in, audio out, over the Open Inference Protocol (REST and gRPC)."""

    def __init__(self, settings: Settings, *, engine: Engine | None = None, shared_with: TTSPredictor | None = None):
        """A repository model passes its loaded `engine` and the main model it shares limits and cache with."""
        super().__init__(settings.model_name)
        self.settings = settings
        use_backend(settings.encoder_backend)  # this process's encoders (also in Ray Serve replicas)
        self.synth: LocalSynthesizer | None = None
        self.cloner: VoiceCloner | None = None
        self.ctx: ServiceContext | None = None
        self.load_seconds: float | None = None
        self.load_error: str | None = None
        self._engine = engine
        if shared_with is not None:
            self.admission, self.slots = shared_with.admission, shared_with.slots
            self.cache, self.blocklist = shared_with.cache, shared_with.blocklist
        else:
            self.admission = AdmissionController(settings.max_concurrency, settings.max_queue, settings.request_timeout_s)
            self.slots = asyncio.Semaphore(settings.max_concurrency)
            self.cache = make_cache(settings.cache_max_bytes, settings.redis_url)
            self.blocklist = Blocklist.from_file(settings.blocklist_file) if settings.blocklist_file else None
        self.api_keys = settings.api_key_set()
        self._swap = threading.Lock()

    def load(self) -> bool:
        """Load the engine (unless given) and run a warm-up synthesis; ready only after both."""
        started = time.perf_counter()
        engine = self._engine or load_all(self.settings)
        self.use_engine(engine)
        if self.settings.warmup:
            self.synth.warm_up()
        self.load_seconds = time.perf_counter() - started
        metrics.MODEL_LOAD_SECONDS.labels(self.name).set(self.load_seconds)
        metrics.MODEL_READY.labels(self.name).set(1)
        log.info(
            "model %s loaded (%s on %s, %d voices) in %.1f s",
            self.name, engine.kind, engine.device, len(self.synth.catalog.voices), self.load_seconds,
        )
        self.ready = True
        return self.ready

    def use_engine(self, engine: Engine) -> None:
        """Serve `engine` from now on: catalogue (stored cloned voices restored), synthesizer, service context.

        Requests already running keep the previous synthesizer; all share one set of engine slots.
        """
        with self._swap:
            default = self.settings.default_voice
            voices = engine.voices()
            catalog = VoiceCatalog(voices, default if default in {v.id for v in voices} else None)
            cloner = VoiceCloner(engine, catalog, self.settings)
            cloner.restore()
            synth = LocalSynthesizer(engine, catalog, model_label=self.name, slots=self.slots)
            self.synth, self.cloner = synth, cloner
            self.ctx = ServiceContext(
                synth, self.name, self.settings, lambda p: synth.catalog.resolve(p.voice, p.language)[1],
                self.cache, self.blocklist, cloner,
            )

    async def predict(
        self, payload: InferRequest | dict[str, Any], headers: dict[str, str] | None = None
    ) -> InferResponse:
        """Synthesize every text of a V2 request."""
        if self.ctx is None:
            raise EngineNotReady(self.name, self.load_error or "the model is still loading")
        if not isinstance(payload, InferRequest):
            raise InvalidInput("this model speaks the V2 protocol: POST /v2/models/<name>/infer")
        check_grpc_key(payload.from_grpc, headers, self.api_keys)
        return await self.admission.run(answer(payload, headers, self.ctx))

    def load_in_background(self, then: Callable[[], None] | None = None) -> threading.Thread:
        """Load in a thread so the server answers probes meanwhile (live, not ready; the reason in /health).

        `then` runs after a successful load (the repository registers the loaded models by name).
        """
        def run() -> None:
            try:
                self.load()
                if then is not None:
                    then()
            except Exception as exc:  # any load failure: stay live, not ready, say why
                self.load_error = f"{type(exc).__name__}: {exc}"
                log.error("model %s failed to load: %s", self.name, self.load_error)

        thread = threading.Thread(target=run, name="tts-model-load", daemon=True)
        thread.start()
        return thread

    def status(self) -> dict[str, Any]:
        """Model state for /health."""
        engine = self.synth.engine if self.synth else None
        return {
            "model": self.name,
            "source": self.settings.model,
            "ready": self.ready,
            "load_error": self.load_error,
            "load_seconds": self.load_seconds,
            "engine": getattr(engine, "kind", None),
            "device": getattr(engine, "device", None),
            "voices": len(self.synth.catalog.voices) if self.synth else 0,
            "models": list(engines_by_name(engine)) if engine is not None else [],
            "in_flight": self.admission.running,
            "queued": self.admission.queued,
        }

    def voices_listing(self) -> dict[str, Any]:
        """Voices and languages, for GET /v2/models/<name>/voices."""
        if self.synth is None:
            raise EngineNotReady(self.name)
        catalog = self.synth.catalog
        return {
            "model": self.name,
            "engine": self.synth.engine.kind,
            "default_voice": catalog.default.id,
            "languages": catalog.languages(),
            "voices": [v.to_dict() for v in catalog.voices],
            "emotions": list(EMOTIONS),
            "styles": list(STYLES),
        }

    def get_input_types(self) -> list[dict[str, Any]]:
        """V2 metadata: BYTES input `text` [N], optional per-text `voice`, `language`, `speed`, `speaker_wav` [1]."""
        return [{"name": v2.TEXT_INPUT, "datatype": "BYTES", "shape": [-1]}] + [
            {"name": name, "datatype": dtype, "shape": [-1]} for name, dtype in v2.ITEM_INPUTS.items()
        ] + [{"name": v2.SAMPLE_INPUT, "datatype": "BYTES", "shape": [1]}]

    def get_output_types(self) -> list[dict[str, Any]]:
        """V2 metadata: audio files, rates and durations; timings and marks (JSON) when asked."""
        types = {"audio": "BYTES", "sample_rate": "INT32", "duration_s": "FP32", "timings": "BYTES", "marks": "BYTES"}
        return [{"name": name, "datatype": types[name], "shape": [-1]} for name in v2.OUTPUT_NAMES]
