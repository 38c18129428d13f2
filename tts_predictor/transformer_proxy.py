"""What the transformer passes through to the predictor: the caller's auth and trace headers, the voice listings."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

FORWARDED_HEADERS = frozenset({"authorization", "x-request-id", "traceparent", "tracestate"})
"""Sent on to the predictor as received, with every `x-b3-*` header. kserve's own rule for a `predict`
override forwards only x-request-id, x-b3-traceid and authorization (kserve/model.py `_FORWARDABLE_HEADERS`);
we add the rest of the B3 and W3C trace context so one trace spans both hops."""

CALLER_HEADERS: ContextVar[dict[str, str]] = ContextVar("tts_caller_headers", default={})
"""The headers of the request being served, for the segment calls it makes to the predictor."""


def forward_headers(headers: Mapping[str, str] | None, service_key: str | None = None) -> dict[str, str]:
    """The caller's headers the predictor should see; `service_key` (explicit option) replaces its Authorization."""
    out = {
        key.lower(): value
        for key, value in (headers or {}).items()
        if key.lower() in FORWARDED_HEADERS or key.lower().startswith("x-b3-")
    }
    if service_key:
        out["authorization"] = f"Bearer {service_key}"
    return out


def install_voice_routes(app: FastAPI, model_name: str, predictor_url: str | None, service_key: str | None) -> None:
    """GET /v2/models/<model_name>/voices and GET /v1/voices answered by the predictor.

    `predictor_url` is the predictor's REST base URL; None (a gRPC predictor) answers 501 naming the way out.
    """

    async def relay(request: Request) -> Response:
        if predictor_url is None:
            return JSONResponse(
                status_code=501,
                content={
                    "error": "voice listings through the transformer need a REST predictor (--predictor_protocol v2)"
                },
            )
        headers = forward_headers(request.headers, service_key)
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                answer = await client.get(
                    f"{predictor_url}{request.url.path}", params=request.query_params, headers=headers
                )
        except httpx.HTTPError as exc:
            return JSONResponse(
                status_code=503,
                content={"error": f"predictor unreachable: {type(exc).__name__}"},
                headers={"Retry-After": "5"},
            )
        return Response(
            answer.content,
            status_code=answer.status_code,
            media_type=answer.headers.get("content-type", "application/json"),
        )

    async def model_voices(model_name: str, request: Request) -> Any:
        return await relay(request)

    app.add_api_route("/v2/models/{model_name}/voices", model_voices, methods=["GET"], tags=["tts"])
    app.add_api_route("/v1/voices", relay, methods=["GET"], tags=["tts"])
