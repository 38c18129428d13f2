"""Adaptive ONNX Runtime sessions: every core for a call that runs alone, one thread per call when calls overlap.

Measured on 2 cores (bench `threads` and `peer`): one sentence alone is fastest with intra-op threads = cores,
but concurrent calls on that session oversubscribe the cores (their threads meet at every operator and spin),
while one thread per call gets the most audio per CPU second. So an engine keeps its `threads` session and,
when `busy_threads` is set, a second session used by a call that starts while another one is running.
Background calls (job sentences) always run on a one-thread session, on the calling thread, which the
scheduler runs at the lowest CPU priority (`low_priority`): with no narrow session, one is made for them on
first use (`background_threads`), so a job never holds ONNX pool threads of normal priority.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from tts_predictor.engines.scheduling import Priority, current_scheduling
from tts_predictor.errors import ModelLoadError

log = logging.getLogger(__name__)


class AdaptiveSessions:
    """`run` picks the wide session when no other call is in flight, else the narrow one."""

    def __init__(
        self, make: Callable[[int], Any], threads: int, busy_threads: int | None, background_threads: int | None = None
    ):
        """`make(threads)` builds a session; the narrow one only when `busy_threads` differs from `threads`.
        `background_threads` (CPU engines: 1): threads of the session background calls use when there is no narrow
        one, made on their first call (None: they use the wide one)."""
        self.wide = make(threads)
        self.narrow = make(busy_threads) if busy_threads and busy_threads != threads else None
        self._make = make
        self._background_threads = background_threads if background_threads and background_threads != threads else None
        self._background: Any = None
        self._in_flight = 0
        self._lock = threading.Lock()

    def run(self, outputs: list[str] | None, feeds: dict[str, Any]) -> list[Any]:
        """`InferenceSession.run` on the session this call should use: the wide one only when no other interactive
        call is in flight (two wide calls, or one wide beside narrow ones, would oversubscribe the cores).

        Background calls (job sentences, `scheduling.Priority.BACKGROUND`, seen through the context the scheduler
        copies into the engine thread) always take a one-thread session (`_for_background`) and are not counted, so
        a one-sentence request that arrives while a job runs still gets the wide session (one job thread beside it,
        at the lowest CPU priority)."""
        if current_scheduling().priority < Priority.NORMAL:
            return self._for_background().run(outputs, feeds)
        if self.narrow is None:
            return self.wide.run(outputs, feeds)
        with self._lock:
            self._in_flight += 1
            wide = self._in_flight == 1
        try:
            return (self.wide if wide else self.narrow).run(outputs, feeds)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _for_background(self) -> Any:
        """The narrow session, else the background session (made now if needed), else the wide one."""
        if self.narrow is not None:
            return self.narrow
        if self._background_threads is None:
            return self.wide
        with self._lock:
            if self._background is None:
                self._background = self._make(self._background_threads)
            return self._background


def execution_providers(device: str) -> tuple[list[str], str]:
    """ONNX Runtime providers for `device` (cuda, cpu or auto) and the device they give."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    if device in ("cuda", "auto") and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"], "cuda"
    if device == "cuda":
        raise ModelLoadError(f"device=cuda asked for, but onnxruntime has only {available}")
    if device == "auto":
        log.info(
            "no GPU in use: onnxruntime offers %s (no CUDAExecutionProvider), the ONNX engine runs on CPU", available
        )
    return ["CPUExecutionProvider"], "cpu"
