"""What kind of request an ASGI scope is: inference under admission, the synthesis route label, admin-only routes,
the route template for metrics, and its headers and API key."""

from __future__ import annotations

import re

from starlette.types import Scope

from tts_predictor.auth import key_from

_INFERENCE = re.compile(
    r"/v2/models/[^/]+(/versions/[^/]+)?/infer|/v1/models/[^/]+:predict|/synthesize|/batch_synthesize|/v1/audio/speech"
)


def inference_route(scope: Scope) -> bool:
    """A POST that synthesizes under admission control (V2/V1 inference, /synthesize, /batch_synthesize, OpenAI
    speech); WebSocket utterances and jobs are admitted one by one further in."""
    return scope.get("method") == "POST" and _INFERENCE.fullmatch(scope["path"].rstrip("/")) is not None


_SYNTHESIS_ROUTES = {"synthesize": "synthesize", "batch_synthesize": "batch", "v1/audio/speech": "openai"}


def synthesis_route(scope: Scope) -> str | None:
    """The `route` label of tts_requests_total for an HTTP request that synthesizes (`metrics.ROUTES`), else None."""
    if not inference_route(scope):
        return None
    path = scope["path"].strip("/")
    if path.startswith("v2/"):
        return "v2"
    if path.startswith("v1/models/"):
        return "v1"
    return _SYNTHESIS_ROUTES.get(path, "other")


_REPOSITORY_ACTION = re.compile(r"/v2/repository/models/[^/]+/(load|unload)/?")
_SLASHES = re.compile(r"/{2,}")


def admin_only(scope: Scope) -> bool:
    """Model repository load / unload (kserve's /v2/repository/models/<name>/load|unload): they change the models
    every tenant is served, so only admin keys may call them. Runs of slashes are collapsed first (routers treat
    `//v2//repository` alike), in one linear pass: `/+` between the literals backtracked quadratically on a path of
    thousands of slashes (41 ms per 8 KB, found by tests/unit/text/test_text_redos.py)."""
    return _REPOSITORY_ACTION.fullmatch(_SLASHES.sub("/", scope["path"])) is not None


def admin_route(scope: Scope) -> bool:
    """The usage and feedback reports (/v1/admin/...): admin keys only, and off while none is configured."""
    path = _SLASHES.sub("/", scope["path"])  # //v1//admin/usage names the same route to some routers
    return path == "/v1/admin" or path.startswith("/v1/admin/")


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def joined_header(scope: Scope, name: bytes) -> str | None:
    """Every line of a list-valued header, joined in order (RFC 9110 5.3): a proxy that adds its own
    X-Forwarded-For line after the client's must be read as the last hop, not skipped for the client's first line."""
    values = [value.decode("latin-1") for key, value in scope.get("headers", []) if key == name]
    return ", ".join(values) if values else None


def api_key(scope: Scope) -> str | None:
    return key_from(header(scope, b"authorization"), header(scope, b"x-api-key"))


def route_label(scope: Scope) -> str:
    """Metric label: the template of the route the app matched (`/v2/models/{model}/infer`; Starlette leaves it in
    scope["route"]), `refused` before routing (the status says why), else `unmatched`: a made-up path adds no series."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not path:
        return "unmatched"
    return path.replace("{model_name}", "{model}").replace("{model_version}", "{version}")
