"""Security regressions (issue 14), access side, against a real server: gRPC keys, failed-auth limits, CORS
preflight, non-ASCII keys, the blocklist on every route, /config and /health redaction, log injection, metrics."""

from __future__ import annotations

import json

import grpc
import httpx
import pytest
from kserve.protocol.grpc import grpc_predict_v2_pb2 as pb
from kserve.protocol.grpc import grpc_predict_v2_pb2_grpc as pb_grpc
from security_servers import (  # noqa: F401  (fixtures)
    ADMIN_KEY,
    AUTH,
    AUTH_FAILURES_PER_MINUTE,
    KEYS,
    OTEL_SECRET,
    REDIS_PASSWORD,
    as_client,
    client_ip,
    secured_server,
)
from v2_helpers import infer_body
from ws_helpers import events_until_closed

pytestmark = pytest.mark.slow


def _v2(server, texts, headers=None, **params) -> httpx.Response:
    return httpx.post(
        f"{server.url}/v2/models/tts/infer",
        json=infer_body(texts, **params),
        headers=as_client(headers or AUTH),
        timeout=120,
    )


# -- gRPC ------------------------------------------------------------------------------------------------------
def _stub(server):
    channel = grpc.insecure_channel(server.grpc_url)
    return channel, pb_grpc.GRPCInferenceServiceStub(channel)


def _code(call, *args, **kwargs) -> grpc.StatusCode:
    try:
        call(*args, timeout=60, **kwargs)
    except grpc.RpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


def _from_new_client(*metadata: tuple[str, str]) -> list[tuple[str, str]]:
    """gRPC metadata from a fresh client address (the peer 127.0.0.1 is a trusted proxy)."""
    return [*metadata, ("x-forwarded-for", client_ip())]


def _index(server) -> dict[str, str]:
    res = httpx.post(f"{server.url}/v2/repository/index", headers=as_client(AUTH), timeout=30)
    return {m["name"]: m["state"] for m in res.json()}


def test_grpc_needs_the_key_on_every_rpc_but_health(secured_server):
    channel, stub = _stub(secured_server)
    key = [("x-api-key", ADMIN_KEY)]  # repository load / unload: admin keys only (issue 23, test_attack3_gateway)
    with channel:
        assert _code(stub.ServerLive, pb.ServerLiveRequest()) == grpc.StatusCode.OK
        assert _code(stub.ServerReady, pb.ServerReadyRequest()) == grpc.StatusCode.OK
        unauthenticated = [
            (stub.ServerMetadata, pb.ServerMetadataRequest()),
            (stub.ModelMetadata, pb.ModelMetadataRequest(name="tts")),
            (stub.RepositoryModelLoad, pb.RepositoryModelLoadRequest(model_name="second")),
            (stub.RepositoryModelUnload, pb.RepositoryModelUnloadRequest(model_name="second")),
            (stub.ModelInfer, pb.ModelInferRequest(model_name="tts")),
        ]
        for n, (call, request) in enumerate(unauthenticated):  # new addresses and keys: failures are limited per each
            assert _code(call, request, metadata=_from_new_client()) == grpc.StatusCode.UNAUTHENTICATED, call
            wrong = _from_new_client(("x-api-key", f"wrong-{n}"))
            assert _code(call, request, metadata=wrong) == grpc.StatusCode.UNAUTHENTICATED, call
        assert _index(secured_server)["second"] == "UNAVAILABLE", "an unauthenticated load must not load"

        assert (
            _code(stub.RepositoryModelLoad, pb.RepositoryModelLoadRequest(model_name="second"), metadata=key)
            == grpc.StatusCode.OK
        )
        assert _index(secured_server)["second"] == "READY"
        assert (
            _code(
                stub.RepositoryModelUnload,
                pb.RepositoryModelUnloadRequest(model_name="second"),
                metadata=_from_new_client(),
            )
            == grpc.StatusCode.UNAUTHENTICATED
        )
        assert _index(secured_server)["second"] == "READY", "an unauthenticated unload must not unload"
        assert (
            _code(
                stub.RepositoryModelUnload,
                pb.RepositoryModelUnloadRequest(model_name="second"),
                metadata=[("authorization", f"Bearer {ADMIN_KEY}")],
            )
            == grpc.StatusCode.OK
        )
        assert _index(secured_server)["second"] == "UNAVAILABLE"


