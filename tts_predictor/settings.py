"""Settings: one pydantic-settings object (env `TTS_*` or CLI flags), validated at start."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, PrivateAttr, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EMBEDDED_MODEL = "embedded"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "tts-predictor"
"""Derived files (exported and quantized graphs under onnx/) unless TTS_CACHE_DIR is set."""

PIPER_VOICES_URL = "https://huggingface.co/rhasspy/piper-voices/resolve/v1.0.0"
"""Piper's published voice catalogue (voices.json and the voice files, by path)."""

SECRET: dict[str, Any] = {"secret": True}
"""`json_schema_extra` of a plain-string field holding a secret (shown as *** by `Settings.redacted`, like SecretStr)."""


class JobsSection(BaseSettings):
    """Section: jobs.

    Long-form jobs (`POST /v1/jobs`) and their webhooks."""

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
    job_max_attempts: int = Field(
        3,
        ge=1,
        le=20,
        description="Runs of a job in a row that fail unexpectedly (not bad input) or lose their worker (killed, "
        "crashed) without storing a chunk, before the job is marked failed with the reason.",
    )
    job_retry_backoff_s: float = Field(
        30.0,
        ge=0,
        le=86_400,
        description="Delay before a failed job's next run; doubles per attempt. The job waits behind every job "
        "that is ready, so a failing job never blocks the queue.",
    )
    job_max_audio_s: float = Field(
        86_400.0,
        ge=1,
        le=7 * 86_400,
        description="Longest audio of one job in seconds: 400 at submission when its planned pauses alone exceed "
        "it, failed when its speech does.",
    )
    job_max_chapters: int = Field(
        999,
        ge=1,
        le=999,
        description="Most chapters per job (400 beyond; MP3 results take at most 255, its ID3 table-of-contents limit).",
    )
    webhook_secret: str | None = Field(
        None,
        description="Default HMAC-SHA256 key of job webhooks (a job may bring its own).",
        json_schema_extra=SECRET,
    )
    webhook_max_attempts: int = Field(5, ge=1, le=20, description="Deliveries tried per webhook event.")
    webhook_backoff_s: float = Field(1.0, gt=0, le=600, description="First retry delay; doubles per attempt.")
    webhook_timeout_s: float = Field(10.0, gt=0, le=120, description="Timeout of one webhook delivery.")
    webhook_allow_private: bool = Field(
        False, description="Allow webhooks to loopback/private/link-local addresses (off: SSRF protection)."
    )
    usage: Literal["on", "off"] = Field(
        "on",
        description="Usage analytics: per hour, API key (hashed), route, voice and format, the requests, characters, "
        "audio seconds, errors, latency and cache hits of syntheses, kept in the jobs store (docs/admin.md).",
    )
    usage_retention_days: int = Field(
        90, ge=1, le=3650, description="Usage hours and feedback older than this many days are deleted."
    )
    usage_flush_s: float = Field(
        10.0, gt=0, le=3600, description="Usage counts are written to the store this often (and at shutdown)."
    )
    feedback_store_text: bool = Field(
        False,
        description="Store the normalized request text with quality feedback (default: only its SHA-256 and length).",
    )
    feedback_recent_requests: int = Field(
        10_000,
        ge=0,
        le=1_000_000,
        description="Request ids remembered for POST /v1/feedback (the most recent syntheses of this process; "
        "feedback on an older id is a 404); 0 turns feedback off.",
    )
    feedback_per_minute: int = Field(
        30, ge=1, le=10_000, description="Feedback posts one API key (else client address) may send per minute (429)."
    )
    events_nats_url: str | None = Field(
        None,
        description="Publish job lifecycle CloudEvents to this NATS server (e.g. nats://nats:4222) through the job "
        "store's outbox: at-least-once, nothing lost while the broker is down (docs/events.md). SQLite job store only.",
    )
    events_subject_prefix: str = Field(
        "tts.jobs",
        pattern=r"^[A-Za-z0-9_-]{1,32}(\.[A-Za-z0-9_-]{1,32}){0,7}$",
        description="NATS subject prefix of job events: `<prefix>.queued`, `.started`, `.progress`, `.completed`, "
        "`.failed`, `.cancelled`.",
    )
    events_nats_stream: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="JetStream stream that stores the events (created on `<prefix>.>` when missing); publishes then "
        "wait for the stream's ack and subscribers that were away catch up. Unset: core NATS (publish + flush).",
    )
    events_source: str = Field(
        "tts-predictor",
        min_length=1,
        max_length=200,
        description="The CloudEvents `source` attribute of job events (a URI reference naming this deployment).",
    )


