"""SpeechPipeline: validated text -> engine -> AudioBuffer -> encoded audio; the one path every API uses."""

from __future__ import annotations

import asyncio
import logging
import time

from kserve.errors import InvalidInput

from .audio.buffer import AudioBuffer
from .audio.dsp import resample
from .audio.encode import MEDIA_TYPES, encode
from .engines.base import Engine, SynthesisRequest
from .errors import SynthesisFailed
from .protocol.v2 import EncodedAudio, SynthesisParameters
from .voices import VoiceCatalog

log = logging.getLogger(__name__)

WARMUP_TEXT = "Hello."


class SpeechPipeline:
    """Runs synthesis off the event loop, at most `max_concurrency` at a time."""

    def __init__(self, engine: Engine, catalog: VoiceCatalog, max_concurrency: int = 1):
        self.engine = engine
        self.catalog = catalog
        self._slots = asyncio.Semaphore(max_concurrency)

    def plan(self, text: str, params: SynthesisParameters) -> SynthesisRequest:
        """Resolve voice and language for one text (raises 400-class errors)."""
        voice, language = self.catalog.resolve(params.voice, params.language)
        return SynthesisRequest(text=text, voice=voice, language=language, speed=params.speed)

    def render(self, request: SynthesisRequest, params: SynthesisParameters, request_id: str = "-") -> EncodedAudio:
        """Synthesize and encode one text, blocking; engine failures become SynthesisFailed."""
        started = time.perf_counter()
        try:
            audio = self.engine.synthesize(request)
        except InvalidInput:
            raise
        except Exception:
            log.exception("synthesis failed (request id %s, voice %s)", request_id, request.voice.id)
            raise SynthesisFailed(f"synthesis failed; request id {request_id}") from None
        engine_s = time.perf_counter() - started
        if params.sample_rate:
            audio = resample(audio, params.sample_rate)
        log.debug("synthesized %d chars -> %.2f s audio in %.3f s", len(request.text), audio.duration_s, engine_s)
        return EncodedAudio(encode(audio, params.format), MEDIA_TYPES[params.format], audio.sample_rate, audio.duration_s)

    async def synthesize(self, text: str, params: SynthesisParameters, request_id: str = "-") -> EncodedAudio:
        """Plan, then render in a worker thread once a slot is free (never blocks the event loop)."""
        request = self.plan(text, params)
        async with self._slots:
            return await asyncio.to_thread(self.render, request, params, request_id)

    def warm_up(self) -> AudioBuffer:
        """One synthesis with the default voice, so the first real request is not slow."""
        voice = self.catalog.default
        return self.engine.synthesize(SynthesisRequest(WARMUP_TEXT, voice, voice.languages[0]))
