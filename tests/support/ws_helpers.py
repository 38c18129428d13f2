"""A WebSocket session against /v1/stream: send text pieces, close, collect the JSON messages."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import pytest


def stream_messages(server_url: str, pieces: Sequence[str]) -> list[dict]:
    """Every JSON (text) message the server sends for `pieces` sent one by one and then a close."""
    websockets = pytest.importorskip("websockets")
    url = server_url.replace("http://", "ws://") + "/v1/stream"

    async def run() -> list[dict]:
        async with websockets.connect(url) as ws:
            for piece in pieces:
                await ws.send(json.dumps({"type": "text", "text": piece}))
            await ws.send(json.dumps({"type": "close"}))
            return [json.loads(m) async for m in ws if isinstance(m, str)]

    return asyncio.run(run())


def events_until_closed(ws: Any) -> tuple[list[dict], int | None]:
    """The JSON (text) messages of a sync WebSocket until the server closes it, and the close code it sent."""
    websockets = pytest.importorskip("websockets")
    events: list[dict] = []
    try:
        while True:
            message = ws.recv(timeout=60)
            if isinstance(message, str):
                events.append(json.loads(message))
    except websockets.ConnectionClosed as closed:
        return events, closed.rcvd.code if closed.rcvd else None
