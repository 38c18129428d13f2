"""Slow-client limits of the HTTP server (slowloris): request-head and body read timeouts, requests per connection.

kserve builds uvicorn's Config itself (kserve/protocol/rest/server.py, RESTServer.__init__, lines 125-137) with
only `timeout_keep_alive`; uvicorn's protocols time out idle keep-alive connections but never a request whose head
or body arrives a byte at a time. `guard_slow_clients` swaps in a subclass of uvicorn's httptools protocol (the one
`http="auto"` picks; uvicorn/protocols/http/httptools_impl.py) that arms a timer per phase:

- head: from the connection's first byte (or its opening) until the request head is complete (TTS_HEADER_TIMEOUT_S);
- body: from the head until the body is complete (TTS_BODY_TIMEOUT_S).

When one fires before the response has started, the client gets ``408 Request Timeout`` and the connection is
closed (a connection that never sent a byte is just closed); the running request (if any) sees a disconnect. A connection answers at most TTS_KEEPALIVE_MAX_REQUESTS
requests; the last one carries ``Connection: close``. Each slow socket costs only its buffers on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from tts_predictor.settings import Settings

log = logging.getLogger(__name__)

_408 = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
    b"content-length: %d\r\n\r\n%s"
)


def guarded_protocol(settings: Settings) -> type | None:
    """uvicorn's httptools protocol with the slow-client limits of `settings`; None without httptools."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # uvicorn without httptools: h11 stays, with only its keep-alive timeout
        return None
    head_s, body_s, max_requests = settings.header_timeout_s, settings.body_timeout_s, settings.keepalive_max_requests

    class GuardedHttpToolsProtocol(HttpToolsProtocol):  # type: ignore[misc]
        """Closes connections whose request head or body is too slow to arrive (408)."""

        _timer: asyncio.TimerHandle | None = None
        _served = 0
        _began = False

        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm(head_s, "head", "TTS_HEADER_TIMEOUT_S")

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._began = True
            if self._timer is None:
                self._arm(head_s, "head", "TTS_HEADER_TIMEOUT_S")

        def on_headers_complete(self) -> None:
            self._disarm()
            before = self.cycle
            super().on_headers_complete()
            if self.cycle is before:  # a WebSocket upgrade: its own protocol takes over
                return
            self._served += 1
            if self._served >= max_requests:
                self.cycle.keep_alive = False  # uvicorn then answers `connection: close` and closes
            self._arm(body_s, "body", "TTS_BODY_TIMEOUT_S")

        def on_message_complete(self) -> None:
            self._disarm()
            super().on_message_complete()

        def handle_websocket_upgrade(self) -> None:
            self._disarm()
            super().handle_websocket_upgrade()

        def _arm(self, seconds: float, phase: str, setting: str) -> None:
            self._disarm()
            self._timer = self.loop.call_later(seconds, self._expired, phase, setting)

        def _disarm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

        def _expired(self, phase: str, setting: str) -> None:
            self._timer = None
            if self.transport.is_closing():
                return
            busy = self.cycle is not None and not self.cycle.response_complete
            if (phase == "head" and busy) or self.pipeline:  # a pipelined request waits for our answer to an
                self._arm(head_s if phase == "head" else body_s, phase, setting)  # earlier one: not the client's delay
                return
            log.info(
                "closed a connection from %s: request %s not received within %s s (%s)",
                _peer(self.client),
                phase,
                head_s if phase == "head" else body_s,
                setting,
            )
            if self._began and not (busy and self.cycle.response_started):  # (nothing sent at all: just close)
                message = f'{{"error": "request {phase} not received within the time limit ({setting})"}}'.encode()
                self.transport.write(_408 % (len(message), message))
            self.transport.close()

    return GuardedHttpToolsProtocol


def _peer(client: Any) -> str:
    return f"{client[0]}:{client[1]}" if client else "?"


def guard_slow_clients(model_server: Any, settings: Settings) -> None:
    """Give kserve's REST server (built, not yet started) the slow-client limits of `settings`."""
    rest = getattr(model_server, "_rest_server", None)
    protocol = guarded_protocol(settings)
    if rest is None or protocol is None:
        if rest is not None:
            log.warning("httptools is not installed: no request head/body read timeouts (only keep-alive)")
        return
    rest.config.http = protocol  # uvicorn's Config.load() takes a protocol class as it is
