"""XTTS (v1.1/v2) specifics behind CoquiEngine: built-in speakers, conditioning, sampling knobs and streaming.

XTTS is not a "speaker id in, waveform out" model like VITS: every voice is a pair (GPT conditioning latents,
speaker embedding). Built-in speakers come from `speakers_xtts.pth`; cloned voices are computed once from a
sample and stored in Coqui's own voice-file format (`<dir>/<id>.pth`, what `BaseTTS.clone_voice` writes and
`load_voice_file` reads). Synthesis calls `Xtts.inference` / `Xtts.inference_stream` directly (not
`Synthesizer.tts`, which adds 10000 samples of silence per sentence and has no streaming).
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np

from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.engines.base import SynthesisRequest

log = logging.getLogger(__name__)

SAMPLING_KNOBS = ("temperature", "top_p", "top_k", "repetition_penalty")
"""Per-request decoding parameters XTTS's GPT takes (`Xtts.inference`); other engines refuse them."""
STREAM_CHUNK_TOKENS = 20
"""GPT tokens per streamed chunk (Coqui's default): 20 x 1024 samples at 22.05 kHz, about 0.9 s of audio."""
LOADED_VOICES = 64
"""Cloned voices kept in memory (about 130 KB each for XTTS v2); older ones are read from their file again."""
CLONE_SAMPLE_RATE = 22050
"""Rate Coqui's `get_conditioning_latents` loads references at."""


def is_xtts(model: Any) -> bool:
    """True for Coqui's Xtts model class (v1.1 and v2 share it)."""
    return type(model).__name__ == "Xtts" and hasattr(model, "inference_stream")


def adapt_generation(model: Any) -> None:
    """Let Coqui 0.28's GPT2InferenceModel run under transformers >= 5.2x.

    transformers renamed generate()'s key-value cache argument from `past_key_values` to `cache`
    (`transformers/utils/generic.py`, the rename helper; `GenerationMixin._update_model_kwargs_for_generation`
    now feeds `model_kwargs["cache"]`). Coqui's `GPT2InferenceModel.forward` (TTS/tts/layers/xtts/gpt_inference.py)
    still names it `past_key_values`, so from the second token on the cache lands in `**kwargs` and
    `past_key_values.get_seq_length()` fails on None. We hand the cache over under the old name; with an older
    transformers `cache` is never passed and this changes nothing. Patched on the instance, not the class.
    """
    adapt_cache_argument(model.gpt.gpt_inference)


def adapt_cache_argument(inference: Any) -> None:
    """Hand transformers' `cache` to a Coqui GPT2InferenceModel under its old name `past_key_values` (XTTS's and
    Tortoise's share the problem; see `adapt_generation`)."""
    if "cache" in inspect.signature(type(inference).forward).parameters:
        return  # a Coqui release that already takes `cache`
    forward = inference.forward

    @functools.wraps(forward)
    def forward_with_cache(*args: Any, cache: Any = None, past_key_values: Any = None, **kwargs: Any) -> Any:
        return forward(*args, past_key_values=past_key_values if past_key_values is not None else cache, **kwargs)

    inference.forward = forward_with_cache


def request_view(model: Any) -> Any:
    """A view of `model` (`concurrency.module_view`) for one request: its own GPT2InferenceModel view, on which
    `GPT.compute_embeddings` stores this request's prompt (`store_prefix_emb`), so requests decode side by side.

    The cache-argument adapter (`adapt_generation`) is a wrapper bound to the instance it patched: the view drops
    the copied one and gets its own, bound to the view (else decoding would read the shared model's prompt).
    """
    from tts_predictor.engines.coqui.concurrency import module_view

    inference = module_view(model.gpt.gpt_inference)
    inference.__dict__.pop("forward", None)
    adapt_cache_argument(inference)
    return module_view(model, gpt=module_view(model.gpt, gpt_inference=inference))


