"""The synthesis pipeline, one path for every deployment: plan text -> synthesize segments -> assemble -> encode.

A V2 request goes through three stage functions, which are KServe's model stages in the predictor and the
transformer: `prepare` (preprocess: validated jobs), `speak` (predict: the engine) and `finish`
(postprocess: assemble, DSP, encode, the V2 response). Segments are synthesized by a `SegmentSynthesizer`:
`LocalSynthesizer` runs the engine in this process (the predictor, `make run`); the transformer's
synthesizer calls a predictor over V2.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from kserve.errors import InvalidInput
from kserve.protocol.infer_type import InferRequest, InferResponse

from . import metrics, tracing
from .audio import dsp, post, provenance
from .audio.assemble import Assembly
from .audio.buffer import AudioBuffer
from .audio.encode import EncoderUnavailable, encode, media_type, output_rate
from .cache import AudioCache, cache_key
from .content_filter import Blocklist
from .engines.base import Engine, SynthesisRequest, Voice
from .errors import SynthesisFailed, UnsupportedOption
from .protocol import v2
from .protocol.v2 import EncodedAudio, SynthesisParameters
from .settings import Settings
from .text.plan import lexicon_names, plan_text
from .text.segments import Segment
from .voices import VoiceCatalog

if TYPE_CHECKING:
    from .cloning import VoiceCloner

log = logging.getLogger(__name__)

WARMUP_TEXT = "Hello."
MIN_SPEED, MAX_SPEED = 0.25, 4.0
PAUSE_ONLY_RATE = 22050
SAMPLING_KNOBS = ("temperature", "top_p", "top_k", "repetition_penalty")
"""Sample rate of a document that is only pauses (no engine output to take the rate from)."""


class SynthesisCancelled(Exception):
    """The request was cancelled (client gone, deadline); raised in the worker thread, seen by nobody."""


class SegmentSynthesizer(Protocol):
    """Turns planned segments into speech, one AudioBuffer per segment, in order."""

    async def synthesize(self, segments: list[Segment], params: SynthesisParameters, request_id: str) -> list[AudioBuffer]:
        """Synthesize every segment (raise InvalidInput subclasses for bad voices/languages)."""
        ...

    def voice_labels(self, segments: list[Segment], params: SynthesisParameters) -> list[str]:
        """Which voice speaks each segment, for the timings output."""
        ...


def segment_speed(segment: Segment, params: SynthesisParameters) -> float:
    """Request speed times the segment's SSML rate, kept in the engine's range."""
    return min(MAX_SPEED, max(MIN_SPEED, params.speed * segment.rate))


def check_capabilities(voice: Voice, params: SynthesisParameters) -> None:
    """Refuse options the voice cannot honour instead of ignoring them silently (emotion and style are prosody
    presets every voice honours; they are folded into speed/pitch/volume when the parameters are validated)."""
    if params.seed is not None and "seed" not in voice.capabilities:
        raise UnsupportedOption(
            f"seed: voice '{voice.id}' ({voice.engine}) draws its noise inside the ONNX graph and cannot be seeded; "
            "seeds work with Coqui (PyTorch) models"
        )
    knobs = sampling_knobs(params)
    if knobs and "sampling" not in voice.capabilities:
        raise UnsupportedOption(
            f"{knobs[0][0]}: voice '{voice.id}' ({voice.engine}) has no sampling decoder; temperature, top_p, top_k "
            "and repetition_penalty apply to autoregressive models such as XTTS"
        )


def sampling_knobs(params: SynthesisParameters) -> tuple[tuple[str, float], ...]:
    """The decoding knobs a request set, in a fixed order."""
    return tuple((k, v) for k in SAMPLING_KNOBS if (v := getattr(params, k)) is not None)


class LocalSynthesizer:
    """Runs the engine in worker threads, at most `max_concurrency` requests at a time."""

    def __init__(
        self,
        engine: Engine,
        catalog: VoiceCatalog,
        max_concurrency: int = 1,
        model_label: str = "tts",
        slots: asyncio.Semaphore | None = None,
    ):
        """`slots` (instead of `max_concurrency`) shares the engine slots with other synthesizers of the process."""
        self.engine = engine
        self.catalog = catalog
        self.model_label = model_label
        self._slots = slots or asyncio.Semaphore(max_concurrency)

    def requests(self, segments: list[Segment], params: SynthesisParameters) -> list[SynthesisRequest]:
        """Resolve voice and language of every segment before any work starts (400s come first)."""
        out = []
        for segment in segments:
            voice, language = self.catalog.resolve(segment.voice or params.voice, segment.language or params.language)
            check_capabilities(voice, params)
            out.append(SynthesisRequest(
                segment.text, voice, language, segment_speed(segment, params), params.seed, sampling_knobs(params)))
        return out

    def voice_labels(self, segments: list[Segment], params: SynthesisParameters) -> list[str]:
        """The resolved voice of each segment (SSML voice/lang spans included)."""
        return [r.voice.id for r in self.requests(segments, params)]

    def run(
        self, requests: list[SynthesisRequest], request_id: str = "-", cancel: threading.Event | None = None
    ) -> list[AudioBuffer]:
        """Synthesize blocking; engine failures become SynthesisFailed (details logged, not returned).

        When `cancel` is set (the awaiting request was cancelled), stops before the next segment.
        """
        try:
            with metrics.STAGE.labels("engine").time(), tracing.span("tts.engine"):
                started = time.perf_counter()
                audios = []
                for r in requests:
                    if cancel is not None and cancel.is_set():
                        raise SynthesisCancelled(f"stopped after {len(audios)} of {len(requests)} segments")
                    audios.append(self.engine.synthesize(r))
            _record(self.model_label, requests, audios, time.perf_counter() - started)
            return audios
        except (InvalidInput, SynthesisCancelled):
            raise
        except Exception:
            log.exception("synthesis failed (request id %s)", request_id)
            raise SynthesisFailed(f"synthesis failed; request id {request_id}") from None

    async def synthesize(self, segments: list[Segment], params: SynthesisParameters, request_id: str = "-") -> list[AudioBuffer]:
        requests = self.requests(segments, params)
        cancel = threading.Event()
        await self._slots.acquire()
        # The slot is released when the worker thread ends, not when a cancelled caller stops waiting for it:
        # the engine call in progress cannot be interrupted, so the engine is busy until then.
        work = asyncio.get_running_loop().run_in_executor(
            None, functools.partial(contextvars.copy_context().run, self.run, requests, request_id, cancel))
        work.add_done_callback(self._release)
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            cancel.set()  # the thread stops before its next segment
            log.info("synthesis cancelled (request id %s)", request_id)
            raise

    def _release(self, work: asyncio.Future[list[AudioBuffer]]) -> None:
        self._slots.release()
        if not work.cancelled():
            work.exception()  # retrieved: after a cancellation nobody awaits it (SynthesisFailed was logged in run)

    async def stream(self, segment: Segment, params: SynthesisParameters, request_id: str = "-") -> AsyncIterator[AudioBuffer]:
        """One segment's audio in chunks while the model decodes it (voices with ``streaming``), else whole."""
        request = self.requests([segment], params)[0]
        if "streaming" not in request.voice.capabilities or not hasattr(self.engine, "stream"):
            yield (await self.synthesize([segment], params, request_id))[0]
            return
        from .model_stream import engine_chunks

        async for chunk in engine_chunks(self.engine, request, self._slots, request_id):
            yield chunk

    def warm_up(self) -> AudioBuffer:
        """One synthesis with the default voice, so the first real request is not slow."""
        voice = self.catalog.default
        return self.engine.synthesize(SynthesisRequest(WARMUP_TEXT, voice, voice.languages[0]))


