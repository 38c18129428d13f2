"""Clients that read a streamed response slowly from a real socket (network-adaptive bitrate tests).

The socket's receive buffer is made small before connecting, so a client that does not read makes the server's
sends wait (as a slow network would); `reader_rate` (bytes per second, None = as fast as possible) can change
while the response streams.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from typing import Any

import h11

RCVBUF = 8192
PIECE = 1024


def small_socket(host: str, port: int) -> socket.socket:
    """A TCP connection whose receive buffer is small (set before connecting, so the window stays small)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
    sock.settimeout(60)
    sock.connect((host, port))
    return sock


class Pacer:
    """Sleeps so that the bytes read so far arrive at most at the current rate."""

    def __init__(self) -> None:
        self.rate: float | None = None
        self._since, self._count = time.monotonic(), 0

    def set_rate(self, rate: float | None) -> None:
        self.rate, self._since, self._count = rate, time.monotonic(), 0

    def took(self, count: int) -> None:
        self._count += count
        if self.rate:
            ahead = self._count / self.rate - (time.monotonic() - self._since)
            if ahead > 0:
                time.sleep(ahead)


def stream_post(
    url: str, path: str, body: dict[str, Any], headers: dict[str, str], on_data: Callable[[bytes, Pacer], None]
) -> tuple[int, dict[str, str]]:
    """POST `body` as JSON and read the (chunked) response with h11, `PIECE` bytes per recv, paced by the
    pacer that `on_data` may retune after each piece of body. Returns status and headers."""
    host, port = url.removeprefix("http://").split(":")
    sock = small_socket(host, int(port))
    conn, pacer = h11.Connection(h11.CLIENT), Pacer()
    data = json.dumps(body).encode()
    sock.sendall(
        conn.send(
            h11.Request(
                method="POST",
                target=path,
                headers=[
                    ("host", f"{host}:{port}"),
                    ("content-type", "application/json"),
                    ("content-length", str(len(data))),
                    *headers.items(),
                ],
            )
        )
        + conn.send(h11.Data(data=data))
        + conn.send(h11.EndOfMessage())
    )
    status, response_headers = 0, {}
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                piece = sock.recv(PIECE)
                conn.receive_data(piece)
                pacer.took(len(piece))
            elif isinstance(event, h11.Response):
                status = event.status_code
                response_headers = {k.decode(): v.decode() for k, v in event.headers}
            elif isinstance(event, h11.Data):
                on_data(bytes(event.data), pacer)
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                return status, response_headers
    finally:
        sock.close()


MP3_KBPS = {  # bitrate index -> kbit/s: MPEG-1 layer III, MPEG-2/2.5 layer III
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    0: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def mp3_frame_bitrates(data: bytes) -> list[int]:
    """The bitrate (kbit/s) of each MPEG audio layer III frame, walking frame by frame from the first sync."""
    out, i = [], data.find(b"\xff")
    while 0 <= i and i + 4 <= len(data):
        b1, b2 = data[i + 1], data[i + 2]
        version, layer, index, rate_index = (b1 >> 3) & 3, (b1 >> 1) & 3, b2 >> 4, (b2 >> 2) & 3
        if b1 & 0xE0 != 0xE0 or layer != 1 or version == 1 or index in (0, 15) or rate_index == 3:
            i = data.find(b"\xff", i + 1)  # not a frame header: resync
            continue
        kbps = MP3_KBPS[1 if version == 3 else 0][index]
        rate = MP3_RATES[version][rate_index]
        size = (144 if version == 3 else 72) * kbps * 1000 // rate + ((b2 >> 1) & 1)
        out.append(kbps)
        i += size
    return out
