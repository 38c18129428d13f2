"""What the transformer passes through to the predictor: the caller's auth and trace headers, the voice listings."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tts_predictor.errors import error_body
from tts_predictor.transformer import forward_headers


def install_voice_routes(app: FastAPI, model_name: str, predictor_url: str | None, service_key: str | None) -> None:
    """GET /v2/models/<model_name>/voices and GET /v1/voices answered by the predictor.

    `predictor_url` is the predictor's REST base URL; None (a gRPC predictor) answers 501 naming the way out.
    """

    async def relay(request: Request) -> Response:
        if predictor_url is None:
            message = "voice listings through the transformer need a REST predictor (--predictor_protocol v2)"
            return JSONResponse(status_code=501, content=error_body(request.url.path, 501, message))
        headers = forward_headers(request.headers, service_key)
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                answer = await client.get(
                    f"{predictor_url}{request.url.path}", params=request.query_params, headers=headers
                )
        except httpx.HTTPError as exc:
            message = f"predictor unreachable: {type(exc).__name__}"
            return JSONResponse(
                status_code=503, content=error_body(request.url.path, 503, message), headers={"Retry-After": "5"}
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
