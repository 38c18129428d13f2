"""Stored (cloned) voices: POST /v1/voices, GET /v1/voices/{id}, DELETE /v1/voices/{id}.

Upload as JSON ``{"name", "audio" (base64 audio file), "model"?, "consent"?, "shared"?}`` or as multipart form
fields ``name``, ``file`` and optionally ``model``, ``consent``, ``shared``. A stored voice belongs to the API key
that made it (`voice_access`); ``shared`` (admin keys only) lets every key use it. Errors: 400 bad sample or name,
403 shared without an admin key, 404 unknown voice (or another key's), 409 name taken or store/key quota full,
503 while the model loads; all as ``{"error": message}``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from kserve.errors import InvalidInput, ModelNotReady
from starlette.datastructures import UploadFile

from tts_predictor.api.common import MappedErrorRoute, error_json
from tts_predictor.auth import key_from
from tts_predictor.engines.coqui.engine import CLONE_ID
from tts_predictor.errors import EngineNotReady, FieldError, VoiceConflict, VoiceNotFound
from tts_predictor.pipeline.audio_cache import voice_tag
from tts_predictor.pipeline.front import Front
from tts_predictor.voices.cloning import VoiceCloner
from tts_predictor.voices.consent import consent_record

UPLOAD_FIELDS = ("name", "audio", "model", "consent", "shared")


class VoiceStoreRoute(MappedErrorRoute):
    """Maps the store's errors to 404 / 409 / 400 / 503 (OpenAI's error shape, as on every /v1 route)."""

    def error_response(self, exc: Exception) -> Response | None:
        for kind, status in ((VoiceNotFound, 404), (VoiceConflict, 409), (InvalidInput, 400)):
            if isinstance(exc, kind):
                return self.error(status, str(exc.reason))
        if isinstance(exc, ModelNotReady):
            return self.error(503, str(exc.reason), {"Retry-After": "5"})
        return None


def _cloner(predictor: Front) -> VoiceCloner:
    cloner = getattr(predictor, "cloner", None)
    if cloner is None:
        raise EngineNotReady(predictor.name)
    return cloner


async def _upload(request: Request) -> tuple[str, bytes, str | None, Any, Any]:
    """(name, audio bytes, model, consent, shared) from a JSON or multipart body; FieldError naming what is missing
    or wrong."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        data = await upload.read() if isinstance(upload, UploadFile) else None
        if data is None:
            raise FieldError("file", "file: missing; attach the voice sample as form field 'file'")
        name, model, consent, shared = form.get("name"), form.get("model"), form.get("consent"), form.get("shared")
    else:
        try:
            body = await request.json()
        except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than the parser's stack
            raise FieldError(
                "body", 'request body is not valid JSON; send {"name", "audio" (base64)} or multipart'
            ) from None
        if not isinstance(body, dict) or set(body) - set(UPLOAD_FIELDS):
            extra = sorted(set(body) - set(UPLOAD_FIELDS)) if isinstance(body, dict) else "not an object"
            raise FieldError("body", f"body: unknown field(s) {extra}; allowed: {', '.join(UPLOAD_FIELDS)}")
        name, model, consent, shared = body.get("name"), body.get("model"), body.get("consent"), body.get("shared")
        if not isinstance(body.get("audio"), str):
            raise FieldError("audio", "audio: missing; give the voice sample as a base64-encoded audio file")
        try:
            data = base64.b64decode(body["audio"], validate=True)
        except (binascii.Error, ValueError):
            raise FieldError("audio", "audio: not base64; base64-encode the audio file (WAV, FLAC, OGG, MP3)") from None
    if not isinstance(name, str) or not name:
        raise FieldError("name", "name: missing; give the new voice an id (1-63 of a-z, 0-9, '-', '_')")
    if not CLONE_ID.fullmatch(name):
        raise FieldError("name", f"name: {name[:80]!r} is not a valid voice id; use 1-63 of a-z, 0-9, '-', '_'")
    if model is not None and not isinstance(model, str):
        raise FieldError("model", "model: must be the name of a loaded model that can clone")
    return name, data, model or None, consent, shared


def _shared(raw: Any) -> bool:
    """The `shared` field: a JSON boolean, or 'true'/'false' in a form."""
    if raw is None:
        return False
    if isinstance(raw, str) and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    if not isinstance(raw, bool):
        raise FieldError("shared", "shared: must be true or false")
    return raw


def build_router(predictor: Front) -> APIRouter:
    """Routes that create, describe and delete stored cloned voices (listing is GET /v1/voices)."""
    router = APIRouter(route_class=VoiceStoreRoute, tags=["voices"])

    @router.post("/v1/voices", status_code=201, summary="Clone a voice from a 3-30 s speech sample and store it")
    async def create(request: Request) -> JSONResponse:
        cloner = _cloner(predictor)
        name, data, model, raw_consent, raw_shared = await _upload(request)
        shared = _shared(raw_shared)
        if shared and not cloner.catalog.access.is_admin():
            return error_json(
                "/v1/voices",
                403,
                "shared: only admin API keys (TTS_ADMIN_API_KEYS) may store a voice every key can use",
            )
        consent = consent_record(
            raw_consent,
            key_from(request.headers.get("authorization"), request.headers.get("x-api-key")),
            required=predictor.settings.clone_require_consent,
        )
        meta = await predictor.admission.run(  # engine call
            asyncio.to_thread(cloner.create, name, data, model, consent, shared)
        )
        return JSONResponse(status_code=201, content=meta, headers={"Location": f"/v1/voices/{name}"})

    @router.get("/v1/voices/{voice_id}", summary="A stored voice: model, languages, when and from what it was made")
    async def describe(voice_id: str) -> dict[str, Any]:
        return _cloner(predictor).describe(voice_id)

    @router.delete("/v1/voices/{voice_id}", status_code=204, summary="Delete a stored voice")
    async def delete(voice_id: str) -> Response:
        await asyncio.to_thread(_cloner(predictor).delete, voice_id)
        if predictor.cache is not None:  # its audio, any key's, on this replica's LRU or the shared Redis
            await asyncio.to_thread(predictor.cache.purge, voice_tag(predictor.name, voice_id))
        return Response(status_code=204)

    return router
