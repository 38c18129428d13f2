"""A plain V2 request whose client disconnects is cancelled: the admission slot frees and the engine stops."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest
from server_process import ServerProcess
from v2_helpers import infer_body

pytestmark = pytest.mark.slow

SENTENCES = " ".join(f"Sentence number {i} keeps the engine busy for a little while longer." for i in range(40))


def _metric(server: ServerProcess, name: str) -> float:
    total = 0.0
    for line in httpx.get(f"{server.url}/metrics", timeout=10).text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _wait_for(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(scope="module")
def server():
    server = ServerProcess(env={"TTS_MAX_CONCURRENCY": "1", "TTS_CACHE_MAX_BYTES": "0"}).start()
    yield server
    server.stop()


def test_client_disconnect_cancels_synthesis(server):
    body = json.dumps(infer_body([SENTENCES])).encode()
    request = (
        f"POST /v2/models/tts/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nX-Request-ID: gone-away\r\n\r\n"
    ).encode() + body
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.http_port), timeout=10) as sock:
        sock.sendall(request)
        assert _wait_for(lambda: _metric(server, "tts_in_flight_requests") == 1, 10), server.log()
        time.sleep(0.5)
    # Cancelled well before the 40 sentences could have been synthesized; 60 s is only a hang guard.
    assert _wait_for(
        lambda: _metric(server, "tts_in_flight_requests") == 0 and _metric(server, "tts_cancelled_total") >= 1, 60
    ), server.log()
    cancelled_after = time.monotonic() - started
    assert _metric(server, 'tts_http_requests_total{route="/v2/models/{model}/infer",status="499"}') >= 1
    # The slot is free: the next request is admitted and answered.
    res = httpx.post(f"{server.url}/v2/models/tts/infer", json=infer_body(["Still here."]), timeout=60)
    assert res.status_code == 200, res.text
    assert "Future exception was never retrieved" not in server.log()
    print(f"cancelled after {cancelled_after:.2f} s")


def test_completed_request_is_not_counted_as_cancelled(server):
    before = _metric(server, "tts_cancelled_total")
    res = httpx.post(f"{server.url}/v2/models/tts/infer", json=infer_body(["Short one."]), timeout=60)
    assert res.status_code == 200
    time.sleep(0.3)
    assert _metric(server, "tts_cancelled_total") == before and _metric(server, "tts_in_flight_requests") == 0
