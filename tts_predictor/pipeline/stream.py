"""Incremental synthesis: one sentence at a time, so the first audio is ready after the first sentence.

`plan_segments` validates and plans a text (every 400 on bad input happens here, before any audio);
`stream_plan` synthesizes the planned segments one at a time and yields ``(audio, event)`` pairs;
`stream_segments` does both. `ChunkEncoder` turns the yielded buffers into one continuous encoded
stream (one in-process encoder per stream, see `audio.stream_encoder`).

Cancellation: the generators hold no work in flight between segments, so a consumer that stops
iterating (client gone, task cancelled) stops synthesis at the next segment.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from tts_predictor import budget
from tts_predictor.audio import dsp, quality
from tts_predictor.audio.assemble import Assembly, SegmentPieces
from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.audio.codecs.stream import RAW_FORMATS, StreamEncoder, bitrate_adaptable
from tts_predictor.audio.encode import PLUGIN_FORMATS, check_format, output_rate
from tts_predictor.audio.output import DEFAULT_OUTPUT, OutputConfig, effect_chain, leveler, stream_dsp
from tts_predictor.errors import UnsupportedFormat
from tts_predictor.pipeline.bitrate import BitrateAdapter, BitrateChange
from tts_predictor.pipeline.limits import check_audio_s, max_audio_s, pauses_s
from tts_predictor.pipeline.request_plan import plan_request
from tts_predictor.pipeline.stages import PAUSE_ONLY_RATE, SegmentSynthesizer, voice_label
from tts_predictor.pipeline.word_events import WordEvents
from tts_predictor.protocol.v2 import SynthesisParameters
from tts_predictor.text.segments import Segment

log = logging.getLogger(__name__)

INLINE_FORMATS = RAW_FORMATS
"""Formats cheap enough to encode on the event loop; compressed ones encode in a worker thread."""
SLICE_S = 0.5
"""Compressed formats are fed to their encoder in slices this long, so bytes leave before a sentence is encoded."""


def plan_segments(text: str, params: SynthesisParameters, synth: SegmentSynthesizer, *, language: str) -> list[Segment]:
    """Sentence-level plan of `text`; raises InvalidInput subclasses (bad SSML, voice, language, empty text)."""
    segments = plan_request(text, params, language, sentences=True, catalog=getattr(synth, "catalog", None))
    spoken = [s for s in segments if s.text.strip()]
    check_audio_s(pauses_s(segments), max_audio_s(synth))
    resolve = getattr(synth, "requests", None)
    if resolve is not None and spoken:
        resolve(spoken, params)  # unknown voices/languages are 400s before any audio is sent
    return segments


async def stream_plan(
    segments: list[Segment],
    params: SynthesisParameters,
    synth: SegmentSynthesizer,
    *,
    request_id: str = "-",
    offset_s: float = 0.0,
    source_text: str | None = None,
    source_offset: int = 0,
    output: OutputConfig = DEFAULT_OUTPUT,
) -> AsyncIterator[tuple[AudioBuffer, dict[str, Any] | None]]:
    """Synthesize `segments` one at a time; yield each one's audio (pauses included) and its event.

    A voice that streams (XTTS) yields a sentence in several pieces: every piece but the last comes with
    event None, the last with the segment's event.

    Events: ``{"type": "segment", "text", "start_s", "end_s", "marks": [{"name", "time_s"}], "words": [...]}``
    with times in seconds from the start of the stream (`offset_s` is where this text starts). Pure pauses
    have ``text: ""``. Leading pauses wait for the first speech, whose sample rate they take. Words
    (``{"text", "spoken", "start_s", "end_s", "char_start", "char_end"}``) come where the engine reports word
    times; offsets index `source_text` (the text `segments` were planned from) plus `source_offset`.
    """
    rate: int | None = None
    pending: list[tuple[int, Segment]] = []
    offset = offset_s
    word_events = WordEvents(source_text, segments)
    spend = budget.current()
    chars = sum(len(s.text.strip()) for s in segments)
    watch = quality.OutputWatch(voice_label(synth, params.voice), chars)  # recorded when the stream ends
    level = leveler(params, output)
    chain = effect_chain(params)  # one per stream: the effects' state carries across chunks

    def emit(index: int, segment: Segment, speech: AudioBuffer | None) -> tuple[AudioBuffer, dict[str, Any]]:
        nonlocal offset
        assert rate is not None
        part = Assembly(rate, level)
        part.add(segment, speech)
        audio = part.audio()
        spend.charge_audio(audio.duration_s)  # the request's (or WebSocket session's) total; ends the stream
        marks = [{"name": m["name"], "time_s": round(offset + float(str(m["time_s"])), 4)} for m in part.marks]
        words = word_events.words(index, speech, offset + segment.pause_before_s)
        for word in words:
            if word["char_start"] is not None:
                word["char_start"] += source_offset
                word["char_end"] += source_offset
        event = {
            "type": "segment",
            "text": segment.text if speech is not None else "",
            "start_s": round(offset, 4),
            "end_s": round(offset + audio.duration_s, 4),
            "marks": marks,
            "words": words,
        }
        offset += audio.duration_s
        return stream_dsp(audio, params, output, chain, watch), event

    for index, segment in enumerate(segments):
        if not segment.text.strip():
            if rate is None:
                pending.append((index, segment))
            else:
                yield emit(index, segment, None)
            continue
        if _streams(synth, segment, params):
            pieces: SegmentPieces | None = None
            async for chunk in synth.stream(segment, params, request_id):  # type: ignore[attr-defined]
                if rate is None:
                    rate = chunk.sample_rate
                    for waiting in pending:
                        yield emit(*waiting, None)
                    pending.clear()
                pieces = pieces or SegmentPieces(segment, rate, offset, level)
                spend.charge_audio(chunk.duration_s)
                yield stream_dsp(pieces.add(chunk), params, output, chain, watch), None
            if pieces is not None:
                audio, event = pieces.end()
                offset = event["end_s"]
                yield stream_dsp(audio, params, output, chain, watch), event
            continue
        speech = (await synth.synthesize([segment], params, request_id))[0]
        if rate is None:
            rate = speech.sample_rate
            for waiting in pending:
                yield emit(*waiting, None)
            pending.clear()
        yield emit(index, segment, speech)
        check_audio_s(offset - offset_s, max_audio_s(synth), "speech and pauses")  # ends the stream
    if pending:
        rate = params.sample_rate or PAUSE_ONLY_RATE
        for waiting in pending:
            yield emit(*waiting, None)
    watch.finish()


def _streams(synth: SegmentSynthesizer, segment: Segment, params: SynthesisParameters) -> bool:
    """True when the segment's voice makes audio in chunks within one sentence (XTTS) and `synth` runs it here."""
    if not hasattr(synth, "stream") or not hasattr(synth, "requests"):
        return False
    return "streaming" in synth.requests([segment], params)[0].voice.capabilities