class OutputSection(BaseSettings):
    """Section: outputs and voices.

    What every output carries or may mix in (beds, watermark, content credentials, AI tags), and cloning consent."""

    clone_require_consent: bool = Field(
        False, description="POST /v1/voices needs a consent record (consent: true or {accepted, statement})."
    )
    detect_language: bool = Field(
        True,
        description="A request without 'language' has each sentence's language detected among the languages the "
        "voices speak, and switches to a voice of that language where its own cannot speak it (acts only when more "
        "than one language is served; docs/voices.md).",
    )
    detect_candidates: str = Field(
        "",
        max_length=2000,
        description="Comma-separated languages detection may choose (e.g. 'en,de,fr'); empty: every language a "
        "voice speaks. Fewer candidates, fewer mistakes on short sentences.",
    )
    openai_voices: str = Field(
        "",
        max_length=4000,
        description="OpenAI voice names -> voice ids, e.g. 'alloy=en_US-joe-medium,nova=en_US-amy-medium'; names "
        "left out are spread over the neural voices (by gender where known), never onto formant fallbacks.",
    )
    beds_dir: str | None = Field(
        None, description="Directory of stored background beds (audio files; request option 'bed' names one)."
    )
    bed_max_seconds: float = Field(
        120.0, gt=0, le=3600, description="Longest background bed accepted by POST /v1/beds (beds loop; 400 beyond)."
    )
    max_beds: int = Field(100, ge=0, le=100_000, description="Most stored beds in all; 0 turns bed uploads off (409).")
    max_beds_per_key: int = Field(
        10, ge=0, le=100_000, description="Most stored beds per (non-admin) API key when keys are set (409)."
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
    loudness_target_lufs: float | None = Field(
        -19.0,
        ge=-60.0,
        le=-5.0,
        description="Loudness every sentence is brought to (ITU-R BS.1770 integrated LUFS; -19 is the podcast norm for "
        "mono), before volume_db; a request's loudness_lufs replaces it; 'off': the voice's own level.",
    )
    loudness_peak_dbfs: float = Field(
        -1.0, ge=-20.0, le=0.0, description="Sample-peak ceiling of the loudness step (a limiter keeps peaks under it)."
    )

    @field_validator("loudness_target_lufs", mode="before")
    @classmethod
    def _off_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and value.strip().lower() in {"", "off", "none"} else value

    @field_validator("openai_voices")
    @classmethod
    def _name_voice_pairs(cls, value: str) -> str:
        for pair in (p.strip() for p in value.split(",")):
            name, sep, voice = pair.partition("=")
            if pair and not (sep and name.strip() and voice.strip()):
                raise ValueError(f"'{pair[:60]}' is not name=voice_id (e.g. alloy=en_US-joe-medium,nova=...)")
        return value


class RaySection(BaseSettings):
    """Section: Ray Serve mode.

    Setting TTS_RAY_NUM_REPLICAS or TTS_RAY_MAX_REPLICAS runs the engine in Ray Serve replicas while this process
    serves the whole API in front of them (docs/deployment.md)."""

    ray_num_replicas: int | None = Field(
        None, ge=1, le=1024, description="Ray mode with this many replicas (fixed; the initial count when autoscaling)."
    )
    ray_num_cpus: float = Field(
        1.0, ge=0, le=1024, description="CPUs Ray reserves per replica (fractional allowed); engine threads = ceil."
    )
    ray_num_gpus: float = Field(0.0, ge=0, le=64, description="GPUs per replica (fractional shares one GPU).")
    ray_min_replicas: int | None = Field(None, ge=0, le=1024, description="Autoscaling floor (default: the count).")
    ray_max_replicas: int | None = Field(
        None, ge=1, le=1024, description="Autoscaling ceiling; Ray Serve autoscaling is on when it exceeds the floor."
    )
    ray_target_ongoing_requests: float | None = Field(
        None, gt=0, description="Ongoing requests per replica Ray Serve aims for (default: TTS_MAX_CONCURRENCY)."
    )
    ray_upscale_delay_s: float = Field(3.0, ge=0, description="How long demand stays above target before scaling up.")
    ray_downscale_delay_s: float = Field(
        60.0, ge=0, description="How long demand stays below target before scaling down."
    )
    ray_object_store_bytes: int = Field(
        100 * 1024 * 1024, ge=1 << 20, description="Object store of the private Ray started in the pod (bytes)."
    )
    ray_address: str | None = Field(
        None,
        validation_alias=AliasChoices("RAY_ADDRESS", "ray_address"),
        description="RAY_ADDRESS (Ray's own variable, no TTS_ prefix): join this cluster (host:6379, ray://...); "
        "unset: start a private Ray in the pod.",
    )

    @field_validator(
        "ray_num_replicas",
        "ray_min_replicas",
        "ray_max_replicas",
        "ray_target_ongoing_requests",
        "ray_address",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    def ray_mode(self) -> bool:
        """Whether Ray mode is asked for (TTS_RAY_NUM_REPLICAS or TTS_RAY_MAX_REPLICAS set)."""
        return self.ray_num_replicas is not None or self.ray_max_replicas is not None


class Settings(JobsSection, OutputSection, RaySection, BaseSettings):
    """Everything that configures a tts-predictor process; env vars use the prefix ``TTS_``."""

    model_config = SettingsConfigDict(env_prefix="TTS_", extra="ignore")

    model: str = Field(
        EMBEDDED_MODEL,
        description=(
            "Which model to serve: 'embedded' (the packaged en_US Piper voice), 'coqui:<catalogue name>' "
            "(e.g. coqui:tts_models/en/vctk/vits), a Coqui model directory (config.json + checkpoint, "
            "e.g. /mnt/models), a Piper-format voice ('<voice>.onnx' with '<voice>.onnx.json'), or "
            "'piper:<name>' (a voice of Piper's catalogue, e.g. piper:en_GB-alan-medium, fetched into the cache)."
        ),
    )
    voices_dir: str | None = Field(
        None, description="Directory of extra voices: Piper voices (*.onnx + .onnx.json) and Coqui model folders."
    )
    max_models: int = Field(
        8,
        ge=1,
        le=64,
        description="Most speech models loaded at once. Configured models beyond it start unloaded; a request for "
        "the voice of an unloaded model loads it and evicts the least recently used idle one.",
    )
    models_memory_mb: int = Field(
        0,
        ge=0,
        le=1_048_576,
        description="Memory budget of the loaded speech models in MiB (each measured when it loads: RSS growth, at "
        "least its weight files' size); beyond it the least recently used idle models are evicted. 0 = no bound.",
    )
    piper_voices_url: str = Field(
        PIPER_VOICES_URL,
        description="Where Piper's voice catalogue is fetched from (`<url>/voices.json` and the files it lists): "
        "Hugging Face's rhasspy/piper-voices, or a mirror holding the same layout (air-gapped clusters). "
        "`TTS_MODEL=piper:<name>` and catalogue voice names download from it into TTS_CACHE_DIR.",
    )
    hf_hub_offline: bool = Field(
        False,
        validation_alias=AliasChoices("HF_HUB_OFFLINE", "hf_hub_offline"),
        description="HF_HUB_OFFLINE (Hugging Face's own variable, no TTS_ prefix): download nothing; Piper "
        "catalogue voices must already be in the cache (`tts-predictor voices pull NAME`).",
    )
    load_voices_dir: bool = Field(
        True,
        description="Load every model of TTS_VOICES_DIR at start; false: load them on demand with "
        "POST /v2/repository/models/<name>/load.",
    )
    fallback_voices: Literal["espeak", "off"] = Field(
        "espeak",
        description="espeak: also serve one formant voice per language espeak-ng knows (ids espeak-<tag>, "
        "quality 'formant'), used where no configured voice speaks a requested language; off: only the "
        "configured models' voices.",
    )
    model_name: str = Field("tts", description="Name the model is served under (/v2/models/<name>).")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Where the engine runs.")
    compute_type: Literal["float32", "float16", "int8"] = Field(
        "float32",
        description="Numeric precision: float32; int8 (ONNX engines, dynamic quantization); float16 (CUDA only).",
    )
    coqui_backend: Literal["torch", "onnx"] = Field(
        "torch", description="Run Coqui VITS models in PyTorch, or export them to ONNX at load and run ONNX Runtime."
    )
    coqui_concurrency: int = Field(
        0,
        ge=0,
        le=64,
        description="Calls run at once on one PyTorch Coqui model (each request on its own view of the model; a "
        "seeded call still runs alone: torch's random generator is process-wide); 0 = TTS_MAX_CONCURRENCY, "
        "1 = one at a time. Bark and Tortoise always run one at a time. On CPU a call beside others gets "
        "TTS_THREADS divided among them.",
    )
    vocoder: str = Field(
        "",
        description="Vocoder for Coqui spectrogram models (Tacotron2, Glow-TTS, FastPitch...): a vocoder directory, "
        "a catalogue name, or griffin-lim; empty = the model's vocoder/ subdirectory, else the catalogue's default_vocoder.",
    )
    bark_max_seconds: float = Field(
        0.0,
        ge=0,
        le=60,
        description="Longest audio Coqui Bark generates per sentence (its max_gen_duration_s); "
        "0 = Bark's own limit (768 semantic tokens, about 15 s). Cuts a Bark that babbles on past the text.",
    )
    coqui_catalogue: str | None = Field(
        None,
        description="Coqui model catalogue (a .models.json) for catalogue names; default: the one coqui-tts ships. "
        "Models are looked up in TTS_HOME first, so a pre-filled TTS_HOME needs no network.",
    )
    vc_model: str = Field(
        "",
        description="Voice-conversion model (Coqui OpenVoice, or FreeVC with its WavLM in TTS_HOME): a directory "
        "or a catalogue name such as voice_conversion_models/multilingual/multi-dataset/openvoice_v2. When set, "
        "voices of models that cannot clone by themselves (Piper, plain VITS...) clone by converting their speech.",
    )
    slow_models: str = Field(
        "",
        description="Comma-separated model names (as served: voice file stem, directory or catalogue name with "
        "'/' -> '--') whose voices are far slower than real time, besides Bark and Tortoise (always): listed with "
        '"realtime": false and admitted at most TTS_MAX_SLOW_REQUESTS at once.',
    )
    max_slow_requests: int = Field(
        1,
        ge=1,
        le=64,
        description='Requests for slow voices ("realtime": false) running at once; more get 429 '
        "with Retry-After at once instead of queueing behind minutes of work.",
    )
    threads: int = Field(
        0,
        ge=0,
        le=256,
        description="Intra-op threads per engine; 0 = auto: the server takes the whole CPUs it may use (cgroup CPU "
        "quota, affinity mask, TTS_CPU_LIMIT_MILLICORES; rounded down, at least 1), other commands the core count.",
    )
    load_retry_seconds: float = Field(
        120,
        ge=0,
        description="How long a failed model load is retried (backoff from 1 s doubling to 30 s, each try logged) "
        "before the server stays unready; 0 = one try. With MODEL_INIT_MODE=async (KServe's modelcar for oci:// "
        "models, whose /mnt/models appears only after start) it is retried until it succeeds.",
    )
    model_init_mode: str = Field(
        "",
        validation_alias=AliasChoices("MODEL_INIT_MODE", "model_init_mode"),
        description="MODEL_INIT_MODE (KServe's own variable, no TTS_ prefix): KServe sets `async` when the model "
        "directory may appear only after start (an oci:// modelcar); the load is then retried until it succeeds.",
    )
    cpu_limit_millicores: int | None = Field(
        None,
        ge=1,
        description="The pod's CPU limit in millicores (the chart passes limits.cpu); bounds the auto TTS_THREADS "
        "and TTS_MAX_CONCURRENCY where the cgroup quota cannot be read.",
    )
    max_concurrency: int = Field(
        0,
        ge=0,
        le=64,
        description="Engine calls (sentences) run at once per process, 0 = auto (sized like TTS_THREADS); "
        "admitted requests take turns on these slots sentence by sentence. With more than one, an ONNX call that "
        "overlaps another runs on one thread (alone it gets TTS_THREADS).",
    )
    max_active_requests: int = Field(
        8,
        ge=1,
        le=1024,
        description="Requests admitted at once (their sentences share the engine slots "
        "round-robin); beyond: the queue (TTS_MAX_QUEUE), then 429.",
    )
    max_text_chars: int = Field(5000, ge=1, le=1_000_000, description="Longest text accepted per item.")
    max_audio_seconds: float = Field(
        600.0, gt=0, le=86_400, description="Most audio one request text may produce, pauses included (400 beyond)."
    )
    max_batch_size: int = Field(32, ge=1, le=1024, description="Most texts accepted in one V2 request.")
    max_request_text_chars: int = Field(
        100_000,
        ge=1,
        le=10_000_000,
        description="Text one request may carry in all its items (V2 batch, /batch_synthesize, a WebSocket session).",
    )
    max_request_audio_seconds: float = Field(
        1200.0,
        gt=0,
        le=86_400,
        description="Audio one request may produce across all its items, pauses included (400 beyond).",
    )
    max_request_decoded_bytes: int = Field(
        64 * 2**20,
        ge=2**20,
        description="Bytes of decoded audio (float32 samples x channels) one request may unpack from uploaded "
        "audio (voice samples, beds); checked from the file's header before decoding (400 beyond).",
    )
    max_request_output_bytes: int = Field(
        256 * 2**20, ge=2**20, description="Bytes of encoded audio one request may return in all (400 beyond)."
    )
    max_upload_sample_rate: int = Field(
        192_000, ge=8000, le=768_000, description="Highest sample rate accepted in uploaded audio (400 beyond)."
    )
    max_upload_channels: int = Field(
        8, ge=1, le=64, description="Most channels accepted in uploaded audio (400 beyond)."
    )
    default_voice: str | None = Field(None, description="Voice used when a request names none.")
    default_language: str = Field(
        "en-US", description="Language for text normalization when a request names none (transformer only)."
    )
    warmup: bool = Field(True, description="Run one synthesis at load, before reporting ready.")
    max_queue: int = Field(16, ge=0, le=10_000, description="Requests that may wait for a slot; beyond: 429.")
    request_timeout_s: float = Field(120.0, gt=0, le=3600, description="Deadline per request, queue wait included.")
    stream_stall_timeout_s: float = Field(
        20.0,
        gt=0,
        le=3600,
        description="A client that reads nothing of its response (stream or WebSocket) for this long loses it and its slot.",
    )
    ws_max_connections: int = Field(64, ge=1, description="Open WebSocket streams per process (beyond: refused).")
    ws_max_connections_per_client: int = Field(
        4, ge=1, description="Open WebSocket streams per API key, else per client address (beyond: refused)."
    )
    ws_idle_timeout_s: float = Field(
        60.0,
        gt=0,
        description="A WebSocket that queues no speech (a sentence end or a flush of text) and synthesizes nothing "
        "for this long is closed; whitespace and empty flushes do not count.",
    )
    ws_max_text_chars: int = Field(
        100_000, ge=1, description="Text one WebSocket connection may send in all (then: close, reconnect)."
    )
    cache_max_bytes: int = Field(64 * 2**20, ge=0, description="In-memory audio cache size in bytes; 0 turns it off.")
    cache_shared: bool = Field(
        False, description="One audio cache for all API keys (public content); default: a partition per key."
    )
    redis_url: str | None = Field(None, description="Shared audio cache, e.g. redis://cache:6379/0 (optional).")
    api_keys: SecretStr | None = Field(None, description="Comma-separated API keys; when set, data routes need one.")
    api_keys_file: str | None = Field(None, description="File with one API key per line (a mounted Secret).")
    admin_api_keys: SecretStr | None = Field(
        None,
        description="Comma-separated admin API keys (valid keys too): see and manage every stored voice, "
        "may create shared ones, and alone may load / unload models (/v2/repository, gRPC RepositoryModel*).",
    )
    predictor_api_key: SecretStr | None = Field(
        None, description="Transformer only: key sent to the predictor instead of the caller's Authorization."
    )
    auth_exempt_paths: str = Field(
        "/,/metrics,/live,/ready,/health,/v2,/v2/health/live,/v2/health/ready,/ui,/ui/,/ui/static/app.js,"
        "/ui/static/app.css,/ui/static/player.js,/ui/admin,/ui/admin/,/ui/static/admin.js,/ui/static/admin.css",
        description="Comma-separated paths served without an API key (probes, metrics, the web page's own files; "
        "the page sends the key it is given with its API calls).",
    )
    rate_limit_rps: float = Field(
        0.0, ge=0, description="Requests per second per valid API key, else per client address; 0 = off."
    )
    rate_limit_burst: int = Field(20, ge=1, description="Burst allowance of the rate limiter.")
    trusted_proxies: str = Field(
        "", description="Comma-separated proxy addresses/CIDRs whose X-Forwarded-For names the client; empty = none."
    )
    auth_failures_per_minute: int = Field(
        10,
        ge=0,
        description="Failed API-key attempts allowed per minute per client address, and per presented (wrong) key "
        "(429 beyond; a valid key is never refused for others' failures); REST and gRPC; 0 = off.",
    )
    max_body_bytes: int = Field(2 * 2**20, ge=1024, description="Largest request body accepted (413 beyond).")
    max_header_count: int = Field(
        100, ge=10, le=10_000, description="Most header fields in one HTTP request head (431 and close beyond)."
    )
    max_header_bytes: int = Field(
        64 * 2**10,
        ge=4096,
        le=2**24,
        description="Largest HTTP request head (request line and headers, in bytes; 431 and close beyond).",
    )
    cloned_voices_dir: str = Field(
        str(Path.home() / ".cache" / "tts-predictor" / "cloned-voices"),
        description="Where voices made by POST /v1/voices are kept (mount a volume to keep them across restarts).",
    )
    max_cloned_voices: int = Field(100, ge=0, le=100_000, description="Most stored cloned voices; 0 turns uploads off.")
    max_cloned_voices_per_key: int = Field(
        10, ge=0, le=100_000, description="Most stored cloned voices per (non-admin) API key when keys are set (409)."
    )
    header_timeout_s: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="A connection that has not sent a full request head in this long is closed (408).",
    )
    body_timeout_s: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="A request whose body has not fully arrived this long after its head is closed (408).",
    )
    keepalive_max_requests: int = Field(
        1000,
        ge=1,
        description="Requests served on one keep-alive connection; the last one answers 'Connection: close'.",
    )
    memory_trim_bytes: int = Field(
        16 * 2**20,
        ge=0,
        description="After a response this large, free heap memory goes back to the OS (glibc malloc_trim); 0 = never.",
    )
    clone_min_seconds: float = Field(3.0, gt=0, le=60, description="Shortest voice sample accepted for cloning.")
    clone_max_seconds: float = Field(30.0, gt=0, le=300, description="Longest voice sample accepted for cloning.")
    voice_upload_max_bytes: int = Field(
        16 * 2**20, ge=1024, description="Largest body of POST /v1/voices (a voice sample; 413 beyond)."
    )
    blocklist_file: str | None = Field(None, description="File of blocked words/phrases (one per line); 400 if found.")
    lexicons: str = Field(
        "",
        description="W3C PLS pronunciation lexicons: comma-separated .pls files or folders, "
        "'voice=path' for one voice; applied after normalization by xml:lang.",
    )
    cors_origins: str = Field("", description="Comma-separated allowed CORS origins; empty = CORS closed.")
    plugins: str = Field(
        "all",
        max_length=2000,
        description="Plugins to load from the installed packages' entry points (tts_predictor.engines, .normalizers, "
        ".effects, .formats; docs/plugins.md): all, none, or comma-separated entry point names.",
    )
    plugins_strict: bool = Field(
        False,
        description="A plugin that fails to load (import error, wrong API version, missing attributes) stops the "
        "start with its name and reason; off: it is skipped, logged and listed with its error at GET /v1/plugins.",
    )
    encoder_backend: Literal["sndfile", "pyav"] = Field(
        "sndfile",
        description="Audio encoders: sndfile (libsndfile + the ffmpeg program for aac; default) or pyav "
        "(PyAV, install tts-predictor[pyav]: its wheel bundles GPL x264/x265).",
    )
    log_format: Literal["text", "json"] = Field("text", description="json: structured logs via structlog.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level; request text is only logged at DEBUG."
    )
    otel_enabled: bool = Field(False, description="OpenTelemetry tracing of HTTP requests and pipeline stages.")
    otel_exporter: Literal["console", "otlp"] = Field(
        "console", description="Where spans go: console (stdout, for debugging) or otlp (OTLP over HTTP)."
    )
    otel_endpoint: str | None = Field(
        None,
        description="OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces (default: OTEL_EXPORTER_OTLP_* env).",
    )
    otel_service_name: str = Field("tts-predictor", description="service.name of the spans.")

    cache_dir: str | None = Field(
        None,
        description="Directory of derived files: exported and quantized ONNX graphs (kept right in it); "
        "unset: ~/.cache/tts-predictor (graphs under onnx/). Put it on a volume to keep exports across restarts.",
    )
    test_slow_model_load: str = Field(
        "",
        description="Test hook: '<model name>=<seconds>,...': each load of these models waits so long first "
        "(progressive loading and cold-start tests).",
    )
    test_slow_load_s: float = Field(
        0.0, ge=0, le=600, description="Test hook: seconds to wait before loading the model (probes during a load)."
    )

    def graph_dir(self) -> Path:
        """Where exported / quantized graphs are kept."""
        return Path(self.cache_dir) if self.cache_dir else DEFAULT_CACHE_DIR / "onnx"

    def piper_dir(self) -> Path:
        """Where Piper catalogue voices (and the cached catalogue index) are downloaded."""
        return (Path(self.cache_dir) if self.cache_dir else DEFAULT_CACHE_DIR) / "piper-voices"

    @field_validator("hf_hub_offline", mode="before")
    @classmethod
    def _hf_truthy(cls, value: Any) -> Any:
        # As huggingface_hub reads it (constants._is_true): 1/ON/YES/TRUE in any case; anything else, "" included, off.
        return value.strip().upper() in {"1", "ON", "YES", "TRUE"} if isinstance(value, str) else value

    @field_validator("model")
    @classmethod
    def _model_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name a model: 'embedded', 'coqui:<name>', a directory or an .onnx file")
        return value.strip()

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_parse(cls, value: str) -> str:
        from tts_predictor.auth import parse_networks

        parse_networks(value)  # ValueError naming the bad entry
        return value

    _auto_cpu_fields: frozenset[str] = PrivateAttr(default=frozenset())

    @model_validator(mode="after")
    def _resolve_threads(self) -> Settings:
        # The server re-sizes the fields left at 0 (auto) to its CPU quota (server/cpus.py); remember which.
        self._auto_cpu_fields = frozenset(f for f in ("threads", "max_concurrency") if getattr(self, f) == 0)
        if self.threads == 0:
            self.threads = os.cpu_count() or 1
        if self.max_concurrency == 0:
            self.max_concurrency = os.cpu_count() or 1
        return self

    @property
    def auto_cpu_fields(self) -> frozenset[str]:
        """TTS_THREADS / TTS_MAX_CONCURRENCY fields that were left at 0 (auto) and resolved from the core count."""
        return self._auto_cpu_fields

    def redacted(self) -> dict[str, Any]:
        """The settings as JSON values for GET /config: secret fields (SecretStr, or marked SECRET) as ***, and in
        every other string the credentials of URLs (`redact_text`). Decided by field type, never by field name."""
        dumped = self.model_dump(mode="json")
        out: dict[str, Any] = {}
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
            if isinstance(value, SecretStr) or extra.get("secret"):
                out[name] = "***" if value not in (None, "") else value
            elif isinstance(value, str):
                out[name] = redact_text(value)
            else:
                out[name] = dumped[name]
        return out

    def admin_key_set(self) -> frozenset[str]:
        """Admin API keys (TTS_ADMIN_API_KEYS)."""
        raw = self.admin_api_keys.get_secret_value() if self.admin_api_keys else ""
        return frozenset(k.strip() for k in raw.split(",") if k.strip())

    def api_key_set(self) -> frozenset[str]:
        """Configured API keys from TTS_API_KEYS, TTS_API_KEYS_FILE and TTS_ADMIN_API_KEYS."""
        keys = set((self.api_keys.get_secret_value() if self.api_keys else "").split(",")) | self.admin_key_set()
        if self.api_keys_file:
            try:
                with open(self.api_keys_file, encoding="utf-8") as handle:
                    keys.update(line.strip() for line in handle)
            except OSError as exc:
                raise SettingsError(f"TTS_API_KEYS_FILE: cannot read {self.api_keys_file}: {exc}") from None
        return frozenset(k.strip() for k in keys if k.strip())


