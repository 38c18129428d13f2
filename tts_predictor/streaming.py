"""Incremental synthesis: one sentence at a time, so the first audio is ready after the first sentence.

`plan_segments` validates and plans a text (every 400 on bad input happens here, before any audio);
`stream_plan` synthesizes the planned segments one at a time and yields ``(audio, event)`` pairs;
`stream_segments` does both. `ChunkEncoder` turns the yielded buffers into one continuous encoded
stream (wav/pcm/G.711 in-process, lossy formats and flac through one ffmpeg process per stream).

Cancellation: the generators hold no work in flight between segments, so a consumer that stops
iterating (client gone, task cancelled) stops synthesis at the next segment.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import numpy as np
from kserve.errors import InvalidInput

from .audio import dsp
from .audio.assemble import Assembly, SegmentPieces
from .audio.buffer import AudioBuffer
from .audio.encode import check_format, encode, encode_stream, output_rate, wav_stream_header
from .pipeline import PAUSE_ONLY_RATE, SegmentSynthesizer
from .protocol.v2 import SynthesisParameters
from .text.plan import lexicon_names, plan_text
from .text.segments import Segment
from .text.split import split_sentences

log = logging.getLogger(__name__)

INLINE_FORMATS = ("wav", "pcm", "mulaw", "alaw")
"""Formats encoded chunk by chunk in-process; the others go through ffmpeg."""
WHOLE_FILE_FORMATS = ("flac",)
"""Formats `encode_chunks` encodes once at the end: a FLAC written to a pipe has no total length in its header."""
ENCODER_WAIT_S = 60.0


def _sentences(segment: Segment, language: str) -> Iterator[Segment]:
    """Split one planned segment into sentence segments (mark and pause-before on the first, pause-after on the last)."""
    if not segment.text.strip():
        yield segment
        return
    parts = split_sentences(segment.text, segment.language or language) or [segment.text]
    for i, part in enumerate(parts):
        first, last = i == 0, i == len(parts) - 1
        yield replace(
            segment,
            text=part,
            mark=segment.mark if first else None,
            pause_before_s=segment.pause_before_s if first else 0.0,
            pause_after_s=segment.pause_after_s if last else 0.0,
        )


def plan_segments(text: str, params: SynthesisParameters, synth: SegmentSynthesizer, *, language: str) -> list[Segment]:
    """Sentence-level plan of `text`; raises InvalidInput subclasses (bad SSML, voice, language, empty text)."""
    lang = params.language or language
    segments = [
        s for planned in plan_text(text, language=lang, ssml=params.ssml, normalize=params.normalize,
                                   lexicons=lexicon_names(params.lexicons))
        for s in _sentences(planned, lang)
    ]
    spoken = [s for s in segments if s.text.strip()]
    if not spoken and not any(s.pause_before_s or s.pause_after_s for s in segments):
        raise InvalidInput("text: nothing to speak after SSML parsing and normalization")
    resolve = getattr(synth, "requests", None)
    if resolve is not None and spoken:
        resolve(spoken, params)  # unknown voices/languages are 400s before any audio is sent
    return segments


def _request_dsp(buf: AudioBuffer, params: SynthesisParameters) -> AudioBuffer:
    """Request-wide pitch, loudness, gain and output rate, applied per chunk."""
    if params.pitch:
        buf = dsp.pitch_shift(buf, params.pitch)
    if params.loudness_lufs is not None and len(buf.samples) and np.any(buf.samples):
        buf = dsp.loudness_normalize(buf, params.loudness_lufs)
    if params.volume_db:
        buf = dsp.apply_gain_db(buf, params.volume_db)
    if params.sample_rate and params.sample_rate != buf.sample_rate:
        buf = dsp.resample(buf, params.sample_rate)
    return buf


async def stream_plan(
    segments: list[Segment], params: SynthesisParameters, synth: SegmentSynthesizer, *, request_id: str = "-",
    offset_s: float = 0.0,
) -> AsyncIterator[tuple[AudioBuffer, dict[str, Any] | None]]:
    """Synthesize `segments` one at a time; yield each one's audio (pauses included) and its event.

    A voice that streams (XTTS) yields a sentence in several pieces: every piece but the last comes with
    event None, the last with the segment's event.

    Events: ``{"type": "segment", "text", "start_s", "end_s", "marks": [{"name", "time_s"}]}`` with times in
    seconds from the start of the stream (`offset_s` is where this text starts). Pure pauses have ``text: ""``.
    Leading pauses wait for the first speech, whose sample rate they take.
    """
    rate: int | None = None
    pending: list[Segment] = []
    offset = offset_s

    def emit(segment: Segment, speech: AudioBuffer | None) -> tuple[AudioBuffer, dict[str, Any]]:
        nonlocal offset
        assert rate is not None
        part = Assembly(rate)
        part.add(segment, speech)
        audio = part.audio()
        marks = [{"name": m["name"], "time_s": round(offset + float(m["time_s"]), 4)} for m in part.marks]
        event = {
            "type": "segment",
            "text": segment.text if speech is not None else "",
            "start_s": round(offset, 4),
            "end_s": round(offset + audio.duration_s, 4),
            "marks": marks,
        }
        offset += audio.duration_s
        return _request_dsp(audio, params), event

    for segment in segments:
        if not segment.text.strip():
            if rate is None:
                pending.append(segment)
            else:
                yield emit(segment, None)
            continue
        if _streams(synth, segment, params):
            pieces: SegmentPieces | None = None
            async for chunk in synth.stream(segment, params, request_id):  # type: ignore[attr-defined]
                if rate is None:
                    rate = chunk.sample_rate
                    for waiting in pending:
                        yield emit(waiting, None)
                    pending.clear()
                pieces = pieces or SegmentPieces(segment, rate, offset)
                yield _request_dsp(pieces.add(chunk), params), None
            if pieces is not None:
                audio, event = pieces.end()
                offset = event["end_s"]
                yield _request_dsp(audio, params), event
            continue
        speech = (await synth.synthesize([segment], params, request_id))[0]
        if rate is None:
            rate = speech.sample_rate
            for waiting in pending:
                yield emit(waiting, None)
            pending.clear()
        yield emit(segment, speech)
    if pending:
        rate = params.sample_rate or PAUSE_ONLY_RATE
        for waiting in pending:
            yield emit(waiting, None)


def _streams(synth: SegmentSynthesizer, segment: Segment, params: SynthesisParameters) -> bool:
    """True when the segment's voice makes audio in chunks within one sentence (XTTS) and `synth` runs it here."""
    if not hasattr(synth, "stream") or not hasattr(synth, "requests"):
        return False
    return "streaming" in synth.requests([segment], params)[0].voice.capabilities