def _record(model: str, requests: list[SynthesisRequest], audios: list[AudioBuffer], engine_s: float) -> None:
    audio_s = sum(a.duration_s for a in audios)
    metrics.CHARACTERS.labels(model).inc(sum(len(r.text) for r in requests))
    metrics.AUDIO_SECONDS.labels(model).inc(audio_s)
    if audio_s > 0:
        metrics.RTF.labels(model).observe(engine_s / audio_s)


def plan(text: str, params: SynthesisParameters, language: str) -> list[Segment]:
    """SSML and normalization: the segments of one text (400 if nothing is left to speak or pause)."""
    with metrics.STAGE.labels("text").time(), tracing.span("tts.text"):
        segments = list(plan_text(text, language=params.language or language, ssml=params.ssml, normalize=params.normalize,
                                  lexicons=lexicon_names(params.lexicons)))
    if not any(s.text.strip() or s.pause_before_s or s.pause_after_s for s in segments):
        raise InvalidInput("text: nothing to speak after SSML parsing and normalization")
    post.check_bed(params)  # an unknown bed is a 400 before any synthesis
    return segments


def spoken_segments(segments: list[Segment]) -> list[Segment]:
    """The segments the engine speaks (the others are pauses only)."""
    return [s for s in segments if s.text.strip()]


