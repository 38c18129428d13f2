"""The job worker: claims jobs from the store, synthesizes missing chunks at low priority, persists each one,
keeps its lease alive with heartbeats, renders the result and sends the webhook."""

from __future__ import annotations

import asyncio
import functools
import io
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import soundfile as sf
from kserve.errors import InvalidInput

from tts_predictor import budget, metrics
from tts_predictor.audio import quality
from tts_predictor.audio.assemble import Assembly
from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.audio.output import leveler
from tts_predictor.auth import acting_for
from tts_predictor.budget import RequestBudget
from tts_predictor.errors import SynthesisFailed
from tts_predictor.jobs.gate import PriorityGate, job_scheduling, make_gate
from tts_predictor.jobs.planning import chunk_chars, load_chunk, plan_job, spoken_segments, stored_plan
from tts_predictor.jobs.records import CANCELLED, COMPLETED, FAILED, QUEUED, RUNNING, Chapter, JobRecord
from tts_predictor.jobs.results import ResultFiles
from tts_predictor.jobs.sources import SourceChapter
from tts_predictor.jobs.store.base import JobStore, StoredChunk
from tts_predictor.jobs.webhooks import WebhookSender
from tts_predictor.pipeline.front import Front
from tts_predictor.pipeline.request_plan import NOTHING_TO_SPEAK
from tts_predictor.pipeline.stages import voice_label
from tts_predictor.protocol.v2 import SynthesisParameters
from tts_predictor.synthesis.low_priority import run_low
from tts_predictor.text.segments import Segment

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """Another worker took the job over, or it was cancelled: stop without writing anything more."""


class _RateMeter:
    """Characters synthesized per second by this run, measured from its start (the ETA's speed)."""

    def __init__(self) -> None:
        self.started, self.chars = time.perf_counter(), 0

    def add(self, chars: int) -> float:
        """Count `chars` more; the speed so far."""
        self.chars += chars
        return self.chars / max(1e-6, time.perf_counter() - self.started)


def encode_chunk(audio: AudioBuffer) -> bytes:
    """A chunk as FLAC (lossless 16-bit, about half the size of PCM)."""
    out = io.BytesIO()
    sf.write(out, audio.to_int16(), audio.sample_rate, format="FLAC", subtype="PCM_16")
    return out.getvalue()


