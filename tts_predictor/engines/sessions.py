"""Adaptive ONNX Runtime sessions: every core for a call that runs alone, one thread per call when calls overlap.

Measured on 2 cores (bench `threads` and `peer`): one sentence alone is fastest with intra-op threads = cores,
but concurrent calls on that session oversubscribe the cores (their threads meet at every operator and spin),
while one thread per call gets the most audio per CPU second. So an engine keeps its `threads` session and,
when `busy_threads` is set, a second session used by a call that starts while another one is running.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ..scheduler import Priority, current_scheduling


class AdaptiveSessions:
    """`run` picks the wide session when no other call is in flight, else the narrow one."""

    def __init__(self, make: Callable[[int], Any], threads: int, busy_threads: int | None):
        """`make(threads)` builds a session; the narrow one only when `busy_threads` differs from `threads`."""
        self.wide = make(threads)
        self.narrow = make(busy_threads) if busy_threads and busy_threads != threads else None
        self._in_flight = 0
        self._lock = threading.Lock()

    def run(self, outputs: list[str] | None, feeds: dict[str, Any]) -> list[Any]:
        """`InferenceSession.run` on the session this call should use: the wide one only when no other interactive
        call is in flight (two wide calls, or one wide beside narrow ones, would oversubscribe the cores).

        Background calls (job sentences, `scheduler.Priority.BACKGROUND`, seen through the context the scheduler
        copies into the engine thread) always take the narrow session and are not counted, so a one-sentence
        request that arrives while a job runs still gets the wide session (one job thread beside it)."""
        if self.narrow is None:
            return self.wide.run(outputs, feeds)
        if current_scheduling().priority < Priority.NORMAL:
            return self.narrow.run(outputs, feeds)
        with self._lock:
            self._in_flight += 1
            wide = self._in_flight == 1
        try:
            return (self.wide if wide else self.narrow).run(outputs, feeds)
        finally:
            with self._lock:
                self._in_flight -= 1
