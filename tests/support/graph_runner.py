"""A local stand-in for KServe's InferenceGraph router, following its Go source step by step.

Source: kserve/kserve ``cmd/router/main.go`` (commit aaac4e29, read 2026-11-27); line numbers below refer to
it. Only what a ``Sequence`` graph needs is mirrored: ``routeStep`` for Sequence nodes and ``nodeName`` steps,
``callService``, ``graphHandler`` and the server's timeouts. What that means for a client:

- a step gets the client's body (``data: $request``, the default) or the previous step's response body
  unchanged (``$response``); ``mapPredictionsToInstances`` renames V1 ``predictions`` to ``instances``;
- ``condition`` (a gjson path, see devtools/gjson.py) is tested on the previous response *before* the step;
  if it does not match, the graph stops and answers that response with **200**; on a first step (no
  previous response) or a non-JSON response it answers **500** "invalid response";
- a non-2xx answer stops the graph only for ``dependency: Hard`` (its body and status are the answer);
  ``Soft`` (or none) goes on, feeding the error body to the next ``$response`` step;
- a transport error (refused, reset, per-step timeout) answers **500** even on a Soft step;
- only request headers matching a ``PROPAGATE_HEADERS`` pattern (KServe's ``router.headers.propagate``)
  reach the steps, none by default; ``Content-Type: application/json`` is added when not propagated;
- steps' *response* headers are dropped: the answer has only a JSON ``Content-Type`` (so no binary
  extension and no ``Retry-After`` through a graph);
- the whole graph must answer within ``routerTimeouts.serverWrite`` (default 60 s) of the request being
  read, else the connection is closed with no answer; a client that disconnects cancels nothing.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import gjson
import httpx

Headers = dict[str, list[str]]


class RouteError(Exception):
    """An error the router answers with `{"error": "Failed to process request", "cause": ...}`."""


@dataclass(frozen=True)
class RouterTimeouts:
    """spec.routerTimeouts with KServe's defaults (pkg/constants RouterTimeouts*: 60, 60, 180; main.go 446-466)."""

    server_read: float = 60
    server_write: float = 60
    """Seconds from reading the request head to the end of the answer; 0 = none (Go's zero timeout)."""
    server_idle: float = 180
    service_client: float | None = None
    """Per step call; None = Go's http.DefaultClient, which never times out (main.go 149-156)."""

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> RouterTimeouts:
        """getTimeout: a value given (0 included) wins over the default."""
        given = spec.get("routerTimeouts") or {}
        pick = lambda key, default: default if given.get(key) is None else given[key]  # noqa: E731
        return cls(pick("serverRead", 60), pick("serverWrite", 60), pick("serverIdle", 180), given.get("serviceClient"))


def canonical_header(name: str) -> str:
    """Go's textproto.CanonicalMIMEHeaderKey: `x-request-id` -> `X-Request-Id` (patterns match these)."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def _successful(status: int) -> bool:
    return 200 <= status <= 299  # isSuccessFul, main.go 378-383


class GraphRouter:
    """The router of one InferenceGraph spec, its steps' serviceUrls already resolved (see resolve_service_urls)."""

    def __init__(self, spec: Mapping[str, Any], propagate_headers: Iterable[str] = ()):
        """`propagate_headers`: the PROPAGATE_HEADERS patterns (Go regexps, unanchored; main.go 492-500)."""
        self.spec = spec
        self.patterns = [re.compile(p) for p in propagate_headers]
        self.timeouts = RouterTimeouts.from_spec(spec)

    def handle(self, body: bytes, headers: Headers) -> tuple[int, dict[str, str], bytes]:
        """graphHandler (main.go 405-423): status, response headers, body."""
        try:
            response, status = self.route_step("root", body, headers)
        except RouteError as exc:
            error = json.dumps({"error": "Failed to process request", "cause": str(exc)}).encode()
            return 500, {"Content-Type": "application/json"}, error
        return status, ({"Content-Type": "application/json"} if gjson.valid(response) else {}), response

    def route_step(self, node_name: str, data: bytes, headers: Headers) -> tuple[bytes, int]:
        """routeStep for a Sequence node (main.go 318-373); other router types answer 500 here."""
        node = self.spec["nodes"].get(node_name, {})
        if node.get("routerType") != "Sequence":
            raise RouteError(f"invalid route type: {node.get('routerType')} (only Sequence is mirrored)")
        response: bytes = b""
        status = 0
        for index, step in enumerate(node.get("steps", [])):
            request = response if step.get("data") == "$response" and index > 0 else data  # 330-333
            if step.get("mapPredictionsToInstances"):
                request = _predictions_to_instances(request)  # 335-346
            if step.get("condition"):  # 348-356: tested on the previous response, before the step
                if not gjson.valid(response):
                    raise RouteError("invalid response")
                try:
                    matched = gjson.exists(response, step["condition"])
                except ValueError as exc:  # gjson syntax this copy does not mirror
                    raise RouteError(str(exc)) from exc
                if not matched:
                    return response, 200
            response, status = self.execute_step(step, request, headers)  # 357-359: errors -> 500
            if step.get("dependency") == "Hard" and not _successful(status):  # 363-369
                return response, status
        return response, status

    def execute_step(self, step: Mapping[str, Any], data: bytes, headers: Headers) -> tuple[bytes, int]:
        """executeStep (main.go 385-391): a nested node, or the step's serviceUrl."""
        if step.get("nodeName"):
            return self.route_step(step["nodeName"], data, headers)
        return self.call_service(step.get("serviceUrl", ""), data, headers)

    def call_service(self, url: str, data: bytes, headers: Headers) -> tuple[bytes, int]:
        """callService (main.go 94-177): POST with the propagated headers only; any transport error -> 500."""
        sent: list[tuple[str, str]] = []
        matched: set[str] = set()
        for pattern in self.patterns:  # 130-143: each header once, whichever pattern matches first
            for name, values in headers.items():
                if name not in matched and pattern.search(name):
                    matched.add(name)
                    sent += [(name, v) for v in values]
        # Go's client writes these from the request itself, never from the header map (net/http reqWriteExcludeHeader).
        sent = [(n, v) for n, v in sent if n not in ("Content-Length", "Transfer-Encoding", "Trailer")]
        if not any(name.lower() == "content-type" for name, _ in sent):  # 145-147
            sent.append(("Content-Type", "application/json"))
        try:
            with httpx.Client(timeout=self.timeouts.service_client) as client:
                answer = client.post(url, content=data, headers=sent)
        except httpx.HTTPError as exc:
            raise RouteError(f"{type(exc).__name__}: {exc}") from exc
        return answer.content, answer.status_code  # the step's response headers go no further