async def stream_segments(
    text: str,
    params: SynthesisParameters,
    synth: SegmentSynthesizer,
    *,
    language: str,
    request_id: str = "-",
    output: OutputConfig = DEFAULT_OUTPUT,
) -> AsyncIterator[tuple[AudioBuffer, dict[str, Any] | None]]:
    """Plan `text` and synthesize it sentence by sentence, yielding ``(audio, event)`` per segment."""
    segments = plan_segments(text, params, synth, language=language)
    async for item in stream_plan(segments, params, synth, request_id=request_id, source_text=text, output=output):
        yield item


def check_stream_format(fmt: str) -> str:
    """`fmt` if it streams: every built-in format does; a plugin's format is for whole files (400 otherwise)."""
    check_format(fmt)
    if fmt in PLUGIN_FORMATS:
        raise UnsupportedFormat(f"format: '{fmt}' (added by a plugin) is for whole files only, not streams")
    return fmt


class ChunkEncoder:
    """Async face of a `StreamEncoder`: buffers fed one at a time become one continuous stream of `fmt`.

    `feed` returns the bytes that are ready (all of this chunk's audio but a codec's look-ahead, so audio
    precedes the events sent after it); `finish` returns the rest. The first chunk fixes the sample rate.
    Compressed formats encode in a worker thread, so the event loop keeps serving other requests.
    """

    def __init__(self, fmt: str, *, bitrate: str | None = None, output: OutputConfig | None = DEFAULT_OUTPUT):
        self.fmt = check_stream_format(fmt)
        self.bitrate = bitrate
        self.rate: int | None = None
        self._encoder: StreamEncoder | None = None
        self._output = output
        """Tags the stream's first bytes (`OutputConfig.tag_head`); None: untagged."""
        self._started = False

    def _head(self, data: bytes) -> bytes:
        """The first non-empty bytes of the stream carry the declaration; later bytes pass unchanged."""
        if self._started or not data:
            return data
        self._started = True
        return data if self._output is None else self._output.tag_head(data, self.fmt)

    def _open(self, rate: int) -> StreamEncoder:
        if self._encoder is None:
            self.rate = output_rate(self.fmt, rate)
            self._encoder = StreamEncoder(self.fmt, self.rate, bitrate=self.bitrate)
        return self._encoder

    async def feed(self, buf: AudioBuffer) -> bytes:
        """Add one chunk; the encoded bytes available now."""
        encoder = self._open(buf.sample_rate)
        if self.fmt in INLINE_FORMATS:
            return self._head(encoder.feed(buf))
        return self._head(await asyncio.to_thread(encoder.feed, buf))

    async def feed_slices(self, buf: AudioBuffer) -> AsyncIterator[tuple[bytes, float]]:
        """Like `feed`, but a compressed chunk is encoded in `SLICE_S` slices, each slice's bytes yielded at once
        (a sentence's first bytes leave after encoding half a second of it, not all of it), with the seconds of
        audio they hold (bytes that are empty are not yielded; their seconds go with the next)."""
        self._open(buf.sample_rate)
        assert self.rate is not None
        buf = dsp.resample(buf, self.rate)  # whole, before slicing: resampling slices would click at their edges
        step = max(1, int(SLICE_S * buf.sample_rate))
        if self.fmt in INLINE_FORMATS or len(buf.samples) <= step:
            if data := await self.feed(buf):
                yield data, buf.duration_s
            return
        seconds = 0.0
        for start in range(0, len(buf.samples), step):
            piece = AudioBuffer(buf.samples[start : start + step], buf.sample_rate)
            seconds += piece.duration_s
            if data := await self.feed(piece):
                yield data, seconds
                seconds = 0.0

    @property
    def adaptable(self) -> bool:
        """Whether `set_bitrate` can change the bitrate mid-stream (mp3/opus on the sndfile backend)."""
        return self._encoder.adaptable if self._encoder is not None else bitrate_adaptable(self.fmt)

    async def set_bitrate(self, bitrate: str) -> bytes:
        """Encode from now on at `bitrate`; the bytes to send first (mp3: the end of the stream so far)."""
        self.bitrate = bitrate
        if self._encoder is None:
            return b""
        return self._head(await asyncio.to_thread(self._encoder.set_bitrate, bitrate))

    async def finish(self) -> bytes:
        """End the stream; the remaining bytes (a 0-length stream gets a valid empty file where one exists)."""
        encoder = self._open(PAUSE_ONLY_RATE)
        if self.fmt in INLINE_FORMATS:
            return self._head(encoder.finish())
        return self._head(await asyncio.to_thread(encoder.finish))

    def abort(self) -> None:
        """Release the encoder (the consumer is gone); waits for a chunk being encoded in a worker thread."""
        if self._encoder is not None:
            self._encoder.close()


