"""Every exception's HTTP answer in one place: status, body, Retry-After, one log line per 4xx.

Domain errors live in `errors.py` and subclass kserve's (so kserve's gRPC interceptor maps them too); these handlers
give them their REST status on every route kserve's app serves. The body is `errors.error_body`'s: OpenAI's
``{"error": {"message", "type", "param", "code"}}`` on /v1 routes, KServe's ``{"error": "..."}`` elsewhere (the
gateway's refusals use the same function). The OpenAI route class (`api/openai.OpenAIRoute`) adds `param` and `code`.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from tts_predictor.errors import error_body, openai_shaped

log = logging.getLogger(__name__)


def answer(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """An error response in the shape of `request`'s route (`errors.error_body`)."""
    return JSONResponse(status_code=status, content=error_body(request.url.path, status, message), headers=headers)


async def _bad_request_body(request: Request, exc: RequestValidationError) -> JSONResponse:
    # FastAPI answers malformed bodies with 422; V2 clients expect 400 with {"error": ...}.
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body" and not isinstance(p, int))
    message = f"invalid request body{' at ' + where if where else ''}: {first.get('msg', 'malformed')}"
    return answer(request, 400, message)


async def _bad_binary_tensor(request: Request, _exc: Exception) -> JSONResponse:
    # kserve unpacks binary-extension tensors before any model code runs; a bad length prefix raises struct.error.
    return answer(request, 400, "malformed binary tensor data: element lengths do not match binary_data_size")


async def _too_deep(request: Request, _exc: Exception) -> JSONResponse:
    # json.loads raises RecursionError on deeply nested arrays/objects (a few kB of "[[[[..."): a bad body, not a 500.
    return answer(request, 400, "request body is nested too deeply")


async def _predictor_unavailable(request: Request, exc: Exception) -> JSONResponse:
    return answer(request, 503, str(exc), {"Retry-After": "5"})


async def _predictor_refused(request: Request, exc: Any) -> JSONResponse:
    return answer(request, exc.status, str(exc))


async def _overloaded(request: Request, exc: Exception) -> JSONResponse:
    return answer(request, 429, str(exc), {"Retry-After": str(getattr(exc, "retry_after_s", 1))})


async def _deadline(request: Request, exc: Exception) -> JSONResponse:
    return answer(request, 504, str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's 404/405 (no such route or method): OpenAI's shape on /v1, FastAPI's ``{"detail"}`` elsewhere."""
    assert isinstance(exc, HTTPException)
    if not openai_shaped(request.url.path):
        return await http_exception_handler(request, exc)
    return answer(
        request, exc.status_code, f"{request.method} {request.url.path[:200]}: {exc.detail}", dict(exc.headers or {})
    )


def _client_error(status: int) -> Callable[[Request, Exception], Any]:
    """A 4xx answered with the error's message; its class at DEBUG (kserve's handlers log a traceback each; the
    gateway's access line has the status)."""

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        log.debug(
            "%s %s: %d %s (request id %s)",
            request.method,
            request.url.path,
            status,
            type(exc).__name__,
            request.headers.get("x-request-id"),
        )
        return answer(request, status, str(exc))

    return handler


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    # The client learns only that it failed and the request id; the class, message and traceback go to the log.
    request_id = request.headers.get("x-request-id") or "-"
    log.error("internal error on %s %s (request id %s)", request.method, request.url.path, request_id, exc_info=exc)
    return answer(request, 500, internal_error(request_id))


def internal_error(request_id: str) -> str:
    """The message of every 500: no exception class or message (those go to the log, under the same request id)."""
    return f"internal error; request id {request_id}"


def add_error_handlers(app: FastAPI) -> None:
    """400 instead of FastAPI's 422 or kserve's 500 for malformed bodies; 429/503/504 for overload and outages;
    one log line per 4xx; 500s say only "internal error" and the request id.

    kserve registers its own handlers when its REST server starts (protocol/rest/server.py, `create_application`,
    `_add_exception_handlers`), replacing these for the same classes: `model_server` calls this again after it.
    """
    from kserve.errors import InferenceError, InvalidInput, ModelNotFound, ModelNotReady

    from tts_predictor.errors import DeadlineExceeded, Overloaded, PredictorRefused, PredictorUnavailable

    app.add_exception_handler(RequestValidationError, _bad_request_body)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(struct.error, _bad_binary_tensor)
    app.add_exception_handler(RecursionError, _too_deep)
    app.add_exception_handler(PredictorUnavailable, _predictor_unavailable)
    app.add_exception_handler(PredictorRefused, _predictor_refused)
    app.add_exception_handler(Overloaded, _overloaded)
    app.add_exception_handler(DeadlineExceeded, _deadline)
    app.add_exception_handler(InvalidInput, _client_error(400))
    app.add_exception_handler(ModelNotFound, _client_error(404))
    app.add_exception_handler(ModelNotReady, _client_error(503))
    app.add_exception_handler(InferenceError, _internal_error)
    app.add_exception_handler(Exception, _internal_error)


def errors_after_kserve(model_server: Any) -> None:
    """Our error handlers again once kserve's REST server has added its own (it does so when it starts)."""
    rest = getattr(model_server, "_rest_server", None)
    if rest is None:
        return
    create = rest.create_application

    def create_application() -> None:
        from kserve.model_server import app

        create()
        add_error_handlers(app)

    rest.create_application = create_application
