"""The synthesis pipeline, one path for every deployment: plan text -> synthesize segments -> assemble -> encode.

A V2 request goes through three stage functions, which are KServe's model stages in the predictor and the
transformer: `prepare` (preprocess: validated jobs), `speak` (predict: the engine) and `finish`
(postprocess: assemble, DSP, encode, the V2 response). Segments are synthesized by a `SegmentSynthesizer`:
`LocalSynthesizer` runs the engine in this process (the predictor, `make run`); the transformer's
synthesizer calls a predictor over V2.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from kserve.errors import InvalidInput
from kserve.protocol.infer_type import InferRequest, InferResponse

from tts_predictor import budget, metrics, tracing
from tts_predictor.audio import quality
from tts_predictor.audio.alignment import TimedAudio, WordTiming
from tts_predictor.audio.assemble import Assembly
from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.audio.encode import EncoderUnavailable, media_type
from tts_predictor.audio.output import DEFAULT_OUTPUT, OutputConfig, leveler, render_whole
from tts_predictor.engines.base import Engine, SynthesisRequest, Voice
from tts_predictor.engines.scheduling import current_scheduling, new_flow
from tts_predictor.engines.speed import SpeedControl
from tts_predictor.errors import EngineNotReady, SynthesisFailed, UnsupportedOption
from tts_predictor.pipeline.admission import AdmissionController
from tts_predictor.pipeline.audio_cache import AudioCache, cache_key, cache_scope, voice_tag
from tts_predictor.pipeline.limits import DEFAULT_MAX_AUDIO_S, check_audio_s, max_audio_s, pauses_s
from tts_predictor.pipeline.request_plan import plan_request
from tts_predictor.pipeline.voice_choice import resolve_segment
from tts_predictor.pipeline.word_events import add_words
from tts_predictor.protocol import v2
from tts_predictor.protocol.v2 import EncodedAudio, SynthesisParameters
from tts_predictor.schemas import SPEED_RANGE
from tts_predictor.settings import Settings
from tts_predictor.synthesis.scheduler import FairScheduler
from tts_predictor.text.blocklist import Blocklist
from tts_predictor.text.segments import Segment
from tts_predictor.text.split import split_sentences
from tts_predictor.voices.catalog import VoiceCatalog

if TYPE_CHECKING:
    from tts_predictor.voices.cloning import VoiceCloner

log = logging.getLogger(__name__)

WARMUP_TEXT = "Hello."
MIN_SPEED, MAX_SPEED = SPEED_RANGE
PAUSE_ONLY_RATE = 22050
SAMPLING_KNOBS = ("temperature", "top_p", "top_k", "repetition_penalty")
"""Sample rate of a document that is only pauses (no engine output to take the rate from)."""


class SegmentSynthesizer(Protocol):
    """Turns planned segments into speech, one AudioBuffer per segment, in order."""

    async def synthesize(
        self, segments: list[Segment], params: SynthesisParameters, request_id: str
    ) -> list[AudioBuffer]:
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
    """Runs the engine in worker threads, one sentence per engine call, through a `FairScheduler`'s slots."""

    def __init__(
        self,
        engine: Engine,
        catalog: VoiceCatalog,
        max_concurrency: int = 1,
        model_label: str = "tts",
        slots: FairScheduler | None = None,
        blocklist: Blocklist | None = None,
        max_audio_s: float = DEFAULT_MAX_AUDIO_S,
    ):
        """`slots` (instead of `max_concurrency`) shares the engine slots with other synthesizers of the process;
        `blocklist` is checked on the text the engine is given (after SSML, entities and normalization)."""
        self.engine = engine
        self.catalog = catalog
        self.model_label = model_label
        self.blocklist = blocklist
        self.max_audio_s = max_audio_s
        self.scheduler = slots or FairScheduler(max_concurrency)
        self.speed = SpeedControl(engine.synthesize, getattr(engine, "calibration_synthesize", None))

    def requests(self, segments: list[Segment], params: SynthesisParameters) -> list[SynthesisRequest]:
        """Resolve voice and language of every segment before any work starts (400s come first)."""
        if self.blocklist is not None:  # each text the engine gets, and all of them run together (k<mark/>iss)
            for text in [*(s.text for s in segments), "".join(s.text for s in segments)]:
                self.blocklist.check(text, "text")
        out = []
        for segment in segments:
            voice, language = resolve_segment(self.catalog, segment, params)
            check_capabilities(voice, params)
            out.append(
                SynthesisRequest(
                    segment.text, voice, language, segment_speed(segment, params), params.seed, sampling_knobs(params)
                )
            )
        return out

    def voice_labels(self, segments: list[Segment], params: SynthesisParameters) -> list[str]:
        """The resolved voice of each segment (SSML voice/lang spans included)."""
        return [r.voice.id for r in self.requests(segments, params)]

    def voice_notes(self, segments: list[Segment], params: SynthesisParameters) -> list[dict[str, object]]:
        """Per segment, the quality of its voice and the language variant spoken (`VoiceChoice.fields`), for the
        timings entries."""
        return [
            self.catalog.choose(
                s.voice or params.voice, s.language or params.language, s.gender if s.voice else params.gender
            ).fields()
            for s in segments
        ]

    def call(self, request: SynthesisRequest, request_id: str = "-") -> tuple[AudioBuffer, float]:
        """One blocking engine call and its duration; engine failures become SynthesisFailed (details logged)."""
        started = time.perf_counter()
        try:
            return self.speed.synthesize(request), time.perf_counter() - started
        except (InvalidInput, EngineNotReady):  # bad input (4xx); a model that could not load in time (503)
            raise
        except Exception:
            log.exception("synthesis failed (request id %s)", request_id)
            raise SynthesisFailed(f"synthesis failed; request id {request_id}") from None

    async def synthesize(
        self, segments: list[Segment], params: SynthesisParameters, request_id: str = "-"
    ) -> list[AudioBuffer]:
        """Synthesize every segment, sentence by sentence; the sentences of all requests share the engine slots fairly.

        Cancelling the caller drops its sentences that wait for a slot; the ones running finish (see `FairScheduler`).
        """
        requests = self.requests(segments, params)
        units = [(i, unit) for i, r in enumerate(requests) for unit in sentence_units(r)]
        sched = current_scheduling()
        flow = sched.flow or (request_id if request_id != "-" else new_flow())
        with metrics.STAGE.labels("engine").time(), tracing.span("tts.engine"):
            tasks = [
                asyncio.ensure_future(
                    self.scheduler.run(
                        functools.partial(self.call, unit, request_id), flow=flow, priority=sched.priority
                    )
                )
                for _, unit in units
            ]
            try:
                done = await asyncio.gather(*tasks)
            except BaseException as exc:
                for task in tasks:
                    task.cancel()
                if isinstance(exc, asyncio.CancelledError):
                    log.info("synthesis cancelled (request id %s)", request_id)
                raise
        parts: list[list[AudioBuffer]] = [[] for _ in requests]
        for (i, _), (audio, _) in zip(units, done):
            parts[i].append(audio)
        audios = [_join(p, r.voice.sample_rate) for p, r in zip(parts, requests)]
        _record(self.model_label, requests, audios, sum(seconds for _, seconds in done))
        return audios

    async def stream(
        self, segment: Segment, params: SynthesisParameters, request_id: str = "-"
    ) -> AsyncIterator[AudioBuffer]:
        """One segment's audio in chunks while the model decodes it (voices with ``streaming``), else whole."""
        request = self.requests([segment], params)[0]
        if "streaming" not in request.voice.capabilities or not hasattr(self.engine, "stream"):
            yield (await self.synthesize([segment], params, request_id))[0]
            return
        from tts_predictor.synthesis.engine_stream import engine_chunks

        async for chunk in engine_chunks(self.engine, request, self.scheduler, request_id):
            yield chunk

    def warm_up(self) -> AudioBuffer:
        """One synthesis with the default voice, so the first real request is not slow."""
        voice = self.catalog.default
        return self.engine.synthesize(SynthesisRequest(WARMUP_TEXT, voice, voice.languages[0]))


