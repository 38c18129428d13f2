"""Security regressions (issue 23), gateway / auth / repository / error shape, against real servers and clients:
header floods (431), failed-key limits that never lock out a valid key (REST and gRPC), admin-only model repository
and the default voice after unload/reload, open-mode job owners, 500s and 4xx logging, WebSocket idle timeout,
/config redaction."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

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
    TSA_SECRET,
    WS_IDLE_S,
    as_client,
    client_ip,
    open_server,
    secured_server,
)
from server_process import ServerProcess, free_port
from v2_helpers import infer_body

pytestmark = pytest.mark.slow

JOBS_PER_OWNER = 2


@pytest.fixture(scope="module")
def open_jobs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """No keys; jobs with a small per-owner queue; 127.0.0.1 is a trusted proxy (X-Forwarded-For names clients)."""
    server = ServerProcess(
        env={
            "TTS_JOBS_DIR": str(tmp_path_factory.mktemp("open-jobs")),
            "TTS_JOB_MAX_QUEUED_PER_KEY": str(JOBS_PER_OWNER),
            "TTS_TRUSTED_PROXIES": "127.0.0.1",
        }
    ).start()
    yield server
    server.stop()


def _first_response(url: str, data: bytes, timeout_s: float = 10) -> bytes:
    """Send `data` on a fresh TCP connection; the first response (head and content-length body) only."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout_s) as sock:
        sock.sendall(data)
        received = b""
        while b"\r\n\r\n" not in received and (chunk := sock.recv(65536)):
            received += chunk
        head = received.split(b"\r\n\r\n", 1)[0]
        length = re.search(rb"(?im)^content-length: *(\d+)", head)
        while length and len(received) < len(head) + 4 + int(length[1]) and (chunk := sock.recv(65536)):
            received += chunk
    return received