async def stream_segments(
    text: str, params: SynthesisParameters, synth: SegmentSynthesizer, *, language: str, request_id: str = "-"
) -> AsyncIterator[tuple[AudioBuffer, dict[str, Any] | None]]:
    """Plan `text` and synthesize it sentence by sentence, yielding ``(audio, event)`` per segment."""
    segments = plan_segments(text, params, synth, language=language)
    async for item in stream_plan(segments, params, synth, request_id=request_id):
        yield item


_DONE = object()


class ChunkEncoder:
    """Encodes AudioBuffers fed one at a time into one continuous stream of `fmt`.

    `feed` returns the bytes that are ready (for wav/pcm/G.711: exactly this chunk's, so audio always
    precedes the events sent after it); `finish` returns the rest. The first chunk fixes the sample rate.
    """

    def __init__(self, fmt: str, *, bitrate: str | None = None):
        self.fmt = check_format(fmt)
        self.bitrate = bitrate
        self.rate: int | None = None
        self._inline = fmt in INLINE_FORMATS
        self._inbox: queue.Queue[Any] = queue.Queue()
        self._out: list[bytes] = []
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    async def feed(self, buf: AudioBuffer) -> bytes:
        """Add one chunk; the encoded bytes available now."""
        if self.rate is None:
            self.rate = output_rate(self.fmt, buf.sample_rate)
            if self._inline:
                header = wav_stream_header(self.rate) if self.fmt == "wav" else b""
                return header + self._encode_inline(buf)
            self._thread = threading.Thread(target=self._run, name=f"stream-encoder-{self.fmt}", daemon=True)
            self._thread.start()
        if self._inline:
            return self._encode_inline(buf)
        self._idle.clear()
        self._inbox.put(buf)
        await asyncio.to_thread(self._idle.wait, ENCODER_WAIT_S)  # until ffmpeg has taken this chunk
        return self._take()

    async def finish(self) -> bytes:
        """End the stream; the remaining bytes (a 0-length stream gets a valid empty file where one exists)."""
        if self.rate is None:
            if self._inline:
                return wav_stream_header(output_rate(self.fmt, PAUSE_ONLY_RATE)) if self.fmt == "wav" else b""
            self.rate = output_rate(self.fmt, PAUSE_ONLY_RATE)
            self._thread = threading.Thread(target=self._run, name=f"stream-encoder-{self.fmt}", daemon=True)
            self._thread.start()
        if self._thread is not None:
            self._inbox.put(_DONE)
            await asyncio.to_thread(self._thread.join, ENCODER_WAIT_S)
        return self._take()

    def abort(self) -> None:
        """Stop without waiting (the consumer is gone); the encoder thread ends on its own."""
        if self._thread is not None:
            self._inbox.put(_DONE)

    def _encode_inline(self, buf: AudioBuffer) -> bytes:
        assert self.rate is not None
        buf = dsp.resample(buf, self.rate)
        if not len(buf.samples):
            return b""
        return encode(buf, "pcm" if self.fmt == "wav" else self.fmt)

    def _chunks(self) -> Iterator[AudioBuffer]:
        while True:
            self._idle.set()
            item = self._inbox.get()
            if item is _DONE:
                return
            yield item

    def _run(self) -> None:
        try:
            for data in encode_stream(self._chunks_with_rate(), self.fmt, bitrate=self.bitrate):
                with self._lock:
                    self._out.append(data)
        except BaseException as exc:  # reported by _take
            self._error = exc
        finally:
            self._idle.set()

    def _chunks_with_rate(self) -> Iterator[AudioBuffer]:
        assert self.rate is not None
        first = True
        for buf in self._chunks():
            first = False
            yield dsp.resample(buf, self.rate)
        if first:  # nothing was fed: give ffmpeg a zero-length chunk at the stream's rate
            yield AudioBuffer(np.zeros(0, np.float32), self.rate)

    def _take(self) -> bytes:
        if self._error is not None:
            raise self._error
        with self._lock:
            data, self._out = b"".join(self._out), []
        return data


async def encode_chunks(
    chunks: AsyncIterator[AudioBuffer], fmt: str, *, bitrate: str | None = None
) -> AsyncIterator[bytes]:
    """Encode an async stream of buffers into one stream of `fmt`; the encoder is released if the consumer leaves."""
    if fmt in WHOLE_FILE_FORMATS:
        parts = [buf async for buf in chunks]
        rate = parts[0].sample_rate if parts else PAUSE_ONLY_RATE
        whole = AudioBuffer.concat([dsp.resample(p, rate) for p in parts]) if parts else AudioBuffer.silence(0, rate)
        yield await asyncio.to_thread(encode, whole, fmt, bitrate=bitrate)
        return
    encoder = ChunkEncoder(fmt, bitrate=bitrate)
    finished = False
    try:
        async for buf in chunks:
            if data := await encoder.feed(buf):
                yield data
        finished = True
        if data := await encoder.finish():
            yield data
    finally:
        if not finished:
            encoder.abort()
