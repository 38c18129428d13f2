"""Lowest priority for job chunks: a job segment starts only while no interactive request runs or waits.

A small interface, so a fair scheduler with priorities can replace it: the worker only calls `await gate.wait()`
before each segment, then takes an engine slot like any request.
"""

from __future__ import annotations

import asyncio
from typing import Protocol


class PriorityGate(Protocol):
    """Decides when background work may take the next engine slot."""

    async def wait(self) -> None:
        """Return when a low-priority unit of work may start."""


class InteractiveIdleGate:
    """Open while the admission controller has no interactive request running or queued."""

    def __init__(self, admission: object, poll_s: float = 0.02):
        self.admission = admission
        self.poll_s = poll_s
        self.waits = 0
        """How often a job segment had to wait for interactive work (for tests and metrics)."""

    def busy(self) -> bool:
        """True while interactive requests hold or wait for slots."""
        return bool(getattr(self.admission, "running", 0) or getattr(self.admission, "queued", 0))

    async def wait(self) -> None:
        if self.busy():
            self.waits += 1
        while self.busy():
            await asyncio.sleep(self.poll_s)
