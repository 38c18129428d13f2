"""Pieces shared by the convenience APIs: parameter validation with clear messages, predictor access, streaming bodies."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from kserve.errors import InvalidInput
from pydantic import ValidationError

from tts_predictor import budget, metrics
from tts_predictor.audio import post
from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.audio.output import DEFAULT_OUTPUT, OutputConfig
from tts_predictor.audio.post import PostOptions
from tts_predictor.errors import EngineNotReady, FieldError, TextTooLong, error_body
from tts_predictor.pipeline.admission import AdmissionController
from tts_predictor.pipeline.bitrate import BitrateChange, adapter_for
from tts_predictor.pipeline.front import Front
from tts_predictor.pipeline.stages import LocalSynthesizer, voice_label
from tts_predictor.pipeline.stream import check_stream_format, encode_chunks, plan_segments, stream_plan
from tts_predictor.protocol.v2 import SynthesisParameters
from tts_predictor.text.segments import Segment

log = logging.getLogger(__name__)


def synth_of(predictor: Front) -> LocalSynthesizer:
    """The predictor's synthesizer, or 503 while the model is not loaded."""
    if getattr(predictor, "synth", None) is None:
        raise EngineNotReady(predictor.name)
    return predictor.synth


def request_id(request: Request | None) -> str:
    """The caller's x-request-id, or a new one."""
    rid = request.headers.get("x-request-id") if request is not None else None
    return rid or uuid.uuid4().hex[:16]


def _field_hint(field: str) -> str:
    info = SynthesisParameters.model_fields.get(field)
    return f"; {info.description}" if info and info.description else ""


def describe_error(exc: ValidationError, prefix: str = "", names: Mapping[str, str] | None = None) -> FieldError:
    """First pydantic error as a FieldError naming the field (`names` maps internal to public names)."""
    err = exc.errors()[0]
    loc = [str(p) for p in err.get("loc", ()) if p != "body"]
    message = err["msg"].removeprefix("Value error, ")
    if not loc and message.partition(":")[0] in SynthesisParameters.model_fields:  # a model validator's "voice: ..."
        field, _, message = message.partition(":")
        return FieldError(f"{prefix}{field}", f"{prefix}{field}:{message}")
    field = loc[-1] if loc else ""
    public = (names or {}).get(field, field)
    where = ".".join([*loc[:-1], public]) if loc else "body"
    where = f"{prefix}{where}" if prefix else where
    got = f" (got {err['input']!r})" if "input" in err and not isinstance(err["input"], dict) else ""
    return FieldError(where, f"{where}: {message}{got}{_field_hint(field)}")


