"""Optional OpenTelemetry tracing: console spans for a V2 request when enabled, none by default."""

from __future__ import annotations

import time

import httpx
import pytest
from server_process import ServerProcess
from v2_helpers import infer_body

pytestmark = pytest.mark.slow

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def _infer(server: ServerProcess) -> None:
    res = httpx.post(
        f"{server.url}/v2/models/tts/infer",
        json=infer_body(["Hello there."]),
        headers={"traceparent": TRACEPARENT},
        timeout=60,
    )
    assert res.status_code == 200, res.text


def _full_log(server: ServerProcess) -> str:
    return server.log_path.read_text(errors="replace")


def test_console_spans_carry_the_request_trace():
    pytest.importorskip("opentelemetry.instrumentation.fastapi", reason="pip install '.[otel]'")
    server = ServerProcess(env={"TTS_OTEL_ENABLED": "true", "TTS_OTEL_SERVICE_NAME": "tts-test"}).start()
    try:
        for probe in ("/metrics", "/v2/health/ready", "/v2/health/live"):  # what the chart scrapes and probes
            assert httpx.get(f"{server.url}{probe}", timeout=30).status_code == 200, probe
        _infer(server)  # traced after the probes: once its span is logged, theirs would be too
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and '"name": "POST /v2/models/{model_name}/infer"' not in _full_log(server):
            time.sleep(0.2)
        log = _full_log(server)
    finally:
        server.stop()
    assert '"name": "POST /v2/models/{model_name}/infer"' in log, log[-4000:]
    assert f'"trace_id": "0x{TRACE_ID}"' in log  # the client's traceparent was continued
    assert '"service.name": "tts-test"' in log
    for stage in ("tts.text", "tts.engine", "tts.encode"):
        assert f'"name": "{stage}"' in log, stage
    assert '"name": "GET /metrics' not in log  # probes and scrapes are not traced
    assert '"name": "GET /v2/health' not in log


def test_no_spans_by_default(embedded_server):
    _infer(embedded_server)
    time.sleep(0.5)
    log = _full_log(embedded_server)
    assert '"trace_id"' not in log and '"span_id"' not in log


def test_missing_packages_stop_the_start_naming_the_extra(monkeypatch):
    import sys

    from tts_predictor.settings import Settings
    from tts_predictor.tracing import setup_tracing

    monkeypatch.setitem(sys.modules, "opentelemetry.instrumentation.fastapi", None)
    with pytest.raises(SystemExit, match=r"tts-predictor\[otel\]"):
        setup_tracing(object(), Settings(otel_enabled=True))
    setup_tracing(object(), Settings())  # off: imports nothing, touches nothing
