"""HTTP gateway middleware: request ids, body-size limit, API-key auth, per-key/per-IP rate limits, route metrics,
and cancellation of V2 inference when its client disconnects."""

from __future__ import annotations

import asyncio
import hmac
import json
import time
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from grpc_interceptor import exceptions as grpc_errors
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import metrics
from .settings import Settings

log = logging.getLogger(__name__)


@dataclass
class TokenBucket:
    """`rate` tokens per second up to `burst`; one token per request."""

    rate: float
    burst: int
    tokens: float = 0.0
    stamp: float = field(default_factory=time.monotonic)

    def take(self) -> float:
        """0 when a request may pass, else the seconds until it may."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class GatewayMiddleware:
    """Runs before kserve's routes; refusals never reach the model."""

    MAX_BUCKETS = 10_000

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.settings = settings
        self.keys = settings.api_key_set()
        self.exempt = {p.strip() for p in settings.auth_exempt_paths.split(",") if p.strip()}
        self.buckets: dict[str, TokenBucket] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket" and not self._authorized(scope):
                await send({"type": "websocket.close", "code": 1008})
                return
            await self.app(scope, receive, send)
            return
        request_id = _header(scope, b"x-request-id") or uuid.uuid4().hex
        scope["headers"] = [h for h in scope["headers"] if h[0] != b"x-request-id"] + [(b"x-request-id", request_id.encode())]
        refusal = self._refusal(scope)
        if refusal is not None:
            metrics.HTTP_REQUESTS.labels(_route(scope["path"]), str(refusal[0])).inc()
            await _reply(send, *refusal, request_id)
            return
        started = time.perf_counter()
        status = {"code": 500}
        responded = {"done": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                responded["done"] = True
            await send(message)

        limit, setting = self._body_limit(scope)
        try:
            limited = _limited(receive, limit)
            if _cancellable(scope):
                if await _run_cancellable(self.app, scope, limited, send_with_id, lambda: responded["done"]):
                    status["code"] = 499  # client closed the request (nginx's code); nothing was sent
            else:
                await self.app(scope, limited, send_with_id)
        except BodyTooLarge:
            await _reply(send, 413, f"request body over {limit} bytes ({setting})", {}, request_id)
        finally:
            route = _route(scope["path"])
            metrics.REQUEST_SECONDS.labels(route).observe(time.perf_counter() - started)
            metrics.HTTP_REQUESTS.labels(route, str(status["code"])).inc()

    def _refusal(self, scope: Scope) -> tuple[int, str, dict[str, str]] | None:
        length = _header(scope, b"content-length")
        limit, setting = self._body_limit(scope)
        if length and length.isdigit() and int(length) > limit:
            return 413, f"request body over {limit} bytes ({setting})", {}
        if not self._authorized(scope):
            return 401, "missing or invalid API key: send 'Authorization: Bearer <key>' or 'X-API-Key'", {
                "www-authenticate": "Bearer"}
        wait = self._rate_wait(scope)
        if wait:
            return 429, "rate limit exceeded (TTS_RATE_LIMIT_RPS); retry later", {"retry-after": str(max(1, round(wait)))}
        return None

    def _body_limit(self, scope: Scope) -> tuple[int, str]:
        """Voice uploads (POST /v1/voices) carry audio and get their own, larger limit."""
        if scope.get("method") == "POST" and scope["path"].rstrip("/") == "/v1/voices":
            return self.settings.voice_upload_max_bytes, "TTS_VOICE_UPLOAD_MAX_BYTES"
        if scope.get("method") == "POST" and scope["path"].rstrip("/") == "/v1/jobs":
            return self.settings.job_upload_max_bytes, "TTS_JOB_UPLOAD_MAX_BYTES"
        return self.settings.max_body_bytes, "TTS_MAX_BODY_BYTES"

    def _authorized(self, scope: Scope) -> bool:
        if not self.keys or scope["path"] in self.exempt:
            return True
        return key_valid(_api_key(scope), self.keys)

    def _rate_wait(self, scope: Scope) -> float:
        if not self.settings.rate_limit_rps or scope["path"] in self.exempt:
            return 0.0
        client = _api_key(scope) or (scope.get("client") or ("unknown",))[0]
        bucket = self.buckets.get(client)
        if bucket is None:
            if len(self.buckets) >= self.MAX_BUCKETS:
                self.buckets.clear()  # bounded memory under many distinct clients
            bucket = self.buckets[client] = TokenBucket(self.settings.rate_limit_rps, self.settings.rate_limit_burst,
                                                         tokens=self.settings.rate_limit_burst)
        return bucket.take()


class BodyTooLarge(Exception):
    """The streamed body passed TTS_MAX_BODY_BYTES (no Content-Length to check up front)."""


def _limited(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge()
        return message

    return wrapped


def _cancellable(scope: Scope) -> bool:
    """POST /v2/models/<name>[/versions/<v>]/infer: plain V2 inference, which answers with one complete response."""
    if scope.get("method") != "POST":
        return False
    parts = scope["path"].strip("/").split("/")
    return parts[:2] == ["v2", "models"] and parts[-1] == "infer" and len(parts) in (4, 6)


async def _run_cancellable(app: ASGIApp, scope: Scope, receive: Receive, send: Send, responded: Callable[[], bool]) -> bool:
    """Run `app`; once it has read the whole body, a client disconnect cancels it. True when it was cancelled.

    After the body, this function alone reads `receive` (ASGI allows one reader); should the app ask for another
    message it waits for the same disconnect. Cancellation reaches the awaiting code (admission slot, synthesis).
    """
    body_read = asyncio.Event()
    disconnect: asyncio.Future[Message] = asyncio.get_running_loop().create_future()

    async def app_receive() -> Message:
        if body_read.is_set():
            return await asyncio.shield(disconnect)
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            body_read.set()
            if message["type"] == "http.disconnect" and not disconnect.done():
                disconnect.set_result(message)
        return message

    task = asyncio.create_task(app(scope, app_receive, send))

    async def watch() -> None:
        await body_read.wait()
        message = disconnect.result() if disconnect.done() else None
        while message is None or message["type"] != "http.disconnect":
            message = await receive()
        if not disconnect.done():
            disconnect.set_result(message)
        if not task.done() and not responded():  # uvicorn also reports "disconnect" once the response is complete
            metrics.CANCELLED.inc()
            task.cancel()

    watcher = asyncio.create_task(watch())
    try:
        await asyncio.wait([task])
    except asyncio.CancelledError:
        task.cancel()
        raise
    finally:
        watcher.cancel()
    if task.cancelled():
        log.info("client disconnected; cancelled %s (request id %s)", scope["path"], _header(scope, b"x-request-id"))
        return True
    task.result()  # re-raise what the app raised (BodyTooLarge, ...)
    return False


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _api_key(scope: Scope) -> str | None:
    return key_from(_header(scope, b"authorization"), _header(scope, b"x-api-key"))


def key_from(authorization: str | None, x_api_key: str | None) -> str | None:
    """The API key of `Authorization: Bearer <key>` or `X-API-Key: <key>`."""
    auth = authorization or ""
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return x_api_key


def key_valid(key: str | None, keys: frozenset[str]) -> bool:
    """True when `key` is one of `keys` (constant-time comparisons)."""
    return key is not None and any(hmac.compare_digest(key, k) for k in keys)


def check_grpc_key(from_grpc: bool, headers: Mapping[str, str] | None, keys: frozenset[str]) -> None:
    """gRPC inference needs an API key when keys are configured (REST is checked by the middleware).

    Raises UNAUTHENTICATED; metadata, health and repository RPCs stay open like the REST probes.
    """
    if not keys or not from_grpc:
        return
    meta = {k.lower(): v for k, v in (headers or {}).items()}
    key = key_from(meta.get("authorization"), meta.get("x-api-key"))
    if not key_valid(key, keys):
        raise grpc_errors.Unauthenticated(
            "missing or invalid API key: send gRPC metadata 'authorization: Bearer <key>' or 'x-api-key: <key>'"
        )


def _route(path: str) -> str:
    """Low-cardinality route label: model names and ids collapsed."""
    parts = path.strip("/").split("/")
    if parts[:2] == ["v2", "models"] and len(parts) >= 3:
        return "/v2/models/{model}/" + "/".join(parts[3:])
    return "/" + "/".join(parts[:2])


async def _reply(send: Send, status: int, message: str, headers: dict[str, str], request_id: str) -> None:
    body = json.dumps({"error": message}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
           (b"x-request-id", request_id.encode())] + [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
