"""Audio of one segment in chunks while the model still decodes it (XTTS `inference_stream`).

The engine's `stream(request)` is a blocking generator; it runs in one worker thread that hands each chunk
to the event loop. The engine slot is held until that thread ends; a consumer that stops iterating (client
gone, task cancelled) makes the thread stop at the next chunk and close the generator.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

from kserve.errors import InvalidInput

from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.engines.base import SynthesisRequest
from tts_predictor.engines.scheduling import current_scheduling
from tts_predictor.errors import EngineNotReady, SynthesisFailed
from tts_predictor.synthesis.scheduler import FairScheduler

log = logging.getLogger(__name__)

_END = object()


def _drive(chunks: Iterator[AudioBuffer], put: Any, stop: threading.Event) -> None:
    """Worker thread: pull chunks until the end or `stop`, hand each over; any error is handed over last."""
    try:
        for chunk in chunks:
            if stop.is_set():
                break
            put(chunk)
        put(_END)
    except BaseException as exc:  # re-raised on the loop side
        put(exc)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()  # releases the engine lock held inside the generator


async def engine_chunks(
    engine: Any, request: SynthesisRequest, slots: FairScheduler, request_id: str = "-"
) -> AsyncIterator[AudioBuffer]:
    """Yield `engine.stream(request)`'s chunks as they are made; engine failures become SynthesisFailed."""
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[Any] = asyncio.Queue()
    stop = threading.Event()
    priority = current_scheduling().priority
    await slots.acquire(priority=priority)

    def put(item: Any) -> None:
        loop.call_soon_threadsafe(inbox.put_nowait, item)

    context = contextvars.copy_context()
    worker = loop.run_in_executor(None, context.run, _drive, engine.stream(request), put, stop)
    worker.add_done_callback(lambda _: slots.release(priority))  # when the thread ends, not when the consumer leaves
    try:
        while (item := await inbox.get()) is not _END:
            if isinstance(item, (InvalidInput, EngineNotReady)):  # 4xx; a model that could not load in time: 503
                raise item
            if isinstance(item, BaseException):
                log.error("streamed synthesis failed (request id %s)", request_id, exc_info=item)
                raise SynthesisFailed(f"synthesis failed; request id {request_id}") from None
            yield item
    finally:
        stop.set()
