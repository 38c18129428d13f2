"""HTTP gateway middleware: request ids, body-size limit, API-key auth (admin keys for the model repository),
failed-auth and per-key/per-IP rate limits, route metrics, one-line 500s, and cancellation of V2 inference when its
client disconnects."""

from __future__ import annotations

import json
import logging
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tts_predictor import budget, metrics
from tts_predictor.auth import (
    ANONYMOUS,
    client_address,
    is_admin,
    key_valid,
    owner_of,
    parse_networks,
    set_caller,
    set_client_address,
)
from tts_predictor.errors import BodyTooLarge, Overloaded, StreamStalled, error_body
from tts_predictor.pipeline.admission import AdmissionController
from tts_predictor.server import memory as heap
from tts_predictor.server.access_log import access_line
from tts_predictor.server.asgi_wrappers import body_limited, cancellable, counted_in, run_cancellable, stall_limited
from tts_predictor.server.error_handlers import internal_error
from tts_predictor.server.rate_limits import Buckets, FailureLimiter, key_id
from tts_predictor.server.request_kinds import (
    admin_only,
    admin_route,
    api_key,
    header,
    inference_route,
    joined_header,
    route_label,
    synthesis_route,
)
from tts_predictor.settings import Settings
from tts_predictor.usage import UsageRecorder

log = logging.getLogger(__name__)


