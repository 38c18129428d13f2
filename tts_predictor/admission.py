"""Admission control: bounded running requests, a bounded queue, fast 429s beyond it, a per-request deadline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import TypeVar

from grpc_interceptor import exceptions as grpc_errors

from . import metrics

T = TypeVar("T")


# gRPC status exceptions (kserve's interceptor passes them through); REST has its own handlers in server.py.
class Overloaded(grpc_errors.ResourceExhausted):
    """Too many requests are running and waiting (REST 429 with Retry-After, gRPC RESOURCE_EXHAUSTED)."""

    retry_after_s = 1


class DeadlineExceeded(grpc_errors.DeadlineExceeded):
    """The request took longer than TTS_REQUEST_TIMEOUT_S (REST 504, gRPC DEADLINE_EXCEEDED)."""


class AdmissionController:
    """At most `max_running` requests synthesize at once and `max_queued` wait; the rest are refused at once."""

    def __init__(self, max_running: int, max_queued: int, timeout_s: float):
        self.max_running = max_running
        self.max_queued = max_queued
        self.timeout_s = timeout_s
        self.running = 0
        self.queued = 0
        self._slots = asyncio.Semaphore(max_running)

    async def acquire(self) -> None:
        """Wait for a slot (bounded queue) or raise Overloaded immediately; pair with `release`."""
        if self.running >= self.max_running and self.queued >= self.max_queued:
            metrics.REJECTED.inc()
            raise Overloaded(
                f"server busy: {self.running} requests running and {self.queued} queued "
                f"(TTS_MAX_CONCURRENCY={self.max_running}, TTS_MAX_QUEUE={self.max_queued}); retry shortly"
            )
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

    def release(self) -> None:
        """Give back a slot taken by `acquire`."""
        self.running -= 1
        metrics.IN_FLIGHT.dec()
        self._slots.release()

    async def acquire_within_deadline(self) -> None:
        """`acquire`, with the queue wait bounded by the deadline (for streams, whose length is not)."""
        try:
            await asyncio.wait_for(self.acquire(), timeout=self.timeout_s)
        except TimeoutError:
            raise DeadlineExceeded(f"no slot within the {self.timeout_s:g} s deadline (TTS_REQUEST_TIMEOUT_S)") from None

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a slot for the body of the `async with`."""
        await self.acquire()
        try:
            yield
        finally:
            self.release()

    async def run(self, work: Awaitable[T]) -> T:
        """Admit, then run `work` within the deadline (the queue wait counts toward it)."""
        async def admitted() -> T:
            async with self.slot():
                return await work

        try:
            return await asyncio.wait_for(admitted(), timeout=self.timeout_s)
        except TimeoutError:
            raise DeadlineExceeded(f"request exceeded the {self.timeout_s:g} s deadline (TTS_REQUEST_TIMEOUT_S)") from None