async def assemble_and_encode(
    segments: list[Segment], audios: list[AudioBuffer], labels: list[str], params: SynthesisParameters, request_id: str
) -> EncodedAudio:
    """Assemble the spoken segments with their pauses, apply DSP, encode (in a worker thread)."""
    rate = audios[0].sample_rate if audios else (params.sample_rate or PAUSE_ONLY_RATE)
    try:
        return await asyncio.to_thread(_finish, segments, audios, labels, params, rate)
    except EncoderUnavailable as exc:
        log.error("encoding failed (request id %s): %s", request_id, exc)
        raise SynthesisFailed(f"audio encoding to {params.format} failed; request id {request_id}") from None


async def render(
    text: str, params: SynthesisParameters, synth: SegmentSynthesizer, *, language: str, request_id: str = "-"
) -> EncodedAudio:
    """Plan, synthesize and encode one request text.

    Args:
        text: Plain text or SSML.
        params: The validated request parameters.
        synth: Where segments are synthesized.
        language: Language for normalization and splitting when neither params nor SSML name one.
        request_id: For logs and error messages.
    """
    segments = plan(text, params, language)
    spoken = spoken_segments(segments)
    audios = await synth.synthesize(spoken, params, request_id) if spoken else []
    labels = synth.voice_labels(spoken, params) if spoken else []
    return await assemble_and_encode(segments, audios, labels, params, request_id)


def _finish(
    segments: list[Segment], audios: list[AudioBuffer], labels: list[str], params: SynthesisParameters, rate: int
) -> EncodedAudio:
    """Assemble, apply request-wide DSP and encode (CPU work: runs in a worker thread)."""
    assembly = Assembly(rate)
    speech, voices = iter(audios), iter(labels)
    for segment in segments:
        spoken = bool(segment.text.strip())
        assembly.add(segment, next(speech) if spoken else None, next(voices) if spoken else None)
    audio = assembly.audio()
    if params.pitch:
        audio = dsp.pitch_shift(audio, params.pitch)
    if params.loudness_lufs is not None:
        audio = dsp.loudness_normalize(audio, params.loudness_lufs)
    if params.volume_db:
        audio = dsp.apply_gain_db(audio, params.volume_db)
    audio = post.apply(audio, params)
    with metrics.STAGE.labels("encode").time(), tracing.span("tts.encode"):
        audio = dsp.resample(audio, output_rate(params.format, params.sample_rate or audio.sample_rate))
        data = provenance.tag(encode(audio, params.format, bitrate=params.bitrate), params.format)
    return EncodedAudio(
        data, media_type(params.format, audio.sample_rate), audio.sample_rate, audio.duration_s,
        tuple(assembly.timings), tuple(assembly.marks),
    )


@dataclass(frozen=True)
class ServiceContext:
    """What the pipeline stages need besides the request: where segments go, limits, cache and content filter."""

    synth: SegmentSynthesizer
    model_name: str
    settings: Settings
    default_language: Callable[[SynthesisParameters], str]
    cache: AudioCache | None = None
    blocklist: Blocklist | None = None
    cloner: VoiceCloner | None = None


