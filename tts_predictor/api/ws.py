"""WebSocket ``/v1/stream``: incremental text in (e.g. LLM tokens), audio out sentence by sentence.

Client -> server (JSON text frames):
  ``{"type": "config", "voice", "language", "speed", "format": pcm|mp3|opus|wav, "sample_rate", ...}``
      optional, first message only;
  ``{"type": "text", "text": "..."}`` any number; a complete sentence is synthesized as soon as one is buffered;
  ``{"type": "flush"}`` synthesize whatever is buffered now;
  ``{"type": "close"}`` flush, finish the audio stream, send ``end`` and close (1000).
Server -> client:
  ``{"type": "start", "format", "sample_rate", "voice", "language", "request_id"}`` once;
  binary frames: one continuous audio stream of ``format`` (pcm: s16le mono; wav: a streaming header first);
  ``{"type": "segment", "text", "start_s", "end_s", "marks", "words"}`` after each sentence's audio (words:
      ``{"text", "spoken", "start_s", "end_s", "char_start", "char_end"}``, offsets into all text sent so far);
  ``{"type": "quality", "bitrate", "previous", "reason", "client_kbps", "at_s"}`` when the mp3/opus bitrate
      changes because the client reads slower than real time or caught up again (`adaptive_bitrate`);
  ``{"type": "end", "duration_s", "segments"}`` then close 1000;
  ``{"type": "error", "message"}`` then close: 1003 for non-JSON or binary frames, 1008 for invalid messages,
  1011 when synthesis fails.
A client that disconnects cancels the remaining synthesis.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from dataclasses import asdict, dataclass
from typing import Any

from fastapi import WebSocket
from kserve.errors import InvalidInput, ModelNotReady
from starlette.websockets import WebSocketDisconnect, WebSocketState

from tts_predictor import metrics
from tts_predictor.api.common import make_params, request_id, synth_of
from tts_predictor.audio.encode import EncoderUnavailable, output_rate
from tts_predictor.engines.slow import slow_request
from tts_predictor.errors import DeadlineExceeded, Overloaded
from tts_predictor.pipeline.bitrate import BitrateAdapter, adapter_for
from tts_predictor.pipeline.front import Front
from tts_predictor.pipeline.stages import voice_label
from tts_predictor.pipeline.stream import ChunkEncoder, plan_segments, stream_plan
from tts_predictor.protocol.v2 import SynthesisParameters
from tts_predictor.text.plan import CHUNK_CHARS
from tts_predictor.text.split import split_sentences

log = logging.getLogger(__name__)

WS_FORMATS = ("pcm", "mp3", "opus", "wav")
CONFIG_FIELDS = (
    "voice",
    "language",
    "speed",
    "format",
    "sample_rate",
    "bitrate",
    "pitch",
    "volume_db",
    "normalize",
    "emotion",
    "style",
    "adaptive_bitrate",
)
MESSAGE_TYPES = ("config", "text", "flush", "close")
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_POLICY_VIOLATION = 1008
CLOSE_GOING_AWAY = 1001
CLOSE_INTERNAL_ERROR = 1011
CLOSE_TRY_AGAIN_LATER = 1013
"""Overload: no engine slot free and the queue full (429 elsewhere), or none within the deadline."""
_SENTENCE_END = re.compile(r"[.!?;:。！？…][\"'”’»)\]]*\s|\n")
_END = object()


@dataclass
class StreamStats:
    """Process-wide WebSocket stream counters (reported by GET /health)."""

    active: int = 0
    completed: int = 0
    cancelled: int = 0
    segments: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


STATS = StreamStats()


class ProtocolError(Exception):
    """A message the protocol does not allow; closes the socket with `code`."""

    def __init__(self, message: str, code: int = CLOSE_POLICY_VIOLATION):
        super().__init__(message)
        self.message, self.code = message, code


def complete_sentences(buffer: str, language: str) -> tuple[list[str], str]:
    """Split `buffer` into the sentences that are surely complete and the rest that waits for more text."""
    if not _SENTENCE_END.search(buffer):
        if len(buffer) > 2 * CHUNK_CHARS:  # no sentence end in sight: speak it anyway
            cut = buffer.rfind(" ", 0, CHUNK_CHARS) + 1 or CHUNK_CHARS
            return [buffer[:cut]], buffer[cut:]
        return [], buffer
    sentences = split_sentences(buffer, language)
    if len(sentences) < 2:
        return [], buffer
    rest = sentences[-1] + (" " if buffer[-1:].isspace() else "")
    return sentences[:-1], rest


class StreamSession:
    """One WebSocket connection."""

    def __init__(self, ws: WebSocket, predictor: Front):
        self.ws, self.predictor = ws, predictor
        self.params: SynthesisParameters | None = None
        self.language = "en"
        self.buffer = ""
        self.unspoken = ""
        """Text received but not yet matched to a synthesized job (for word offsets); starts at `received_base`."""
        self.received_base = 0
        self.jobs: asyncio.Queue[Any] = asyncio.Queue()
        self.worker: asyncio.Task[None] | None = None
        self.encoder: ChunkEncoder | None = None
        self.adapter: BitrateAdapter | None = None
        self.lock = asyncio.Lock()
        self.offset_s = 0.0
        self.segments = 0
        self.request_id = request_id(None)
        self.received = 0
        self.pending = 0  # utterances queued or being synthesized (the connection is not idle meanwhile)
        self.said = ""
        """Folded tail of the utterances already checked by the blocklist: a phrase split over two is still found."""
        self.active_at = time.monotonic()  # last speech queued or synthesized (the idle timeout counts from it)

    async def send_json(self, message: dict[str, Any]) -> None:
        async with self.lock:
            await self.ws.send_text(json.dumps(message))

    async def send_bytes(self, data: bytes) -> None:
        async with self.lock:
            await self.ws.send_bytes(data)

    async def close(self, code: int, message: str | None = None) -> None:
        """Send an error event (when given) and close; never raises for a socket already gone."""
        with contextlib.suppress(Exception):
            if message is not None:
                await self.send_json({"type": "error", "message": message})
            if self.ws.application_state != WebSocketState.DISCONNECTED:
                await self.ws.close(code)

    async def run(self) -> None:
        await self.ws.accept()
        STATS.active += 1
        try:
            await self._receive_loop()
        except ProtocolError as exc:
            _outcome("400")
            await self._stop_worker()
            await self.close(exc.code, exc.message)
        except (WebSocketDisconnect, RuntimeError):
            await self._stop_worker()
        finally:
            STATS.active -= 1
            if self.encoder is not None and (self.worker is None or not self.worker.done() or self.worker.cancelled()):
                self.encoder.abort()

    async def _stop_worker(self) -> None:
        if self.worker is not None and not self.worker.done():
            self.worker.cancel()
            with contextlib.suppress(BaseException):
                await self.worker
        if self.encoder is not None:
            self.encoder.abort()

    async def _receive_loop(self) -> None:
        idle = self.predictor.settings.ws_idle_timeout_s
        while True:
            message = await self._next_message(idle)
            if message["type"] == "websocket.disconnect":
                if self.worker is not None and not self.worker.done():
                    STATS.cancelled += 1
                    log.info(
                        "stream %s: client disconnected; synthesis cancelled after %d segment(s), %d text(s) unsent",
                        self.request_id,
                        self.segments,
                        self.jobs.qsize(),
                    )
                await self._stop_worker()  # client gone: cancel what is left
                return
            if message.get("text") is None:
                raise ProtocolError("binary frames are not accepted; send JSON text messages", CLOSE_UNSUPPORTED_DATA)
            try:
                data = json.loads(message["text"])
            except ValueError:
                raise ProtocolError("message is not valid JSON", CLOSE_UNSUPPORTED_DATA) from None
            kind = data.get("type") if isinstance(data, dict) else None
            if kind not in MESSAGE_TYPES:
                raise ProtocolError(
                    f"message type {str(kind)[:40]!r} is unknown; use one of: {', '.join(MESSAGE_TYPES)}"
                )
            if kind == "config":
                if self.params is not None:
                    raise ProtocolError("config must be the first message")
                await self._start(data)
                continue
            if self.params is None:
                await self._start({})
            queued = self.pending
            if kind == "text":
                self._add_text(data)
            elif kind == "flush":
                self._queue_buffer()
            if self.pending > queued:  # speech queued: activity (a lone space or an empty flush is not)
                self.active_at = time.monotonic()
            if kind == "close":
                self._queue_buffer()
                self.jobs.put_nowait(_END)
                if self.worker is not None:
                    await asyncio.shield(self.worker)
                return

    async def _next_message(self, idle: float) -> Any:
        """The client's next message; ProtocolError once no speech was queued or synthesized for `idle` seconds.

        Only speech counts as activity: messages that queue nothing (whitespace, empty flushes, a fragment never
        ending its sentence) do not keep a connection, and what it holds, open.
        """
        receive = asyncio.ensure_future(self.ws.receive())
        try:
            while True:
                if self.pending:
                    self.active_at = time.monotonic()  # synthesizing: not idle
                left = idle - (time.monotonic() - self.active_at)
                if left <= 0:
                    raise ProtocolError(
                        f"idle for {idle:g} s (TTS_WS_IDLE_TIMEOUT_S): no speech queued; reconnect", CLOSE_GOING_AWAY
                    )
                done, _ = await asyncio.wait({receive}, timeout=left)
                if done:
                    return receive.result()
        finally:
            if not receive.done():
                receive.cancel()

    async def _start(self, config: dict[str, Any]) -> None:
        unknown = sorted(set(config) - {"type", *CONFIG_FIELDS})
        if unknown:
            raise ProtocolError(f"config: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(CONFIG_FIELDS)}")
        fmt = config.get("format") or "pcm"
        if fmt not in WS_FORMATS:
            raise ProtocolError(
                f"config.format: unsupported format {str(fmt)[:40]!r}; use one of: {', '.join(WS_FORMATS)}"
            )
        adaptive = config.get("adaptive_bitrate", True)
        if not isinstance(adaptive, bool):
            raise ProtocolError("config.adaptive_bitrate: must be true or false")
        try:
            synth = synth_of(self.predictor)
            values = {k: v for k, v in config.items() if k not in ("type", "adaptive_bitrate")}
            params = make_params(values | {"format": fmt, "ssml": False}, prefix="config.")
            choice = synth.catalog.choose(params.voice, params.language, params.gender)
            voice, language = choice.voice, choice.language
        except (InvalidInput, ModelNotReady) as exc:
            raise ProtocolError(str(getattr(exc, "reason", exc))) from None
        rate = params.sample_rate or voice.sample_rate
        self.params = params.model_copy(update={"voice": voice.id, "language": language, "sample_rate": rate})
        self.language = language
        metrics.note_synthesis(synth.model_label, voice_label(synth, voice.id), fmt)  # counted when the socket ends
        self.encoder = ChunkEncoder(fmt, bitrate=params.bitrate, output=self.predictor.output)
        self.adapter = adapter_for(fmt, params.bitrate, adaptive and self.encoder.adaptable)
        start = {
            "type": "start",
            "format": fmt,
            "sample_rate": output_rate(fmt, rate),
            "voice": voice.id,
            "language": language,
            "request_id": self.request_id,
            **choice.fields(),  # quality; the variant spoken and whether it is not the one asked for
        }
        if fmt == "pcm":
            start.update({"encoding": "s16le", "channels": 1})
        await self.send_json(start)
        self.worker = asyncio.create_task(self._work(synth))

    def _add_text(self, data: dict[str, Any]) -> None:
        text = data.get("text")
        if not isinstance(text, str):
            raise ProtocolError('text: "text" must be a string')
        self.received += len(text)
        total = self.predictor.settings.ws_max_text_chars
        if self.received > total:
            raise ProtocolError(
                f"text: more than {total} characters on one connection (TTS_WS_MAX_TEXT_CHARS); reconnect"
            )
        limit = self.predictor.settings.max_text_chars
        if len(self.buffer) + len(text) > limit:
            raise ProtocolError(
                f"text: more than {limit} characters buffered without a sentence end (TTS_MAX_TEXT_CHARS)"
            )
        self.buffer += text
        self.unspoken += text
        ready, self.buffer = complete_sentences(self.buffer, self.language)
        for sentence in ready:
            self.pending += 1
            self.jobs.put_nowait(sentence)

    def _queue_buffer(self) -> None:
        if self.buffer.strip():
            self.pending += 1
            self.jobs.put_nowait(self.buffer)
        self.buffer = ""

    def _locate(self, job: str) -> tuple[str | None, int]:
        """`job` and its offset in all text received on this connection (None if it cannot be found)."""
        core = job.strip()
        index = self.unspoken.find(core) if core else -1
        if index < 0:
            return None, 0
        at = self.received_base + index
        self.received_base = at + len(core)
        self.unspoken = self.unspoken[index + len(core) :]
        return core, at

    async def _send_audio(self, data: bytes, audio_s: float) -> None:
        """Send encoded audio; time the send for the bitrate adapter (its decision waits for the next sentence)."""
        started = time.perf_counter()
        await self.send_bytes(data)
        if self.adapter is not None:
            self.adapter.sent(audio_s, len(data), time.perf_counter() - started)

    async def _switch_bitrate(self) -> None:
        """Apply the adapter's pending decision between sentences and tell the client (``quality`` event)."""
        change = self.adapter.take() if self.adapter is not None else None
        if change is None or self.encoder is None:
            return
        log.info("stream %s: bitrate %s -> %s (%s)", self.request_id, change.previous, change.bitrate, change.reason)
        if tail := await self.encoder.set_bitrate(change.bitrate):
            await self.send_bytes(tail)
        await self.send_json(change.event(self.offset_s))

    async def _work(self, synth: Any) -> None:
        assert self.params is not None and self.encoder is not None
        try:
            while (job := await self.jobs.get()) is not _END:
                try:
                    if synth.blocklist is not None:
                        self.said = synth.blocklist.check_continuation(self.said, job, "text")
                    try:
                        segments = plan_segments(job, self.params, synth, language=self.language)
                    except InvalidInput as exc:
                        if str(exc.reason).startswith("text: nothing to speak"):
                            continue  # e.g. a flush of punctuation only
                        raise
                    source, at = self._locate(job)
                    admission = self.predictor.admission
                    slow = slow_request(synth.catalog, self.params.voice, self.language)
                    await admission.acquire_within_deadline(
                        slow
                    )  # per utterance, so long connections do not hog a slot
                    try:
                        async for buf, event in stream_plan(
                            segments,
                            self.params,
                            synth,
                            request_id=self.request_id,
                            offset_s=self.offset_s,
                            source_text=source,
                            source_offset=at,
                            output=self.predictor.output,
                        ):
                            await self._switch_bitrate()
                            async for data, seconds in self.encoder.feed_slices(buf):
                                await self._send_audio(data, seconds)
                            if event is None:
                                continue  # a piece of a sentence the model streams (XTTS): its event comes with the last
                            self.offset_s = event["end_s"]
                            self.segments += 1
                            STATS.segments += 1
                            await self.send_json(event)
                    finally:
                        admission.release(slow)
                finally:
                    self.pending -= 1
                    self.active_at = time.monotonic()
            if data := await self.encoder.finish():
                await self.send_bytes(data)
            await self.send_json({"type": "end", "duration_s": round(self.offset_s, 4), "segments": self.segments})
            STATS.completed += 1
            await self.close(1000)
        except asyncio.CancelledError:
            raise
        except InvalidInput as exc:
            _outcome("400")
            await self.close(CLOSE_POLICY_VIOLATION, str(exc.reason))
        except (Overloaded, DeadlineExceeded) as exc:
            _outcome("429" if isinstance(exc, Overloaded) else "504")
            await self.close(CLOSE_TRY_AGAIN_LATER, str(exc))
        except EncoderUnavailable as exc:
            _outcome("500")
            log.error("stream %s: %s", self.request_id, exc)
            await self.close(
                CLOSE_INTERNAL_ERROR, f"audio encoding to {self.params.format} failed; request id {self.request_id}"
            )
        except (WebSocketDisconnect, RuntimeError) as exc:
            _outcome("499")
            log.info("stream %s: client went away (%s)", self.request_id, type(exc).__name__)
        except Exception:
            _outcome("500")
            log.exception("stream %s: synthesis failed", self.request_id)
            await self.close(CLOSE_INTERNAL_ERROR, f"synthesis failed; request id {self.request_id}")


def _outcome(status: str) -> None:
    """How the session ended, as an HTTP-like status for tts_requests_total (the gateway counts it at the end)."""
    tally = metrics.current_tally()
    if tally is not None and tally.status is None:
        tally.status = status


async def stream_socket(ws: WebSocket, predictor: Front) -> None:
    """Serve one `/v1/stream` connection."""
    await StreamSession(ws, predictor).run()
