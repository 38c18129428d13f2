"""Prometheus metrics of tts-predictor (served on kserve's /metrics, same default registry)."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

from prometheus_client import Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

REQUESTS = Counter(
    "tts_requests_total",
    "Syntheses (one per text: a V2 or batch item, a stream, a WebSocket session, a job) by route, model, voice, "
    "format and status.",
    ["route", "model", "voice", "format", "status"],
)
ROUTES = ("v2", "v2_grpc", "v1", "openai", "synthesize", "stream", "batch", "ws", "jobs", "other")
"""The `route` label of tts_requests_total: a fixed set, whatever path a client sends."""
STAGE = Histogram(
    "tts_stage_seconds", "Time per pipeline stage: queue, text, engine, encode.", ["stage"], buckets=_LATENCY_BUCKETS
)
HTTP_REQUESTS = Counter("tts_http_requests_total", "HTTP requests by route and status code.", ["route", "status"])
REQUEST_SECONDS = Histogram("tts_request_seconds", "Wall time per HTTP request.", ["route"], buckets=_LATENCY_BUCKETS)
AUDIO_SECONDS = Counter("tts_audio_seconds_total", "Seconds of audio synthesized.", ["model"])
CHARACTERS = Counter("tts_characters_total", "Characters of text synthesized.", ["model"])
RTF = Histogram(
    "tts_real_time_factor",
    "Engine seconds per audio second.",
    ["model"],
    buckets=(0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2),
)
IN_FLIGHT = Gauge("tts_in_flight_requests", "Requests synthesizing now.")
ENGINE_CALLS = Counter(
    "tts_engine_calls_total",
    "Engine calls (sentences) granted a slot, by scheduler priority (background: jobs; normal: interactive requests).",
    ["priority"],
)
QUEUED = Gauge("tts_queued_requests", "Requests waiting for a synthesis slot.")
JOBS_RUNNING = Gauge("tts_jobs_running", "Long-form jobs this process is synthesizing now.")
CANCELLED = Counter("tts_cancelled_total", "V2 inference requests cancelled because the client disconnected.")
REJECTED = Counter("tts_rejected_total", "Requests refused by admission control (429).")
MODEL_LOAD_SECONDS = Gauge("tts_model_load_seconds", "Time the model took to load and warm up.", ["model"])
MODEL_READY = Gauge("tts_model_ready", "1 when the model is loaded and warmed up.", ["model"])
MODEL_LOADS = Counter(
    "tts_model_loads_total",
    "Speech model loads by the voice pool, by model and reason (start: at start-up; cold: its first load on demand; "
    "reload: again after an eviction).",
    ["model", "reason"],
)
MODEL_EVICTIONS = Counter(
    "tts_model_evictions_total",
    "Speech models unloaded by the voice pool to make room, by model and reason (count: TTS_MAX_MODELS; memory: "
    "TTS_MODELS_MEMORY_MB).",
    ["model", "reason"],
)
COLD_START = Histogram(
    "tts_model_cold_start_seconds",
    "Time an on-demand load (cold or reload) took, which the request that asked for the voice waited.",
    buckets=_LATENCY_BUCKETS,
)
MODELS_LOADED = Gauge("tts_models_loaded", "Speech models the voice pool holds loaded now.")
MODELS_MEMORY = Gauge(
    "tts_models_memory_bytes", "Estimated memory of the loaded speech models (sum of their measured load costs)."
)
CACHE = Counter("tts_cache_total", "Audio cache lookups by result (hit, miss, error).", ["backend", "result"])
GPU_MEMORY = Gauge("tts_gpu_memory_bytes", "CUDA memory allocated by torch (when on GPU).")
ROUTE_CHARACTERS = Counter(
    "tts_route_characters_total", "Characters of request text charged, by route (`ROUTES`; no key label).", ["route"]
)
ROUTE_AUDIO_SECONDS = Counter(
    "tts_route_audio_seconds_total", "Seconds of audio produced, by route (`ROUTES`; no key label).", ["route"]
)
USAGE_DROPPED = Counter(
    "tts_usage_dropped_total", "Usage records dropped because the store could not keep up (TTS_USAGE)."
)
FEEDBACK = Counter("tts_feedback_total", "Quality feedback received, by rating (1-5).", ["rating"])
TEXT_NOTE_CHARS = 4000
"""At most this many characters of a request's planned text are kept on its tally (for quality feedback)."""

