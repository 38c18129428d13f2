"""Limits of the HTTP server below the ASGI app: request-head size and header count (431), request-head and body
read timeouts (slowloris), requests per connection.

kserve builds uvicorn's Config itself (kserve/protocol/rest/server.py, RESTServer.__init__, lines 125-137) with
only `timeout_keep_alive`; uvicorn's protocols time out idle keep-alive connections but never a request whose head
or body arrives a byte at a time. `guard_slow_clients` swaps in a subclass of uvicorn's httptools protocol (the one
`http="auto"` picks; uvicorn/protocols/http/httptools_impl.py) that arms a timer per phase:

- head: from the connection's first byte (or its opening) until the request head is complete (TTS_HEADER_TIMEOUT_S);
- body: from the head until the body is complete (TTS_BODY_TIMEOUT_S).

When one fires before the response has started, the client gets ``408 Request Timeout`` and the connection is
closed (a connection that never sent a byte is just closed); the running request (if any) sees a disconnect. A
connection answers at most TTS_KEEPALIVE_MAX_REQUESTS requests; the last one carries ``Connection: close``. Each slow
socket costs only its buffers on the event loop.

Request heads are bounded as they are parsed (llhttp, under httptools, has no size limit; uvicorn keeps every header
as a Python tuple, ~16x the bytes on the wire): more than TTS_MAX_HEADER_COUNT fields or TTS_MAX_HEADER_BYTES bytes
gets ``431 Request Header Fields Too Large`` and the connection is closed, before any ASGI code runs; a connection
with more than MAX_PIPELINED requests waiting behind the one being answered is closed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from tts_predictor.settings import Settings

_431 = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\nconnection: close\r\n"
    b"content-length: %d\r\n\r\n%s"
)


MAX_PIPELINED = 32
"""Requests one connection may have parsed and waiting behind the one being answered (HTTP/1.1 pipelining).
uvicorn parses every request of a received chunk before it pauses reading: one 246 KB packet of tiny pipelined
requests queued 5998 request objects on one connection."""


class HeadTooLarge(Exception):
    """The request head passed TTS_MAX_HEADER_COUNT or TTS_MAX_HEADER_BYTES (raised inside httptools' callbacks)."""


log = logging.getLogger(__name__)

_408 = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
    b"content-length: %d\r\n\r\n%s"
)


def guarded_protocol(settings: Settings) -> type | None:
    """uvicorn's httptools protocol with the slow-client limits of `settings`; None without httptools."""
    try:
        import httptools
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # uvicorn without httptools: h11 stays, with only its keep-alive timeout
        return None
    head_s, body_s, max_requests = settings.header_timeout_s, settings.body_timeout_s, settings.keepalive_max_requests
    max_fields, max_bytes = settings.max_header_count, settings.max_header_bytes

    class GuardedHttpToolsProtocol(HttpToolsProtocol):  # type: ignore[misc]
        """Closes connections whose request head is too large (431) or whose head or body is too slow (408)."""

        _timer: asyncio.TimerHandle | None = None
        _served = 0
        _began = False
        _in_head = True  # bytes now arriving belong to a request head
        _head_bytes = 0  # bytes received since this head began (exact once parsed: url + fields)
        _fields = 0
        _parsed = 0
        _refused: str | None = None

        def data_received(self, data: bytes) -> None:
            # uvicorn's HttpToolsProtocol.data_received (httptools_impl.py) with the head limits around it.
            if self._refused:
                return
            if self._in_head:
                self._head_bytes += len(data)
            self._unset_keepalive_if_required()
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserUpgrade:
                if self._should_upgrade():
                    self.handle_websocket_upgrade()
                else:
                    self._unsupported_upgrade_warning()
            except httptools.HttpParserError:
                if self._refused and self.pipeline:  # requests are waiting: a 431 would answer the wrong one
                    log.info("closed a connection from %s: %s", _peer(self.client), self._refused)
                    self.transport.close()
                    return
                if self._refused:
                    self._refuse_head()
                    return
                self.logger.warning("Invalid HTTP request received.")
                self.send_400_response("Invalid HTTP request received.")
                return
            if self._in_head and self._head_bytes > max_bytes:  # a head still incomplete (one huge field)
                self._refused = f"request head over {max_bytes} bytes (TTS_MAX_HEADER_BYTES)"
                self._refuse_head()

        def on_url(self, url: bytes) -> None:
            self._count(len(url), 0)
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count(len(name) + len(value) + 4, 1)
            super().on_header(name, value)

        def _count(self, size: int, fields: int) -> None:
            if not self._in_head:
                return
            self._fields += fields
            self._parsed += size
            if self._fields > max_fields:
                self._refused = f"more than {max_fields} header fields (TTS_MAX_HEADER_COUNT)"
            elif self._parsed > max_bytes:
                self._refused = f"request head over {max_bytes} bytes (TTS_MAX_HEADER_BYTES)"
            if self._refused:
                raise HeadTooLarge(self._refused)  # stops the parser: httptools raises HttpParserCallbackError

        def _refuse_head(self) -> None:
            self._disarm()
            log.info("refused a request head from %s: %s", _peer(self.client), self._refused)
            if not self.transport.is_closing():
                message = f'{{"error": "{self._refused}"}}'.encode()
                self.transport.write(_431 % (len(message), message))
                self.transport.close()

        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm(head_s, "head", "TTS_HEADER_TIMEOUT_S")

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._began = True
            self._in_head, self._fields, self._parsed = True, 0, 0
            if self._timer is None:
                self._arm(head_s, "head", "TTS_HEADER_TIMEOUT_S")

        def on_headers_complete(self) -> None:
            self._disarm()
            self._in_head, self._head_bytes = False, 0
            if len(self.pipeline) >= MAX_PIPELINED:
                self._refused = f"more than {MAX_PIPELINED} pipelined requests waiting on one connection"
                raise HeadTooLarge(self._refused)  # stops the parser; the connection is closed
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
            self._in_head = True  # the next bytes start the next request's head
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
            answered = phase == "body" and self.cycle is not None and self.cycle.response_started
            if self._began and not answered:  # (nothing sent at all, or answered before its body came: just close)
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
