"""What the server answers, as small frozen dataclasses (each keeps the raw JSON in `raw` for fields added later)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FINISHED_STATES = frozenset({"completed", "failed", "cancelled"})


@dataclass(frozen=True)
class Speech:
    """One synthesized audio file."""

    audio: bytes
    """The encoded audio (WAV, MP3, ...: `content_type`)."""
    content_type: str
    """Its media type, e.g. ``audio/wav``."""
    voice: str | None = None
    """The voice that spoke (X-Voice)."""
    language: str | None = None
    """The voice's language (X-Language)."""
    duration_s: float | None = None
    """Seconds of audio (X-Duration)."""
    sample_rate: int | None = None
    """Samples per second (X-Sample-Rate)."""
    request_id: str | None = None
    """The server's X-Request-ID."""

    def save(self, path: str | Path) -> Path:
        """Write the audio to `path`; the path."""
        path = Path(path)
        path.write_bytes(self.audio)
        return path


@dataclass(frozen=True)
class JobProgress:
    """How far a job is (`progress` of GET /v1/jobs/{id})."""

    fraction: float = 0.0
    """Characters done / characters to speak, 0 to 1."""
    chars_done: int = 0
    chars_total: int = 0
    audio_s: float = 0.0
    """Seconds of audio made so far."""
    eta_s: float | None = None
    """Estimated seconds left while running, else None."""


@dataclass(frozen=True)
class Chapter:
    """One chapter of a job's result."""

    number: int
    title: str | None
    start_s: float | None = None
    duration_s: float | None = None


@dataclass(frozen=True)
class Job:
    """A long-form job (`POST /v1/jobs`, `GET /v1/jobs/{id}`)."""

    id: str
    state: str
    """queued, running, completed, failed or cancelled."""
    progress: JobProgress
    chapters: list[Chapter] = field(default_factory=list)
    format: str | None = None
    title: str | None = None
    error: str | None = None
    duration_s: float | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    """The whole JSON answer."""

    @property
    def finished(self) -> bool:
        """Whether the job has ended (completed, failed or cancelled)."""
        return self.state in FINISHED_STATES

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        """A Job from the server's JSON."""
        progress = data.get("progress") or {}
        return cls(
            id=data["id"],
            state=data["state"],
            progress=JobProgress(
                fraction=float(progress.get("fraction") or 0.0),
                chars_done=int(progress.get("chars_done") or 0),
                chars_total=int(progress.get("chars_total") or 0),
                audio_s=float(progress.get("audio_s") or 0.0),
                eta_s=progress.get("eta_s"),
            ),
            chapters=[
                Chapter(c["number"], c.get("title"), c.get("start_s"), c.get("duration_s"))
                for c in data.get("chapters") or []
            ],
            format=data.get("format"),
            title=data.get("title"),
            error=data.get("error"),
            duration_s=data.get("duration_s"),
            raw=data,
        )


@dataclass(frozen=True)
class Voice:
    """One voice of `GET /v1/voices`."""

    id: str
    languages: list[str]
    sample_rate: int | None = None
    gender: str | None = None
    engine: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Voice:
        """A Voice from the server's JSON."""
        return cls(
            id=data["id"],
            languages=list(data.get("languages") or []),
            sample_rate=data.get("sample_rate"),
            gender=data.get("gender"),
            engine=data.get("engine"),
            raw=data,
        )


@dataclass(frozen=True)
class VoiceList:
    """`GET /v1/voices`: the voices, the default one and the languages."""

    voices: list[Voice]
    default_voice: str | None
    languages: list[str]

    @property
    def ids(self) -> list[str]:
        """The voice ids."""
        return [v.id for v in self.voices]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VoiceList:
        """A VoiceList from the server's JSON."""
        return cls(
            voices=[Voice.from_json(v) for v in data.get("voices") or []],
            default_voice=data.get("default_voice"),
            languages=list(data.get("languages") or []),
        )