# Audio quality of every output (audio/quality.py), labelled by the bounded voice label (`stages.voice_label`).
OUTPUT_CLIPPED = Histogram(
    "tts_output_clipped_ratio",
    "Share of an output's samples at full scale (|x| >= 0.999), per output.",
    ["voice"],
    buckets=(0.0, 0.0001, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0),
)
OUTPUT_SILENCE_RATIO = Histogram(
    "tts_output_silence_ratio",
    "Share of an output's 10 ms frames under -50 dBFS RMS, per output (1: nothing audible).",
    ["voice"],
    buckets=(0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0),
)
OUTPUT_SILENCE_SECONDS = Histogram(
    "tts_output_silence_seconds",
    "Silence of an output by position: leading, trailing, internal (the longest between two audible frames).",
    ["voice", "position"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
OUTPUT_LOUDNESS = Histogram(
    "tts_output_loudness_lufs",
    "BS.1770 integrated loudness of whole outputs (silence counts as -120).",
    ["voice"],
    buckets=(-70, -40, -30, -26, -23, -20, -18, -16, -14, -10, -5, 0),
)
OUTPUT_SECONDS_PER_CHAR = Histogram(
    "tts_output_seconds_per_char",
    "Output seconds per character of spoken text.",
    ["voice"],
    buckets=(0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5, 1),
)
OUTPUT_RATE_RATIO = Histogram(
    "tts_output_rate_ratio",
    "Seconds per character of an output divided by the voice's running norm (1: its usual pace).",
    ["voice"],
    buckets=(0.5, 0.67, 0.8, 0.9, 1.1, 1.25, 1.5, 2),
)
OUTPUT_NONFINITE = Counter(
    "tts_output_nonfinite_samples_total", "NaN or infinite samples an engine produced, replaced by silence."
)


@dataclass
class Tally:
    """The syntheses of one request, counted in tts_requests_total once, with the request's outcome, when it ends.

    Opened by the request's entry (the gateway per HTTP request and per WebSocket session, the job worker per job);
    the pipeline notes each synthesis it produces (`note_synthesis`); `close` counts them with the final status.
    """

    route: str
    """One of `ROUTES`."""
    noted: list[tuple[str, str, str]] = field(default_factory=list)
    """(model, voice, format) of each synthesis, in order."""
    status: str | None = None
    """An outcome set from inside (a WebSocket session's close reason as an HTTP-like status)."""
    cache_hits: int = 0
    """Syntheses answered from the audio cache."""
    text: str = ""
    """The request's normalized text as planned (the first `TEXT_NOTE_CHARS`), for quality feedback."""
    closed: bool = False

    def close(self, status: int | str) -> None:
        """Count every noted synthesis with `status` (the tally's own status wins); a failed request that noted
        nothing (refused, invalid before its format was known) counts once with voice and format "-"."""
        if self.closed:
            return
        self.closed = True
        status = self.status or str(status)
        if not self.noted and status.startswith(("4", "5")):
            self.noted.append(("-", "-", "-"))
        for model, voice, fmt in self.noted:
            REQUESTS.labels(self.route, model, voice, fmt, status).inc()


_TALLY: ContextVar[Tally | None] = ContextVar("tts_synthesis_tally", default=None)


def open_tally(route: str) -> Tally:
    """Start counting the syntheses of the request now starting under `route` (one of `ROUTES`)."""
    tally = Tally(route if route in ROUTES else "other")
    _TALLY.set(tally)
    return tally


def current_tally() -> Tally | None:
    """The running request's tally (None outside one: gRPC, library use)."""
    return _TALLY.get()


def note_synthesis(model: str, voice: str, fmt: str, route: str | None = None) -> None:
    """One synthesis of the running request (`route` refines the entry's, e.g. a /synthesize stream).

    Outside a tally (gRPC inference: no gateway) it is counted at once as a success: callers note a synthesis once
    its output is made."""
    tally = _TALLY.get()
    if tally is None or tally.closed:
        REQUESTS.labels(route if route in ROUTES else "other", model, voice, fmt, "200").inc()
        return
    if route is not None and route in ROUTES:
        tally.route = route
    tally.noted.append((model, voice, fmt))


def note_cache_hit() -> None:
    """One synthesis of the running request came from the audio cache (usage analytics)."""
    tally = _TALLY.get()
    if tally is not None and not tally.closed:
        tally.cache_hits += 1


def note_text(text: str) -> None:
    """The normalized text the running request speaks (kept on its tally, bounded; for quality feedback)."""
    tally = _TALLY.get()
    if tally is not None and not tally.closed and len(tally.text) < TEXT_NOTE_CHARS:
        joined = f"{tally.text}\n{text}" if tally.text else text
        tally.text = joined[:TEXT_NOTE_CHARS]
