"""Security regressions (issue 14), slow clients and memory, against a real server with raw sockets: a request head
or body that arrives too slowly is cut off (408), fifty such sockets do not stop a normal request, a keep-alive
connection serves a bounded number of requests, and the memory of a long response goes back to the OS."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from server_process import ServerProcess

pytestmark = pytest.mark.slow

HEAD_S, BODY_S, MAX_REQUESTS = 2, 3, 3
MARGIN_S = 15  # generous: the limit is what is tested, not the scheduler of a busy CI machine


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    proc = ServerProcess(
        env={
            "TTS_HEADER_TIMEOUT_S": str(HEAD_S),
            "TTS_BODY_TIMEOUT_S": str(BODY_S),
            "TTS_KEEPALIVE_MAX_REQUESTS": str(MAX_REQUESTS),
            "TTS_CACHE_MAX_BYTES": "0",
        }
    ).start()
    yield proc
    proc.stop()


def _connect(server: ServerProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.http_port), timeout=HEAD_S + MARGIN_S)


def _until_closed(sock: socket.socket, trickle: bytes = b"", every_s: float = 0.5) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection (sending `trickle` a byte at a time meanwhile),
    and how long that took."""
    started, received = time.monotonic(), b""
    sock.settimeout(every_s if trickle else HEAD_S + MARGIN_S)
    pending = list(trickle)
    while time.monotonic() - started < HEAD_S + BODY_S + MARGIN_S:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            if pending:
                try:
                    sock.send(bytes([pending.pop(0)]))
                except OSError:  # reset: closed
                    break
            continue
        except OSError:
            break
        if not chunk:
            break
        received += chunk
    return received, time.monotonic() - started


def test_a_stalled_or_trickled_request_head_is_cut_off(server):
    for first, trickle in ((b"GET /v2/health/li", b""), (b"", b""), (b"GET /v2/health/live HTTP/1.1\r\n", b"X" * 200)):
        with _connect(server) as sock:
            sock.sendall(first)
            received, took = _until_closed(sock, trickle)
        assert took < HEAD_S + MARGIN_S, f"still open after {took:.0f} s"
        if first:
            assert received.startswith(b"HTTP/1.1 408") and b"TTS_HEADER_TIMEOUT_S" in received, received[:200]
        else:
            assert received == b"", "a connection that never sent a byte is closed without an answer"


def test_a_trickled_body_is_cut_off(server):
    with _connect(server) as sock:
        sock.sendall(
            b"POST /synthesize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"text": "'
        )
        received, took = _until_closed(sock, b"a" * 900)
    assert took < BODY_S + MARGIN_S, f"still open after {took:.0f} s"
    assert received.startswith(b"HTTP/1.1 408") and b"TTS_BODY_TIMEOUT_S" in received, received[:200]


def test_requests_answer_while_fifty_slow_sockets_are_open(server):
    slow = []
    try:
        for i in range(50):
            sock = _connect(server)
            sock.sendall(
                b"POST /synthesize HTTP/1.1\r\nHost: x\r\n"
                if i % 2
                else b"POST /synthesize HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"
            )
            slow.append(sock)
        res = httpx.post(f"{server.url}/synthesize", json={"text": "Still here."}, timeout=60)
        assert res.status_code == 200 and res.content[:4] == b"RIFF"
    finally:
        for sock in slow:
            sock.close()


def test_a_keep_alive_connection_serves_a_bounded_number_of_requests(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=30)
    try:
        answers = []
        for _ in range(MAX_REQUESTS):
            conn.request("GET", "/v2/health/live")
            res = conn.getresponse()
            res.read()
            answers.append(res.getheader("connection"))
        assert answers[:-1] == [None] * (MAX_REQUESTS - 1) and answers[-1] == "close", answers
    finally:
        conn.close()


def _rss_mib(pid: int) -> dict[str, float]:
    with open(f"/proc/{pid}/status") as status:
        fields = dict(line.split(":", 1) for line in status if line.startswith(("VmRSS", "VmHWM")))
    return {k: int(v.split()[0]) / 1024 for k, v in fields.items()}


def test_memory_of_a_long_response_goes_back(server):
    """~10 minutes of 48 kHz audio (mostly <break>s: 54 MiB of WAV) raise the peak by hundreds of MiB; a few
    seconds later the resident size is back near where it was."""
    assert httpx.post(f"{server.url}/synthesize", json={"text": "Warm up."}, timeout=60).status_code == 200
    baseline = _rss_mib(server.proc.pid)
    text = "<speak>Start." + '<break time="10s"/>' * 59 + "End.</speak>"
    res = httpx.post(f"{server.url}/synthesize", json={"text": text, "options": {"sample_rate": 48000}}, timeout=300)
    assert res.status_code == 200 and len(res.content) > 50 * 2**20, res.text[:200]
    deadline, after = time.monotonic() + 20, _rss_mib(server.proc.pid)
    while after["VmRSS"] > baseline["VmRSS"] + 100 and time.monotonic() < deadline:
        time.sleep(0.5)
        after = _rss_mib(server.proc.pid)
    assert after["VmHWM"] - baseline["VmRSS"] > 200, f"the long response did not need much memory: {after}"
    assert after["VmRSS"] < baseline["VmRSS"] + 100, f"baseline {baseline}, after {after}"
