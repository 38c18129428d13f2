"""Lowest priority for job work: job sentences queue in the process's fair scheduler at `Priority.BACKGROUND`.

Two layers keep interactive requests fast while a job runs:

1. **Scheduler priority** (always): every engine call of a job is made inside `job_scheduling(job_id)`, so it
   waits in `tts_predictor/synthesis/scheduler.py`'s `FairScheduler` (the engine slots all requests share) at the lowest
   priority, in one flow per job. Priorities are strict there: a job sentence takes a slot only while no
   interactive sentence waits for one, and job sentences hold no slot against interactive ones: they run on
   threads of the lowest CPU priority, so an interactive sentence starts beside them at once and gets the cores.
2. **Yield to admitted requests** (`TTS_JOB_YIELD_TO_INTERACTIVE`, default on): the worker also starts no new
   job segment while an interactive request is admitted (running or queued), even when an engine slot is
   free, because the slots share the CPU cores: even at the lowest CPU priority a job sentence takes some CPU,
   and the job's phonemizing and chunk storage run at normal priority. Off, jobs use every slot interactive
   traffic leaves idle.

The worker calls `await gate.wait()` before each segment and synthesizes it inside `job_scheduling`.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractContextManager
from typing import Protocol

from tts_predictor.engines.scheduling import Priority, Scheduling, scheduled_as
from tts_predictor.pipeline.front import Front

JOB_PRIORITY = Priority.BACKGROUND
"""Scheduler priority of every job engine call."""


def job_scheduling(job_id: str) -> AbstractContextManager[Scheduling]:
    """Engine work started inside the block runs as job `job_id`'s flow at the lowest priority."""
    return scheduled_as(priority=JOB_PRIORITY, flow=f"job-{job_id}")


class PriorityGate(Protocol):
    """Decides when background work may start its next segment."""

    async def wait(self) -> None:
        """Return when a low-priority unit of work may start."""


class OpenGate:
    """No extra wait: scheduler priority alone (`TTS_JOB_YIELD_TO_INTERACTIVE=false`)."""

    waits = 0

    async def wait(self) -> None:
        return None


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


def make_gate(predictor: Front) -> PriorityGate:
    """The gate the settings ask for."""
    if getattr(predictor.settings, "job_yield_to_interactive", True):
        return InteractiveIdleGate(predictor.admission)
    return OpenGate()
