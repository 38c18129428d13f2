"""Usage and feedback routes: POST /v1/feedback, the admin reports GET /v1/admin/{usage,feedback,status} (admin
keys only: the gateway refuses others) and the admin page at /ui/admin/."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import REGISTRY

from tts_predictor import auth, metrics
from tts_predictor.api.app_hooks import add_page, run_with_app
from tts_predictor.api.common import error_json
from tts_predictor.errors import FieldError
from tts_predictor.usage import UsageRecorder
from tts_predictor.usage.feedback import check_spans, feedback_record, parse_feedback
from tts_predictor.usage.records import DAY, HOUR, grouped, to_csv

MAX_RANGE_DAYS = 366
OFF = "usage analytics and feedback are off (TTS_USAGE=off)"


def parse_time(value: str | None, name: str, default: float) -> float:
    """Unix seconds, or an ISO 8601 date or time (UTC unless it names a zone); 400 naming `name` otherwise."""
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value[:64])
    except ValueError:
        raise FieldError(name, f"{name}: Unix seconds or an ISO 8601 date/time such as 2025-01-31T12:00") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def usage_window(query: dict[str, str]) -> tuple[int, int, str, str]:
    """(first hour, end hour, group, format) of GET /v1/admin/usage's query; 400s name the parameter."""
    now = time.time()
    start = parse_time(query.get("from"), "from", now - 7 * DAY)
    end = parse_time(query.get("to"), "to", now)
    if not start <= end or end - start > MAX_RANGE_DAYS * DAY:
        raise FieldError("from", f"from/to: from must not be after to, and at most {MAX_RANGE_DAYS} days apart")
    group, fmt = query.get("group", "hour"), query.get("format", "json")
    if group not in ("hour", "day"):
        raise FieldError("group", f"group: {group[:20]!r} is not one of hour, day")
    if fmt not in ("json", "csv"):
        raise FieldError("format", f"format: {fmt[:20]!r} is not one of json, csv")
    return int(start) - int(start) % HOUR, int(end) - int(end) % HOUR + HOUR, group, fmt


def build_router(usage: UsageRecorder | None) -> APIRouter:
    """The feedback and admin report routes over `usage` (None: TTS_USAGE=off, they answer 404 saying so)."""
    router = APIRouter(tags=["admin"])

    @router.post("/v1/feedback")
    async def feedback(request: Request) -> Response:
        if usage is None:
            return error_json(request.url.path, 404, OFF)
        try:
            body = json.loads(await request.body())
        except ValueError:
            raise FieldError("body", "the body must be JSON: {request_id, rating, tags, comment}") from None
        rid, rating, tags, comment = parse_feedback(body)
        owner = auth.current_caller() or auth.ANONYMOUS
        known = usage.recent.get(rid)
        if known is None or (known.key != owner and known.key != auth.ANONYMOUS):
            message = (
                f"request_id {rid!r}: no synthesis with this id among the last {usage.recent.size} of this server "
                "for this API key (TTS_FEEDBACK_RECENT_REQUESTS)"
            )
            return error_json(request.url.path, 404, message)
        check_spans(tags, known)
        await asyncio.to_thread(usage.store.add_feedback, feedback_record(rid, owner, rating, tags, comment, known))
        metrics.FEEDBACK.labels(str(rating)).inc()
        return JSONResponse({"request_id": rid, "rating": rating, "stored": True}, status_code=201)

    @router.get("/v1/admin/usage")
    async def usage_report(request: Request) -> Response:
        if usage is None:
            return error_json(request.url.path, 404, OFF)
        start, end, group, fmt = usage_window(dict(request.query_params))
        await asyncio.to_thread(usage.flush)  # what is pending in memory counts too
        rows = grouped(await asyncio.to_thread(usage.store.rows, start, end), group)
        if fmt == "csv":
            return PlainTextResponse(to_csv(rows), media_type="text/csv")
        return JSONResponse({"from": start, "to": end, "group": group, "rows": rows})

    @router.get("/v1/admin/feedback")
    async def feedback_report(request: Request, limit: int = 100) -> Response:
        if usage is None:
            return error_json(request.url.path, 404, OFF)
        if not 1 <= limit <= 1000:
            raise FieldError("limit", "limit: 1 to 1000 records")
        records = await asyncio.to_thread(usage.store.feedback, limit)
        return JSONResponse({"feedback": [r.to_json() for r in records]})

    @router.get("/v1/admin/status")
    async def status() -> dict[str, Any]:
        def value(name: str) -> float:
            return REGISTRY.get_sample_value(name) or 0.0

        return {
            "usage": usage is not None,
            "in_flight_requests": value("tts_in_flight_requests"),
            "queued_requests": value("tts_queued_requests"),
            "jobs_running": value("tts_jobs_running"),
        }

    return router


def install_admin(app: FastAPI, usage: UsageRecorder | None, ui_dir: Any) -> None:
    """Add the routes and the page, and run the usage recorder's flushing for the life of the app."""
    app.include_router(build_router(usage))

    add_page(app, "/ui/admin", ui_dir / "admin.html")
    if usage is not None:
        run_with_app(app, usage.start, usage.stop, stop_blocks=True)