def make_params(
    values: dict[str, Any], *, prefix: str = "", names: Mapping[str, str] | None = None
) -> SynthesisParameters:
    """Validate synthesis options through SynthesisParameters (bounds are defined once, there)."""
    try:
        return SynthesisParameters(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        raise describe_error(exc, prefix, names) from None


SPAN_HEADER_LIMIT = 20
"""Most distinct voices / languages listed in the X-Voices / X-Languages headers."""


def span_headers(
    spans: list[tuple[str | None, str | None]], voice: str, language: str, prefix: str = "X-"
) -> dict[str, str]:
    """``X-Voices`` / ``X-Languages``: the distinct voices and languages of the spoken spans in order (more than
    one when the text switches language, per-sentence detection or SSML); `voice`/`language` fill the gaps."""
    voices = list(dict.fromkeys(v or voice for v, _ in spans))[:SPAN_HEADER_LIMIT] or [voice]
    languages = list(dict.fromkeys(lang or language for _, lang in spans))[:SPAN_HEADER_LIMIT] or [language]
    return {f"{prefix}Voices": ",".join(voices), f"{prefix}Languages": ",".join(languages)}


def check_text(text: str, max_chars: int, field: str = "text") -> str:
    """Non-empty and within the configured limit."""
    if not isinstance(text, str) or not text.strip():
        raise FieldError(field, f"{field}: is empty; give the text to speak")
    if len(text) > max_chars:
        raise TextTooLong(f"{field}: {len(text)} characters; the limit is {max_chars} (TTS_MAX_TEXT_CHARS)")
    budget.current().charge_text(len(text), field)
    return text


def default_language(synth: LocalSynthesizer, params: SynthesisParameters) -> str:
    """Language for normalization when the request names none: the resolved voice's."""
    return synth.catalog.resolve(params.voice, params.language, params.gender)[1]


class PreparedStream:
    """A validated, planned request whose audio is produced while the body is sent."""

    def __init__(
        self,
        segments: list[Segment],
        params: SynthesisParameters,
        synth: LocalSynthesizer,
        rid: str,
        text: str | None = None,
        adaptive: bool = True,
        output: OutputConfig = DEFAULT_OUTPUT,
    ):
        self.segments, self.params, self.synth, self.request_id, self.text = segments, params, synth, rid, text
        self.output = output
        self.adaptive = adaptive
        """Network-adaptive bitrate for mp3/opus (`adaptive_bitrate`); changes come as ``quality`` events."""
        self.events: list[dict[str, Any]] = []
        self.started = time.perf_counter()

    async def buffers(self) -> AsyncIterator[AudioBuffer]:
        async for buf, event in stream_plan(
            self.segments,
            self.params,
            self.synth,
            request_id=self.request_id,
            source_text=self.text,
            output=self.output,
        ):
            if event is not None:  # None: a piece of a sentence the model streams (XTTS)
                self.events.append(event)
            yield buf

    async def body(self) -> AsyncIterator[bytes]:
        """Encoded bytes; synthesis stops when the client disconnects (the generator is closed)."""
        try:
            adapter = adapter_for(self.params.format, self.params.bitrate, self.adaptive)
            async for data in encode_chunks(
                self.buffers(),
                self.params.format,
                bitrate=self.params.bitrate,
                adapter=adapter,
                on_change=self._quality,
                output=self.output,
            ):
                yield data
        except InvalidInput:
            raise
        except Exception:
            log.exception("streamed synthesis failed (request id %s)", self.request_id)
            raise

    def _quality(self, change: BitrateChange, at_s: float) -> None:
        log.info(
            "stream %s: bitrate %s -> %s (%s, client ~%s kbit/s)",
            self.request_id,
            change.previous,
            change.bitrate,
            change.reason,
            change.client_kbps and round(change.client_kbps),
        )
        self.events.append(change.event(at_s))

    async def ndjson(self, start: dict[str, Any]) -> AsyncIterator[bytes]:
        """NDJSON lines: `start`, then ``{"type": "audio", "audio": <base64>}`` and each segment's event after its
        audio, then ``{"type": "end", "duration_s"}`` (``{"type": "error", "message"}`` if synthesis fails)."""
        yield _line({"type": "start", **start})
        sent = 0
        try:
            async for data in self.body():
                yield _line({"type": "audio", "audio": base64.b64encode(data).decode("ascii")})
                for event in self.events[sent:]:
                    yield _line(event)
                sent = len(self.events)
        except Exception as exc:  # the response has started: report in-band (body() logged it)
            reason = exc.reason if isinstance(exc, InvalidInput) else f"synthesis failed (request id {self.request_id})"
            yield _line({"type": "error", "message": str(reason)})
            return
        for event in self.events[sent:]:
            yield _line(event)
        ends = [e["end_s"] for e in self.events if e["type"] == "segment"]
        yield _line({"type": "end", "duration_s": ends[-1] if ends else 0.0})


def _line(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def refuse_post_in_stream(params: SynthesisParameters) -> None:
    """Post-processing needs the whole audio (trims, fades, ducking): 400 on streamed routes."""
    if post.wanted(params):
        names = [n for n in post.POST_FIELDS if getattr(params, n) != PostOptions.model_fields[n].default]
        raise FieldError(
            names[0],
            f"{names[0]}: post-processing options ({', '.join(post.POST_FIELDS)}) are not "
            "available on streamed responses; request the whole file (no stream) or use a job",
        )


def prepare_stream(
    text: str,
    params: SynthesisParameters,
    synth: LocalSynthesizer,
    rid: str,
    adaptive: bool = True,
    output: OutputConfig = DEFAULT_OUTPUT,
    route: str | None = None,
) -> PreparedStream:
    """Plan and validate now (so errors are 400s before the response starts); the synthesis is noted for
    tts_requests_total under `route` (None: the entry's route), counted with the request's status when it ends."""
    refuse_post_in_stream(params)
    check_stream_format(params.format)
    segments = plan_segments(text, params, synth, language=default_language(synth, params))
    model = getattr(synth, "model_label", "tts")
    metrics.note_synthesis(model, voice_label(synth, params.voice), params.format, route)
    return PreparedStream(segments, params, synth, rid, text, adaptive, output)


class _Release:
    """Gives an admission slot back once, from the stream's end or from its garbage collection."""

    def __init__(self, admission: AdmissionController, slow: bool = False):
        self.admission, self.done, self.slow = admission, False, slow

    def __call__(self) -> None:
        if not self.done:
            self.done = True
            self.admission.release(self.slow)


async def admitted_stream(
    admission: AdmissionController, body: AsyncIterator[bytes], stall_s: float | None = None, slow: bool = False
) -> AsyncIterator[bytes]:
    """Take an admission slot now (429 / 504 before the response starts), hold it while `body` streams.

    The slot is released when the stream ends, fails or the client goes away; if the response never starts
    iterating (a disconnect before the first byte), when the generator is collected; and when a chunk handed out
    is not taken within `stall_s` (the client stopped reading: its send blocks, and the gateway abandons it).
    """
    await admission.acquire_within_deadline(slow)  # slow: a voice far slower than real time (admission.py)
    release = _Release(admission, slow)

    async def stream() -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        try:
            async for chunk in body:
                watchdog = loop.call_later(stall_s, release) if stall_s else None
                try:
                    yield chunk
                finally:
                    if watchdog is not None:
                        watchdog.cancel()
                if release.done:
                    return  # the slot went while the client stalled: no more synthesis for this stream
        finally:
            release()

    generator = stream()
    weakref.finalize(generator, release)
    return generator


def error_json(path: str, status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """An error answer for a route at `path`: OpenAI's shape on /v1, KServe's elsewhere (`errors.error_body`)."""
    return JSONResponse(status_code=status, content=error_body(path, status, message), headers=headers)


class MappedErrorRoute(APIRoute):
    """An APIRoute whose endpoint errors become responses in the API's own error shape (`error_response`)."""

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        """An error answer in this route's shape (`error_json`)."""
        return error_json(self.path, status, message, headers)

    def error_response(self, exc: Exception) -> Response | None:
        """The response for `exc`, or None to let kserve's handlers deal with it."""
        raise NotImplementedError

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:  # mapped below; anything unmapped is re-raised unchanged
                response = self.error_response(exc)
                if response is None:
                    raise
                return response

        return route
