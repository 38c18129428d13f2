"""Servers the client SDK tests talk to: one with API keys and jobs, one with a tiny rate limit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from server_process import ServerProcess

SDK_KEY = "sdk-key-0123"
"""The API key of `sdk_server`."""
MARKDOWN = "# Harbour\n\nThe boats came home at noon.\n\n## Market\n\nFish were sold on the quay."
"""A two-chapter job source."""


@pytest.fixture(scope="module")
def sdk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The embedded voice with an API key and its own jobs store."""
    env = {
        "TTS_API_KEYS": SDK_KEY,
        "TTS_JOBS_DIR": str(tmp_path_factory.mktemp("sdk-jobs")),
        "TTS_JOB_CHUNK_CHARS": "300",
    }
    server = ServerProcess(env=env).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def limited_server() -> Iterator[ServerProcess]:
    """One request per 2 s per client (a burst of 1): the second request in a row gets 429 with Retry-After."""
    env = {"TTS_RATE_LIMIT_RPS": "0.5", "TTS_RATE_LIMIT_BURST": "1", "TTS_JOBS_ENABLED": "false"}
    server = ServerProcess(env=env).start()
    yield server
    server.stop()
