"""The scheduling context of engine work: its priority and flow, set by callers and read by the engine sessions.

Set with `scheduled_as` around work (a job worker: `Priority.BACKGROUND`); the fair scheduler orders units by it and
the ONNX sessions give background calls their narrow, lowest-CPU-priority session.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum


class Priority(IntEnum):
    """Usual priority levels (any int works; larger runs first)."""

    BACKGROUND = -10
    """Batch/background jobs: only idle engine slots."""
    NORMAL = 0
    """Interactive requests (the default)."""
    HIGH = 10
    """Requests that go ahead of normal traffic (e.g. a premium API key)."""


def priority_label(priority: int) -> str:
    """`background`, `normal`, `high`, or the number for other levels (the metrics label)."""
    try:
        return Priority(priority).name.lower()
    except ValueError:
        return str(int(priority))


@dataclass(frozen=True)
class Scheduling:
    """Flow and priority of the engine work started in a context (see `scheduled_as`)."""

    flow: str | None = None
    """Requests sharing a flow take turns as one (None: each call of `LocalSynthesizer.synthesize` is its own)."""
    priority: int = Priority.NORMAL
    """Larger runs first."""


_CURRENT: contextvars.ContextVar[Scheduling] = contextvars.ContextVar("tts_scheduling", default=Scheduling())


@contextmanager
def scheduled_as(*, priority: int | None = None, flow: str | None = None) -> Iterator[Scheduling]:
    """Engine work started inside the block (in this task and tasks it creates) uses `priority` / `flow`."""
    current = _CURRENT.get()
    token = _CURRENT.set(
        Scheduling(flow if flow is not None else current.flow, priority if priority is not None else current.priority)
    )
    try:
        yield _CURRENT.get()
    finally:
        _CURRENT.reset(token)


def current_scheduling() -> Scheduling:
    """The flow and priority set by the innermost `scheduled_as` (defaults: own flow, NORMAL)."""
    return _CURRENT.get()


def new_flow() -> str:
    """A flow id nobody else uses."""
    return uuid.uuid4().hex
