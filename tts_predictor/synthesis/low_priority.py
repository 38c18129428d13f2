"""Worker threads at the lowest CPU priority, for background engine calls (job sentences).

A job sentence that is already running when an interactive request arrives cannot be stopped, and on a small
machine it takes a core from the interactive call (whose wide ONNX session wants every core). Run on a thread
of nice 19, it keeps its core only while nothing else wants it: Linux's scheduler gives a nice-0 thread about
70 times the CPU share of a nice-19 one, so the interactive call runs at almost its idle speed and the job
continues on what is left. Lowering a thread's priority needs no privilege; raising it back would, so these
threads serve background work only. Only the calling thread is lowered: an ONNX Runtime session with one
intra-op thread (the narrow session background calls use) computes on it; a library's own pool threads
(PyTorch's) keep their priority.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)

LOWEST_NICE = 19
"""The nice value of background threads (19: the lowest priority on Linux)."""


def lower_this_thread(nice: int = LOWEST_NICE) -> bool:
    """Give the calling OS thread the nice value `nice`; False where the platform cannot (not Linux)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except (AttributeError, OSError):
        log.debug("cannot lower this thread's CPU priority here", exc_info=True)
        return False
    return True


def thread_nice() -> int | None:
    """The calling OS thread's nice value (None where it cannot be read)."""
    try:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    except (AttributeError, OSError):
        return None


def low_priority_executor(workers: int) -> ThreadPoolExecutor:
    """A thread pool whose threads run at `LOWEST_NICE`."""
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tts-background", initializer=lower_this_thread)


@functools.cache
def _shared() -> ThreadPoolExecutor:
    """The process's pool for `run_low` (made on first use)."""
    return low_priority_executor(2)


async def run_low(fn: Callable[..., T], *args: Any) -> T:
    """`await asyncio.to_thread(fn, *args)`, but on a shared thread of the lowest CPU priority (a job's chunk
    encoding and file rendering: CPU work nobody waits for interactively)."""
    return await asyncio.get_running_loop().run_in_executor(_shared(), functools.partial(fn, *args))
