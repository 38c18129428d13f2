"""The job store contract (SQLite for one replica, Redis for several) and the choice between them."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any, Protocol

from tts_predictor.jobs.records import JobRecord


@dataclass(frozen=True)
class StoredChunk:
    """A finished chunk: its audio (FLAC) and what it adds to the progress."""

    index: int
    audio: bytes
    chars: int
    audio_s: float


class JobStore(Protocol):
    """Durable job state shared by the workers of every replica that uses the same store."""

    def create(self, job: JobRecord, source: str) -> None:
        """Store a new job (queued) with its source: the chapters as JSON."""

    def source(self, job_id: str) -> str | None:
        """The chapters JSON given to `create`."""

    def get(self, job_id: str) -> JobRecord | None:
        """The job, or None."""

    def list(self, owner: str) -> list[JobRecord]:
        """The owner's jobs, newest first."""

    def save(self, job: JobRecord, worker: str | None = None) -> bool:
        """Write back the job record; with `worker`, only while that worker holds the lease of the running job
        (so a cancel or a takeover is never overwritten). True if written."""

    def claim(self, worker: str, now: float, lease_s: float) -> JobRecord | None:
        """Atomically take the queued job ready first (submitted or deferred to the earliest time up to `now`), or a
        running one whose lease expired; None if there is none."""

    def defer(self, job: JobRecord, worker: str, ready_at: float) -> bool:
        """Queue `worker`'s running job again (written back, lease dropped), claimable from `ready_at` on and
        only after every job ready before it. False when the job is no longer leased to `worker`."""

    def heartbeat(self, job_id: str, worker: str, now: float, lease_s: float) -> bool:
        """Extend `worker`'s lease; False when the job is no longer leased to it (taken over, cancelled)."""

    def release(self, job_id: str, worker: str) -> None:
        """Drop `worker`'s lease (the job finished or the worker stops)."""

    def set_plan(self, job_id: str, plan: dict[str, Any]) -> bool:
        """Store the chunk plan unless one exists (True if this call stored it)."""

    def plan(self, job_id: str) -> dict[str, Any] | None:
        """The chunk plan (JSON per chunk), or None before planning."""

    def put_chunk(self, job_id: str, chunk: StoredChunk) -> bool:
        """Store a finished chunk unless that index exists already or the job is no longer running (True if
        stored): no chunk is ever doubled, none outlives a cancelled and deleted job."""

    def done_chunks(self, job_id: str) -> dict[int, tuple[int, float]]:
        """Index -> (chars, audio seconds) of the finished chunks."""

    def chunk(self, job_id: str, index: int) -> StoredChunk | None:
        """One finished chunk."""

    def delete(self, job_id: str) -> None:
        """Remove the job, its plan and its chunks."""

    def expired(self, now: float) -> builtins.list[str]:  # `list` is a method here
        """Ids of finished jobs whose results expired."""

    def unfinished_count(self, owner: str) -> int:
        """Queued or running jobs of `owner`."""

    def bytes_used(self) -> int:
        """Bytes of chunk audio stored."""
