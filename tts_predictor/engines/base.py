"""The Engine protocol every speech engine implements, and the Voice it exposes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from tts_predictor.audio.buffer import AudioBuffer


@dataclass(frozen=True)
class Voice:
    """One selectable voice of a loaded model."""

    id: str
    """Identifier used in requests (``voice`` parameter)."""
    languages: tuple[str, ...]
    """Languages the voice speaks, as the model names them; the first is its default."""
    engine: str
    """Engine kind: ``onnx``, ``coqui`` or ``espeak`` (the formant fallback voices)."""
    sample_rate: int
    """Native output sample rate in Hz."""
    speaker: str | None = None
    """Engine-level speaker name or id, when the model is multi-speaker."""
    gender: str | None = None
    """``female``/``male`` where the model card says so."""
    capabilities: tuple[str, ...] = ("speed",)
    """What requests may ask of this voice: ``speed``, ``seed``, ``mixing`` (weighted blends of speakers),
    ``cloning`` (a sample of someone's speech makes a new voice of this model), ``cloned`` (made that way),
    ``sampling`` (per-request temperature/top_p/top_k/repetition_penalty), ``streaming`` (audio in chunks while
    the model still decodes one sentence)."""
    mix: tuple[tuple[str, float], ...] = ()
    """For a blended voice: (speaker, weight) pairs, weights summing to 1."""
    model: str | None = None
    """Name of the loaded model the voice belongs to (set for cloned voices, which models add at run time)."""
    store: str | None = None
    """For a cloned voice: the directory holding its speaker embedding (``<speaker>.pth``)."""
    vocoder: str | None = None
    """For a spectrogram model (Tacotron2, Glow-TTS, FastPitch...): the vocoder it speaks through, or
    ``griffin-lim``; None for models that output waveforms."""
    realtime: bool = True
    """False for voices that synthesize far slower than real time even on a GPU (Bark, Tortoise, and the models
    named in TTS_SLOW_MODELS): listed as ``"realtime": false``; admission runs few of them at once."""
    cloning: str | None = None
    """``vc`` when the voice clones (or was cloned) through the voice-conversion model (TTS_VC_MODEL); None when
    the model clones by itself or not at all (see ``capabilities``)."""
    quality: str = "neural"
    """``neural`` for trained voices; ``formant`` for espeak-ng's rule-based fallback voices (every language
    espeak-ng knows, robotic), which a request for a language gets only where no neural voice speaks it."""

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly description for the voices listing."""
        return {
            "id": self.id,
            "languages": list(self.languages),
            "engine": self.engine,
            "sample_rate": self.sample_rate,
            "gender": self.gender,
            "capabilities": list(self.capabilities),
            "quality": self.quality,
            **({"model": self.model} if self.model else {}),
            **({"vocoder": self.vocoder} if self.vocoder else {}),
            **({"cloning": self.cloning} if self.cloning else {}),
            **({"realtime": False} if not self.realtime else {}),
        }


@dataclass(frozen=True)
class SynthesisRequest:
    """One text to synthesize with a resolved voice."""

    text: str
    """Text to speak (already validated non-empty and within limits)."""
    voice: Voice
    """Resolved voice."""
    language: str | None = None
    """Resolved language (one of ``voice.languages``), or None for single-language voices."""
    speed: float = 1.0
    """Speaking-rate multiplier; 2.0 is twice as fast."""
    seed: int | None = None
    """Random seed for engines that draw noise in Python (Coqui): same seed, same waveform."""
    sampling: tuple[tuple[str, float], ...] = ()
    """Decoding knobs the request set (temperature, top_p, top_k, repetition_penalty), for voices with the
    ``sampling`` capability (XTTS); empty means the model's defaults."""


@runtime_checkable
class Engine(Protocol):
    """A loaded speech model: lists its voices and turns text into float32 PCM."""

    kind: str
    """``onnx`` or ``coqui``."""
    device: str
    """Where it runs: ``cpu`` or ``cuda``."""

    def voices(self) -> list[Voice]:
        """All voices, the default first."""
        ...

    def synthesize(self, request: SynthesisRequest) -> AudioBuffer:
        """Synthesize one text; raises InvalidInput subclasses for bad input, anything else is a failure."""
        ...

    def close(self) -> None:
        """Release sessions / memory."""
        ...