def _where(loc: tuple[Any, ...]) -> str:
    field = str(loc[0]) if loc else ""
    if field in Settings.model_fields:
        return env_name(field)
    return "TTS_" + "_".join(str(p) for p in loc).upper()


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_QUERY = re.compile(r"([?&;#])([^&;#=]*)(=?)[^&;#]*")


def redact_text(value: str) -> str:
    """`value` with URL credentials replaced by ***, scheme or not: the user info (everything up to the last '@',
    so a password holding spaces or '/' goes too) and every query and fragment value (`?api_key=***`)."""
    scheme = _SCHEME.match(value)
    start = scheme.end() if scheme else 0
    at = value.rfind("@")
    if at >= start:
        value = value[:start] + "***" + value[at:]
    mark = min((i for i in (value.find("?", start), value.find("#", start)) if i >= 0), default=-1)
    if mark < 0:
        return value
    tail = _QUERY.sub(lambda m: f"{m[1]}{m[2]}{m[3]}***" if m[3] else f"{m[1]}***", value[mark:])
    return value[:mark] + tail


class SettingsError(SystemExit):
    """Raised at start when the configuration is invalid; the message lists every bad field."""


def env_name(field: str) -> str:
    """The environment variable of a Settings field: TTS_<FIELD>, or its alias (RAY_ADDRESS)."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"TTS_{field.upper()}"


def load_settings(**overrides: Any) -> Settings:
    """Build Settings from the environment plus explicit overrides (CLI flags), or exit with a clear message."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        lines = [f"  {_where(err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise SettingsError("Invalid tts-predictor settings:\n" + "\n".join(lines)) from None


def add_settings_arguments(parser: argparse.ArgumentParser, *, hidden: bool = False) -> None:
    """Add one ``--flag`` per Settings field (default None = take the env var or the field default).

    `hidden`: accepted but left out of ``--help`` (a command whose own options would drown in ~100 server flags)."""
    group = parser if hidden else parser.add_argument_group("tts-predictor settings (also TTS_<NAME> env vars)")
    for name, field in Settings.model_fields.items():
        if name == "model_name":
            continue  # kserve's parser already owns --model_name
        group.add_argument(
            f"--{name}", dest=name, default=None, help=argparse.SUPPRESS if hidden else field.description
        )
