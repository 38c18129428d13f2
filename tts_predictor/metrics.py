"""Prometheus metrics of tts-predictor (served on kserve's /metrics, same default registry)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

REQUESTS = Counter(
    "tts_requests_total",
    "Synthesis requests by route, model, voice, format and status.",
    ["route", "model", "voice", "format", "status"],
)
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
CANCELLED = Counter("tts_cancelled_total", "V2 inference requests cancelled because the client disconnected.")
REJECTED = Counter("tts_rejected_total", "Requests refused by admission control (429).")
MODEL_LOAD_SECONDS = Gauge("tts_model_load_seconds", "Time the model took to load and warm up.", ["model"])
MODEL_READY = Gauge("tts_model_ready", "1 when the model is loaded and warmed up.", ["model"])
CACHE = Counter("tts_cache_total", "Audio cache lookups by result (hit, miss, error).", ["backend", "result"])
GPU_MEMORY = Gauge("tts_gpu_memory_bytes", "CUDA memory allocated by torch (when on GPU).")
