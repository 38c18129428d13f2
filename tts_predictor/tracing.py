"""Optional OpenTelemetry tracing (TTS_OTEL_ENABLED): spans for HTTP routes and the pipeline stages.

OpenTelemetry is imported only when tracing is enabled; the default path never loads it.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from tts_predictor.settings import Settings

log = logging.getLogger(__name__)

_tracer: Any = None
"""The pipeline's tracer once `setup_tracing` enabled tracing; None = stage spans are no-ops."""

OTEL_EXTRA = "pip install 'tts-predictor[otel]'"


def setup_tracing(app: Any, settings: Settings) -> None:
    """With TTS_OTEL_ENABLED: a TracerProvider, spans for every HTTP request of `app`, console or OTLP/HTTP export."""
    global _tracer
    if not settings.otel_enabled:
        return
    try:
        from opentelemetry import trace
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor
    except ImportError as exc:
        raise SystemExit(
            f"TTS_OTEL_ENABLED=true needs the OpenTelemetry packages ({exc.name} is missing): {OTEL_EXTRA}"
        ) from None

    provider = TracerProvider(resource=Resource.create({"service.name": settings.otel_service_name}))
    if settings.otel_exporter == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            raise SystemExit(
                f"TTS_OTEL_EXPORTER=otlp needs opentelemetry-exporter-otlp-proto-http: {OTEL_EXTRA}"
            ) from None
        # Without TTS_OTEL_ENDPOINT the exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, else localhost:4318.
        exporter = OTLPSpanExporter(endpoint=settings.otel_endpoint) if settings.otel_endpoint else OTLPSpanExporter()
        provider.add_span_processor(BatchSpanProcessor(exporter))
    else:
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))  # debugging: one JSON span per print
    trace.set_tracer_provider(provider)
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls="/metrics,/v2/health", exclude_spans=["receive", "send"]
    )
    _tracer = trace.get_tracer("tts_predictor", tracer_provider=provider)
    log.info("OpenTelemetry tracing on: service %s, %s exporter", settings.otel_service_name, settings.otel_exporter)


def span(name: str) -> AbstractContextManager[Any]:
    """A child span of the current request when tracing is on, else nothing (cheap)."""
    return _tracer.start_as_current_span(name) if _tracer is not None else nullcontext()
