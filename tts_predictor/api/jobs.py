"""Jobs routes: POST /v1/jobs, GET /v1/jobs, GET /v1/jobs/{id}, GET /v1/jobs/{id}/audio, DELETE /v1/jobs/{id}.

Errors are in OpenAI's shape, as on every /v1 route (``errors.error_body``): 400 bad input (naming the field), 404
unknown job (or another key's), 409 audio asked before the job completed, 429 too many unfinished jobs for the key,
503 model loading, 507 storage full.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from kserve.errors import InvalidInput, ModelNotReady
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile

from tts_predictor.api.app_hooks import run_with_app
from tts_predictor.api.common import MappedErrorRoute, error_json, synth_of
from tts_predictor.api.rest import SynthesisOptions, to_params
from tts_predictor.audio import post
from tts_predictor.audio.encode import media_type
from tts_predictor.auth import key_from, request_owner
from tts_predictor.errors import FieldError, JobLimit, JobNotFound, TextTooLong
from tts_predictor.jobs import sources
from tts_predictor.jobs.metadata import clean_meta, content_disposition
from tts_predictor.jobs.planning import check_plan, plan_job, spoken_segments, stored_plan
from tts_predictor.jobs.records import CANCELLED, FINISHED, JobRecord, new_job_id
from tts_predictor.jobs.results import EXTENSIONS
from tts_predictor.jobs.runtime import JobRuntime
from tts_predictor.jobs.webhooks import check_url
from tts_predictor.pipeline.front import Front
from tts_predictor.pipeline.stream import check_stream_format
from tts_predictor.synthesis.low_priority import low_priority_executor
from tts_predictor.text.ssml import parse_ssml

UPLOAD_KINDS = {
    ".epub": "epub",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".ssml": "ssml",
    ".xml": "ssml",
}


class WebhookSpec(BaseModel):
    """Where to POST the completion/failure event."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(..., max_length=2000, description="http(s) URL receiving the signed event.")
    secret: str | None = Field(
        None, min_length=16, max_length=256, description="HMAC-SHA256 key (default: TTS_WEBHOOK_SECRET)."
    )


class JobOptions(SynthesisOptions):
    """The REST synthesis options plus `seed` (models that support it: the same seed gives the same audio)."""

    seed: int | None = Field(None, description="Noise seed (Coqui models): same seed, same audio.")