def _raw(url: str, data: bytes, timeout_s: float = 15) -> bytes:
    """Send `data` on a fresh TCP connection; everything the server answers until it closes (or goes quiet)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout_s) as sock:
        sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    return received


# -- finding 7: header floods ------------------------------------------------------------------------------------
def test_header_flood_is_refused_with_431_before_the_app(open_server):
    """Finding 7: ~16x amplification of many tiny headers; the head is bounded (count and bytes) while parsed."""
    head = b"GET /v2/health/live HTTP/1.1\r\nhost: x\r\n"
    many = _raw(open_server.url, head + b"".join(b"h%d: v\r\n" % i for i in range(150)) + b"\r\n")
    assert many.startswith(b"HTTP/1.1 431 ") and b"TTS_MAX_HEADER_COUNT" in many, many[:200]

    big = _raw(open_server.url, head + b"x-big: " + b"a" * (80 * 1024))  # one field, never finished
    assert big.startswith(b"HTTP/1.1 431 ") and b"TTS_MAX_HEADER_BYTES" in big, big[:200]

    wide = _raw(open_server.url, head + b"".join(b"h%d: %s\r\n" % (i, b"b" * 2000) for i in range(40)) + b"\r\n")
    assert wide.startswith(b"HTTP/1.1 431 ") and b"TTS_MAX_HEADER_BYTES" in wide, wide[:200]

    fine = _raw(
        open_server.url,
        head + b"".join(b"h%d: v\r\n" % i for i in range(60)) + b"connection: close\r\n\r\n",
    )
    assert fine.startswith(b"HTTP/1.1 200 "), fine[:200]


def test_deep_http_pipelining_is_cut_off(open_server):
    """Attack found in issue 23's review: uvicorn parses every pipelined request of a received chunk before it
    pauses reading (thousands of queued request objects per connection); beyond MAX_PIPELINED waiting, the
    connection is closed. Modest pipelining still works."""
    from tts_predictor.server.timeouts import MAX_PIPELINED

    live = b"GET /v2/health/live HTTP/1.1\r\nhost: x\r\n\r\n"
    flood = _raw(open_server.url, live * 5000)
    assert flood.count(b"HTTP/1.1 200") <= MAX_PIPELINED + 2, flood.count(b"HTTP/1.1 200")
    modest = _raw(open_server.url, live * 9 + live.replace(b"\r\n\r\n", b"\r\nconnection: close\r\n\r\n"))
    assert modest.count(b"HTTP/1.1 200") == 10
    assert httpx.get(f"{open_server.url}/v2/health/live", timeout=10).status_code == 200


# -- finding 10: failed keys -------------------------------------------------------------------------------------
def test_wrong_keys_never_lock_out_a_valid_key_at_the_same_address(secured_server):
    """Finding 10: 10 wrong keys from an address (an ingress: everyone's) made valid key A get 429."""
    ingress = as_client()
    url = f"{secured_server.url}/config"
    codes = [
        httpx.get(url, headers={**ingress, "X-API-Key": f"wrong-{i}"}, timeout=30).status_code
        for i in range(AUTH_FAILURES_PER_MINUTE + 2)
    ]
    assert codes == [401] * AUTH_FAILURES_PER_MINUTE + [429, 429], codes
    for key in (KEYS[0], KEYS[1], ADMIN_KEY):
        assert httpx.get(url, headers={**ingress, "X-API-Key": key}, timeout=30).status_code == 200

    # One wrong key repeated from ever new addresses is limited per key.
    repeated = [
        httpx.get(url, headers={**as_client(), "X-API-Key": "revoked-key"}, timeout=30).status_code
        for _ in range(AUTH_FAILURES_PER_MINUTE + 1)
    ]
    assert repeated[-1] == 429 and repeated[:-1] == [401] * AUTH_FAILURES_PER_MINUTE, repeated


def _grpc_code(call, request, metadata) -> grpc.StatusCode:
    try:
        call(request, metadata=metadata, timeout=30)
    except grpc.RpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


def test_grpc_key_guessing_is_limited_and_valid_keys_pass(secured_server):
    """Low finding: gRPC key guessing was never rate-limited (870 wrong keys/s)."""
    address = client_ip()  # the peer 127.0.0.1 is a trusted proxy: x-forwarded-for names the client
    with grpc.insecure_channel(secured_server.grpc_url) as channel:
        stub = pb_grpc.GRPCInferenceServiceStub(channel)
        request = pb.ServerMetadataRequest()
        codes = [
            _grpc_code(stub.ServerMetadata, request, [("x-api-key", f"guess-{i}"), ("x-forwarded-for", address)])
            for i in range(AUTH_FAILURES_PER_MINUTE + 2)
        ]
        assert codes[:AUTH_FAILURES_PER_MINUTE] == [grpc.StatusCode.UNAUTHENTICATED] * AUTH_FAILURES_PER_MINUTE
        assert codes[AUTH_FAILURES_PER_MINUTE:] == [grpc.StatusCode.RESOURCE_EXHAUSTED] * 2, codes
        valid = [("x-api-key", KEYS[0]), ("x-forwarded-for", address)]
        assert _grpc_code(stub.ServerMetadata, request, valid) == grpc.StatusCode.OK


# -- finding 11: the model repository ----------------------------------------------------------------------------
def _default_voice(server) -> str:
    res = httpx.get(f"{server.url}/v2/models/tts/voices", headers=as_client(AUTH), timeout=30)
    assert res.status_code == 200, res.text
    return res.json()["default_voice"]


def _repo(server, name: str, action: str, key: str) -> httpx.Response:
    url = f"{server.url}/v2/repository/models/{name}/{action}"
    return httpx.post(url, headers=as_client({"X-API-Key": key}), timeout=120)


def test_repository_is_admin_only_and_the_default_voice_comes_back(secured_server):
    """Finding 11: tenant key B unloaded the default voice's model; reloading did not restore the default."""
    default = _default_voice(secured_server)
    for key in KEYS:
        for action in ("load", "unload"):
            res = _repo(secured_server, "second", action, key)
            assert res.status_code == 403 and "TTS_ADMIN_API_KEYS" in res.json()["error"], res.text
            res = _repo(secured_server, default, action, key)
            assert res.status_code == 403, res.text
    with grpc.insecure_channel(secured_server.grpc_url) as channel:
        stub = pb_grpc.GRPCInferenceServiceStub(channel)
        for key in KEYS:
            load = pb.RepositoryModelLoadRequest(model_name="second")
            unload = pb.RepositoryModelUnloadRequest(model_name=default)
            assert _grpc_code(stub.RepositoryModelLoad, load, [("x-api-key", key)]) == grpc.StatusCode.PERMISSION_DENIED
            assert (
                _grpc_code(stub.RepositoryModelUnload, unload, [("x-api-key", key)])
                == grpc.StatusCode.PERMISSION_DENIED
            )
        # Low finding: an unknown model answered UNKNOWN (AttributeError in kserve's interceptor).
        unknown = pb.RepositoryModelLoadRequest(model_name="no-such-model")
        assert _grpc_code(stub.RepositoryModelLoad, unknown, [("x-api-key", ADMIN_KEY)]) == grpc.StatusCode.NOT_FOUND
    assert _default_voice(secured_server) == default

    try:
        assert _repo(secured_server, "second", "load", ADMIN_KEY).status_code == 200
        assert _repo(secured_server, default, "unload", ADMIN_KEY).status_code == 200
        assert _default_voice(secured_server) != default
        assert _repo(secured_server, default, "load", ADMIN_KEY).status_code == 200
        assert _default_voice(secured_server) == default, "the configured default voice came back with its model"
    finally:
        _repo(secured_server, default, "load", ADMIN_KEY)
        _repo(secured_server, "second", "unload", ADMIN_KEY)
    assert _default_voice(secured_server) == default


# -- finding 12: job owners without keys ---------------------------------------------------------------------------
def test_open_mode_job_owner_is_the_client_address(open_jobs):
    """Finding 12: without keys, a made-up X-API-Key per job escaped the per-key queue limit (14/14 accepted)."""
    address = client_ip()
    body = {"text": "A long story. " * 3000}
    codes = [
        httpx.post(
            f"{open_jobs.url}/v1/jobs",
            json=body,
            headers={"X-Forwarded-For": address, "X-API-Key": f"made-up-{i}"},
            timeout=60,
        ).status_code
        for i in range(JOBS_PER_OWNER + 2)
    ]
    assert codes == [202] * JOBS_PER_OWNER + [429, 429], codes
    other = httpx.post(f"{open_jobs.url}/v1/jobs", json=body, headers={"X-Forwarded-For": client_ip()}, timeout=60)
    assert other.status_code == 202, "another client address has a queue of its own"
    mine = httpx.get(f"{open_jobs.url}/v1/jobs", headers={"X-Forwarded-For": address}, timeout=30).json()["jobs"]
    assert len(mine) == JOBS_PER_OWNER, "the address sees its own jobs, whatever key it made up"
    for job in mine + [other.json()]:
        httpx.delete(f"{open_jobs.url}/v1/jobs/{job['id']}", headers={"X-Forwarded-For": address}, timeout=30)


# -- finding 14: overload refusals -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def one_slot() -> Iterator[ServerProcess]:
    """One request running, one queued; beyond, 429."""
    env = {"TTS_MAX_ACTIVE_REQUESTS": "1", "TTS_MAX_CONCURRENCY": "1", "TTS_MAX_QUEUE": "1", "TTS_CACHE_MAX_BYTES": "0"}
    server = ServerProcess(env=env).start()
    yield server
    server.stop()


def _long_v2(url: str) -> None:
    texts = [f"Part {i}. " + "The rain in Spain stays mainly in the plain. " * 30 for i in range(4)]
    httpx.post(f"{url}/v2/models/tts/infer", json=infer_body(texts), timeout=300)


def test_overload_is_refused_at_the_door_before_the_body(one_slot):
    """Finding 14: with the slots and queue full, the median 429 took ~250 ms (it waited behind parsing and
    normalization of the requests in front); admission is now decided before the body is read."""
    busy = [threading.Thread(target=_long_v2, args=(one_slot.url,), daemon=True) for _ in range(2)]
    for thread in busy:
        thread.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        health = httpx.get(f"{one_slot.url}/health", timeout=10).json()
        if health["in_flight"] + health["queued"] >= 2:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the two long requests never filled the slot and the queue: {health}")

    # A head that announces a body and never sends it: only a decision made before the body can answer it.
    for path in ("/v2/models/tts/infer", "/synthesize", "/v1/audio/speech"):
        head = f"POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n"
        answer = _first_response(one_slot.url, head.encode())  # (the old code waited for the body: timeout)
        assert answer.startswith(b"HTTP/1.1 429 ") and b"retry-after" in answer.lower(), (path, answer[:300])
        assert b"server busy" in answer and b"TTS_MAX_QUEUE" in answer

    def refused_after() -> float:
        started = time.perf_counter()
        res = httpx.post(f"{one_slot.url}/v2/models/tts/infer", json=infer_body(["Hello there."] * 32), timeout=60)
        assert res.status_code == 429, res.text
        return time.perf_counter() - started

    with concurrent.futures.ThreadPoolExecutor(40) as pool:  # full requests: all refused (timings vary by machine)
        latencies = sorted(pool.map(lambda _: refused_after(), range(40)))
    print(f"40 concurrent refusals: median {latencies[20] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
    # (the long requests end when the module's server stops)


# -- low findings: error shape -----------------------------------------------------------------------------------
def test_a_v2_400_logs_one_line(open_jobs):
    """Low finding: each V2 400 logged ~2.5 KB of traceback (kserve's handler); a 4xx logs one line."""
    before = open_jobs.log_path.read_text(errors="replace")
    request_id = "four-hundred-probe"
    res = httpx.post(
        f"{open_jobs.url}/v2/models/tts/infer",
        json={"inputs": [{"name": "text", "datatype": "FP32", "shape": [1], "data": [1.0]}]},
        headers={"x-request-id": request_id},
        timeout=30,
    )
    assert res.status_code == 400, res.text
    time.sleep(0.5)
    added = open_jobs.log_path.read_text(errors="replace")[len(before) :]
    assert "Traceback" not in added, added[:3000]
    assert len([line for line in added.splitlines() if request_id in line]) == 1, added[:3000]


def _serve_failing_app() -> tuple[str, object]:
    """A real uvicorn server running our gateway and error handlers in front of routes that fail."""
    import uvicorn
    from fastapi import FastAPI
    from kserve.errors import InferenceError
    from kserve.protocol.rest.server import RESTServer

    from tts_predictor.server.app import add_error_handlers, add_middleware
    from tts_predictor.settings import Settings

    app = FastAPI()

    async def boom() -> None:
        raise RuntimeError("secret detail from /etc/tts/key.pem")

    async def failed() -> None:
        raise InferenceError("engine state dump: secret detail")

    async def fine() -> dict[str, bool]:
        return {"ok": True}

    app.add_api_route("/boom", boom)
    app.add_api_route("/failed", failed)
    app.add_api_route("/fine", fine)
    RESTServer._add_exception_handlers(None, app)  # kserve's handlers first, as its server adds them at start
    add_error_handlers(app)
    add_middleware(app, Settings())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def test_a_500_says_internal_error_and_keeps_the_connection(caplog):
    """Low findings: 500 bodies carried the exception class and message; the keep-alive connection was reset."""
    url, server = _serve_failing_app()
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            peers = set()
            for path in ("/boom", "/failed", "/fine", "/boom"):
                res = client.get(path, headers={"x-request-id": f"rid{path.strip('/')}"}, extensions={})
                peers.add(res.extensions["network_stream"].get_extra_info("client_addr"))
                if path == "/fine":
                    assert res.status_code == 200
                    continue
                assert res.status_code == 500
                assert res.json() == {"error": f"internal error; request id rid{path.strip('/')}"}, res.text
                assert "secret" not in res.text and "Error" not in res.text
            assert len(peers) == 1, f"the keep-alive connection was dropped after a 500: {peers}"
    finally:
        server.should_exit = True
    details = "\n".join(r.getMessage() + str(r.exc_info) for r in caplog.records)
    assert "secret detail" in details and "ridboom" in details, "the details go to the log, with the request id"


# -- low finding: WebSocket idle timeout ---------------------------------------------------------------------------
def test_websocket_whitespace_does_not_defeat_the_idle_timeout(open_server):
    """Low finding: one space every 5 s kept a WebSocket open forever (TTS_WS_IDLE_TIMEOUT_S)."""
    websockets = pytest.importorskip("websockets")
    url = open_server.url.replace("http://", "ws://") + "/v1/stream"

    async def run() -> float:
        started = time.monotonic()
        async with websockets.connect(url, additional_headers={"X-Forwarded-For": client_ip()}) as ws:
            await ws.send(json.dumps({"type": "config"}))
            try:
                while time.monotonic() - started < WS_IDLE_S * 4:
                    await ws.send(json.dumps({"type": "text", "text": " "}))
                    await ws.send(json.dumps({"type": "flush"}))
                    await asyncio.sleep(WS_IDLE_S / 3)
            except websockets.ConnectionClosed:
                pass
            async for _ in ws:
                pass
            return time.monotonic() - started

    assert asyncio.run(run()) < WS_IDLE_S * 3


# -- low finding: /config ------------------------------------------------------------------------------------------
def test_config_redacts_by_type_not_by_name(secured_server):
    """Low finding: a scheme-less `...?api_key=` was shown; fields named like secrets (job_max_queued_per_key)
    must stay visible."""
    res = httpx.get(f"{secured_server.url}/config", headers=as_client(AUTH), timeout=30)
    assert res.status_code == 200
    config = res.json()
    assert TSA_SECRET not in res.text and ADMIN_KEY not in res.text
    assert config["c2pa_tsa_url"] == "tsa.example:318/stamp?api_key=***"
    assert config["admin_api_keys"] == "***" and config["api_keys"] == "***"
    assert isinstance(config["job_max_queued_per_key"], int)
    assert re.fullmatch(r"\d+", str(config["max_cloned_voices_per_key"]))


# -- low finding: a shared voice's owner -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tenants(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Two keys, an admin key and a tiny cloning model (as tests/security/test_security_voices.py)."""
    pytest.importorskip("TTS", reason="coqui-tts is not installed (pip install '.[coqui]')")
    from devtools.coqui_models import build_vits

    model = build_vits(tmp_path_factory.mktemp("owners") / "yourtts", speakers=["ann", "bob"], cloning=True)
    server = ServerProcess(
        env={
            "TTS_MODEL": f"embedded,{model}",
            "TTS_DEVICE": "cpu",
            "TTS_CLONED_VOICES_DIR": str(tmp_path_factory.mktemp("owner-store")),
            "TTS_API_KEYS": "alice-key",
            "TTS_ADMIN_API_KEYS": "admin-key",
        }
    ).start()
    yield server
    server.stop()


def test_a_shared_voice_does_not_show_the_admin_key_hash(tenants):
    """Low finding: the admin key's hash reached every tenant through a shared voice's `owner`."""
    admin, alice = {"X-API-Key": "admin-key"}, {"X-API-Key": "alice-key"}
    text = "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs."
    sample = httpx.post(f"{tenants.url}/synthesize", json={"text": text}, headers=admin, timeout=60)
    assert sample.status_code == 200, sample.text
    body = {"name": "house", "audio": base64.b64encode(sample.content).decode(), "shared": True}
    assert httpx.post(f"{tenants.url}/v1/voices", json=body, headers=admin, timeout=120).status_code == 201
    try:
        seen = httpx.get(f"{tenants.url}/v1/voices/house", headers=alice, timeout=30)
        assert seen.status_code == 200 and seen.json()["shared"] is True
        assert "owner" not in seen.json(), seen.text
        assert "owner" in httpx.get(f"{tenants.url}/v1/voices/house", headers=admin, timeout=30).json()
    finally:
        httpx.delete(f"{tenants.url}/v1/voices/house", headers=admin, timeout=30)
