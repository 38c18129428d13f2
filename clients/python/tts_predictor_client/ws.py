"""WebSocket `/v1/stream` (text in as it comes, audio and events out), async and blocking; needs `websockets`."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

from tts_predictor_client._core import USER_AGENT, client_headers
from tts_predictor_client.errors import StreamError, TTSError, status_error


def socket_url(base_url: str) -> str:
    """The WebSocket address of /v1/stream on the server at `base_url` (http -> ws, https -> wss)."""
    scheme, _, rest = base_url.partition("://")
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest.rstrip('/')}/v1/stream"


def _config(config: dict[str, Any]) -> str:
    return json.dumps({"type": "config", **{k: v for k, v in config.items() if v is not None}})


def _item(message: str | bytes) -> bytes | dict[str, Any]:
    """Audio bytes, or an event; an error event raises StreamError."""
    if isinstance(message, bytes):
        return message
    event: dict[str, Any] = json.loads(message)
    if event.get("type") == "error":
        raise StreamError(str(event.get("message")), None)
    return event


def _refused(exc: Exception) -> TTSError:
    """The handshake's HTTP refusal (401, 429, ...) as the same exception the HTTP routes raise."""
    response = getattr(exc, "response", None)
    if response is None:
        return TTSError(f"WebSocket failed: {exc!r}")
    return status_error(response.status_code, bytes(response.body or b""), None, response.headers.get("x-request-id"))


async def stream_text(
    base_url: str, api_key: str | None, pieces: AsyncIterable[str] | Iterable[str], config: dict[str, Any]
) -> AsyncIterator[bytes | dict[str, Any]]:
    """Send `pieces` as text messages (then close) while yielding what the server sends, until `end`."""
    import websockets

    headers = client_headers(api_key, USER_AGENT)
    try:
        ws = await websockets.connect(socket_url(base_url), additional_headers=headers, max_size=None)
    except websockets.InvalidStatus as exc:
        raise _refused(exc) from None

    async def send() -> None:
        await ws.send(_config(config))
        if isinstance(pieces, AsyncIterable):
            async for piece in pieces:
                await ws.send(json.dumps({"type": "text", "text": piece}))
        else:
            for piece in pieces:
                await ws.send(json.dumps({"type": "text", "text": piece}))
        await ws.send(json.dumps({"type": "close"}))

    sender = asyncio.create_task(send())
    try:
        async for message in ws:
            yield _item(message)
        if ws.close_code not in (1000, None):
            raise StreamError(f"stream closed with code {ws.close_code}: {ws.close_reason}", ws.close_code)
    finally:
        sender.cancel()
        await ws.close()


def stream_text_sync(
    base_url: str, api_key: str | None, pieces: Iterable[str], config: dict[str, Any]
) -> Iterator[bytes | dict[str, Any]]:
    """The blocking twin of `stream_text`: a thread sends `pieces` while this one receives."""
    from websockets.exceptions import ConnectionClosed, InvalidStatus
    from websockets.sync.client import connect

    headers = client_headers(api_key, USER_AGENT)
    try:
        ws = connect(socket_url(base_url), additional_headers=headers, max_size=None)
    except InvalidStatus as exc:
        raise _refused(exc) from None

    def send() -> None:
        try:
            ws.send(_config(config))
            for piece in pieces:
                ws.send(json.dumps({"type": "text", "text": piece}))
            ws.send(json.dumps({"type": "close"}))
        except ConnectionClosed:  # the server ended the stream (an error event says why)
            pass

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        for message in ws:
            yield _item(message)
        if ws.close_code not in (1000, None):
            raise StreamError(f"stream closed with code {ws.close_code}: {ws.close_reason}", ws.close_code)
    finally:
        ws.close()
        sender.join(5)