class GatewayMiddleware:
    """Runs before kserve's routes; refusals never reach the model."""

    def __init__(
        self,
        app: ASGIApp,
        settings: Settings,
        admission: AdmissionController | None = None,
        usage: UsageRecorder | None = None,
    ):
        self.app = app
        self.usage = usage  # usage analytics: one record per synthesis request (tts_predictor/usage/)
        self.settings = settings
        self.admission = admission  # inference routes are admitted (or refused) here, before their body is read
        self.keys = settings.api_key_set()
        self.admin_keys = settings.admin_key_set()
        self.exempt = {p.strip() for p in settings.auth_exempt_paths.split(",") if p.strip()}
        self.proxies = parse_networks(settings.trusted_proxies)
        self.buckets = Buckets(settings.rate_limit_rps, settings.rate_limit_burst)
        per_minute = settings.auth_failures_per_minute
        self.failures = FailureLimiter(per_minute) if per_minute else None
        self.feedback_buckets = Buckets(settings.feedback_per_minute / 60, settings.feedback_per_minute)
        self.sockets: dict[str, int] = {}  # open WebSockets per client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] != "websocket":
                await self.app(scope, receive, send)
                return
            if self._refusal(scope) is not None:
                await send({"type": "websocket.close", "code": 1008})
                return
            set_caller(api_key(scope) if self.keys else None)
            budget.start(self.settings)  # one budget for the whole WebSocket session
            set_client_address(self._client(scope))
            session = metrics.open_tally("ws")  # the session's synthesis, counted when it ends
            started, spend = time.perf_counter(), budget.current()
            try:
                await self._websocket(scope, receive, send)
            finally:
                outcome = session.status or "200"
                access_line(scope, outcome, time.perf_counter() - started, "-", route_label(scope))
                session.close(outcome)
                self._account(scope, session, outcome, spend, time.perf_counter() - started, None)
            return
        request_id = header(scope, b"x-request-id") or uuid.uuid4().hex
        scope["headers"] = [h for h in scope["headers"] if h[0] != b"x-request-id"] + [
            (b"x-request-id", request_id.encode())
        ]
        refusal = self._refusal(scope)
        set_caller(api_key(scope) if self.keys and refusal is None else None)  # owner of stored voices
        spend = budget.start(self.settings)  # what this request may consume in all (tts_predictor/budget.py)
        set_client_address(self._client(scope))  # owner of jobs without keys
        if refusal is None:
            refusal = self._admit(scope)
        synthesis = synthesis_route(scope)
        tally = metrics.open_tally(synthesis) if synthesis else None  # tts_requests_total, counted at the end
        if refusal is not None:
            metrics.HTTP_REQUESTS.labels("refused", str(refusal[0])).inc()
            await _reply(send, *refusal, request_id, scope)
            access_line(scope, refusal[0], 0.0, request_id, "refused")
            if tally is not None:
                tally.close(refusal[0])
                self._account(scope, tally, str(refusal[0]), spend, 0.0, None)
            return
        counted = {"in": False}
        started = time.perf_counter()
        status = {"code": 500, "bytes": 0, "started": False}
        responded = {"done": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["started"] = message["status"], True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            elif message["type"] == "http.response.body":
                status["bytes"] += len(message.get("body", b""))
                responded["done"] = not message.get("more_body", False)
            await send(message)

        limit, setting = self._body_limit(scope)
        sender = stall_limited(send_with_id, self.settings.stream_stall_timeout_s)
        try:
            limited = body_limited(receive, limit)
            if self.admission is not None and inference_route(scope):
                limited = counted_in(limited, self.admission, counted)
            if cancellable(scope):
                if await run_cancellable(self.app, scope, limited, sender, lambda: responded["done"]):
                    status["code"] = 499  # client closed the request (nginx's code); nothing was sent
            else:
                await self.app(scope, limited, sender)
        except BodyTooLarge:
            status["code"] = 413
            await _reply(send, 413, f"request body over {limit} bytes ({setting})", {}, request_id, scope)
        except StreamStalled:  # the response is cut off; uvicorn closes the connection
            status["code"] = 408
            log.info(
                "client stopped reading %s for %.0f s; response abandoned (request id %s)",
                route_label(scope),
                self.settings.stream_stall_timeout_s,
                request_id,
            )
        except Exception:
            if status["started"] and not responded["done"]:
                raise  # a response cut off midway: uvicorn must close the connection
            if not status["started"]:  # (answered already: the error handler logged it)
                log.exception("internal error on %s (request id %s)", route_label(scope), request_id)
                await _reply(send, 500, internal_error(request_id), {}, request_id, scope)
            # Handled here, not re-raised: uvicorn would close the keep-alive connection of an answered request.
        finally:
            if counted["in"]:
                self.admission.leave()  # type: ignore[union-attr]
            route, seconds = route_label(scope), time.perf_counter() - started
            metrics.REQUEST_SECONDS.labels(route).observe(seconds)
            metrics.HTTP_REQUESTS.labels(route, str(status["code"])).inc()
            access_line(scope, status["code"], seconds, request_id, route)
            if tally is not None:
                tally.close(status["code"])
                self._account(scope, tally, str(status["code"]), spend, seconds, request_id)
            if status["bytes"] >= self.settings.memory_trim_bytes > 0:  # a large response: give its memory back
                heap.trim_soon()

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket within the connection caps (global, per key or address); sends limited by the stall limit."""
        key = api_key(scope) if self.keys else None
        client = "key:" + key_id(key) if key else self._client(scope)
        if (
            sum(self.sockets.values()) >= self.settings.ws_max_connections
            or self.sockets.get(client, 0) >= self.settings.ws_max_connections_per_client
        ):
            await send({"type": "websocket.close", "code": 1013})  # try again later (handshake refused: 403)
            return
        self.sockets[client] = self.sockets.get(client, 0) + 1
        try:
            await self.app(scope, receive, stall_limited(send, self.settings.stream_stall_timeout_s))
        except StreamStalled:
            log.info("websocket %s: client stopped reading; closed", route_label(scope))
        finally:
            self.sockets[client] -= 1
            if not self.sockets[client]:
                del self.sockets[client]

    def _refusal(self, scope: Scope) -> tuple[int, str, dict[str, str]] | None:
        length = header(scope, b"content-length")
        limit, setting = self._body_limit(scope)
        if length and length.isdigit() and int(length) > limit:
            return 413, f"request body over {limit} bytes ({setting})", {}
        client = self._client(scope)
        key = api_key(scope) if self.keys else None
        if self._needs_key(scope) and not key_valid(key, self.keys):
            return self._auth_failure(client, key)
        if self.keys and admin_only(scope) and not is_admin(key, self.admin_keys):
            return (
                403,
                "loading and unloading models needs an admin API key (TTS_ADMIN_API_KEYS)"
                + ("" if self.admin_keys else "; none is configured"),
                {},
            )
        if admin_route(scope) and not is_admin(key, self.admin_keys):
            return (
                403,
                "the admin routes need an admin API key (TTS_ADMIN_API_KEYS)"
                + ("" if self.admin_keys else "; none is configured, so they are off"),
                {},
            )
        wait = self._feedback_wait(scope, client, key)
        if wait:
            return (
                429,
                "too much feedback (TTS_FEEDBACK_PER_MINUTE); retry later",
                {"retry-after": str(max(1, round(wait)))},
            )
        wait = self._rate_wait(scope, client)
        if wait:
            return (
                429,
                "rate limit exceeded (TTS_RATE_LIMIT_RPS); retry later",
                {"retry-after": str(max(1, round(wait)))},
            )
        return None

    def _admit(self, scope: Scope) -> tuple[int, str, dict[str, str]] | None:
        """429 at once for an inference request the admission controller has no room for (see admission.py)."""
        if self.admission is None or not inference_route(scope):
            return None
        try:
            self.admission.check_door()
        except Overloaded as busy:
            return 429, str(busy), {"retry-after": str(busy.retry_after_s)}
        return None

    def _auth_failure(self, client: str, key: str | None) -> tuple[int, str, dict[str, str]]:
        """401 for a missing or wrong key; 429 once this address or this wrong key failed too often (a valid key
        never comes here: others' failures from a shared address cannot lock it out)."""
        blocked = self.failures.blocked(client, key) if self.failures is not None else 0.0
        if blocked:
            return (
                429,
                "too many failed authentications from this address or with this key "
                "(TTS_AUTH_FAILURES_PER_MINUTE); retry later",
                {"retry-after": str(max(1, round(blocked)))},
            )
        if self.failures is not None:
            self.failures.failed(client, key)
        return (
            401,
            "missing or invalid API key: send 'Authorization: Bearer <key>' or 'X-API-Key'",
            {"www-authenticate": "Bearer"},
        )

    def _body_limit(self, scope: Scope) -> tuple[int, str]:
        """Voice uploads (POST /v1/voices) carry audio and get their own, larger limit."""
        if scope.get("method") == "POST" and scope["path"].rstrip("/") == "/v1/voices":
            return self.settings.voice_upload_max_bytes, "TTS_VOICE_UPLOAD_MAX_BYTES"
        if scope.get("method") == "POST" and scope["path"].rstrip("/") == "/v1/jobs":
            return self.settings.job_upload_max_bytes, "TTS_JOB_UPLOAD_MAX_BYTES"
        return self.settings.max_body_bytes, "TTS_MAX_BODY_BYTES"

    def _client(self, scope: Scope) -> str:
        peer = (scope.get("client") or (None,))[0]
        return client_address(peer, joined_header(scope, b"x-forwarded-for"), self.proxies)

    def _needs_key(self, scope: Scope) -> bool:
        """Keys are configured, the path is not exempt, and this is not a CORS preflight (browsers send those
        without credentials; the CORS middleware answers them)."""
        preflight = scope.get("method") == "OPTIONS" and header(scope, b"access-control-request-method") is not None
        return bool(self.keys) and scope["path"] not in self.exempt and not preflight

    def _feedback_wait(self, scope: Scope, client: str, key: str | None) -> float:
        """POST /v1/feedback: TTS_FEEDBACK_PER_MINUTE per key, else per client address."""
        if scope.get("method") != "POST" or scope["path"].rstrip("/") != "/v1/feedback":
            return 0.0
        return self.feedback_buckets.get("key:" + key_id(key) if key else "ip:" + client).take()

    def _account(
        self,
        scope: Scope,
        tally: metrics.Tally,
        status: str,
        spend: budget.RequestBudget,
        seconds: float,
        rid: str | None,
    ) -> None:
        """Usage of a finished synthesis request: the by-route counters, the usage row, the recent request ids."""
        metrics.ROUTE_CHARACTERS.labels(tally.route).inc(spend.text_chars)
        metrics.ROUTE_AUDIO_SECONDS.labels(tally.route).inc(spend.audio_s)
        if self.usage is None:
            return
        key = api_key(scope) if self.keys else None
        owner = ANONYMOUS if not self.keys else owner_of(key) if key_valid(key, self.keys) else "invalid-key"
        self.usage.record(tally, owner, status, spend.text_chars, spend.audio_s, seconds)
        if rid is not None and status.startswith("2"):
            self.usage.recent.remember(rid, tally, owner, spend.text_chars)

    def _rate_wait(self, scope: Scope, client: str) -> float:
        """Rate limit per authenticated key, else per client address (a made-up key or X-Forwarded-For header
        from an untrusted peer cannot buy a fresh bucket)."""
        if not self.settings.rate_limit_rps or scope["path"] in self.exempt:
            return 0.0
        key = api_key(scope) if self.keys else None
        identity = "key:" + key_id(key) if key else "ip:" + client
        return self.buckets.get(identity).take()


async def _reply(send: Send, status: int, message: str, headers: dict[str, str], request_id: str, scope: Scope) -> None:
    """A refusal before the app: the same body shape as the error handlers' (`errors.error_body`)."""
    body = json.dumps(error_body(scope["path"], status, message)).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id.encode()),
    ] + [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