class JobWorker:
    """One per process; several processes (replicas) may share one store."""

    def __init__(
        self,
        predictor: Front,
        store: JobStore,
        results: ResultFiles,
        webhooks: WebhookSender,
        gate: PriorityGate | None = None,
    ):
        self.predictor, self.store, self.results, self.webhooks = predictor, store, results, webhooks
        self.settings = predictor.settings
        self.gate = gate or make_gate(predictor)
        self.id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.wake = asyncio.Event()

    async def run_forever(self) -> None:
        """Claim and process jobs until cancelled; sweep expired results now and then."""
        last_sweep = 0.0
        while True:
            try:
                if time.time() - last_sweep > 60:
                    last_sweep = time.time()
                    await asyncio.to_thread(self.results.sweep, self.store)
                job = None
                if getattr(self.predictor, "synth", None) is not None:
                    job = await asyncio.to_thread(self.store.claim, self.id, time.time(), self.settings.job_lease_s)
                if job is not None:
                    await self.process(job)
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job worker error; retrying")
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), self.settings.job_poll_s)
            except TimeoutError:
                pass

    async def process(self, job: JobRecord) -> None:
        """Run one claimed job to its end (or until the lease is lost)."""
        log.info("job %s claimed by %s (takeovers %d)", job.id, self.id, job.takeovers)
        died = job.state == RUNNING  # the stored record says a run was under way: that worker was killed or crashed
        job.state, job.started_at, job.worker = RUNNING, job.started_at or time.time(), self.id
        lost = asyncio.Event()
        beat = asyncio.create_task(self._heartbeat(job.id, lost))
        metrics.JOBS_RUNNING.inc()
        try:
            if died and self._count_death(job):  # a job that kills its worker must not crash-loop every restart
                await self._finish(job, FAILED, error=job.error)
                return
            if not await asyncio.to_thread(self.store.save, job, self.id):
                raise LeaseLost(job.id)
            # the job's stored voices are its owner's (voice_access); its own budget (jobs have their own audio caps)
            with acting_for(job.owner), budget.scoped(RequestBudget.from_settings(self.settings)):
                await self._run(job, lost)
        except LeaseLost:
            log.info("job %s: lease lost or cancelled; %s stops", job.id, self.id)
            return
        except (InvalidInput, SynthesisFailed, ValueError) as exc:  # the job itself is bad: no retry
            await self._finish(job, FAILED, error=str(getattr(exc, "reason", exc)))
        except Exception as exc:  # anything else may be transient (store, disk, a codec): bounded retries
            log.warning("job %s: run %d failed", job.id, job.attempts + 1, exc_info=True)
            await self._retry_or_fail(job, f"{type(exc).__name__}: {exc}"[:500])
        finally:
            metrics.JOBS_RUNNING.dec()
            beat.cancel()
            await asyncio.to_thread(self.store.release, job.id, self.id)

    def _count_death(self, job: JobRecord) -> bool:
        """Count a run whose worker died as a failed attempt; True when that was the last one allowed."""
        job.attempts += 1
        reason = "the worker running it stopped without finishing (killed or crashed)"
        job.error = f"attempt {job.attempts} failed ({reason}); retrying"
        if job.attempts < self.settings.job_max_attempts:
            return False
        job.error = f"failed {job.attempts} times; last error: {reason}"
        return True

    async def _retry_or_fail(self, job: JobRecord, reason: str) -> None:
        """Count a failed run; queue the job again behind every ready job after a doubling backoff, or mark it
        failed with the reason once TTS_JOB_MAX_ATTEMPTS runs failed (a poison job never blocks the queue)."""
        job.attempts += 1
        if job.attempts >= self.settings.job_max_attempts:
            await self._finish(job, FAILED, error=f"failed {job.attempts} times; last error: {reason}")
            return
        delay = self.settings.job_retry_backoff_s * 2 ** (job.attempts - 1)
        job.state, job.error, job.updated_at = (
            QUEUED,
            f"attempt {job.attempts} failed ({reason}); retrying",
            time.time(),
        )
        if not await asyncio.to_thread(self.store.defer, job, self.id, time.time() + delay):
            raise LeaseLost(job.id)
        log.info("job %s: retry %d in %.1f s", job.id, job.attempts, delay)

    async def _heartbeat(self, job_id: str, lost: asyncio.Event) -> None:
        lease = self.settings.job_lease_s
        while not lost.is_set():
            await asyncio.sleep(lease / 3)
            try:
                if not await asyncio.to_thread(self.store.heartbeat, job_id, self.id, time.time(), lease):
                    lost.set()
            except Exception:  # store unreachable: keep trying until the lease runs out
                log.warning("job %s: heartbeat failed", job_id, exc_info=True)

    async def _run(self, job: JobRecord, lost: asyncio.Event) -> None:
        params = SynthesisParameters(**job.params)
        plan = await asyncio.to_thread(self._ensure_plan, job, params)
        sentences = [spoken_segments([load_chunk(c)]) for c in plan]
        done = await asyncio.to_thread(self.store.done_chunks, job.id)
        self._progress(job, done, sentences)
        meter = _RateMeter()
        for index, data in enumerate(plan):
            if index in done:
                continue
            segments = load_chunk(data)
            with job_scheduling(job.id):
                audio = await self._chunk_audio(
                    segments, params, f"{job.id}/{index}", lost, functools.partial(self._sentence_done, job, meter)
                )
            flac = await run_low(encode_chunk, audio)  # nice 19: beside interactive work
            chunk = StoredChunk(index, flac, chunk_chars(segments), audio.duration_s)
            if lost.is_set():
                raise LeaseLost(job.id)
            if await asyncio.to_thread(self.store.put_chunk, job.id, chunk):  # a no-op if that index exists already
                job.attempts = 0  # progress: attempts count failed runs in a row without a stored chunk
            done = await asyncio.to_thread(self.store.done_chunks, job.id)
            self._progress(job, done, sentences)
            if job.audio_s_done > self.settings.job_max_audio_s:
                raise ValueError(
                    f"the audio exceeds the job limit of {self.settings.job_max_audio_s:.0f} s (TTS_JOB_MAX_AUDIO_S) "
                    f"after {job.chars_done} of {job.chars_total} characters"
                )
            if not await asyncio.to_thread(self.store.save, job, self.id):
                raise LeaseLost(job.id)
        if len(done) < len(plan):
            raise LeaseLost(job.id)
        label = voice_label(self.predictor.synth, job.params.get("voice"))
        watch = quality.OutputWatch(label, job.chars_total)  # the result's audio-quality checks
        rendered = await run_low(self.results.render, self.store, job, None, watch)
        job.duration_s, job.sample_rate, job.result_bytes = rendered.duration_s, rendered.sample_rate, rendered.size
        job.chapters = rendered.chapters
        await self._finish(job, COMPLETED)

    async def _sentence_done(self, job: JobRecord, meter: _RateMeter, segment: Segment) -> None:
        """Count one synthesized sentence of the chunk in progress, measure the speed (for the ETA) and store the
        record, so the status moves sentence by sentence (the chunk's own count replaces this once it is stored)."""
        job.sentences_done += 1
        job.chars_done = min(job.chars_done + len(segment.text), job.chars_total)
        job.chars_per_s = meter.add(len(segment.text))
        job.updated_at = time.time()
        if not await asyncio.to_thread(self.store.save, job, self.id):
            raise LeaseLost(job.id)

    def _ensure_plan(self, job: JobRecord, params: SynthesisParameters) -> list[Any]:
        """The stored plan, or a new one (the first plan stored wins, so every worker follows the same one)."""
        stored = self.store.plan(job.id)
        if stored is None:  # jobs submitted before plans were stored at submission
            chapters = [SourceChapter(**c) for c in json.loads(self.store.source(job.id) or "[]")]
            language = self.predictor.synth.catalog.resolve(params.voice, params.language, params.gender)[1]
            chunks, marks = plan_job(chapters, params, language, self.settings)
            self.store.set_plan(job.id, stored_plan(chunks, marks))
            stored = self.store.plan(job.id) or {"chunks": [], "chapters": []}
        if not stored["chunks"]:  # a job queued before submission refused texts that speak nothing
            raise ValueError(NOTHING_TO_SPEAK)
        job.chapters = [Chapter(**c) for c in stored["chapters"]]
        job.chunks_total = len(stored["chunks"])
        job.sentences_total = spoken_segments([load_chunk(c) for c in stored["chunks"]])
        job.chars_total = sum(chunk_chars(load_chunk(c)) for c in stored["chunks"])
        return stored["chunks"]

    @staticmethod
    def _progress(job: JobRecord, done: dict[int, tuple[int, float]], sentences: list[int]) -> None:
        """Progress from the stored chunks (`sentences`: the spoken segments of each chunk of the plan)."""
        job.chunks_done = len(done)
        job.sentences_done = sum(sentences[i] for i in done if i < len(sentences))
        job.chars_done = sum(c for c, _ in done.values())
        job.audio_s_done = sum(s for _, s in done.values())
        job.updated_at = time.time()

    async def _chunk_audio(
        self,
        segments: list[Segment],
        params: SynthesisParameters,
        rid: str,
        lost: asyncio.Event,
        on_sentence: Callable[[Segment], Awaitable[None]] | None = None,
    ) -> AudioBuffer:
        """Synthesize a chunk segment by segment, each behind the gate, and assemble it like `render`;
        `on_sentence` is awaited after each spoken segment.

        Called inside `job_scheduling`: the engine calls wait in the shared scheduler at the lowest priority."""
        synth = self.predictor.synth
        spoken = [s for s in segments if s.text.strip()]
        audios: list[AudioBuffer] = []
        for segment in spoken:
            await self.gate.wait()
            if lost.is_set():
                raise LeaseLost(rid)
            audios += await synth.synthesize([segment], params, rid)
            if on_sentence is not None:
                await on_sentence(segment)
        labels = synth.voice_labels(spoken, params) if spoken else []
        rate = (
            audios[0].sample_rate
            if audios
            else synth.catalog.resolve(params.voice, params.language, params.gender)[0].sample_rate
        )
        assembly = Assembly(rate, leveler(params, self.results.output))  # per sentence, as `render` does
        speech, voices = iter(audios), iter(labels)
        for segment in segments:
            has_text = bool(segment.text.strip())
            assembly.add(segment, next(speech) if has_text else None, next(voices) if has_text else None)
        return assembly.audio()

    def _count(self, job: JobRecord, status: str) -> None:
        """The job in tts_requests_total, once, when it ends (the worker is its entry, as the gateway is a request's)."""
        tally = metrics.open_tally("jobs")
        synth = getattr(self.predictor, "synth", None)
        fmt = str(job.params.get("format") or SynthesisParameters.model_fields["format"].default)
        metrics.note_synthesis(self.predictor.name, voice_label(synth, job.params.get("voice")), fmt)
        tally.close(status)

    async def _finish(self, job: JobRecord, state: str, error: str | None = None) -> None:
        job.state, job.error = state, error
        job.finished_at = job.updated_at = time.time()
        job.expires_at = job.finished_at + self.settings.job_result_ttl_s
        if not await asyncio.to_thread(self.store.save, job, self.id):
            raise LeaseLost(job.id)
        log.info("job %s %s (%s)", job.id, state, error or f"{job.duration_s or 0:.1f} s of audio")
        if state != CANCELLED:  # a cancelled job was not a synthesis
            self._count(job, "200" if state == COMPLETED else "500")
        if job.webhook_url and state != CANCELLED:
            self.webhooks.schedule(self.store, job)
