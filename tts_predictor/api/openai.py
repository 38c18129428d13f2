"""OpenAI-compatible speech API: ``POST /v1/audio/speech`` and ``GET /v1/models``.

Works with the official `openai` SDK (``OpenAI(base_url="http://host:8080/v1", api_key="unused")``).
OpenAI voice names map onto this model's voices (see `openai_voice`); a real voice id is also accepted.
Errors use OpenAI's shape: ``{"error": {"message", "type": "invalid_request_error", "param", "code"}}``.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from kserve.errors import InvalidInput, ModelNotReady
from pydantic import BaseModel, ConfigDict, Field

from tts_predictor.api.common import (
    MappedErrorRoute,
    admitted_stream,
    check_text,
    make_params,
    prepare_stream,
    request_id,
    span_headers,
    synth_of,
)
from tts_predictor.api.instructions import instruction_presets
from tts_predictor.audio.encode import media_type
from tts_predictor.engines.slow import slow_request
from tts_predictor.errors import FieldError, openai_body
from tts_predictor.pipeline.front import Front
from tts_predictor.protocol.v2 import Speed
from tts_predictor.text.segments import Segment
from tts_predictor.voices.catalog import VoiceCatalog
from tts_predictor.voices.openai_names import OPENAI_VOICES, map_name, parse_table

__all__ = ["OPENAI_VOICES", "build_router", "openai_voice"]

VOICE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,39}$")
"""A name that looks like an OpenAI voice's: mapped like one (`voices.openai_names.map_name`)."""
OPENAI_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
OPENAI_PCM_RATE = 24000
"""OpenAI's ``pcm`` is 24 kHz signed 16-bit little-endian mono; clients assume that rate."""
MODEL_ALIASES = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts")
"""Model names OpenAI clients send by default; all are served by the loaded model."""


class SpeechRequest(BaseModel):
    """Body of ``POST /v1/audio/speech`` (OpenAI's create-speech request)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"model": "tts-1", "input": "Hello from tts-predictor.", "voice": "alloy", "response_format": "mp3"},
                {
                    "model": "tts",
                    "input": "Faster, as raw PCM.",
                    "voice": "nova",
                    "response_format": "pcm",
                    "speed": 1.5,
                },
            ]
        },
    )

    model: str = Field(..., min_length=1, description=f"Any of {', '.join(MODEL_ALIASES)} or this server's model name.")
    input: str = Field(..., description="Text to speak (plain text, or SSML starting with <speak>).")
    voice: str | dict[str, Any] = Field(
        "alloy",
        description=f"An OpenAI voice ({', '.join(OPENAI_VOICES)}), a voice id of this model (GET /voices), or "
        '{"id", "language", "gender"} choosing one by language and gender.',
    )
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] = Field(
        "mp3", description="Audio format; pcm is 24 kHz 16-bit little-endian mono."
    )
    speed: Speed = 1.0
    instructions: str | None = Field(
        None,
        max_length=4096,
        description="Naming an emotion or style preset (e.g. 'sound happy', 'newscast') applies it; otherwise ignored "
        "(header X-TTS-Instructions says which).",
    )
    effects: str | None = Field(
        None, max_length=200, description="Extension: comma-separated audio effects added by plugins (GET /v1/plugins)."
    )
    stream_format: Literal["audio", "sse"] = Field(
        "audio", description="audio: the audio bytes, streamed; sse: server-sent events with base64 audio deltas."
    )


def openai_error(
    status: int, message: str, param: str | None = None, code: str | None = None, kind: str = "invalid_request_error"
) -> JSONResponse:
    """An error in OpenAI's shape (`errors.openai_body`), with this route's `param`, `code` and `type`."""
    body = openai_body(status, message, param, code)
    body["error"]["type"] = kind
    return JSONResponse(status_code=status, content=body)


class OpenAIRoute(MappedErrorRoute):
    """Answers validation and input errors of its endpoint in OpenAI's error shape."""

    def error_response(self, exc: Exception) -> Response | None:
        if isinstance(exc, RequestValidationError):
            return _validation_error(exc)
        if isinstance(exc, FieldError):
            return openai_error(400, _reason(exc), exc.param, "invalid_value")
        if isinstance(exc, InvalidInput):
            return openai_error(400, _reason(exc), None, "invalid_value")
        if isinstance(exc, ModelNotReady):
            answer = openai_error(503, _reason(exc), None, "model_not_ready", "server_error")
            answer.headers["Retry-After"] = "5"  # as the app-wide 503 (server/error_handlers.py)
            return answer
        return None


def _validation_error(exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if errors and errors[0].get("type") == "json_invalid":
        return openai_error(400, "request body is not valid JSON", None, "invalid_json")
    if errors and errors[0].get("type") == "extra_forbidden":
        name = str(errors[0]["loc"][-1])
        allowed = ", ".join(SpeechRequest.model_fields)
        return openai_error(
            400, f"Unrecognized request argument supplied: {name}; allowed: {allowed}", name, "unknown_parameter"
        )
    err = errors[0] if errors else {}
    loc = [str(p) for p in err.get("loc", ()) if p != "body"]
    param = ".".join(loc) or None
    detail = f"{param or 'body'}: {err.get('msg', 'invalid')}"
    if "input" in err and not isinstance(err["input"], (dict, list)) and err.get("type") != "missing":
        detail += f" (got {err['input']!r})"
    info = SpeechRequest.model_fields.get(loc[0]) if loc else None
    if info is not None and info.description:
        detail += f"; {info.description}"
    return openai_error(
        400, detail, param, "invalid_value" if err.get("type") != "missing" else "missing_required_parameter"
    )


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "reason", None) or exc)


