"""SlowVoices: a model whose voices are far slower than real time (Bark, Tortoise, TTS_SLOW_MODELS), said so.

Its voices (and voices cloned on it) list ``"realtime": false``; admission (`admission.AdmissionController`)
runs at most TTS_MAX_SLOW_REQUESTS requests for them at once and refuses more at once (429, Retry-After).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.engines.base import Engine, SynthesisRequest, Voice


def slow_request(catalog: Any, voice_id: str | None, language: str | None) -> bool:
    """True when the request's voice (resolved in `catalog`) is far slower than real time; per-span SSML voices
    are not looked at (the request's own voice decides)."""
    return not catalog.resolve(voice_id, language)[0].realtime


def is_slow(engine: Engine, slow_models: str) -> bool:
    """True when the engine says so (Coqui Bark/Tortoise) or its name is in the comma-separated `slow_models`."""
    names = {n.strip() for n in slow_models.split(",") if n.strip()}
    return not getattr(engine, "realtime", True) or getattr(engine, "name", engine.kind) in names


class SlowVoices:
    """Serves `inner` unchanged, its voices marked ``realtime=False``."""

    def __init__(self, inner: Engine):
        self.inner = inner
        self.kind = inner.kind
        self.device = inner.device
        self.name: str = getattr(inner, "name", inner.kind)
        self.realtime = False

    def __getattr__(self, attr: str) -> Any:
        if attr == "inner":  # not set yet (copy, unpickling): no recursion
            raise AttributeError(attr)
        return getattr(self.inner, attr)

    def voices(self) -> list[Voice]:
        """The model's voices, marked slow."""
        return [replace(v, realtime=False) for v in self.inner.voices()]

    def clone(self, *args: Any, **kwargs: Any) -> Voice:
        """A voice cloned by the model (or through voice conversion), marked slow."""
        return replace(self.inner.clone(*args, **kwargs), realtime=False)  # type: ignore[attr-defined]

    def cloned_voice(self, *args: Any, **kwargs: Any) -> Voice:
        """A stored cloned voice, marked slow."""
        return replace(self.inner.cloned_voice(*args, **kwargs), realtime=False)  # type: ignore[attr-defined]

    def synthesize(self, request: SynthesisRequest) -> AudioBuffer:
        """The model's audio."""
        return self.inner.synthesize(request)

    def stream(self, request: SynthesisRequest) -> Iterator[AudioBuffer]:
        """The model's chunks (whole audio from models that cannot stream)."""
        stream = getattr(self.inner, "stream", None)
        if stream is None:
            yield self.inner.synthesize(request)
            return
        yield from stream(request)

    def close(self) -> None:
        """Close the model."""
        self.inner.close()
