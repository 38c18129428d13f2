"""Fair engine scheduling: engine calls are queued per sentence and the engine slots serve requests in turn.

A request's text is cut into sentence-sized units of engine work; each unit waits here for one of the
engine slots (``TTS_MAX_CONCURRENCY``). When a slot frees, the waiting unit of the highest priority goes
first, and among equal priorities the unit of the *flow* (request) served least recently: flows take turns
round-robin, one unit each. A short request that arrives while a long one runs therefore waits for at most
about one sentence of the long one's work per busy slot; the long one still gets its audio in order (its
units are gathered in order, or requested one at a time by a stream).

Priorities are integers, larger first (`Priority` names the usual levels). They are strict: a unit of a
lower priority runs only when no unit of a higher one waits, so `Priority.BACKGROUND` work (batch jobs)
uses only the slots that interactive traffic leaves idle and can starve under constant interactive load.
Background units run on threads of the lowest CPU priority (`low_priority`) and do not hold slots against
interactive units: an interactive unit that arrives while job sentences fill the slots starts at once beside
them (the OS gives its threads the cores), instead of waiting for a job sentence to end.

Callers choose flow and priority either per call (`FairScheduler.run`) or for everything a block of code
does (`scheduled_as`, a context variable that reaches the engine-call site through the pipeline)::

    with scheduled_as(priority=Priority.BACKGROUND, flow=f"job-{job_id}"):
        audio = await render(text, params, synth, language="en")
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import itertools
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from tts_predictor import metrics
from tts_predictor.engines.scheduling import Priority, current_scheduling, new_flow, priority_label
from tts_predictor.synthesis.low_priority import low_priority_executor

T = TypeVar("T")

REMEMBERED_FLOWS = 4096
"""How many flows' last service turn is remembered (older flows count as new, i.e. are served first)."""


@dataclass(eq=False)
class _Waiter:
    priority: int
    seq: int
    flow: str
    future: asyncio.Future[None] = field(repr=False)


class FairScheduler:
    """`slots` engine calls at once; waiting calls served by priority, then round-robin over flows."""

    def __init__(self, slots: int):
        if slots < 1:
            raise ValueError("a scheduler needs at least one slot")
        self.slots = slots
        self.busy = 0
        self.busy_background = 0
        """Units below `Priority.NORMAL` among `busy`: they do not count against interactive units."""
        self._waiting: list[_Waiter] = []
        self._served: OrderedDict[str, int] = OrderedDict()
        self._turn = itertools.count()
        self._seq = itertools.count()
        self._background: ThreadPoolExecutor | None = None

    @property
    def waiting(self) -> int:
        """Units waiting for a slot."""
        return len(self._waiting)

    async def acquire(self, flow: str | None = None, priority: int | None = None) -> None:
        """Wait for a slot (pair with `release`); a cancelled wait leaves the queue.

        Without arguments (as an `asyncio.Semaphore` is used), flow and priority come from `scheduled_as`.
        """
        if flow is None or priority is None:
            current = current_scheduling()
            flow = flow if flow is not None else (current.flow or new_flow())
            priority = priority if priority is not None else current.priority
        if self._can_run(priority) and not any(w.priority >= priority and not w.future.done() for w in self._waiting):
            self._grant(flow, priority)
            return
        waiter = _Waiter(int(priority), next(self._seq), flow, asyncio.get_running_loop().create_future())
        self._waiting.append(waiter)
        try:
            await waiter.future
        except asyncio.CancelledError:
            if waiter in self._waiting:
                self._waiting.remove(waiter)
            elif waiter.future.done() and not waiter.future.cancelled():
                self.release(priority)  # granted, but the caller left before using it: pass it on
            raise

    def release(self, priority: int = Priority.NORMAL) -> None:
        """Give back a slot taken at `priority`; the next waiting unit (if any) gets it."""
        self.busy -= 1
        if priority < Priority.NORMAL:
            self.busy_background -= 1
        self._dispatch()

    async def run(self, fn: Callable[[], T], *, flow: str, priority: int = Priority.NORMAL) -> T:
        """Run blocking `fn` in a worker thread once a slot is granted.

        The slot is held until the thread ends, even when the awaiting caller is cancelled: an engine call in
        progress cannot be interrupted, so the engine is busy until then.
        """
        await self.acquire(flow, priority)
        try:
            executor = self._background_threads() if priority < Priority.NORMAL else None
            work = asyncio.get_running_loop().run_in_executor(
                executor, functools.partial(contextvars.copy_context().run, fn)
            )
        except BaseException:
            self.release(priority)
            raise
        work.add_done_callback(functools.partial(self._finished, priority))
        return await asyncio.shield(work)

    def _background_threads(self) -> ThreadPoolExecutor:
        """The lowest-priority threads background units run on (made on first use, one per slot)."""
        if self._background is None:
            self._background = low_priority_executor(self.slots)
        return self._background

    def _finished(self, priority: int, work: asyncio.Future[object]) -> None:
        self.release(priority)
        if not work.cancelled():
            work.exception()  # retrieved: after a cancellation nobody awaits it

    def _can_run(self, priority: int) -> bool:
        """A unit of `priority` may start now: interactive ones while fewer than `slots` interactive units run
        (background units beside them do not count), background ones while fewer than `slots` units run at all."""
        if priority >= Priority.NORMAL:
            return self.busy - self.busy_background < self.slots
        return self.busy < self.slots

    def _grant(self, flow: str, priority: int) -> None:
        self.busy += 1
        if priority < Priority.NORMAL:
            self.busy_background += 1
        metrics.ENGINE_CALLS.labels(priority_label(priority)).inc()
        self._served[flow] = next(self._turn)
        self._served.move_to_end(flow)
        if len(self._served) > REMEMBERED_FLOWS:
            self._served.popitem(last=False)

    def _dispatch(self) -> None:
        while self._waiting:
            waiter = min(self._waiting, key=self._order)
            if waiter.future.done():  # cancelled while waiting
                self._waiting.remove(waiter)
                continue
            if not self._can_run(waiter.priority):  # waiters behind it rank lower and cannot run either
                return
            self._waiting.remove(waiter)
            self._grant(waiter.flow, waiter.priority)
            waiter.future.set_result(None)

    def _order(self, waiter: _Waiter) -> tuple[int, int, int]:
        """Highest priority, then the flow served longest ago (never: first), then arrival."""
        return -waiter.priority, self._served.get(waiter.flow, -1), waiter.seq