def sentence_units(request: SynthesisRequest) -> list[SynthesisRequest]:
    """One engine call per sentence (the engines split the same way, so the joined audio is the same)."""
    language = request.language or (request.voice.languages[0] if request.voice.languages else "en")
    sentences = split_sentences(request.text, language) or [request.text]
    return [request] if len(sentences) == 1 else [replace(request, text=s) for s in sentences]


def _join(parts: list[AudioBuffer], rate: int) -> AudioBuffer:
    """One segment's sentences joined again, word timings (when the engine gave them) shifted along."""
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return AudioBuffer.silence(0, rate)
    joined, words, offset = AudioBuffer.concat(parts), [], 0.0
    for part in parts:
        words += [
            WordTiming(w.text, round(w.start_s + offset, 4), round(w.end_s + offset, 4))
            for w in getattr(part, "words", ())
        ]
        offset += part.duration_s
    return TimedAudio(joined.samples, joined.sample_rate, tuple(words)) if words else joined


def _record(model: str, requests: list[SynthesisRequest], audios: list[AudioBuffer], engine_s: float) -> None:
    audio_s = sum(a.duration_s for a in audios)
    metrics.CHARACTERS.labels(model).inc(sum(len(r.text) for r in requests))
    metrics.AUDIO_SECONDS.labels(model).inc(audio_s)
    if audio_s > 0:
        metrics.RTF.labels(model).observe(engine_s / audio_s)