def _predictions_to_instances(request: bytes) -> bytes:
    try:
        decoded = json.loads(request)
    except ValueError:
        return request
    if isinstance(decoded, dict) and decoded.get("predictions"):
        # sequenceReqRes has only these two fields (main.go 237-240): everything else is dropped.
        return json.dumps({"instances": decoded["predictions"]}).encode()
    return request


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: RouterServer

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        started = time.monotonic()  # Go arms the write deadline once the request head is read
        timeouts = self.server.router.timeouts
        self.connection.settimeout(timeouts.server_read or None)
        try:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        except TimeoutError:
            self.close_connection = True
            return
        headers: Headers = {}
        for name, value in self.headers.items():
            if canonical_header(name) != "Host":  # Go moves it to req.Host: never a propagated header
                headers.setdefault(canonical_header(name), []).append(value)
        # No cancellation: the steps run to the end even if the client has gone (Go never checks req.Context()).
        status, out_headers, out = self.server.router.handle(body, headers)
        if timeouts.server_write and time.monotonic() - started > timeouts.server_write:
            self.close_connection = True  # the write deadline has passed: the client gets no answer
            return
        self.send_response(status)
        for name, value in out_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
        return


class RouterServer(ThreadingHTTPServer):
    """The router on 127.0.0.1 (any path runs the graph, as `http.HandleFunc("/", graphHandler)` does)."""

    daemon_threads = True

    def __init__(self, router: GraphRouter, port: int = 0):
        super().__init__(("127.0.0.1", port), _Handler)
        self.router = router
        self._thread = threading.Thread(target=self.serve_forever, name="graph-router", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> RouterServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def service_step_path(isvc: Mapping[str, Any]) -> str:
    """The path KServe appends to an InferenceService's status.address.url for a `serviceName` step.

    pkg/controller/v1beta1/inferenceservice/utils/utils.go: GetModelName (lines 94-142; `--model_name` in the
    transformer's args, else the predictor's, else the ISVC name) and GetPredictorEndpoint (145-205; the
    protocol of the transformer when there is one, from env PROTOCOL of a custom container, default v1 —
    transformer_custom.go 119-126, predictor_custom.go 118-124), then constants.PredictPath.
    """
    spec = isvc["spec"]
    container = spec["transformer" if "transformer" in spec else "predictor"]["containers"][0]
    args = list(container.get("args", []))
    model = args[args.index("--model_name") + 1] if "--model_name" in args[:-1] else isvc["metadata"]["name"]
    protocol = next((e.get("value") for e in container.get("env", []) if e["name"] == "PROTOCOL"), "v1")
    return {"v1": f"/v1/models/{model}:predict", "v2": f"/v2/models/{model}/infer"}.get(protocol, "")


def resolve_service_urls(
    graph: Mapping[str, Any], addresses: Mapping[str, str], isvcs: Iterable[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """The graph spec with steps' URLs as the controller would set them (controller.go lines 160-183).

    `addresses` maps an InferenceService name (a `serviceName` step) or a serviceUrl (an external step) to the
    local base URL standing in for it; `isvcs` are the rendered InferenceServices whose V2 path we derive.
    """
    paths = {i["metadata"]["name"]: service_step_path(i) for i in isvcs}
    spec = json.loads(json.dumps(graph["spec"]))
    for node in spec["nodes"].values():
        for step in node.get("steps", []):
            if step.get("serviceName") and not step.get("serviceUrl"):
                step["serviceUrl"] = addresses[step["serviceName"]] + paths[step["serviceName"]]
            elif step.get("serviceUrl") in addresses:
                step["serviceUrl"] = addresses[step["serviceUrl"]]
    return spec
