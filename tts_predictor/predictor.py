"""TTSPredictor: the kserve.Model that loads an engine and answers V2 inference requests."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import kserve
from kserve.errors import InvalidInput
from kserve.protocol.infer_type import InferRequest, InferResponse

from tts_predictor import budget, metrics
from tts_predictor.audio.codecs.stream import use_backend
from tts_predictor.audio.output import OutputConfig
from tts_predictor.auth import key_from, set_caller
from tts_predictor.engines.base import Engine
from tts_predictor.engines.loading import load_all, load_first, load_rest_in_background
from tts_predictor.engines.pool import VoicePool
from tts_predictor.engines.retry import model_init_async, retry_load
from tts_predictor.engines.slow import slow_request
from tts_predictor.errors import EngineNotReady
from tts_predictor.pipeline.admission import AdmissionController
from tts_predictor.pipeline.audio_cache import AudioCache, make_cache, voice_identity
from tts_predictor.pipeline.stages import Batch, LocalSynthesizer, ServiceContext, finish, prepare, speak
from tts_predictor.pipeline.voice_choice import detection_identity
from tts_predictor.protocol import v2
from tts_predictor.schemas import EMOTIONS, STYLES
from tts_predictor.settings import Settings
from tts_predictor.synthesis.scheduler import FairScheduler
from tts_predictor.text import language_id, normalize, pls
from tts_predictor.text.blocklist import Blocklist
from tts_predictor.voices.access import VoiceAccess
from tts_predictor.voices.catalog import VoiceCatalog
from tts_predictor.voices.cloning import VoiceCloner, engines_by_name

log = logging.getLogger(__name__)


class TTSPredictor(kserve.Model):
    """Text in, audio out, over the Open Inference Protocol (REST and gRPC)."""

    output: OutputConfig
    admission: AdmissionController
    slots: FairScheduler
    cache: AudioCache | None
    blocklist: Blocklist | None

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
            self.output = shared_with.output
            self.admission, self.slots = shared_with.admission, shared_with.slots
            self.cache, self.blocklist = shared_with.cache, shared_with.blocklist
        else:
            self.output = OutputConfig.from_settings(settings)  # a bad watermark model or C2PA key fails at start
            self.admission = AdmissionController(
                max(settings.max_active_requests, settings.max_concurrency),
                settings.max_queue,
                settings.request_timeout_s,
                settings.max_slow_requests,
            )
            self.slots = FairScheduler(settings.max_concurrency)  # sentence-level turns between admitted requests
            self.cache = make_cache(settings.cache_max_bytes, settings.redis_url)
            self.blocklist = Blocklist.from_file(settings.blocklist_file) if settings.blocklist_file else None
            pls.configure(settings.lexicons)
        self.api_keys = settings.api_key_set()
        self._swap = threading.Lock()
        self._loading = threading.Lock()

    def load(self) -> bool:
        """Load once; never block while a load runs elsewhere.

        kserve's DataPlane.get_model calls `model.load()` on the event loop for every request to a model that is
        not ready (kserve/protocol/dataplane.py get_model). So while the background load runs, or after it
        failed, this raises EngineNotReady at once (gRPC UNAVAILABLE, REST 503) instead of loading again.
        """
        if self.ready:
            return True
        if self.load_error is not None:
            raise EngineNotReady(self.name, f"the model failed to load: {self.load_error}")
        if not self._loading.acquire(blocking=False):
            raise EngineNotReady(self.name, "the model is still loading")
        try:
            return self._load()
        finally:
            self._loading.release()

    def _load(self) -> bool:
        """Load the engine (unless given) and run a warm-up synthesis; ready only after both."""
        started = time.perf_counter()
        if self._engine is None and self.settings.test_slow_load_s:
            log.warning("TTS_TEST_SLOW_LOAD_S=%s: delaying the model load (test hook)", self.settings.test_slow_load_s)
            time.sleep(self.settings.test_slow_load_s)
        engine = self._engine or load_all(self.settings)
        if isinstance(engine, VoicePool):
            load_first(engine)  # the default voice's model; the others load in the background once ready
        self.use_engine(engine)
        assert self.synth is not None
        if self.settings.warmup:
            self.synth.warm_up()
        if isinstance(engine, VoicePool):
            engine.listen(lambda: self.use_engine(engine))  # voices of models added or first loaded
            load_rest_in_background(engine)
        self.load_seconds = time.perf_counter() - started
        metrics.MODEL_LOAD_SECONDS.labels(self.name).set(self.load_seconds)
        metrics.MODEL_READY.labels(self.name).set(1)
        log.info(
            "model %s loaded (%s on %s, %d voices) in %.1f s",
            self.name,
            engine.kind,
            engine.device,
            len(self.synth.catalog.voices),
            self.load_seconds,
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
            catalog.access = VoiceAccess.from_keys(self.api_keys, self.settings.admin_key_set())
            if isinstance(engine, VoicePool):
                catalog.on_unknown = engine.discover  # unknown voice ids: the pool's resolver may add a model
            catalog.detect_language = self.settings.detect_language
            catalog.detect_among = tuple(c.strip() for c in self.settings.detect_candidates.split(",") if c.strip())
            cloner = VoiceCloner(engine, catalog, self.settings)
            cloner.restore()
            synth = LocalSynthesizer(
                engine,
                catalog,
                model_label=self.name,
                slots=self.slots,
                blocklist=self.blocklist,
                max_audio_s=self.settings.max_audio_seconds,
            )
            pls.LEXICONS.espeak_phonemes = engine.kind == "onnx"  # Piper voices phonemize with espeak-ng
            normalize.warm(catalog.languages(neural_only=True))  # the 100+ fallback languages warm lazily
            if self.settings.detect_language and len(catalog.languages()) > 1:
                language_id.warm()  # requests without a language detect it per sentence
            self.synth, self.cloner = synth, cloner
            self.ctx = ServiceContext(
                synth,
                self.name,
                self.settings,
                lambda p: synth.catalog.resolve(p.voice, p.language, p.gender)[1],
                self.cache,
                self.blocklist,
                cloner,
                voice_identity=lambda p: (
                    voice_identity(synth.catalog.resolve(p.voice, p.language, p.gender)[0])
                    + detection_identity(p, synth.catalog)
                ),
                api_keys=self.api_keys,
                admission=self.admission,
                output=self.output,
            )

    # kserve times each stage (request_preprocess/predict/postprocess_seconds) and logs the three latencies.

    async def preprocess(self, payload: InferRequest | dict[str, Any], headers: dict[str, str] | None = None) -> Batch:
        """V2 request -> validated synthesis jobs: parameters, content filter, cache lookup, SSML plan, normalization."""
        if self.ctx is None:
            raise EngineNotReady(self.name, self.load_error or "the model is still loading")
        if not isinstance(payload, InferRequest):
            raise InvalidInput("this model speaks the V2 protocol: POST /v2/models/<name>/infer")
        if payload.from_grpc:  # REST requests got their caller and budget from the gateway
            meta = {k.lower(): v for k, v in (headers or {}).items()}
            set_caller(key_from(meta.get("authorization"), meta.get("x-api-key")) if self.api_keys else None)
            budget.start(self.settings)
        return await prepare(payload, headers, self.ctx)

    def validate(self, payload: Any) -> Any:
        """kserve validates what preprocess returns as a request; a Batch is already validated."""
        return payload if isinstance(payload, Batch) else super().validate(payload)

    async def predict(self, payload: Batch, headers: dict[str, str] | None = None) -> Batch:
        """The engine: speak every job, within the admission limits (queue, 429, deadline, slow voices)."""
        catalog = self.synth.catalog if self.synth is not None else None
        slow = catalog is not None and any(slow_request(catalog, j.params.voice, j.language) for j in payload.jobs)
        return await self.admission.run(speak(payload), slow=slow)

    async def postprocess(self, result: Batch, headers: dict[str, str] | None = None) -> InferResponse:
        """Assemble, DSP, encode, cache; the V2 response."""
        return await finish(result)

    def load_in_background(self, then: Callable[[], None] | None = None) -> threading.Thread:
        """Load in a thread so the server answers probes meanwhile (live, not ready; the reason in /health).

        `then` runs after a successful load (the repository registers the loaded models by name).
        """
        if not self._loading.acquire(blocking=False):  # held until the thread ends: load() answers "loading"
            raise RuntimeError(f"model {self.name} is already loading")

        def run() -> None:
            try:
                # Until the last try fails the model counts as loading (503 "still loading"), not failed.
                async_init = model_init_async(self.settings.model_init_mode)
                budget = None if async_init else self.settings.load_retry_seconds
                retry_load(self._load, name=self.name, give_up_after=budget)
                if then is not None:
                    then()
            except Exception as exc:  # any load failure: stay live, not ready, say why
                self.load_error = f"{type(exc).__name__}: {exc}"
                log.error("model %s failed to load: %s", self.name, self.load_error)
            finally:
                self._loading.release()

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
            "model_states": self.model_states(),
            "in_flight": self.admission.running,
            "queued": self.admission.queued,
        }

    def model_states(self) -> dict[str, str]:
        """Each speech model's state (``loaded``, ``loading``, ``unloaded``, ``failed``) when a pool serves them."""
        engine = self.synth.engine if self.synth else None
        return engine.states() if isinstance(engine, VoicePool) else {}

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
            "voices": [v.to_dict() for v in catalog.visible()],
            "emotions": list(EMOTIONS),
            "styles": list(STYLES),
            **({"models": states} if len(states := self.model_states()) > 1 else {}),
        }

    def get_input_types(self) -> list[dict[str, Any]]:
        """V2 metadata: BYTES input `text` [N], optional per-text `voice`, `language`, `speed`, `speaker_wav` [1]."""
        return v2.input_types()

    def get_output_types(self) -> list[dict[str, Any]]:
        """V2 metadata: audio files, rates and durations; timings and marks (JSON) when asked."""
        return v2.output_types()
