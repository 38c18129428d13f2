"""Background beds: GET /v1/beds lists the stored ones the caller may use, POST /v1/beds stores an uploaded one in
TTS_BEDS_DIR, DELETE /v1/beds/{name} removes one.

Upload as multipart fields ``name``, ``file`` (WAV, FLAC, OGG or MP3; at most TTS_MAX_BODY_BYTES and
TTS_BED_MAX_SECONDS) and, for admin keys, ``shared``. Beds are owned like stored voices (`voices/access.py`): with API
keys set, a bed belongs to the key that stored it (`<name>.json` beside the audio records `owner_of` the key), other
keys neither list, use nor replace it; beds the operator put in the directory (no metadata) are everyone's and only
admins replace them. Errors: 400 bad name or audio, 403 `shared` from a non-admin key, 409 no TTS_BEDS_DIR, a name
taken or a full store (TTS_MAX_BEDS, TTS_MAX_BEDS_PER_KEY); ``{"error": message}``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from kserve.errors import InvalidInput
from starlette.datastructures import UploadFile

from tts_predictor.api.common import MappedErrorRoute, error_json
from tts_predictor.audio import mix
from tts_predictor.audio.decode import decode_audio
from tts_predictor.errors import FieldError, VoiceConflict
from tts_predictor.pipeline.front import Front
from tts_predictor.settings import Settings
from tts_predictor.voices.access import VoiceAccess


class BedsRoute(MappedErrorRoute):
    """400 for bad uploads, 409 for a taken name or a full store."""

    def error_response(self, exc: Exception) -> Response | None:
        if isinstance(exc, VoiceConflict):
            return self.error(409, str(exc.reason))
        if isinstance(exc, InvalidInput):
            return self.error(400, str(exc.reason))
        return None


class BedStore:
    """Stored beds with owners and quotas, in `settings.beds_dir`."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.dir = settings.beds_dir or ""
        self.access = VoiceAccess.from_keys(settings.api_key_set(), settings.admin_key_set())
        self._lock = threading.Lock()  # quota and name checks with the write, against concurrent uploads

    def caller(self) -> str | None:
        """Owner id recorded for the caller's beds (None without keys: the bed is everyone's)."""
        return self.access.caller() if self.access.enabled else None

    def listing(self) -> list[str]:
        """The beds the caller may use (admins: all)."""
        return mix.bed_names(self.dir, self.caller(), everyone=self.access.is_admin() and self.access.enabled)

    def check(self, name: str) -> bool:
        """Whether `name` replaces a bed; 409 when it is another key's (said as 'exists') or the store is full."""
        if name in mix.stored_beds(self.dir):
            current = mix.bed_owner(self.dir, name)
            if self.access.is_admin() or (current.owner is not None and current.owner == self.caller()):
                return True
            raise VoiceConflict(f"name: a bed '{name}' exists already; pick another name")
        limit = self.settings.max_beds
        if len(mix.stored_beds(self.dir)) >= limit:
            raise VoiceConflict(f"the bed store is full ({limit} beds, TTS_MAX_BEDS); ask an admin to remove some")
        per_key = self.settings.max_beds_per_key
        owned = sum(mix.bed_owner(self.dir, n).owner == self.caller() for n in mix.stored_beds(self.dir))
        if self.access.enabled and not self.access.is_admin() and owned >= per_key:
            raise VoiceConflict(
                f"this API key has {per_key} stored beds, the most one key may have (TTS_MAX_BEDS_PER_KEY)"
            )
        return False

    def store(self, name: str, data: bytes, shared: bool) -> dict[str, Any]:
        """Decode (bounded: TTS_BED_MAX_SECONDS and the request budget), check the name and quota, write; blocking."""
        self.check(name)  # before decoding: a refused upload costs nothing
        audio = decode_audio(data, "file", max_s=self.settings.bed_max_seconds, setting="TTS_BED_MAX_SECONDS")
        meta = {
            "name": name,
            "duration_s": round(audio.duration_s, 3),
            "sample_rate": audio.sample_rate,
            "owner": self.caller(),
            "shared": shared,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        folder = Path(self.dir)
        with self._lock:
            self.check(name)  # again: concurrent uploads
            for suffix in mix.BED_SUFFIXES:  # the new file replaces a bed of that name in any format
                (folder / f"{name}{suffix}").unlink(missing_ok=True)
            folder.mkdir(parents=True, exist_ok=True)
            import soundfile as sf

            sf.write(folder / f"{name}.flac", audio.to_int16(), audio.sample_rate, format="FLAC", subtype="PCM_16")
            (folder / f"{name}.json").write_text(json.dumps(meta), encoding="utf-8")
        return {k: meta[k] for k in ("name", "duration_s", "sample_rate", "shared")}

    def delete(self, name: str) -> bool:
        """Remove a bed the caller manages (its own; admins: any); False when there is none it may see."""
        if name not in mix.stored_beds(self.dir):
            return False
        current = mix.bed_owner(self.dir, name)
        if not (self.access.is_admin() or (current.owner is not None and current.owner == self.caller())):
            return False
        with self._lock:
            for suffix in (*mix.BED_SUFFIXES, ".json"):
                (Path(self.dir) / f"{name}{suffix}").unlink(missing_ok=True)
        return True


def _shared(raw: Any) -> bool:
    if raw is None or str(raw).lower() == "false":
        return False
    if str(raw).lower() == "true":
        return True
    raise FieldError("shared", "shared: must be true or false")


def build_router(predictor: Front) -> APIRouter:
    """The beds routes."""
    router = APIRouter(route_class=BedsRoute, tags=["post-processing"])
    settings = predictor.settings
    beds = BedStore(settings)

    @router.get("/v1/beds", summary="Stored background beds the caller may use (request option 'bed')")
    async def list_beds() -> dict[str, Any]:
        return {"beds": beds.listing()}

    @router.post("/v1/beds", status_code=201, summary="Store a background bed (multipart: name, file, shared)")
    async def upload(request: Request) -> JSONResponse:
        if not settings.beds_dir:
            return error_json("/v1/beds", 409, "no bed store: set TTS_BEDS_DIR to upload beds")
        form = await request.form()
        name, upload = str(form.get("name") or ""), form.get("file")
        if not mix.BED_NAME.match(name):
            raise FieldError("name", "name: 1-64 of A-Z, a-z, 0-9, '_', '.', '-' (starting with a letter or digit)")
        if not isinstance(upload, UploadFile):
            raise FieldError("file", "file: missing; attach the bed as form field 'file'")
        shared = _shared(form.get("shared"))
        if shared and not (beds.access.enabled and beds.access.is_admin()):
            return error_json(
                "/v1/beds", 403, "shared: only admin API keys (TTS_ADMIN_API_KEYS) may store a bed every key can use"
            )
        data = await upload.read()
        meta = await predictor.admission.run(asyncio.to_thread(beds.store, name, data, shared))  # decoding: admitted
        return JSONResponse(status_code=201, content=meta)

    @router.delete("/v1/beds/{name}", status_code=204, summary="Delete a stored bed (its owner, or an admin key)")
    async def delete(name: str) -> Response:
        if not mix.BED_NAME.match(name) or not await asyncio.to_thread(beds.delete, name):
            return error_json("/v1/beds", 404, f"no stored bed '{name[:64]}'; GET /v1/beds lists them")
        return Response(status_code=204)

    return router
