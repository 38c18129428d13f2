"""InferenceGraph data contract: accept the previous step's V2 *response* as a V2 request.

In a KServe InferenceGraph ``Sequence`` a step with ``data: $response`` is POSTed the previous step's
response body unchanged. For ``POST /v2/models/<model>/infer`` a JSON body that has ``outputs`` but no
``inputs`` is such a response; this middleware rewrites it into a V2 request before kserve parses it:

- the first BYTES output named ``text``, ``translation``, ``transcript`` or ``transcription`` becomes the
  input ``text`` (same shape and data); every other output is dropped;
- of the previous step's request-level ``parameters`` only ``voice`` and ``language`` are kept
  (an ASR/translation step's own parameters would otherwise be rejected as unknown synthesis options);
- the previous response's ``id`` is kept as the request id, so the graph's final response echoes it.

A response without such an output is answered 400 ``{"error": ...}``. Every other request (normal V2
requests, binary-extension bodies, other paths and methods) passes through untouched. Bodies buffered
here are bounded: more than ``MAX_BODY_BYTES`` is answered 413.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TEXT_OUTPUT_NAMES = ("text", "translation", "transcript", "transcription")
FORWARDED_PARAMETERS = ("voice", "language")
MAX_BODY_BYTES = 10 * 1024 * 1024
_BINARY_HEADER = b"inference-header-content-length"


class GraphStepError(ValueError):
    """The body is a V2 response the TTS step cannot take its text from."""


def response_to_request(body: dict[str, Any]) -> dict[str, Any]:
    """The V2 request for the TTS step, built from the previous step's V2 response `body`."""
    outputs = body.get("outputs")
    outputs = outputs if isinstance(outputs, list) else []
    chosen = next(
        (
            out
            for out in outputs
            if isinstance(out, dict)
            and out.get("name") in TEXT_OUTPUT_NAMES
            and str(out.get("datatype", "")).upper() == "BYTES"
        ),
        None,
    )
    if chosen is None:
        got = [out.get("name") if isinstance(out, dict) else out for out in outputs]
        raise GraphStepError(
            "graph step: previous response has no text output; expected one of "
            f"{', '.join(TEXT_OUTPUT_NAMES)}; got {json.dumps(got)}"
        )
    data = chosen.get("data")
    shape = chosen.get("shape")
    if shape is None:
        shape = [len(data)] if isinstance(data, list) else [1]
    request: dict[str, Any] = {"inputs": [{"name": "text", "datatype": "BYTES", "shape": shape, "data": data}]}
    params = body.get("parameters")
    if isinstance(params, dict):
        kept = {k: params[k] for k in FORWARDED_PARAMETERS if k in params}
        if kept:
            request["parameters"] = kept
    if isinstance(body.get("id"), str):
        request["id"] = body["id"]
    return request


class GraphAdapterMiddleware:
    """Pure ASGI middleware (no BaseHTTPMiddleware: keeps streaming and exception handlers intact)."""

    def __init__(self, app: ASGIApp, model_name: str, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.path = f"/v2/models/{model_name}/infer"
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path", "").rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if _BINARY_HEADER in headers:  # binary tensor extension: not a plain JSON body, never a graph hop
            await self.app(scope, receive, send)
            return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _send_json(send, 413, {"error": self._too_large()})
            return

        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await _send_json(send, 413, {"error": self._too_large()})
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)

        rewritten = _rewrite(body)
        if isinstance(rewritten, GraphStepError):
            await _send_json(send, 400, {"error": str(rewritten)})
            return
        if rewritten is not None:
            body = rewritten
            scope = dict(scope)
            scope["headers"] = [
                (k, v) for k, v in scope.get("headers", []) if k not in (b"content-length", b"content-type")
            ] + [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]

        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as the server would

        await self.app(scope, replay, send)

    def _too_large(self) -> str:
        return f"request body larger than {self.max_body_bytes} bytes"


def _rewrite(body: bytes) -> bytes | GraphStepError | None:
    """The rewritten body, an error for an unusable V2 response, or None to pass the body through."""
    stripped = body.lstrip()
    if not stripped.startswith(b"{"):
        return None
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser's stack
        return None  # let kserve answer malformed JSON as it always does
    if not isinstance(parsed, dict) or "inputs" in parsed or "outputs" not in parsed:
        return None
    try:
        return json.dumps(response_to_request(parsed)).encode()
    except GraphStepError as exc:
        return exc


async def _send_json(send: Send, status: int, content: dict[str, Any]) -> None:
    payload = json.dumps(content).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def install_graph_adapter(app: FastAPI, model_name: str) -> None:
    """Let ``POST /v2/models/<model_name>/infer`` accept a previous graph step's V2 response (see module doc)."""
    app.add_middleware(GraphAdapterMiddleware, model_name=model_name)
