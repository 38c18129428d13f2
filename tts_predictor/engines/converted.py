"""VoiceConvertedEngine: a model that cannot clone, made to by a voice-conversion model (TTS_VC_MODEL).

A cloned voice of such a model speaks with one of the model's own voices (the request's `voice`, else the model's
default), then the VC model converts that speech to the sample's voice; the result is resampled to the source
voice's rate, so the listed `sample_rate` holds. What the VC model needs of the sample (its target speaker
embedding) is computed once and stored as `<id>.pth`, Coqui's voice format.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from tts_predictor.audio import dsp
from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.engines.base import Engine, SynthesisRequest, Voice
from tts_predictor.errors import UnsupportedOption

VC = "vc"
"""The `cloning` value of voices that clone through voice conversion."""
KEPT_CAPABILITIES = ("speed", "seed")
"""What a converted voice keeps of its source voice's capabilities (no blends, no sampling, no streaming)."""


class VoiceConvertedEngine:
    """Serves `inner`'s voices as they are, plus voices cloned through `converter`."""

    can_clone = True
    converts_voices = True

    def __init__(self, inner: Engine, converter: Any):
        self.inner = inner
        self.converter = converter
        self.kind = inner.kind
        self.device = inner.device
        self.name: str = getattr(inner, "name", inner.kind)

    def __getattr__(self, attr: str) -> Any:
        if attr == "inner":  # not set yet (copy, unpickling): no recursion
            raise AttributeError(attr)
        return getattr(self.inner, attr)

    def voices(self) -> list[Voice]:
        """The model's voices, each listing `cloning` (through voice conversion)."""
        return [replace(v, capabilities=(*v.capabilities, "cloning"), cloning=VC) for v in self.inner.voices()]

    def clone(self, reference: AudioBuffer, voice_id: str, directory: Path, source: str | None = None) -> Voice:
        """Store the VC model's embedding of `reference` as `<directory>/<voice_id>.pth`; speak with `source`."""
        from tts_predictor.engines.coqui.engine import CLONE_ID

        if not CLONE_ID.fullmatch(voice_id):
            raise UnsupportedOption(f"name: {voice_id[:80]!r} is not a valid voice id; use 1-63 of a-z, 0-9, '-', '_'")
        self.converter.embed(reference, voice_id, directory)
        return self.cloned_voice(voice_id, directory, source)

    def cloned_voice(self, voice_id: str, directory: Path, source: str | None = None) -> Voice:
        """The Voice of an embedding stored by `clone` (no computation)."""
        base = self._source(source)
        caps = (*(c for c in base.capabilities if c in KEPT_CAPABILITIES), "cloned")
        return Voice(
            voice_id,
            base.languages,
            base.engine,
            base.sample_rate,
            speaker=base.id,
            capabilities=caps,
            model=self.name,
            store=str(directory),
            cloning=VC,
        )

    def synthesize(self, request: SynthesisRequest) -> AudioBuffer:
        """The model's speech; for a converted voice, converted to the stored speaker at the source voice's rate."""
        voice = request.voice
        if voice.cloning != VC or voice.store is None:
            return self.inner.synthesize(request)
        base = self._source(voice.speaker)
        seed = request.seed if "seed" in base.capabilities else None
        spoken = self.inner.synthesize(replace(request, voice=base, seed=seed))
        converted = self.converter.convert(spoken, voice.id, Path(voice.store), request.seed)
        return dsp.resample(converted, base.sample_rate)

    def stream(self, request: SynthesisRequest) -> Iterator[AudioBuffer]:
        """The model's chunks; a converted voice's audio whole."""
        stream = getattr(self.inner, "stream", None)
        if request.voice.cloning == VC and request.voice.store is not None or stream is None:
            yield self.synthesize(request)
            return
        yield from stream(request)

    def _source(self, voice_id: str | None) -> Voice:
        """The model voice a converted voice speaks with: `voice_id` (also as `<model>/<id>`), else the default."""
        own = {v.id: v for v in self.inner.voices()}
        if voice_id is not None:
            found = own.get(voice_id) or own.get(voice_id.removeprefix(f"{self.name}/"))
            if found is not None:
                return found
        return next(iter(own.values()))

    def close(self) -> None:
        """Close the model (the shared VC model stays loaded for the others)."""
        self.inner.close()
