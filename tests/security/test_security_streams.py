"""Security regressions (issue 14), capacity side: a client that stops reading its stream (HTTP chunked or
WebSocket) loses its slot after TTS_STREAM_STALL_TIMEOUT_S, so another client's short request still gets served.

The server runs one synthesis at a time (TTS_MAX_CONCURRENCY=1) with a 120 s deadline: without the stall limit
the short request waits the whole deadline behind the stalled stream and gets 504.
"""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest
from security_servers import WS_IDLE_S, WS_PER_CLIENT, WS_TEXT, WS_TOTAL, as_client, open_server  # noqa: F401
from v2_helpers import infer_body

pytestmark = pytest.mark.slow

LONG = "This sentence keeps a stream going for a good while, so that its audio fills every buffer. " * 50


def _stalled_http_stream(server) -> socket.socket:
    """Start a chunked /synthesize stream and never read it (a tiny receive buffer, so the server blocks soon)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.http_port))
    body = json.dumps({"text": LONG, "options": {"stream": True, "format": "pcm", "sample_rate": 48000}}).encode()
    head = (
        f"POST /synthesize HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-Forwarded-For: {as_client()['X-Forwarded-For']}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    sock.sendall(head.encode() + body)
    sock.settimeout(120)
    assert sock.recv(256).startswith(b"HTTP/1.1 200"), "the stream started"
    return sock


def _short_request(server) -> httpx.Response:
    return httpx.post(
        f"{server.url}/v2/models/tts/infer", json=infer_body(["Short."]), headers=as_client(), timeout=110
    )


def test_a_stalled_http_stream_loses_its_slot(open_server):
    sock = _stalled_http_stream(open_server)
    try:
        time.sleep(1)  # the stream holds the only slot now
        res = _short_request(open_server)
        assert res.status_code == 200, res.text
    finally:
        sock.close()


def test_a_stalled_websocket_loses_its_slot(open_server):
    websockets = pytest.importorskip("websockets")
    from websockets.sync.client import connect

    ws = connect(
        f"ws://127.0.0.1:{open_server.http_port}/v1/stream", additional_headers=as_client(), max_queue=1, max_size=2**16
    )
    try:
        ws.send(json.dumps({"type": "config", "format": "pcm", "sample_rate": 48000}))
        ws.send(json.dumps({"type": "text", "text": LONG[: WS_TEXT - 100]}))  # within the per-socket text cap
        ws.send(json.dumps({"type": "flush"}))
        ws.recv(timeout=120)  # synthesis started; from now on nothing is read
        ws.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        time.sleep(1)
        res = _short_request(open_server)
        assert res.status_code == 200, res.text
    finally:
        try:
            ws.close()
        except websockets.WebSocketException:
            pass


# -- WebSocket caps --------------------------------------------------------------------------------------------
def _connect(server, ip: str):
    from websockets.sync.client import connect

    return connect(
        f"ws://127.0.0.1:{server.http_port}/v1/stream",
        additional_headers={"X-Forwarded-For": ip},
        open_timeout=30,
        max_size=None,
    )


def _refused(server, ip: str) -> bool:
    websockets = pytest.importorskip("websockets")
    try:
        _connect(server, ip).close()
    except websockets.InvalidStatus:
        return True
    return False


def test_websocket_connections_are_capped_per_client_and_in_all(open_server):
    pytest.importorskip("websockets")
    ips = [as_client()["X-Forwarded-For"] for _ in range(3)]
    sockets = [_connect(open_server, ips[0]) for _ in range(WS_PER_CLIENT)]
    try:
        assert _refused(open_server, ips[0]), "one client is capped at TTS_WS_MAX_CONNECTIONS_PER_CLIENT"
        sockets += [_connect(open_server, ips[1]) for _ in range(WS_TOTAL - WS_PER_CLIENT)]
        assert _refused(open_server, ips[2]), "all clients together are capped at TTS_WS_MAX_CONNECTIONS"
    finally:
        for ws in sockets:
            ws.close()
    time.sleep(1)
    _connect(open_server, ips[0]).close()  # closed connections give their places back


def test_idle_websockets_are_closed(open_server):
    websockets = pytest.importorskip("websockets")
    with _connect(open_server, as_client()["X-Forwarded-For"]) as ws:
        ws.send(json.dumps({"type": "config", "format": "pcm"}))
        assert json.loads(ws.recv(timeout=30))["type"] == "start"
        error = json.loads(ws.recv(timeout=WS_IDLE_S + 30))
        assert error["type"] == "error" and "TTS_WS_IDLE_TIMEOUT_S" in error["message"]
        with pytest.raises(websockets.ConnectionClosed):
            ws.recv(timeout=30)
        assert ws.close_code == 1001


def test_text_per_websocket_is_capped(open_server):
    websockets = pytest.importorskip("websockets")
    with _connect(open_server, as_client()["X-Forwarded-For"]) as ws:
        ws.send(json.dumps({"type": "config", "format": "pcm"}))
        ws.send(json.dumps({"type": "text", "text": "x" * (WS_TEXT + 1)}))  # over the total before any synthesis
        messages = []
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                message = ws.recv(timeout=60)
                if isinstance(message, str):
                    messages.append(json.loads(message))
        assert any(m["type"] == "error" and "TTS_WS_MAX_TEXT_CHARS" in m["message"] for m in messages), (
            messages,
            ws.close_code,
            ws.close_reason,
        )
        assert ws.close_code == 1008
