"""Plain REST API beside V2: /synthesize, /batch_synthesize, /voices, /config, /health, /ready, /live.

Errors are 400 ``{"error": "<field>: <problem>; <allowed values>"}`` (503 while the model is not loaded).
"""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

from fastapi import APIRouter, Query, Request
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
from tts_predictor.api.health import system_health
from tts_predictor.api.ws import STATS
from tts_predictor.audio.encode import MEDIA_TYPES, media_type, output_rate
from tts_predictor.audio.output import OutputConfig
from tts_predictor.audio.post import PostOptions
from tts_predictor.auth import key_from, key_valid
from tts_predictor.engines.piper_hub import available_voices
from tts_predictor.errors import FieldError, error_body
from tts_predictor.pipeline.front import Front
from tts_predictor.pipeline.stages import plan_charged, render
from tts_predictor.plugins import API_VERSION
from tts_predictor.plugins.loader import report as plugin_report
from tts_predictor.protocol.v2 import SynthesisParameters
from tts_predictor.schemas import EMOTIONS, STYLES
from tts_predictor.settings import DEFAULT_CACHE_DIR
from tts_predictor.voices.catalog import match_language

OPTION_NAMES = {"energy": "volume_db"}
"""REST option name -> SynthesisParameters field."""
PUBLIC_NAMES = {v: k for k, v in OPTION_NAMES.items()}


def _describe(name: str) -> str | None:
    info = SynthesisParameters.model_fields.get(OPTION_NAMES.get(name, name))
    return info.description if info else None


class SynthesisOptions(PostOptions):
    """Synthesis options (post-processing fields from `PostOptions`); bounds are those of the V2 parameters (checked there, reported here by name)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"voice": "en_US-joe-medium", "speed": 1.1, "format": "mp3"}]},
    )

    language: str | None = Field(None, description=_describe("language"))
    voice: str | dict[str, Any] | None = Field(None, description=_describe("voice"))
    gender: str | None = Field(None, description=_describe("gender"))
    speed: float | None = Field(None, description=_describe("speed"))
    pitch: float | None = Field(None, description=_describe("pitch"))
    energy: float | None = Field(None, description="Loudness change in dB, -40 to 20 (the V2 parameter volume_db).")
    emotion: str | None = Field(None, description=_describe("emotion"))
    style: str | None = Field(None, description=_describe("style"))
    format: str | None = Field(None, description=_describe("format"))
    sample_rate: int | None = Field(None, description=_describe("sample_rate"))
    bitrate: str | None = Field(None, description=_describe("bitrate"))
    ssml: bool | None = Field(None, description=_describe("ssml"))
    normalize: bool | None = Field(None, description=_describe("normalize"))
    lexicons: str | None = Field(None, description=_describe("lexicons"))
    effects: str | None = Field(None, description=_describe("effects"))
    loudness_lufs: float | None = Field(None, description=_describe("loudness_lufs"))
    stream: bool = Field(False, description="Send audio while it is synthesized, sentence by sentence (chunked).")
    adaptive_bitrate: bool = Field(
        True,
        description="Streamed mp3/opus: lower the bitrate while the client reads slower than real time, raise "
        "it back when it catches up (quality events with Accept: application/x-ndjson).",
    )


class SynthesizeRequest(BaseModel):
    """Body of POST /synthesize."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"text": "Hello from tts-predictor.", "options": {"format": "wav"}},
                {
                    "text": '<speak>Slow <break time="300ms"/> and steady.</speak>',
                    "options": {"format": "mp3", "speed": 0.9, "energy": -3, "stream": True},
                },
            ]
        },
    )

    text: str = Field(..., description="Plain text or SSML (<speak>...</speak>).")
    options: SynthesisOptions = Field(default_factory=SynthesisOptions)  # type: ignore[arg-type]  # pydantic