@dataclass
class Job:
    """One text of a V2 request, filled in stage by stage (preprocess -> predict -> postprocess)."""

    text: str
    params: SynthesisParameters
    language: str
    cache_key: str = ""
    result: EncodedAudio | None = None
    """A cache hit (set in preprocess; predict and postprocess skip the job), else the encoded audio."""
    segments: list[Segment] = field(default_factory=list)
    audios: list[AudioBuffer] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)


@dataclass
class Batch:
    """A validated V2 request as synthesis jobs: what preprocess hands to predict and predict to postprocess."""

    payload: InferRequest
    params: SynthesisParameters
    request_id: str
    ctx: ServiceContext
    """The service context the request started with (a model swap mid-request does not mix engines)."""
    jobs: list[Job]


async def prepare(payload: InferRequest, headers: dict[str, str] | None, ctx: ServiceContext) -> Batch:
    """Preprocess: V2 request -> validated jobs (parameters, content filter, voice sample, cache lookup, SSML plan)."""
    v2.check_requested_outputs(payload)
    params = v2.parse_parameters(payload)
    items = v2.parse_items(payload, params, max_chars=ctx.settings.max_text_chars, max_batch=ctx.settings.max_batch_size)
    for i, (text, _) in enumerate(items):
        if ctx.blocklist is not None:
            ctx.blocklist.check(text, f"text[{i}]")
    request_id = (headers or {}).get("x-request-id") or payload.id or "-"
    sample = v2.speaker_sample(payload)
    if sample is not None:
        items = await _in_sample_voice(items, sample, params, ctx)
    return Batch(payload, params, request_id, ctx, [await _job(text, p, ctx) for text, p in items])


async def _job(text: str, params: SynthesisParameters, ctx: ServiceContext) -> Job:
    language = ctx.default_language(params)
    key = cache_key(f"{ctx.model_name}|{ctx.settings.model}", text, params, language) if ctx.cache else ""
    hit = await asyncio.to_thread(ctx.cache.get, key) if ctx.cache else None
    job = Job(text, params, language, key, hit)
    if hit is None:
        job.segments = plan(text, params, language)
    return job


async def speak(batch: Batch) -> Batch:
    """Predict: the engine speaks every job that was not a cache hit."""
    synth = batch.ctx.synth
    for job in batch.jobs:
        spoken = spoken_segments(job.segments) if job.result is None else []
        if spoken:
            job.audios = await synth.synthesize(spoken, job.params, batch.request_id)
            job.labels = synth.voice_labels(spoken, job.params)
    return batch


async def finish(batch: Batch) -> InferResponse:
    """Postprocess: assemble, DSP and encode each job (then cache it), and build the V2 response."""
    ctx = batch.ctx
    for job in batch.jobs:
        if job.result is None:
            job.result = await assemble_and_encode(job.segments, job.audios, job.labels, job.params, batch.request_id)
            if ctx.cache:
                await asyncio.to_thread(ctx.cache.put, job.cache_key, job.result)
    for job in batch.jobs:
        metrics.REQUESTS.labels("v2", ctx.model_name, job.params.voice or "default", job.params.format, "200").inc()
    results = [job.result for job in batch.jobs if job.result is not None]
    return v2.build_response(batch.payload, ctx.model_name, results, with_timings=batch.params.timings)


async def _in_sample_voice(
    items: list[tuple[str, SynthesisParameters]], sample: bytes, params: SynthesisParameters, ctx: ServiceContext
) -> list[tuple[str, SynthesisParameters]]:
    """Every item spoken in the voice cloned from `sample` (computed once per distinct sample)."""
    if ctx.cloner is None:
        raise UnsupportedOption(
            "speaker_wav: per-request voice samples are taken by the predictor only; through the transformer, store "
            "the voice once with POST /v1/voices on the predictor and name it in 'voice'"
        )
    voice = await asyncio.to_thread(ctx.cloner.from_sample, sample, params.voice)
    return [(text, p.model_copy(update={"voice": voice})) for text, p in items]
