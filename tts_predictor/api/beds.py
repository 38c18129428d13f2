"""Background beds: GET /v1/beds lists the stored ones, POST /v1/beds stores an uploaded one in TTS_BEDS_DIR.

Upload as multipart fields ``name`` and ``file`` (WAV, FLAC, OGG or MP3; at most TTS_MAX_BODY_BYTES). Errors:
400 bad name or audio, 409 no TTS_BEDS_DIR configured; ``{"error": message}``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from kserve.errors import InvalidInput
from starlette.datastructures import UploadFile

from tts_predictor.api.common import MappedErrorRoute
from tts_predictor.audio import mix
from tts_predictor.audio.decode import decode_audio
from tts_predictor.errors import FieldError


class BedsRoute(MappedErrorRoute):
    """400 for bad uploads."""

    def error_response(self, exc: Exception) -> Response | None:
        if isinstance(exc, InvalidInput):
            return JSONResponse(status_code=400, content={"error": str(exc.reason)})
        return None


def _store(directory: str, name: str, data: bytes) -> dict[str, Any]:
    audio = decode_audio(data, "file")  # 400 unless decodable
    for suffix in mix.BED_SUFFIXES:  # the new file replaces a bed of that name in any format
        (Path(directory) / f"{name}{suffix}").unlink(missing_ok=True)
    Path(directory).mkdir(parents=True, exist_ok=True)
    import soundfile as sf

    sf.write(Path(directory) / f"{name}.flac", audio.to_int16(), audio.sample_rate, format="FLAC", subtype="PCM_16")
    return {"name": name, "duration_s": round(audio.duration_s, 3), "sample_rate": audio.sample_rate}


def build_router(settings: Any) -> APIRouter:
    """The beds routes."""
    router = APIRouter(route_class=BedsRoute, tags=["post-processing"])

    @router.get("/v1/beds", summary="Stored background beds (request option 'bed')")
    async def list_beds() -> dict[str, Any]:
        return {"beds": mix.bed_names(settings.beds_dir)}

    @router.post("/v1/beds", status_code=201, summary="Store a background bed (multipart: name, file)")
    async def upload(request: Request) -> JSONResponse:
        if not settings.beds_dir:
            return JSONResponse(status_code=409, content={"error": "no bed store: set TTS_BEDS_DIR to upload beds"})
        form = await request.form()
        name, upload = str(form.get("name") or ""), form.get("file")
        if not mix.BED_NAME.match(name):
            raise FieldError("name", "name: 1-64 of A-Z, a-z, 0-9, '_', '.', '-' (starting with a letter or digit)")
        if not isinstance(upload, UploadFile):
            raise FieldError("file", "file: missing; attach the bed as form field 'file'")
        meta = await asyncio.to_thread(_store, settings.beds_dir, name, await upload.read())
        return JSONResponse(status_code=201, content=meta)

    return router