async def encode_chunks(
    chunks: AsyncIterator[AudioBuffer],
    fmt: str,
    *,
    bitrate: str | None = None,
    adapter: BitrateAdapter | None = None,
    on_change: Callable[[BitrateChange, float], None] | None = None,
    output: OutputConfig | None = DEFAULT_OUTPUT,
) -> AsyncIterator[bytes]:
    """Encode an async stream of buffers into one stream of `fmt`; the encoder is released if the consumer leaves.

    With an `adapter`, the time each yielded piece takes the consumer (the send waiting on a slow client) is
    timed and the bitrate follows the adapter's decisions; `on_change(change, at_s)` hears of each.
    """
    encoder = ChunkEncoder(fmt, bitrate=bitrate, output=output)
    adapter = adapter if adapter is not None and encoder.adaptable else None
    finished, at_s = False, 0.0
    try:
        async for buf in chunks:
            # switch between sentences: an mp3 joint (encoder delay) falls into the pause
            if adapter is not None and (change := adapter.take()) is not None:
                if on_change is not None:
                    on_change(change, at_s)
                if tail := await encoder.set_bitrate(change.bitrate):
                    yield tail
            async for data, seconds in encoder.feed_slices(buf):
                started = time.perf_counter()
                yield data
                at_s += seconds
                if adapter is not None:
                    adapter.sent(seconds, len(data), time.perf_counter() - started)
        finished = True
        if data := await encoder.finish():
            yield data
    finally:
        if not finished:
            encoder.abort()