def plan(
    text: str,
    params: SynthesisParameters,
    language: str,
    output: OutputConfig = DEFAULT_OUTPUT,
    catalog: VoiceCatalog | None = None,
) -> list[Segment]:
    """SSML and normalization: the segments of one whole-file text (400 if nothing is left to speak or pause)."""
    return plan_request(text, params, language, beds_dir=output.beds_dir, catalog=catalog)


def voice_notes(synth: object, spoken: list[Segment], params: SynthesisParameters) -> list[dict[str, object]]:
    """What `synth` says of each spoken segment's voice (quality, variant spoken); [] where it resolves no voices
    itself (the transformer: the predictor's timings carry them)."""
    notes = getattr(synth, "voice_notes", None)
    return notes(spoken, params) if notes is not None and spoken else []


def spoken_segments(segments: list[Segment]) -> list[Segment]:
    """The segments the engine speaks (the others are pauses only)."""
    return [s for s in segments if s.text.strip()]


async def assemble_and_encode(
    segments: list[Segment],
    audios: list[AudioBuffer],
    labels: list[str],
    params: SynthesisParameters,
    request_id: str,
    text: str | None = None,
    output: OutputConfig = DEFAULT_OUTPUT,
    voice: str = "-",
    notes: list[dict[str, object]] | None = None,
) -> EncodedAudio:
    """Assemble the spoken segments with their pauses, apply DSP, encode (in a worker thread).

    `text` is the caller's original text: word timings point into it; `voice` labels the output's quality
    metrics (`voice_label`); `notes` (one per spoken segment) go into its timings entries."""
    rate = audios[0].sample_rate if audios else (params.sample_rate or PAUSE_ONLY_RATE)
    watch = quality.OutputWatch(voice, sum(len(s.text.strip()) for s in segments))
    try:
        return await asyncio.to_thread(_finish, segments, audios, labels, params, rate, text, output, watch, notes)
    except EncoderUnavailable as exc:
        log.error("encoding failed (request id %s): %s", request_id, exc)
        raise SynthesisFailed(f"audio encoding to {params.format} failed; request id {request_id}") from None


async def render(
    text: str,
    params: SynthesisParameters,
    synth: SegmentSynthesizer,
    *,
    language: str,
    request_id: str = "-",
    output: OutputConfig = DEFAULT_OUTPUT,
    segments: list[Segment] | None = None,
) -> EncodedAudio:
    """Plan, synthesize and encode one request text.

    Args:
        text: Plain text or SSML.
        params: The validated request parameters.
        synth: Where segments are synthesized.
        language: Language for normalization and splitting when neither params nor SSML name one.
        request_id: For logs and error messages.
        output: What this process adds to every output (beds, tags, watermark, credentials).
        segments: The text as `plan_charged` planned it (a batch plans every item before synthesizing any).
    """
    segments = segments if segments is not None else plan_charged(text, params, synth, language, output)
    label = voice_label(synth, params.voice)
    metrics.note_synthesis(getattr(synth, "model_label", "tts"), label, params.format)
    spoken = spoken_segments(segments)
    limit, pauses = max_audio_s(synth), pauses_s(segments)
    audios = await synth.synthesize(spoken, params, request_id) if spoken else []
    check_audio_s(pauses + sum(a.duration_s for a in audios), limit, "speech and pauses")
    spend = budget.current()
    spend.charge_audio(sum(a.duration_s for a in audios))  # its pauses were charged when it was planned
    labels = synth.voice_labels(spoken, params) if spoken else []
    notes = voice_notes(synth, spoken, params)
    encoded = await assemble_and_encode(segments, audios, labels, params, request_id, text, output, label, notes)
    spend.charge_output(len(encoded.data))
    return encoded


