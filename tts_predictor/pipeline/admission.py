"""Admission control: bounded running requests, a bounded queue, fast 429s beyond it, a per-request deadline,
and few requests at once for voices far slower than real time.

The gateway decides first (`enter` / `leave`, before the body is read): a request that would find the slots and
the queue full is refused at the door, so a refusal waits behind no parsing, normalization or cache lookup of the
requests already inside (those count as queued from the moment they enter).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import TypeVar

from tts_predictor import metrics
from tts_predictor.errors import DeadlineExceeded, Overloaded, SlowOverloaded

T = TypeVar("T")


# gRPC status exceptions (kserve's interceptor passes them through); REST has its own handlers in server.py.
class AdmissionController:
    """At most `max_running` requests synthesize at once and `max_queued` wait; the rest are refused at once."""

    def __init__(self, max_running: int, max_queued: int, timeout_s: float, max_slow: int = 1):
        self.max_running = max_running
        self.max_queued = max_queued
        self.timeout_s = timeout_s
        self.max_slow = max_slow
        """Requests for slow voices (``realtime: false``) admitted at once; more are refused, never queued."""
        self.running = 0
        self.queued = 0
        self.slow = 0
        self.entered = 0
        """HTTP inference requests past the gateway's door and not yet answered (parsing, queued or running)."""
        self._slots = asyncio.Semaphore(max_running)

    def check_door(self) -> None:
        """Raise Overloaded at once when an HTTP inference request arriving now would find no room: its head is
        in, nothing of its body has been read or parsed, so a burst is refused in O(1)."""
        if self.entered >= self.max_running + self.max_queued or self._full():
            metrics.REJECTED.inc()
            raise Overloaded(self._busy())

    def enter(self) -> None:
        """A request that passed the door has its whole body: it counts against slots plus queue places until
        `leave` (it holds no slot yet). Counted only once the body is in, so a client that sends its body slowly
        holds a socket, never a place (slowloris bodies cannot fill the door)."""
        self.entered += 1

    def leave(self) -> None:
        """The request let in by `enter` is answered (or gone)."""
        self.entered -= 1

    def _full(self) -> bool:
        return self.running >= self.max_running and self.queued >= self.max_queued

    def _busy(self) -> str:
        return (
            f"server busy: {self.running} requests running, {self.queued} queued, {self.entered} admitted "
            f"(at most {self.max_running} running: TTS_MAX_ACTIVE_REQUESTS / TTS_MAX_CONCURRENCY; "
            f"TTS_MAX_QUEUE={self.max_queued}); retry shortly"
        )

    async def acquire(self, slow: bool = False) -> None:
        """Wait for a slot (bounded queue) or raise Overloaded immediately; pair with `release` (same `slow`).

        `slow`: the request's voice is far slower than real time; it also needs one of `max_slow` places, and is
        refused at once without one (it would hold a slot for many seconds, so queueing it helps nobody).
        """
        if slow:
            if self.slow >= self.max_slow:
                metrics.REJECTED.inc()
                raise SlowOverloaded(
                    f"server busy with slow voices: {self.slow} request(s) for voices far slower than real time are "
                    f"running (TTS_MAX_SLOW_REQUESTS={self.max_slow}); retry in a while or pick a real-time voice"
                )
            self.slow += 1
        try:
            await self._acquire()
        except BaseException:
            self.slow -= int(slow)
            raise

    async def _acquire(self) -> None:
        if self._full():
            metrics.REJECTED.inc()
            raise Overloaded(self._busy())
        self.queued += 1
        metrics.QUEUED.inc()
        try:
            with metrics.STAGE.labels("queue").time():
                await self._slots.acquire()
        finally:
            self.queued -= 1
            metrics.QUEUED.dec()
        self.running += 1
        metrics.IN_FLIGHT.inc()

    def release(self, slow: bool = False) -> None:
        """Give back a slot taken by `acquire`."""
        self.slow -= int(slow)
        self.running -= 1
        metrics.IN_FLIGHT.dec()
        self._slots.release()

    async def acquire_within_deadline(self, slow: bool = False) -> None:
        """`acquire`, with the queue wait bounded by the deadline (for streams, whose length is not)."""
        try:
            await asyncio.wait_for(self.acquire(slow), timeout=self.timeout_s)
        except TimeoutError:
            raise DeadlineExceeded(
                f"no slot within the {self.timeout_s:g} s deadline (TTS_REQUEST_TIMEOUT_S)"
            ) from None

    @asynccontextmanager
    async def slot(self, slow: bool = False) -> AsyncIterator[None]:
        """Hold a slot for the body of the `async with`."""
        await self.acquire(slow)
        try:
            yield
        finally:
            self.release(slow)

    async def run(self, work: Awaitable[T], slow: bool = False) -> T:
        """Admit, then run `work` within the deadline (the queue wait counts toward it)."""

        async def admitted() -> T:
            async with self.slot(slow):
                return await work

        try:
            return await asyncio.wait_for(admitted(), timeout=self.timeout_s)
        except TimeoutError:
            raise DeadlineExceeded(
                f"request exceeded the {self.timeout_s:g} s deadline (TTS_REQUEST_TIMEOUT_S)"
            ) from None