class XttsVoices:
    """Built-in and cloned XTTS voices of one loaded model, resolved to conditioning tensors."""

    def __init__(self, model: Any):
        self.model = model
        manager = getattr(model, "speaker_manager", None)
        self.builtin: dict[str, Any] = dict(manager.speakers) if manager is not None else {}
        self._loaded: dict[tuple[str, str], tuple[Any, Any]] = {}  # (store, id) -> tensors, loaded once
        self._loaded_lock = threading.Lock()  # concurrent requests add and evict entries

    def speakers(self) -> list[str]:
        """Names in speakers_xtts.pth (empty for a fine-tune shipped without one)."""
        return list(self.builtin)

    def languages(self) -> list[str]:
        """The config's language list (XTTS v2: 17)."""
        return [str(lang) for lang in self.model.config.languages]

    def conditioning(self, speaker: str | None, store: str | None) -> tuple[Any, Any]:
        """(gpt_cond_latent, speaker_embedding) of a built-in speaker or a stored clone."""
        if store is not None and speaker is not None:
            key = (store, speaker)
            with self._loaded_lock:
                found = self._loaded.get(key)
            if found is None:
                voice = self.model.load_voice_file(speaker, store)
                found = (voice["gpt_conditioning_latents"], voice["speaker_embedding"])
                self._remember(key, found)
            return found
        if speaker is None or speaker not in self.builtin:
            from tts_predictor.errors import (
                UnsupportedOption,
            )  # not at module scope: scripts/gpu_check_xtts.py runs without kserve

            raise UnsupportedOption(
                "voice: this XTTS model has no built-in speakers (speakers_xtts.pth); clone one with POST /v1/voices "
                "or send speaker_wav"
            )
        entry = self.builtin[speaker]
        return entry["gpt_cond_latent"], entry["speaker_embedding"]

    def clone(self, reference: AudioBuffer, voice_id: str, directory: Path) -> None:
        """Compute latents + embedding from `reference` once; store them as Coqui's voice file."""
        import torch

        from tts_predictor.audio import dsp

        audio = torch.from_numpy(dsp.resample(reference, CLONE_SAMPLE_RATE).samples.copy()).unsqueeze(0)
        config = self.model.config
        latent = self.model.get_gpt_cond_latents(
            audio, CLONE_SAMPLE_RATE, length=config.gpt_cond_len, chunk_length=config.gpt_cond_chunk_len
        )
        embedding = self.model.get_speaker_embedding(audio, CLONE_SAMPLE_RATE)
        directory.mkdir(parents=True, exist_ok=True)
        metadata = self.model._create_voice_metadata({"name": config.model}, voice_id, ["<request sample>"])
        voice = {"gpt_conditioning_latents": latent.cpu(), "speaker_embedding": embedding.cpu()}
        torch.save({**voice, "metadata": metadata.to_dict()}, directory / f"{voice_id}.pth")
        self._remember((str(directory), voice_id), (voice["gpt_conditioning_latents"], voice["speaker_embedding"]))

    def _remember(self, key: tuple[str, str], tensors: tuple[Any, Any]) -> None:
        with self._loaded_lock:
            self._loaded.pop(key, None)
            self._loaded[key] = tensors
            while len(self._loaded) > LOADED_VOICES:
                self._loaded.pop(next(iter(self._loaded)))  # the oldest; it is read from its file again if needed

    def forget(self, store: str, voice_id: str) -> None:
        """Drop a deleted clone from memory."""
        with self._loaded_lock:
            self._loaded.pop((store, voice_id), None)


def _settings(model: Any, request: SynthesisRequest) -> dict[str, Any]:
    """Decoding settings: the model config's tuned defaults, overridden by the request's knobs."""
    config = model.config
    settings = {k: config[k] for k in (*SAMPLING_KNOBS, "length_penalty")}
    settings.update(dict(request.sampling))
    settings["top_k"] = int(settings["top_k"])
    return {**settings, "speed": request.speed}


def synthesize(model: Any, voices: XttsVoices, request: SynthesisRequest) -> np.ndarray:
    """The whole text at once (Coqui splits it at its per-language character limits)."""
    latent, embedding = voices.conditioning(request.voice.speaker, request.voice.store)
    out = model.inference(
        request.text,
        request.language or "en",
        latent,
        embedding,
        enable_text_splitting=True,
        **_settings(model, request),
    )
    return np.asarray(out["wav"], dtype=np.float32).reshape(-1)


def stream(
    model: Any, voices: XttsVoices, request: SynthesisRequest, chunk_tokens: int
) -> Generator[np.ndarray, None, None]:
    """Audio chunks while the GPT is still decoding (`Xtts.inference_stream`, cross-faded by Coqui)."""
    latent, embedding = voices.conditioning(request.voice.speaker, request.voice.store)
    chunks = model.inference_stream(
        request.text,
        request.language or "en",
        latent,
        embedding,
        stream_chunk_size=chunk_tokens,
        enable_text_splitting=True,
        **_settings(model, request),
    )
    for chunk in chunks:
        yield chunk.detach().cpu().numpy().astype(np.float32).reshape(-1)