class JobRequest(BaseModel):
    """Body of POST /v1/jobs (JSON); exactly one of text, ssml, markdown."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "markdown": "# One\n\nFirst chapter.\n\n# Two\n\nSecond.",
                    "title": "Demo",
                    "options": {"format": "mp3"},
                }
            ]
        },
    )
    text: str | None = Field(None, description="Plain text.")
    ssml: str | None = Field(None, description="An SSML document (<speak>...</speak>).")
    markdown: str | None = Field(None, description="Markdown; each # or ## heading starts a chapter.")
    title: str | None = Field(
        None, max_length=300, description="Title tag and download file name of the result (default: an EPUB's)."
    )
    author: str | None = Field(None, max_length=300, description="Artist tag of the result (default: an EPUB's).")
    options: JobOptions = Field(default_factory=JobOptions)  # type: ignore[arg-type]  # pydantic
    webhook: WebhookSpec | None = None


class JobsRoute(MappedErrorRoute):
    """Maps errors of the jobs routes to their statuses (OpenAI's error shape, as on every /v1 route)."""

    def error_response(self, exc: Exception) -> Response | None:
        if isinstance(exc, RequestValidationError):
            err = exc.errors()[0] if exc.errors() else {}
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
            return self.error(400, f"{where}: {err.get('msg', 'invalid')}")
        if isinstance(exc, JobNotFound):
            return self.error(404, str(exc.reason))
        if isinstance(exc, JobLimit):
            return self.error(exc.status, str(exc.reason), {"Retry-After": "60"} if exc.status == 429 else {})
        if isinstance(exc, InvalidInput):
            return self.error(400, str(exc.reason))
        if isinstance(exc, ModelNotReady):
            return self.error(503, str(exc.reason), {"Retry-After": "5"})
        return None


async def _read_request(request: Request) -> tuple[JobRequest, str, str | bytes]:
    """(request, source kind, source data) from JSON or multipart (file + options/webhook as JSON fields)."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        fields: dict[str, Any] = {}
        for name in ("options", "webhook"):
            if form.get(name):
                try:
                    fields[name] = json.loads(str(form.get(name)))
                except ValueError:
                    raise FieldError(name, f"{name}: must be a JSON object") from None
        for name in ("text", "ssml", "markdown", "title", "author"):
            if form.get(name) is not None:
                fields[name] = str(form.get(name))
        body = _model(fields)
        if isinstance(upload, UploadFile):
            suffix = "." + (getattr(upload, "filename", "") or "").rsplit(".", 1)[-1].lower()
            if suffix not in UPLOAD_KINDS:
                raise FieldError("file", f"file: unsupported type '{suffix}'; upload {', '.join(UPLOAD_KINDS)}")
            if body.text or body.ssml or body.markdown:
                raise FieldError("file", "file: give either a file or text/ssml/markdown, not both")
            return body, UPLOAD_KINDS[suffix], await upload.read()
    else:
        try:
            values = await request.json()
        except ValueError:
            raise FieldError("body", "request body is not valid JSON") from None
        body = _model(values)
    given = [(k, getattr(body, k)) for k in ("text", "ssml", "markdown") if getattr(body, k) is not None]
    if len(given) != 1:
        raise FieldError("text", "text: give exactly one of text, ssml, markdown (or upload a file)")
    return body, given[0][0], given[0][1]


def _model(values: Any) -> JobRequest:
    try:
        return JobRequest.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        allowed = (
            f"; allowed: {', '.join(JobRequest.model_fields)}"
            if err["type"] == "extra_forbidden" and len(err["loc"]) == 1
            else ""
        )
        raise FieldError(where, f"{where}: {err['msg']}{allowed}") from None


def build_router(predictor: Front, runtime: JobRuntime) -> APIRouter:
    """The jobs routes."""
    settings = predictor.settings
    router = APIRouter(route_class=JobsRoute, default_response_class=JSONResponse, tags=["jobs"])
    admission = asyncio.Lock()
    planner = low_priority_executor(1)

    def owner(request: Request) -> str:
        key = key_from(request.headers.get("authorization"), request.headers.get("x-api-key"))
        return request_owner(key, bool(predictor.api_keys), request.client.host if request.client else None)

    async def own_job(job_id: str, request: Request) -> JobRecord:
        job = await asyncio.to_thread(runtime.store.get, job_id)
        if job is None or job.owner != owner(request):
            raise JobNotFound(f"job '{job_id[:80]}' not found (jobs are visible only to the API key that made them)")
        return job

    @router.post("/v1/jobs", status_code=202, summary="Submit a long text (text, SSML, Markdown or EPUB) as a job")
    async def create(request: Request) -> JSONResponse:
        synth = synth_of(predictor)
        body, kind, data = await _read_request(request)
        if body.options.stream:
            raise FieldError("options.stream", "options.stream: jobs are not streamed; fetch GET /v1/jobs/{id}/audio")
        params = to_params(body.options)
        params = params.model_copy(update={"ssml": kind == "ssml" or (params.ssml if kind == "text" else False)})
        language = synth.catalog.resolve(params.voice, params.language, params.gender)[
            1
        ]  # 400 for unknown voices/languages now
        post.check_bed(params, predictor.output.beds_dir)
        check_stream_format(params.format)  # results are encoded chunk by chunk: a plugin's format is a 400
        document = await sources.parse_source(kind, data, settings.job_max_chars)
        chapters = document.chapters
        chars = sum(len(c.text) for c in chapters)
        if chars == 0 or not any(c.text.strip() for c in chapters):
            raise FieldError(kind if kind != "epub" else "file", f"{kind}: is empty; give the text to speak")
        if chars > settings.job_max_chars:
            raise TextTooLong(f"{kind}: {chars} characters; the limit is {settings.job_max_chars} (TTS_JOB_MAX_CHARS)")
        if len(chapters) > settings.job_max_chapters:  # before planning: 100,000 headings took 47 s to plan
            raise FieldError(
                kind,
                f"{kind}: {len(chapters)} chapters; the limit is {settings.job_max_chapters} (TTS_JOB_MAX_CHAPTERS)",
            )
        if params.ssml:
            try:
                await asyncio.to_thread(parse_ssml, chapters[0].text, default_language="en-US")
            except InvalidInput as exc:
                raise FieldError("ssml", f"ssml: {exc.reason}") from None
        # Planned here, as the synchronous routes do before any synthesis: what speaks nothing, pauses too long or
        # has too many chapters is a 400 now, never a job that fails in the worker. The plan is stored with the job.
        await _check_limits(runtime, owner(request), settings)  # before the planning CPU; again under the lock
        # One nice-19 thread plans every submission of this process: a burst of 1M-character jobs (6 s each) queues
        # here instead of taking every core from interactive requests.
        plan = functools.partial(plan_job, chapters, params, language, settings)
        chunks, marks = await asyncio.get_running_loop().run_in_executor(planner, plan)
        check_plan(chunks, marks, params, settings, kind if kind != "epub" else "file")
        webhook_url, secret = await _check_webhook(body.webhook, settings)
        job = JobRecord(
            id=new_job_id(),
            owner=owner(request),
            params=params.model_dump(mode="json"),
            source_kind=kind,
            chars_total=chars,
            title=clean_meta(body.title) or document.title,
            author=clean_meta(body.author) or document.author,
            webhook_url=webhook_url,
            webhook_secret=secret,
            chunks_total=len(chunks),
            sentences_total=spoken_segments(chunks),
        )
        source = json.dumps([{"title": c.title, "text": c.text} for c in chapters])
        async with admission:  # check and create as one step: concurrent submissions cannot pass the limit together
            await _check_limits(runtime, job.owner, settings)
            await asyncio.to_thread(runtime.store.create, job, source)
        await asyncio.to_thread(runtime.store.set_plan, job.id, stored_plan(chunks, marks))
        runtime.wake()
        return JSONResponse(status_code=202, content=job.public(), headers={"Location": f"/v1/jobs/{job.id}"})

    @router.get("/v1/jobs", summary="This API key's jobs, newest first")
    async def list_jobs(request: Request) -> dict[str, Any]:
        jobs = await asyncio.to_thread(runtime.store.list, owner(request))
        return {"jobs": [j.public() for j in jobs]}

    @router.get("/v1/jobs/{job_id}", summary="State, progress (characters, audio seconds, ETA), chapters, webhook")
    async def get_job(job_id: str, request: Request) -> dict[str, Any]:
        return (await own_job(job_id, request)).public()

    @router.get("/v1/jobs/{job_id}/audio", response_class=Response, summary="The result (HTTP range requests work)")
    async def audio(
        job_id: str,
        request: Request,
        chapter: int | None = Query(None, ge=1, description="One chapter (1-based) as its own file."),
    ) -> Response:
        job = await own_job(job_id, request)
        if job.state != "completed":
            return error_json(request.url.path, 409, f"job is {job.state}; audio exists once it is completed")
        if chapter is not None and chapter > len(job.chapters):
            raise FieldError(
                "chapter", f"chapter: {chapter} is out of range; this job has {len(job.chapters)} chapters"
            )
        path = await asyncio.to_thread(
            runtime.results.ensure, runtime.store, job, None if chapter is None else chapter - 1
        )
        fmt = job.params.get("format", "wav")
        suffix = f"{'' if chapter is None else f'-chapter-{chapter}'}.{EXTENSIONS.get(fmt, fmt)}"
        disposition = content_disposition(job.title, job.id, suffix)
        return FileResponse(
            path, media_type=media_type(fmt, job.sample_rate), headers={"content-disposition": disposition}
        )

    @router.delete("/v1/jobs/{job_id}", summary="Cancel a job (or delete a finished one)")
    async def delete(job_id: str, request: Request) -> dict[str, Any]:
        job = await own_job(job_id, request)
        if job.state in FINISHED:
            await asyncio.to_thread(runtime.store.delete, job.id)
            await asyncio.to_thread(runtime.results.forget, job.id)
            return {"id": job.id, "deleted": True}
        job.state, job.finished_at = CANCELLED, time.time()
        job.expires_at = job.finished_at + settings.job_result_ttl_s
        await asyncio.to_thread(runtime.store.save, job)
        return job.public()

    return router


async def _check_webhook(spec: WebhookSpec | None, settings: Any) -> tuple[str | None, str | None]:
    if spec is None:
        return None, None
    await asyncio.to_thread(check_url, spec.url, settings.webhook_allow_private)
    if not (spec.secret or settings.webhook_secret):
        raise FieldError("webhook.secret", "webhook.secret: required (16-256 chars) unless TTS_WEBHOOK_SECRET is set")
    return spec.url, spec.secret


async def _check_limits(runtime: JobRuntime, who: str, settings: Any) -> None:
    if await asyncio.to_thread(runtime.store.unfinished_count, who) >= settings.job_max_queued_per_key:
        raise JobLimit(
            f"this API key has {settings.job_max_queued_per_key} unfinished jobs "
            "(TTS_JOB_MAX_QUEUED_PER_KEY); wait for one to finish or cancel one",
            429,
        )
    if await asyncio.to_thread(runtime.store.bytes_used) >= settings.jobs_max_bytes:
        await asyncio.to_thread(runtime.results.sweep, runtime.store)
        if await asyncio.to_thread(runtime.store.bytes_used) >= settings.jobs_max_bytes:
            raise JobLimit(
                f"job storage is full ({settings.jobs_max_bytes} bytes, TTS_JOBS_MAX_BYTES); "
                "delete finished jobs or retry after results expire",
                507,
            )


def install_jobs(app: Any, predictor: Front) -> JobRuntime:
    """Add the jobs routes and run the worker for the life of the app (its lifespan)."""
    runtime = JobRuntime(predictor)
    app.include_router(build_router(predictor, runtime))
    run_with_app(app, runtime.start, runtime.stop)
    return runtime
