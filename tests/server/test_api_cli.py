"""`tts-predictor say` as a subprocess: local synthesis to a file, format from the extension."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import soundfile as sf
from server_process import REPO, ServerProcess

pytestmark = pytest.mark.slow


def say(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tts_predictor", "say", *args],
        cwd=REPO,
        input=stdin,
        capture_output=True,
        timeout=120,
        env={"TTS_MODEL": "embedded", "PATH": "/usr/bin:/bin"},
    )


def test_say_writes_decodable_flac_with_progress(tmp_path: Path) -> None:
    out = tmp_path / "hello.flac"
    result = say("Hello there. This is the command line. It needs no server. Goodbye.", "-o", str(out))
    assert result.returncode == 0, result.stderr.decode()
    samples, rate = sf.read(out)
    assert rate == 22050 and len(samples) / rate > 2.0
    assert b"synthesizing" in result.stderr and b"4/4" in result.stderr  # tqdm progress on stderr


def test_say_mp3_from_stdin_to_stdout() -> None:
    result = say("-", "-o", "-", "--format", "mp3", "--speed", "1.3", stdin=b"Piped text.")
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout[:3] == b"ID3" or result.stdout[0] == 0xFF
    samples, rate = sf.read(io.BytesIO(result.stdout))
    assert len(samples) / rate > 0.3


def test_say_errors_are_clear(tmp_path: Path) -> None:
    bad_ext = say("Hi.", "-o", str(tmp_path / "x.xyz"))
    assert bad_ext.returncode != 0 and b"--format" in bad_ext.stderr
    bad_voice = say("Hi.", "-o", str(tmp_path / "x.wav"), "--voice", "nobody")
    assert bad_voice.returncode != 0 and b"valid voices" in bad_voice.stderr


def test_say_file_is_chunked_to_the_text_limit(tmp_path: Path) -> None:
    script = tmp_path / "long.txt"
    script.write_text(" ".join(f"Sentence number {i} is read from a file." for i in range(6)), encoding="utf-8")
    out = tmp_path / "long.wav"
    result = subprocess.run(
        [sys.executable, "-m", "tts_predictor", "say", "--file", str(script), "-o", str(out)],
        cwd=REPO,
        capture_output=True,
        timeout=120,
        env={"TTS_MODEL": "embedded", "PATH": "/usr/bin:/bin", "TTS_MAX_TEXT_CHARS": "90"},
    )
    assert result.returncode == 0, result.stderr.decode()
    samples, rate = sf.read(out)
    assert len(samples) / rate > 6 * 1.2  # every sentence spoken, though the text is 3x the limit
    assert b"6/6" in result.stderr and b"warning" not in result.stderr


def test_say_warns_when_the_text_is_a_file_name(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("Contents.", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "tts_predictor", "say", "notes.txt", "-o", "-", "--format", "wav"],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
        env={"TTS_MODEL": "embedded", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr.decode()
    assert b"--file notes.txt" in result.stderr
    neither = say("-o", str(tmp_path / "x.wav"))
    assert neither.returncode != 0 and b"--file" in neither.stderr


def _other_address() -> str | None:
    """A non-loopback IPv4 address of this machine, if it has one."""
    psutil = pytest.importorskip("psutil")
    for addresses in psutil.net_if_addrs().values():
        for a in addresses:
            if a.family == socket.AF_INET and not a.address.startswith("127."):
                return a.address
    return None


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def test_serve_host_binds_rest_and_grpc_to_that_address() -> None:
    other = _other_address()
    if other is None:
        pytest.skip("no non-loopback IPv4 address to check against")
    server = ServerProcess(args=["--host", "127.0.0.1"]).start()
    try:
        assert httpx.get(f"{server.url}/live", timeout=10).status_code == 200
        assert _accepts("127.0.0.1", server.grpc_port)
        assert not _accepts(other, server.http_port) and not _accepts(other, server.grpc_port)
    finally:
        server.stop()