class BatchItem(BaseModel):
    """One text of a batch."""

    model_config = ConfigDict(extra="forbid")

    text: str
    options: SynthesisOptions = Field(default_factory=SynthesisOptions)  # type: ignore[arg-type]  # pydantic


class BatchRequest(BaseModel):
    """Body of POST /batch_synthesize."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"items": [{"text": "First."}, {"text": "Second, faster.", "options": {"speed": 1.3}}], "format": "wav"}
            ]
        },
    )

    items: list[BatchItem] = Field(..., description="Texts to synthesize (at most TTS_MAX_BATCH_SIZE).")
    format: str | None = Field(None, description="Default format for items whose options name none.")


def _allowed(model: type[BaseModel]) -> str:
    return ", ".join(model.model_fields)


class RestRoute(MappedErrorRoute):
    """Answers body validation and input errors of its endpoint as 400 (`error_json`'s shape for its path)."""

    def error_response(self, exc: Exception) -> Response | None:
        if isinstance(exc, RequestValidationError):
            return self.error(400, _validation_message(exc))
        if isinstance(exc, FieldError):  # OpenAI's shape names the field (`param`)
            return JSONResponse(status_code=400, content=error_body(self.path, 400, str(exc.reason), exc.param))
        if isinstance(exc, InvalidInput):
            return self.error(400, str(exc.reason))
        if isinstance(exc, ModelNotReady):
            return self.error(503, str(getattr(exc, "reason", exc)), {"Retry-After": "5"})
        return None


_MODELS: dict[str, type[BaseModel]] = {"options": SynthesisOptions, "items": BatchItem}


def _validation_message(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "invalid request body"
    err = errors[0]
    if err.get("type") == "json_invalid":
        return "request body is not valid JSON"
    loc = [str(p) for p in err.get("loc", ()) if p != "body"]
    where = ".".join(p if not p.isdigit() else f"[{p}]" for p in loc).replace(".[", "[") or "body"
    message = f"{where}: {err.get('msg', 'invalid')}"
    if err.get("type") == "extra_forbidden":
        parent = next((_MODELS[p] for p in reversed(loc[:-1]) if p in _MODELS), None)
        fields = (
            _allowed(parent) if parent else _allowed(SynthesizeRequest) + " (or items, format for /batch_synthesize)"
        )
        return f"{where}: unknown field; allowed: {fields}"
    if "input" in err and not isinstance(err["input"], (dict, list)) and err.get("type") != "missing":
        message += f" (got {err['input']!r})"
    hint = _describe(loc[-1]) if loc else None
    return message + (f"; {hint}" if hint else "")


def to_params(
    options: SynthesisOptions, *, prefix: str = "options.", default_format: str | None = None
) -> SynthesisParameters:
    """SynthesisParameters from REST options (energy -> volume_db)."""
    values = options.model_dump(exclude={"stream", "energy", "adaptive_bitrate"})
    values["volume_db"] = options.energy
    values["format"] = options.format or default_format
    return make_params(values, prefix=prefix, names=PUBLIC_NAMES)


async def _render_all(
    jobs: list[tuple[str, SynthesisParameters, Any, str]], synth: Any, rid: str, output: OutputConfig
) -> list[Any]:
    # every item planned (and its pauses charged to the request budget) before any is synthesized
    plans = [plan_charged(text, params, synth, language, output) for text, params, _voice, language in jobs]
    return [
        await render(text, params, synth, language=language, request_id=f"{rid}/{i}", output=output, segments=segments)
        for i, ((text, params, _voice, language), segments) in enumerate(zip(jobs, plans))
    ]


def build_router(predictor: Front) -> APIRouter:
    """The REST routes for `predictor`."""
    router = APIRouter(route_class=RestRoute, default_response_class=JSONResponse, tags=["rest"])

    @router.post(
        "/synthesize",
        response_class=Response,
        responses={
            200: {
                "content": {t: {} for t in ("audio/wav", "audio/mpeg", "audio/ogg", "audio/flac", "audio/pcm")},
                "description": "The audio file (chunked when options.stream is true).",
            }
        },
        summary="Synthesize one text",
    )
    async def synthesize(body: SynthesizeRequest, request: Request) -> Response:
        started = time.perf_counter()
        synth = synth_of(predictor)
        check_text(body.text, predictor.settings.max_text_chars)
        params = to_params(body.options)
        choice = synth.catalog.choose(params.voice, params.language, params.gender)
        voice, language = choice.voice, choice.language
        rid = request_id(request)
        headers = {
            "X-Language": language,
            "X-Text-Language": params.language or language,
            "X-Voice": voice.id,
            **choice.headers(),  # X-Voice-Quality; X-Language-Substituted when another variant speaks
        }
        if body.options.stream:
            prepared = prepare_stream(
                body.text, params, synth, rid, body.options.adaptive_bitrate, output=predictor.output, route="stream"
            )
            headers["X-Processing-Time"] = f"{time.perf_counter() - started:.3f}"  # until the stream starts
            headers["X-Streamed"] = "true"
            spoken = [(s.voice, s.language) for s in prepared.segments if s.text.strip()]
            headers.update(span_headers(spoken, voice.id, language))
            rate = params.sample_rate or voice.sample_rate
            content_type = media_type(params.format, rate)
            if "application/x-ndjson" in request.headers.get("accept", ""):  # audio and events in one stream
                start = {
                    "format": params.format,
                    "sample_rate": output_rate(params.format, rate),
                    "content_type": content_type,
                    "voice": voice.id,
                    "language": language,
                    **choice.fields(),
                }
                lines = await admitted_stream(
                    predictor.admission,
                    prepared.ndjson(start),
                    predictor.settings.stream_stall_timeout_s,
                    not voice.realtime,
                )
                return StreamingResponse(lines, media_type="application/x-ndjson", headers=headers)
            stream = await admitted_stream(
                predictor.admission, prepared.body(), predictor.settings.stream_stall_timeout_s, not voice.realtime
            )
            return StreamingResponse(stream, media_type=content_type, headers=headers)
        result = await predictor.admission.run(
            render(body.text, params, synth, language=language, request_id=rid, output=predictor.output),
            slow=not voice.realtime,
        )
        spans = [(t.get("voice"), t.get("language")) for t in result.timings]
        headers.update(span_headers(spans, voice.id, language))
        headers.update(
            {
                "X-Processing-Time": f"{time.perf_counter() - started:.3f}",
                "X-Duration": f"{result.duration_s:.3f}",
                "X-Sample-Rate": str(result.sample_rate),
            }
        )
        return Response(result.data, media_type=result.content_type, headers=headers)

    @router.post("/batch_synthesize", summary="Synthesize several texts; JSON with base64 audio files")
    async def batch_synthesize(body: BatchRequest, request: Request) -> dict[str, Any]:
        started = time.perf_counter()
        synth = synth_of(predictor)
        limit = predictor.settings.max_batch_size
        if not body.items:
            raise FieldError("items", 'items: is empty; give at least one {"text": ...}')
        if len(body.items) > limit:
            raise FieldError("items", f"items: {len(body.items)} items; the limit is {limit} (TTS_MAX_BATCH_SIZE)")
        if body.format is not None and body.format not in MEDIA_TYPES:
            raise FieldError(
                "format", f"format: unsupported format '{body.format[:40]}'; use one of: {', '.join(MEDIA_TYPES)}"
            )
        jobs, choices = [], []
        for i, item in enumerate(body.items):
            check_text(item.text, predictor.settings.max_text_chars, f"items[{i}].text")
            if item.options.stream:
                raise FieldError(f"items[{i}].options.stream", f"items[{i}].options.stream: not available in a batch")
            params = to_params(item.options, prefix=f"items[{i}].options.", default_format=body.format)
            choices.append(synth.catalog.choose(params.voice, params.language, params.gender))
            jobs.append((item.text, params, choices[-1].voice, choices[-1].language))
        rid = request_id(request)
        slow = any(not voice.realtime for _text, _params, voice, _language in jobs)
        results = await predictor.admission.run(
            _render_all(jobs, synth, rid, predictor.output), slow=slow
        )  # one admission for the batch
        out = []
        for i, ((_text, params, voice, language), result, choice) in enumerate(zip(jobs, results, choices)):
            out.append(
                {
                    "index": i,
                    "audio": base64.b64encode(result.data).decode("ascii"),
                    "content_type": result.content_type,
                    "format": params.format,
                    "sample_rate": result.sample_rate,
                    "duration_s": round(result.duration_s, 4),
                    "voice": voice.id,
                    "language": language,
                    **choice.fields(),
                }
            )
        return {"items": out, "processing_time_s": round(time.perf_counter() - started, 3)}

    @router.get("/v1/voices", summary="Voices of the loaded models (optionally only those speaking ?language=)")
    @router.get("/voices", summary="Voices of the loaded models (optionally only those speaking ?language=)")
    async def voices(
        language: str | None = Query(None, description="Language code such as en-US or en."),
        available: str | None = Query(
            None, description="true: also list Piper's catalogue (`available`: what can be fetched, and installed)."
        ),
    ) -> dict[str, Any]:
        if available not in (None, "true", "false", "1", "0"):
            raise FieldError("available", "available: use true or false")
        catalog = synth_of(predictor).catalog
        chosen = [v for v in catalog.visible() if language is None or match_language(language, list(v.languages))]
        body = {
            "default_voice": catalog.default.id,
            "languages": catalog.languages(),
            "voices": [v.to_dict() for v in chosen],
            "emotions": list(EMOTIONS),
            "styles": list(STYLES),
        }
        if available in ("true", "1"):
            listed = await asyncio.to_thread(available_voices, predictor.settings)  # may read the index: blocking
            body["available"] = [v for v in listed if language is None or match_language(language, [v["language"]])]
        return body

    @router.get("/config", summary="Effective settings (secrets redacted)")
    async def config() -> dict[str, Any]:
        return predictor.settings.redacted()

    @router.get("/v1/plugins", summary="Plugins found at start: name, kind, package, version, status, error")
    async def plugins() -> dict[str, Any]:
        return {"api_version": API_VERSION, "plugins": plugin_report()}

    @router.get("/health", summary="Model state (details with an API key when keys are set; 503 until loaded)")
    async def health(request: Request) -> JSONResponse:
        synth = getattr(predictor, "synth", None)
        state = predictor.status()
        status = "ok" if synth is not None and predictor.ready else ("failed" if state["load_error"] else "loading")
        body: dict[str, Any] = {"status": status, "model_loaded": synth is not None, "ready": state["ready"]}
        keys = predictor.api_keys
        if not keys or key_valid(
            key_from(request.headers.get("authorization"), request.headers.get("x-api-key")), keys
        ):
            body.update(
                {
                    **state,
                    "system": system_health(predictor.settings.cache_dir or str(DEFAULT_CACHE_DIR)),
                    "websocket_streams": STATS.to_dict(),
                }
            )
        return JSONResponse(status_code=200 if status == "ok" else 503, content=body)

    @router.get("/ready", summary="200 when the default model is loaded and warmed up, else 503; each model's state")
    async def ready() -> JSONResponse:
        ok = bool(predictor.ready and getattr(predictor, "synth", None) is not None)
        states: dict[str, str] = getattr(predictor, "model_states", dict)()
        return JSONResponse(
            status_code=200 if ok else 503, content={"ready": ok, **({"models": states} if len(states) > 1 else {})}
        )

    @router.get("/live", summary="200 while the process serves requests")
    async def live() -> dict[str, bool]:
        return {"live": True}

    return router