# -- HTTP auth -------------------------------------------------------------------------------------------------
def test_non_ascii_api_key_is_401_not_500(secured_server):
    for raw in ("é".encode(), b"\xff\xfe", "ключ".encode()):
        headers = [(b"X-API-Key", raw), (b"X-Forwarded-For", as_client()["X-Forwarded-For"].encode())]
        res = httpx.post(f"{secured_server.url}/synthesize", json={"text": "Hi."}, headers=headers, timeout=30)
        assert res.status_code == 401, res.text
        bearer = [(b"Authorization", b"Bearer " + raw), headers[1]]
        assert httpx.post(f"{secured_server.url}/synthesize", json={"text": "Hi."}, headers=bearer).status_code == 401


def test_failed_authentications_are_limited_per_address(secured_server):
    guesser, neighbour = as_client(), as_client()
    url = f"{secured_server.url}/v2/models/tts/infer"
    codes = [
        httpx.post(url, json=infer_body(["Hi."]), headers={**guesser, "X-API-Key": f"guess-{i}"}).status_code
        for i in range(AUTH_FAILURES_PER_MINUTE + 2)
    ]
    assert codes[:AUTH_FAILURES_PER_MINUTE] == [401] * AUTH_FAILURES_PER_MINUTE
    assert codes[AUTH_FAILURES_PER_MINUTE:] == [429, 429], codes
    blocked = httpx.post(url, json=infer_body(["Hi."]), headers={**guesser, "X-API-Key": "guess-again"})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
    # A valid key is never refused for the failures of others at its address (issue 23, finding 10).
    assert httpx.post(url, json=infer_body(["Hi."]), headers={**guesser, **AUTH}, timeout=120).status_code == 200
    assert httpx.post(url, json=infer_body(["Hi."]), headers={**neighbour, **AUTH}, timeout=120).status_code == 200


def test_cors_preflight_passes_auth(secured_server):
    res = httpx.options(
        f"{secured_server.url}/synthesize",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-api-key, content-type",
        },
    )
    assert res.status_code == 200, res.text
    assert res.headers["access-control-allow-origin"] == "https://app.example"
    assert httpx.options(f"{secured_server.url}/synthesize", headers=as_client()).status_code == 401, (
        "a plain OPTIONS (not a preflight) still needs the key"
    )


# -- content filter --------------------------------------------------------------------------------------------
DISGUISES = [
    "a kiss",
    "a KISS",
    "a kiſſ",
    "<speak>a &#107;iss</speak>",
    '<speak>a k<mark name="m"/>iss</speak>',
    "a ｋｉｓｓ",
    "a kіss",
    "a ki\u00adss",
    "a ki\u200bss",
    "a forbidden  phrase",
    "a forbidden\u00a0phrase",
    "a forbidden-phrase",
    '<speak>a <sub alias="kiss">hug</sub></speak>',
    "a kíss",
]


@pytest.mark.parametrize("text", DISGUISES)
def test_blocklist_on_v2_and_rest(secured_server, text):
    res = _v2(secured_server, [text])
    assert res.status_code == 400 and "content filter" in res.text, (text, res.text)
    res = httpx.post(f"{secured_server.url}/synthesize", json={"text": text}, headers=as_client(AUTH), timeout=60)
    assert res.status_code == 400 and "content filter" in res.text, (text, res.text)


def test_blocklist_on_every_route(secured_server):
    url, headers = secured_server.url, as_client(AUTH)
    text = "<speak>a &#107;iss</speak>"
    res = httpx.post(f"{url}/batch_synthesize", json={"items": [{"text": "Fine."}, {"text": text}]}, headers=headers)
    assert res.status_code == 400 and "content filter" in res.text
    for stream_format in ("audio", "sse"):
        res = httpx.post(
            f"{url}/v1/audio/speech",
            headers=headers,
            timeout=60,
            json={"model": "tts-1", "input": "a kіss", "voice": "alloy", "stream_format": stream_format},
        )
        assert res.status_code == 400 and "content filter" in res.text, res.text
    res = httpx.post(f"{url}/synthesize", json={"text": "a ｋｉｓｓ", "options": {"stream": True}}, headers=headers)
    assert res.status_code == 400 and "content filter" in res.text
    assert _v2(secured_server, ["A harmless sentence about kissing gourami fish."]).status_code == 200, (
        "whole words only"
    )
    _ws_blocked(secured_server)


