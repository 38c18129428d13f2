"""Settings of the jobs API and webhooks, mixed into the one `Settings` class (env `TTS_*`, CLI flags)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings


class JobSettings(BaseSettings):
    """Fields of long-form jobs (`POST /v1/jobs`) and their webhooks."""

    jobs_enabled: bool = Field(True, description="Serve /v1/jobs and run the job worker in this process.")
    jobs_dir: str = Field(
        str(Path.home() / ".cache" / "tts-predictor" / "jobs"),
        description="Jobs database (SQLite, unless TTS_REDIS_URL is set) and rendered results; put it on a volume.",
    )
    job_max_chars: int = Field(1_000_000, ge=1, le=50_000_000, description="Longest text accepted per job.")
    job_max_queued_per_key: int = Field(10, ge=1, le=10_000, description="Unfinished jobs one API key may have (429).")
    job_result_ttl_s: float = Field(86_400.0, gt=0, description="Finished jobs and their audio are deleted after this.")
    jobs_max_bytes: int = Field(10 * 2**30, ge=2**20, description="Storage bound of job audio in bytes (507 beyond).")
    job_upload_max_bytes: int = Field(32 * 2**20, ge=1024, description="Largest body of POST /v1/jobs (an EPUB, 413).")
    job_chunk_chars: int = Field(1500, ge=100, le=20_000, description="Characters per persisted chunk of a job.")
    job_segment_chars: int = Field(
        150,
        ge=50,
        le=400,
        description="Longest text per engine call of a job (the CPU a job sentence in flight still takes; with a Coqui PyTorch "
        "engine, the longest wait of an interactive request). "
        "400 (as interactive requests) gives audio identical to one-go synthesis; smaller favours interactive latency.",
    )
    job_yield_to_interactive: bool = Field(
        True,
        description="Besides the lowest scheduler priority, start no job segment while an interactive request "
        "is admitted (keeps every core for it); false: jobs also use engine slots left idle beside interactive work.",
    )
    job_lease_s: float = Field(
        30.0, ge=1, le=3600, description="Worker lease; another replica takes a job over after it."
    )
    job_poll_s: float = Field(1.0, gt=0, le=60, description="How often an idle worker looks for queued jobs.")
    webhook_secret: str | None = Field(
        None, description="Default HMAC-SHA256 key of job webhooks (a job may bring its own)."
    )
    webhook_max_attempts: int = Field(5, ge=1, le=20, description="Deliveries tried per webhook event.")
    webhook_backoff_s: float = Field(1.0, gt=0, le=600, description="First retry delay; doubles per attempt.")
    webhook_timeout_s: float = Field(10.0, gt=0, le=120, description="Timeout of one webhook delivery.")
    webhook_allow_private: bool = Field(
        False, description="Allow webhooks to loopback/private/link-local addresses (off: SSRF protection)."
    )
    clone_require_consent: bool = Field(
        False, description="POST /v1/voices needs a consent record (consent: true or {accepted, statement})."
    )
    beds_dir: str | None = Field(
        None, description="Directory of stored background beds (audio files; request option 'bed' names one)."
    )
    watermark_model: str | None = Field(
        None,
        description="TorchScript watermark generator (AudioSeal-style: audio in, watermark signal out) added to "
        "every output; none ships with the server.",
    )
    watermark_sample_rate: int = Field(16000, ge=8000, le=48000, description="Sample rate the watermark model runs at.")
    watermark_strength: float = Field(1.0, ge=0.0, le=10.0, description="Factor on the model's watermark signal.")
    c2pa_cert_file: str | None = Field(
        None,
        description="PEM certificate chain (signing certificate first) for C2PA content credentials on WAV, FLAC "
        "and MP3 outputs; with c2pa_key_file (needs the c2pa extra).",
    )
    c2pa_key_file: str | None = Field(None, description="PEM private key of the C2PA signing certificate.")
    c2pa_alg: str = Field(
        "es256", description="C2PA signing algorithm: es256, es384, es512, ps256, ps384, ps512, ed25519."
    )
    c2pa_tsa_url: str | None = Field(
        None, description="RFC 3161 time-stamp authority for C2PA signatures (none: offline)."
    )
    provenance_tags: bool = Field(
        True, description="Write the 'AI-generated speech' declaration into WAV/FLAC/MP3/Ogg metadata of every output."
    )