def openai_voice(catalog: VoiceCatalog, voice: str | dict[str, Any], table: str = "") -> str:
    """This model's voice id for an OpenAI voice name or a real voice id (`{"id": ...}` objects too); `table` is
    TTS_OPENAI_VOICES."""
    name = voice.get("id") if isinstance(voice, dict) else voice
    if not isinstance(name, str) or not name:
        raise FieldError("voice", 'voice: must be a voice name or {"id": name}')
    if catalog.usable(name) is not None or catalog.discover(name) is not None:
        return name  # a voice of this model, or one the on-demand hook brings (a Piper catalogue voice)
    if VOICE_NAME.match(name):  # an OpenAI name, or one it may add: same name, same voice, on every replica
        return map_name(catalog, name, parse_table(table))
    ids = [v.id for v in catalog.visible()][:20]
    raise FieldError(
        "voice",
        f"voice: '{name[:60]}' is not a voice name (letters, digits, '_', '-', '.'; at most 40); use an "
        f"OpenAI voice ({', '.join(OPENAI_VOICES)}) or a voice of this model ({', '.join(ids)})",
    )


def speech_voice(catalog: VoiceCatalog, voice: str | dict[str, Any], table: str) -> tuple[str | dict[str, Any], bool]:
    """The `voice` parameter for SynthesisParameters and whether it came from an OpenAI name (detection may then
    switch voices per sentence); an object without "id" chooses by language and gender."""
    if isinstance(voice, dict) and voice.get("id") is None:
        return voice, False
    name = voice.get("id") if isinstance(voice, dict) else voice
    mapped = openai_voice(catalog, voice, table)
    alias = mapped != name
    return ({**voice, "id": mapped} if isinstance(voice, dict) else mapped), alias


def segment_headers(segments: list[Segment], voice: str, language: str) -> dict[str, str]:
    """X-TTS-Voices / X-TTS-Languages of a planned text (`common.span_headers`)."""
    spans = [(s.voice, s.language) for s in segments if s.text.strip()]
    return span_headers(spans, voice, language, prefix="X-TTS-")


def build_router(predictor: Front) -> APIRouter:
    """The OpenAI-compatible routes for `predictor`."""
    router = APIRouter(route_class=OpenAIRoute, default_response_class=JSONResponse, tags=["openai"])

    @router.post(
        "/v1/audio/speech",
        response_class=Response,
        responses={200: {"content": {f"audio/{f}": {} for f in ("mpeg", "ogg", "aac", "flac", "wav", "pcm")}}},
        summary="OpenAI-compatible text to speech",
    )
    async def speech(body: SpeechRequest, request: Request) -> Response:
        synth = synth_of(predictor)
        check_text(body.input, predictor.settings.max_text_chars, "input")
        voice, alias = speech_voice(synth.catalog, body.voice, predictor.settings.openai_voices)
        fmt = body.response_format
        delivery = instruction_presets(body.instructions)
        params = make_params(
            {
                "voice": voice,
                "speed": body.speed,
                "format": fmt,
                "sample_rate": OPENAI_PCM_RATE if fmt == "pcm" else None,
                "effects": body.effects,
                **delivery,
            },
            names={"format": "response_format"},
        )
        params._voice_alias = alias
        chosen, language = synth.catalog.resolve(params.voice, params.language, params.gender)
        rid = request_id(request)
        prepared = prepare_stream(body.input, params, synth, rid, output=predictor.output)
        headers = {
            "X-TTS-Voice": chosen.id,
            "Cache-Control": "no-store",
            **synth.catalog.choose(chosen.id, None).headers(),
            **segment_headers(prepared.segments, chosen.id, language),
        }
        if body.instructions:
            headers["X-TTS-Instructions"] = ",".join(f"{k}={v}" for k, v in delivery.items()) or "ignored"
        audio = await admitted_stream(
            predictor.admission,
            prepared.body(),
            predictor.settings.stream_stall_timeout_s,
            slow_request(synth.catalog, chosen.id, None),
        )
        if body.stream_format == "sse":
            return StreamingResponse(
                _sse(audio, prepared.events, len(body.input)), media_type="text/event-stream", headers=headers
            )
        content_type = media_type(fmt, OPENAI_PCM_RATE if fmt == "pcm" else None)
        return StreamingResponse(audio, media_type=content_type, headers=headers)

    @router.get("/v1/models", summary="Models (OpenAI list shape, plus kserve's V1 'models' names)")
    async def models() -> dict[str, Any]:
        created = int(time.time())
        names = [predictor.name, *[a for a in MODEL_ALIASES if a != predictor.name]]
        return {
            "object": "list",
            "data": [{"id": n, "object": "model", "created": created, "owned_by": "tts-predictor"} for n in names],
            "models": [predictor.name],  # what kserve's V1 GET /v1/models answers, kept for V1 clients
        }

    return router


def _event(message: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(message).encode() + b"\n\n"


async def _sse(audio: AsyncIterator[bytes], events: list[dict[str, Any]], input_chars: int) -> AsyncIterator[bytes]:
    """OpenAI's speech SSE events: speech.audio.delta (base64 audio) ..., then speech.audio.done; after each
    segment's audio, our extension ``speech.audio.segment`` (text, start_s, end_s, words with original offsets)."""
    sent = 0
    async for data in audio:
        yield _event({"type": "speech.audio.delta", "audio": base64.b64encode(data).decode()})
        for event in events[sent:]:
            yield _event({**event, "type": "speech.audio.segment"})
        sent = len(events)
    for event in events[sent:]:
        yield _event({**event, "type": "speech.audio.segment"})
    usage = {"input_tokens": input_chars, "output_tokens": 0, "total_tokens": input_chars}
    yield _event({"type": "speech.audio.done", "usage": usage})
