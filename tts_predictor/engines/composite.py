"""CompositeEngine: several loaded models behind one voice catalogue; requests route by voice."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.engines.base import Engine, SynthesisRequest, Voice


class CompositeEngine:
    """Serves the union of its engines' voices; a voice id clashing with an earlier one gets `<model>/` in front.

    A `fallback` engine (the formant voices, TTS_FALLBACK_VOICES) adds its voices after all the models' but is
    not one of the models: `kind`, `device` and `by_name` (the repository's models) describe the models only."""

    def __init__(self, engines: list[Engine], fallback: Engine | None = None):
        if not engines:
            raise ValueError("a composite engine needs at least one engine")
        self.engines = engines
        self.fallback = fallback
        self.kind = engines[0].kind if len(engines) == 1 else "multi"
        self.device = ",".join(sorted({e.device for e in engines}))
        self.by_name = {getattr(e, "name", e.kind): e for e in engines}
        self._routes: dict[str, tuple[Engine, Voice]] = {}
        for engine in engines if fallback is None else [*engines, fallback]:
            for voice in engine.voices():
                public = (
                    voice.id if voice.id not in self._routes else f"{getattr(engine, 'name', engine.kind)}/{voice.id}"
                )
                self._routes[public] = (engine, voice)

    def voices(self) -> list[Voice]:
        """Every voice of every model, the first model's default first."""
        return [replace(voice, id=public) for public, (_, voice) in self._routes.items()]

    def synthesize(self, request: SynthesisRequest) -> AudioBuffer:
        """Run the engine that owns the voice (for a blend: the owner of its first voice; cloned: its model)."""
        engine, own = self._route(request)
        return engine.synthesize(own)

    def calibration_synthesize(self, request: SynthesisRequest) -> AudioBuffer:
        """The owning engine's seeded run for measuring speed curves (its `synthesize` where it has none)."""
        engine, own = self._route(request)
        return getattr(engine, "calibration_synthesize", engine.synthesize)(own)

    def stream(self, request: SynthesisRequest) -> Iterator[AudioBuffer]:
        """The owning engine's chunks (whole audio from engines that cannot stream)."""
        engine, own = self._route(request)
        stream = getattr(engine, "stream", None)
        if stream is None:
            yield engine.synthesize(own)
            return
        yield from stream(own)

    def _route(self, request: SynthesisRequest) -> tuple[Engine, SynthesisRequest]:
        if request.voice.model in self.by_name and request.voice.id not in self._routes:
            return self.by_name[request.voice.model], request
        engine, voice = self._routes[_owner_id(request.voice, self._routes)]
        own = replace(request.voice, id=voice.id) if request.voice.mix else voice
        return engine, replace(request, voice=own)

    def close(self) -> None:
        """Close every engine (the fallback's too)."""
        for engine in self.engines if self.fallback is None else [*self.engines, self.fallback]:
            engine.close()


def _owner_id(voice: Voice, routes: dict[str, tuple[Engine, Voice]]) -> str:
    if voice.id in routes:
        return voice.id
    first = voice.id.split("+")[0].split("*")[0].strip()  # a blend "a*0.7+b*0.3" lives on a's model
    return first
