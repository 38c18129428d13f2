"""ASGI receive/send wrappers of the gateway: a send that gives up on a stalled client, a receive that counts the
request in once its body has arrived or refuses a body over the limit, and V2 inference cancelled when its client
disconnects."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tts_predictor import metrics
from tts_predictor.errors import BodyTooLarge, StreamStalled
from tts_predictor.pipeline.admission import AdmissionController
from tts_predictor.server.request_kinds import header

log = logging.getLogger(__name__)


def stall_limited(send: Send, limit_s: float) -> Send:
    """`send` that gives up after `limit_s`: uvicorn's send waits while its write buffer (64 KiB) is full, i.e.
    while the client does not read; a stream's admission slot must not wait with it."""

    async def wrapped(message: Message) -> None:
        if message["type"] not in ("http.response.body", "websocket.send"):
            await send(message)
            return
        try:
            await asyncio.wait_for(send(message), limit_s)
        except TimeoutError:
            raise StreamStalled() from None

    return wrapped


def counted_in(receive: Receive, admission: AdmissionController, counted: dict[str, bool]) -> Receive:
    """Count the request in at the door's controller once its body has fully arrived (see `AdmissionController.enter`)."""

    async def wrapped() -> Message:
        message = await receive()
        if message["type"] == "http.request" and not message.get("more_body", False) and not counted["in"]:
            counted["in"] = True
            admission.enter()
        return message

    return wrapped


def body_limited(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge()
        return message

    return wrapped


def cancellable(scope: Scope) -> bool:
    """POST /v2/models/<name>[/versions/<v>]/infer: plain V2 inference, which answers with one complete response."""
    if scope.get("method") != "POST":
        return False
    parts = scope["path"].strip("/").split("/")
    return parts[:2] == ["v2", "models"] and parts[-1] == "infer" and len(parts) in (4, 6)


async def run_cancellable(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, responded: Callable[[], bool]
) -> bool:
    """Run `app`; once it has read the whole body, a client disconnect cancels it. True when it was cancelled.

    After the body, this function alone reads `receive` (ASGI allows one reader); should the app ask for another
    message it waits for the same disconnect. Cancellation reaches the awaiting code (admission slot, synthesis).
    """
    body_read = asyncio.Event()
    disconnect: asyncio.Future[Message] = asyncio.get_running_loop().create_future()

    async def app_receive() -> Message:
        if body_read.is_set():
            return await asyncio.shield(disconnect)
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            body_read.set()
            if message["type"] == "http.disconnect" and not disconnect.done():
                disconnect.set_result(message)
        return message

    task = asyncio.ensure_future(app(scope, app_receive, send))

    async def watch() -> None:
        await body_read.wait()
        message = disconnect.result() if disconnect.done() else None
        while message is None or message["type"] != "http.disconnect":
            message = await receive()
        if not disconnect.done():
            disconnect.set_result(message)
        if not task.done() and not responded():  # uvicorn also reports "disconnect" once the response is complete
            metrics.CANCELLED.inc()
            task.cancel()

    watcher = asyncio.create_task(watch())
    try:
        await asyncio.wait([task])
    except asyncio.CancelledError:
        task.cancel()
        raise
    finally:
        watcher.cancel()
    if task.cancelled():
        log.info("client disconnected; cancelled %s (request id %s)", scope["path"], header(scope, b"x-request-id"))
        return True
    task.result()  # re-raise what the app raised (BodyTooLarge, ...)
    return False