def voice_label(synth: object, voice: str | None, *, sample: bool = False) -> str:
    """The `voice` label of tts_requests_total, bounded: a built-in voice's id, "default", "sample" (a per-request
    sample), "stored" (a voice a caller stored: callers create them) or "other" (blends, transient voices)."""
    if sample:
        return "sample"
    if not voice:
        return "default"
    catalog = getattr(synth, "catalog", None)
    if catalog is None:  # the transformer: the predictor validated the name
        return voice[:64]
    if voice in catalog.owners:
        return "stored"
    return voice if voice in catalog.by_id else "other"


def plan_charged(
    text: str, params: SynthesisParameters, synth: SegmentSynthesizer, language: str, output: OutputConfig
) -> list[Segment]:
    """`plan`, then its pauses checked against the per-text cap and charged to the request budget, before any
    synthesis."""
    segments = plan(text, params, language, output, getattr(synth, "catalog", None))
    pauses = pauses_s(segments)
    check_audio_s(pauses, max_audio_s(synth))
    budget.current().charge_audio(pauses)
    return segments


def _finish(
    segments: list[Segment],
    audios: list[AudioBuffer],
    labels: list[str],
    params: SynthesisParameters,
    rate: int,
    text: str | None = None,
    output: OutputConfig = DEFAULT_OUTPUT,
    watch: quality.OutputWatch | None = None,
    notes: list[dict[str, object]] | None = None,
) -> EncodedAudio:
    """Assemble, then the output chain (CPU work: runs in a worker thread)."""
    assembly = Assembly(rate, leveler(params, output))
    speech, voices = iter(audios), iter(labels)
    for segment in segments:
        spoken = bool(segment.text.strip())
        assembly.add(segment, next(speech) if spoken else None, next(voices) if spoken else None)
    add_words(assembly.timings, segments, audios, text)
    if notes and len(notes) == len(assembly.timings):  # one entry per spoken segment that made sound
        for entry, note in zip(assembly.timings, notes):
            entry.update(note)
    audio = assembly.audio()
    with metrics.STAGE.labels("encode").time(), tracing.span("tts.encode"):
        data, audio = render_whole(audio, params, output, watch)
    return EncodedAudio(
        data,
        media_type(params.format, audio.sample_rate),
        audio.sample_rate,
        audio.duration_s,
        tuple(assembly.timings),
        tuple(assembly.marks),
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
    voice_identity: Callable[[SynthesisParameters], str] | None = None
    """Identity of the voice a request resolves to (cache keys); None: the voice parameter as given."""
    api_keys: frozenset[str] = frozenset()
    """Configured API keys: the cache is partitioned per key (unless TTS_CACHE_SHARED)."""
    admission: AdmissionController | None = None
    """Where voice samples are decoded and cloned in preprocess (None: in line, e.g. unit tests)."""
    output: OutputConfig = DEFAULT_OUTPUT
    """What this process adds to every output (beds, tags, watermark, credentials)."""


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
    notes: list[dict[str, object]] = field(default_factory=list)
    """Per spoken segment: its voice's quality and the variant spoken (`voice_notes`)."""


@dataclass
class Batch:
    """A validated V2 request as synthesis jobs: what preprocess hands to predict and predict to postprocess."""

    payload: InferRequest
    params: SynthesisParameters
    request_id: str
    ctx: ServiceContext
    """The service context the request started with (a model swap mid-request does not mix engines)."""
    jobs: list[Job]
    per_request_sample: bool = False
    """The request carried its own voice sample (speaker_wav)."""


async def prepare(payload: InferRequest, headers: dict[str, str] | None, ctx: ServiceContext) -> Batch:
    """Preprocess: V2 request -> validated jobs (parameters, content filter, voice sample, cache lookup, SSML plan)."""
    v2.check_requested_outputs(payload)
    params = v2.parse_parameters(payload)
    items = v2.parse_items(
        payload, params, max_chars=ctx.settings.max_text_chars, max_batch=ctx.settings.max_batch_size
    )
    spend = budget.current()
    for i, (text, _) in enumerate(items):
        spend.charge_text(len(text), f"text[{i}]")
        if ctx.blocklist is not None:
            ctx.blocklist.check(text, f"text[{i}]")
    request_id = (headers or {}).get("x-request-id") or payload.id or "-"
    sample = v2.speaker_sample(payload)
    if sample is not None:
        items = await _in_sample_voice(items, sample, params, ctx)
    scope = cache_scope(headers, ctx.api_keys, ctx.settings.cache_shared) if ctx.cache else ""
    jobs = [await _job(text, p, ctx, scope) for text, p in items]
    if not payload.from_grpc:  # counted when the request ends, with its status (tts_requests_total)
        _note(jobs, ctx, sample is not None)
    return Batch(payload, params, request_id, ctx, jobs, per_request_sample=sample is not None)


async def _job(text: str, params: SynthesisParameters, ctx: ServiceContext, scope: str) -> Job:
    language = ctx.default_language(params)
    voice = ctx.voice_identity(params) if ctx.cache and ctx.voice_identity else ""
    model = f"{ctx.model_name}|{ctx.settings.model}|{ctx.output.loudness_lufs}|{ctx.output.peak_dbfs}"
    key = cache_key(model, text, params, language, voice, scope) if ctx.cache else ""  # loudness: replicas may differ
    hit = await asyncio.to_thread(ctx.cache.get, key) if ctx.cache else None
    job = Job(text, params, language, key, hit)
    if hit is None:
        job.segments = plan_charged(text, params, ctx.synth, language, ctx.output)
    else:
        budget.current().charge_audio(hit.duration_s)
        metrics.note_cache_hit()
    return job


async def speak(batch: Batch) -> Batch:
    """Predict: the engine speaks every job that was not a cache hit."""
    synth = batch.ctx.synth
    for job in batch.jobs:
        spoken = spoken_segments(job.segments) if job.result is None else []
        if spoken:
            job.audios = await synth.synthesize(spoken, job.params, batch.request_id)
            speech = sum(a.duration_s for a in job.audios)
            check_audio_s(pauses_s(job.segments) + speech, max_audio_s(synth), "speech and pauses")
            budget.current().charge_audio(speech)  # the request's total across its items (pauses: at prepare)
            job.labels = synth.voice_labels(spoken, job.params)
            job.notes = voice_notes(synth, spoken, job.params)
    return batch


async def finish(batch: Batch) -> InferResponse:
    """Postprocess: assemble, DSP and encode each job (then cache it), and build the V2 response."""
    ctx = batch.ctx
    for job in batch.jobs:
        if job.result is None:
            label = voice_label(ctx.synth, job.params.voice, sample=batch.per_request_sample)
            job.result = await assemble_and_encode(
                job.segments,
                job.audios,
                job.labels,
                job.params,
                batch.request_id,
                job.text,
                ctx.output,
                label,
                job.notes,
            )
            if ctx.cache:
                await asyncio.to_thread(ctx.cache.put, job.cache_key, job.result, stored_voice_tags(ctx, job))
        budget.current().charge_output(len(job.result.data))
    if batch.payload.from_grpc:  # no gateway to count it at its end: counted once its outputs are made
        _note(batch.jobs, ctx, batch.per_request_sample, "v2_grpc")
    results = [job.result for job in batch.jobs if job.result is not None]
    return v2.build_response(batch.payload, ctx.model_name, results, with_timings=batch.params.timings)


def _note(jobs: list[Job], ctx: ServiceContext, sample: bool, route: str | None = None) -> None:
    for job in jobs:
        label = voice_label(ctx.synth, job.params.voice, sample=sample)
        metrics.note_synthesis(ctx.model_name, label, job.params.format, route)


def stored_voice_tags(ctx: ServiceContext, job: Job) -> tuple[str, ...]:
    """Cache tags of the stored (cloned) voices that spoke `job`, SSML voice switches included: deleting one
    purges the entry (`voice_tag`; a transformer sharing the predictor's Redis is purged with it)."""
    ids = {*job.labels, *([job.params.voice] if job.params.voice else [])} - {"default"}
    catalog = getattr(ctx.synth, "catalog", None)
    if catalog is not None:  # in-process: only stored voices; a transformer cannot tell, so it tags every name
        ids &= set(catalog.owners)
    return tuple(sorted(voice_tag(ctx.model_name, v) for v in ids))


async def _in_sample_voice(
    items: list[tuple[str, SynthesisParameters]], sample: bytes, params: SynthesisParameters, ctx: ServiceContext
) -> list[tuple[str, SynthesisParameters]]:
    """Every item spoken in the voice cloned from `sample` (computed once per distinct sample)."""
    if ctx.cloner is None:
        raise UnsupportedOption(
            "speaker_wav: per-request voice samples are taken by the predictor only; through the transformer, store "
            "the voice once with POST /v1/voices on the predictor and name it in 'voice'"
        )
    work = asyncio.to_thread(ctx.cloner.from_sample, sample, params.voice)
    # decoding and cloning a sample is engine work: inside admission (bounded running and queued), not beside it
    voice = await ctx.admission.run(work) if ctx.admission is not None else await work
    return [(text, p.model_copy(update={"voice": voice})) for text, p in items]