def _ws_blocked(server) -> None:
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{server.http_port}/v1/stream", additional_headers=as_client(AUTH)) as ws:
        ws.send(json.dumps({"type": "config", "format": "pcm"}))
        ws.send(json.dumps({"type": "text", "text": "a ki\u00adss"}))
        ws.send(json.dumps({"type": "close"}))
        events, _ = events_until_closed(ws)
    errors = [e for e in events if e.get("type") == "error"]
    assert errors and "content filter" in errors[0]["message"], events


# -- data exposure ---------------------------------------------------------------------------------------------
def test_config_redacts_credentials_in_urls(secured_server):
    res = httpx.get(f"{secured_server.url}/config", headers=as_client(AUTH))
    assert res.status_code == 200
    assert REDIS_PASSWORD not in res.text and OTEL_SECRET not in res.text and KEYS[0] not in res.text
    assert res.json()["otel_endpoint"] == "http://***@collector:4318/v1/traces?api_key=***"


def _cache_hits(server) -> float:
    metrics = httpx.get(f"{server.url}/metrics").text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("tts_cache_total{") and 'result="hit"' in line
    )


def test_cache_is_partitioned_per_key(secured_server):
    """No cross-tenant timing oracle: another key's request for the same text is a miss, not a hit."""
    text = ["One-time code 4 8 1 5 9."]
    assert _v2(secured_server, text, {"X-API-Key": KEYS[0]}).status_code == 200
    before = _cache_hits(secured_server)
    assert _v2(secured_server, text, {"X-API-Key": KEYS[1]}).status_code == 200
    assert _cache_hits(secured_server) == before, "the other key's audio was served from cache"
    assert _v2(secured_server, text, {"X-API-Key": KEYS[0]}).status_code == 200
    assert _cache_hits(secured_server) == before + 1, "the same key still hits its own entry"


def test_health_is_minimal_without_the_key(secured_server):
    public = httpx.get(f"{secured_server.url}/health", headers=as_client())
    assert public.status_code == 200 and set(public.json()) == {"status", "model_loaded", "ready"}
    detailed = httpx.get(f"{secured_server.url}/health", headers=as_client(AUTH)).json()
    assert {"engine", "system", "in_flight", "source"} <= set(detailed)


# -- logs and metrics ------------------------------------------------------------------------------------------
def test_logs_escape_control_characters_and_never_hold_the_text(secured_server):
    marker = "TEXTMARKER-41c7"
    for params in ({"voice": "evil\nFORGED LOG LINE \x1b[31m"}, {"language": "en\r\nFORGED LOG LINE"}):
        res = _v2(secured_server, [f"Hello {marker}."], **params)
        assert res.status_code == 400
    ssml = f'<speak><say-as interpret-as="currency">{marker}</say-as></speak>'
    res = _v2(secured_server, [ssml])
    assert res.status_code == 400 and marker not in res.text, "errors never echo the request text"
    log = secured_server.log_path.read_text(errors="replace")
    assert not any(line.startswith("FORGED LOG LINE") for line in log.splitlines())
    assert "\x1b[31m" not in log and marker not in log


def test_metric_labels_are_route_templates(secured_server):
    for i in range(30):
        httpx.get(f"{secured_server.url}/made-up/path-{i}/x", headers=as_client())
        httpx.get(f"{secured_server.url}/v2/models/model-{i}/ready", headers=as_client(AUTH))
    metrics = httpx.get(f"{secured_server.url}/metrics").text
    routes = {
        line.split('route="')[1].split('"')[0]
        for line in metrics.splitlines()
        if line.startswith("tts_http_requests_total{") and 'route="' in line
    }
    assert not any("made-up" in r or "model-" in r for r in routes), routes
    assert "unmatched" in routes and "/v2/models/{model}/ready" in routes, routes
