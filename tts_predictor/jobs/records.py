"""Job records: states, progress, chapters and webhook attempts, as stored (JSON) and as returned by the API."""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED = "queued", "running", "completed", "failed", "cancelled"
FINISHED = frozenset({COMPLETED, FAILED, CANCELLED})


def new_job_id() -> str:
    """A random, unguessable job id."""
    return "job_" + uuid.uuid4().hex


@dataclass
class Chapter:
    """A chapter of the result: its title and the chunks [first_chunk, end_chunk) that speak it."""

    title: str
    first_chunk: int = 0
    end_chunk: int = 0
    start_s: float | None = None
    duration_s: float | None = None


@dataclass
class JobRecord:
    """One job; everything but the chunk plan and the chunk audio (stored beside it)."""

    id: str
    owner: str
    params: dict[str, Any]
    """SynthesisParameters as JSON (validated at submission)."""
    source_kind: str
    """text, ssml, markdown or epub."""
    chars_total: int
    state: str = QUEUED
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    expires_at: float | None = None
    title: str | None = None
    """The request's `title`, else the EPUB's dc:title: the result's TITLE tag and download file name."""
    author: str | None = None
    """The request's `author`, else the EPUB's dc:creator entries: the result's ARTIST tag."""
    chars_done: int = 0
    audio_s_done: float = 0.0
    chunks_total: int | None = None
    chunks_done: int = 0
    sentences_total: int | None = None
    """Spoken segments of the plan (a sentence, or a piece of at most TTS_JOB_SEGMENT_CHARS of a longer one)."""
    sentences_done: int = 0
    chars_per_s: float | None = None
    """Synthesis speed measured by the current worker since its first sentence (for the ETA)."""
    error: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_attempts: list[dict[str, Any]] = field(default_factory=list)
    webhook_delivered: bool | None = None
    """True once an attempt got a 2xx answer, False once every attempt failed, None while pending."""
    chapters: list[Chapter] = field(default_factory=list)
    result_bytes: int = 0
    duration_s: float | None = None
    sample_rate: int | None = None
    worker: str | None = None
    """Id (host-pid-random) of the worker that last ran the job."""
    takeovers: int = 0
    """How often another worker resumed this job after a lease expired."""
    attempts: int = 0
    """Runs in a row that ended in an unexpected error or a dead worker without storing a chunk (bounded by
    TTS_JOB_MAX_ATTEMPTS)."""

    def to_json(self) -> dict[str, Any]:
        """Everything, for the store."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobRecord:
        """Inverse of `to_json`."""
        chapters = [Chapter(**c) for c in data.get("chapters", [])]
        return cls(**{**data, "chapters": chapters})

    def eta_s(self) -> float | None:
        """Seconds until done at the measured speed (None before the first sentence or when finished)."""
        if self.state != RUNNING or not self.chars_per_s:
            return None
        return round(max(0, self.chars_total - self.chars_done) / self.chars_per_s, 1)

    def _webhook(self) -> dict[str, Any]:
        """The webhook's delivery state: every attempt, whether it was delivered and the last failure."""
        last = self.webhook_attempts[-1] if self.webhook_attempts else {}
        failure = last.get("error") or (f"HTTP {last['status']}" if last.get("status", 200) >= 300 else None)
        return {
            "url": self.webhook_url,
            "delivered": self.webhook_delivered,
            "attempts": self.webhook_attempts,
            "last_error": failure if last and not self.webhook_delivered else None,
        }

    def public(self, base_url: str = "") -> dict[str, Any]:
        """The API view (no owner, no secret)."""
        out: dict[str, Any] = {
            "id": self.id,
            "state": self.state,
            "title": self.title,
            "author": self.author,
            "source": self.source_kind,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "expires_at": self.expires_at,
            "error": self.error,
            "progress": {
                "chars_done": self.chars_done,
                "chars_total": self.chars_total,
                "fraction": round(self.chars_done / self.chars_total, 4) if self.chars_total else 1.0,
                "audio_s": round(self.audio_s_done, 3),
                "chunks_done": self.chunks_done,
                "chunks_total": self.chunks_total,
                "sentences_done": self.sentences_done,
                "sentences_total": self.sentences_total,
                "chars_per_s": round(self.chars_per_s, 1) if self.chars_per_s and self.state == RUNNING else None,
                "eta_s": self.eta_s(),
            },
            "format": self.params.get("format", "wav"),
            "options": self.params,
            "duration_s": self.duration_s,
            "sample_rate": self.sample_rate,
            "result_bytes": self.result_bytes,
            "worker": self.worker,
            "takeovers": self.takeovers,
            "attempts": self.attempts,
            "webhook": self._webhook() if self.webhook_url else None,
        }
        out["chapters"] = [
            {
                "number": i,
                "title": c.title,
                "start_s": c.start_s,
                "duration_s": c.duration_s,
                "audio_url": f"{base_url}/v1/jobs/{self.id}/audio?chapter={i}" if self.state == COMPLETED else None,
            }
            for i, c in enumerate(self.chapters, start=1)
        ]
        out["audio_url"] = f"{base_url}/v1/jobs/{self.id}/audio" if self.state == COMPLETED else None
        return out
