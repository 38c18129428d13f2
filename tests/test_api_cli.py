"""`tts-predictor say` as a subprocess: local synthesis to a file, format from the extension."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from server_process import REPO

pytestmark = pytest.mark.slow


def say(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tts_predictor", "say", *args], cwd=REPO, input=stdin,
                          capture_output=True, timeout=120, env={"TTS_MODEL": "embedded", "PATH": "/usr/bin:/bin"})


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
