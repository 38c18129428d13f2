"""TTSModelRepository: kserve's model repository extension for TTS models (load / unload at run time).

The main model (`/v2/models/tts`) serves every loaded model's voices and routes requests by voice. Each loaded
model is also served alone under its own name (`/v2/models/<model>`), sharing the main model's engine slots,
admission queue and cache. `POST /v2/repository/models/<model>/load` loads one of the available models (those of
TTS_MODEL and TTS_VOICES_DIR), `.../unload` frees it; at most TTS_MAX_MODELS are loaded at once.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading

from kserve.errors import InvalidInput
from kserve.model_repository import ModelRepository
from kserve.protocol.model_repository_extension import ModelRepositoryExtension

from tts_predictor import metrics
from tts_predictor.engines.base import Engine
from tts_predictor.engines.registry import available_specs, combine, load_engine
from tts_predictor.errors import EngineNotReady, ModelLoadError, ModelMissing, UnknownModel
from tts_predictor.predictor import TTSPredictor
from tts_predictor.voices.cloning import engines_by_name

log = logging.getLogger(__name__)


class TTSModelRepository(ModelRepository):
    """The process's models: the main one plus one kserve model per loaded speech model."""

    def __init__(self, main: TTSPredictor):
        super().__init__(models_dir="")
        self.main = main
        self.settings = main.settings
        self._lock = threading.Lock()  # one load / unload at a time
        self._stopping = False
        self._home: list[str] = []
        """The models loaded at start, in their order: the first one's voice is the default (unless
        TTS_DEFAULT_VOICE names one), so they keep their places whatever is unloaded and loaded again."""

    def begin_shutdown(self) -> None:
        """The server is stopping: kserve unloads every model, the main one and the last one included."""
        self._stopping = True

    def available(self) -> dict[str, str]:
        """Model name -> spec of every model this process may load."""
        return available_specs(self.settings)

    def loaded(self) -> dict[str, Engine]:
        """The speech models the main model serves now, by name."""
        engine = self.main.synth.engine if self.main.synth else None
        return engines_by_name(engine) if engine is not None else {}

    def adopt(self) -> None:
        """After the main model loaded: serve each of its speech models under its own name too."""
        self._home = list(self.loaded())
        for name, engine in self.loaded().items():
            if name != self.main.name:
                self.update(self._submodel(name, engine))

    def index(self, ready_only: bool = False) -> list[dict[str, str]]:
        """Triton-style repository index: the main model, then every available speech model, with its state."""
        loaded = self.loaded()
        main = {
            "name": self.main.name,
            "state": "READY" if self.main.ready else "UNAVAILABLE",
            "reason": "" if self.main.ready else (self.main.load_error or "loading"),
        }
        entries = [main] + [
            {
                "name": name,
                "state": "READY" if name in loaded else "UNAVAILABLE",
                "reason": "" if name in loaded else "not loaded; POST /v2/repository/models/<name>/load",
            }
            for name in {**self.available(), **dict.fromkeys(loaded)}
            if name != self.main.name
        ]
        return [e for e in entries if e["state"] == "READY"] if ready_only else entries

    async def load(self, name: str) -> bool:  # type: ignore[override]  # kserve awaits a coroutine load
        """Load model `name` (slow: reads weights, in a worker thread) and add its voices to the main model."""
        return await asyncio.to_thread(self._load, name)

    def _load(self, name: str) -> bool:
        with self._lock:
            if self.main.synth is None:
                raise ModelLoadError("the server is still loading its models; try again when /ready says so")
            loaded = self.loaded()
            if name in loaded:
                return True
            specs = self.available()
            if name not in specs:
                raise UnknownModel(f"no model '{name}' here; available: {', '.join(specs) or 'none'}")
            if len(loaded) >= self.settings.max_models:
                raise ModelLoadError(
                    f"{len(loaded)} models are loaded, the limit (TTS_MAX_MODELS); unload one first: {', '.join(loaded)}"
                )
            engine = load_engine(self.settings.model_copy(update={"model": specs[name]}))
            self.update(self._submodel(name, engine, warmup=self.settings.warmup))
            self.main.use_engine(self._combined({**loaded, name: engine}))
            log.info("model %s loaded from %s", name, specs[name])
            return True

    def unload(self, name: str) -> None:
        """Free model `name`: its voices leave the main model; requests already running finish first."""
        if self._stopping:
            if name in self.models:
                super().unload(name)
            return
        with self._lock:
            if name == self.main.name:
                raise InvalidInput(f"'{name}' is the server's main model; unload the speech models it serves instead")
            loaded = self.loaded()
            if name not in loaded:
                raise KeyError(name)  # kserve answers 404
            rest = {n: e for n, e in loaded.items() if n != name}
            if not rest:
                raise InvalidInput(f"'{name}' is the last loaded model; load another one before unloading it")
            self.main.use_engine(self._combined(rest))
            if name in self.models:
                super().unload(name)
            metrics.MODEL_READY.labels(name).set(0)
        gc.collect()  # engines hold large buffers; free them now rather than at the next collection
        log.info("model %s unloaded", name)

    def _combined(self, engines: dict[str, Engine]) -> Engine:
        """One engine serving `engines`, the start-up models first in their order (the default voice comes back
        with its model), then the others in load order."""
        rank = {name: i for i, name in enumerate(self._home)}
        ordered = sorted(engines, key=lambda n: rank.get(n, len(rank)))
        fallback = getattr(self.main.synth.engine, "fallback", None) if self.main.synth else None
        return combine([engines[n] for n in ordered], fallback)  # the fallback voices stay after the models

    def _submodel(self, name: str, engine: Engine, warmup: bool = False) -> TTSPredictor:
        settings = self.settings.model_copy(update={"model_name": name, "default_voice": None, "warmup": warmup})
        model = TTSPredictor(settings, engine=engine, shared_with=self.main)
        model.enable_latency_logging = self.main.enable_latency_logging
        model.load()
        return model


class RepositoryActions(ModelRepositoryExtension):
    """kserve's REST load/unload with our messages: kserve wraps every load failure as "Error type: <class ...> error
    msg: ..." (protocol/model_repository_extension.py `load`); here an unknown name is a 404 listing what can be
    loaded and a failed load a 503 saying why, without a Python class name."""

    async def load(self, model_name: str) -> None:
        """Load `model_name` through the repository."""
        try:
            await self._model_registry.load(model_name)
        except UnknownModel as exc:
            raise ModelMissing(str(exc)) from None
        except ModelLoadError as exc:
            raise EngineNotReady(model_name, str(exc)) from None
        if not await self._model_registry.is_model_ready(model_name):
            raise EngineNotReady(model_name, "it loaded but is not ready")


def missing_model(registry: ModelRepository, name: str) -> ModelMissing:
    """The 404 for a request naming model `name`: which models are served, and which could be loaded."""
    served = sorted(registry.get_models())
    message = f"model '{name[:80]}' is not served here; served: {', '.join(served) or 'none'}"
    try:
        loadable = sorted(set(getattr(registry, "available", dict)()) - set(served))
    except ModelLoadError:  # the configured model itself is broken: nothing to offer
        loadable = []
    if loadable:
        message += f"; loadable with POST /v2/repository/models/<name>/load: {', '.join(loadable[:20])}"
    return ModelMissing(message)
