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


def test_say_help_is_short_and_lists_its_own_options() -> None:
    result = say("--help")
    assert result.returncode == 0, result.stderr.decode()
    text = result.stdout.decode()
    assert len(text.splitlines()) < 60, "the ~100 server settings flags are accepted but not listed"
    for option in ("--ssml", "--emotion", "--style", "--pitch", "--volume", "--speed", "--format", "--markdown"):
        assert option in text, option
    assert "serve --help" in text and "--loudness_target_lufs" not in text
    serve = subprocess.run(
        [sys.executable, "-m", "tts_predictor", "serve", "--help"], cwd=REPO, capture_output=True, timeout=120
    )
    assert b"--loudness_target_lufs" in serve.stdout and b"--model_name" in serve.stdout  # serve keeps them all


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--pitch", "99"], [b"--pitch", b"99", b"-12 to 12"]),
        (["--volume", "-50"], [b"--volume", b"-40 to 20"]),
        (["--speed", "nan"], [b"--speed", b"0.25 to 4"]),
        (["--emotion", "joyful"], [b"--emotion", b"happy"]),
        (["--markdown", "--ssml"], [b"--markdown", b"--ssml"]),
    ],
)
def test_say_bad_options_exit_2_naming_option_and_range(tmp_path: Path, args: list[str], needles: list[bytes]) -> None:
    result = say("Hi.", "-o", str(tmp_path / "x.wav"), *args)
    assert result.returncode == 2, result.stderr.decode()
    assert all(n in result.stderr for n in needles), result.stderr.decode()
    assert not (tmp_path / "x.wav").exists()


MARKDOWN_NOTE = "# Weather Report\n\nThe boats came home at *noon*.\n\n```\nrm -rf /\n```\n"


def test_say_reads_markdown_files_through_the_markdown_reader(tmp_path: Path) -> None:
    note = tmp_path / "note.md"
    note.write_text(MARKDOWN_NOTE, encoding="utf-8")
    printed = say("--file", str(note), "--print-text")  # .md: Markdown by its extension
    assert printed.returncode == 0, printed.stderr.decode()
    assert printed.stdout.decode().split() == ["Weather", "Report.", "The", "boats", "came", "home", "at", "noon."]
    plain = say(MARKDOWN_NOTE, "--no-markdown", "--print-text")  # the same text read as plain: the marks stay
    assert b"hash Weather" in plain.stdout and b"*noon*" in plain.stdout  # the heading mark is read, not dropped
    piped = say("-", "--markdown", "--print-text", stdin=MARKDOWN_NOTE.encode())
    assert piped.stdout == printed.stdout


def test_say_markdown_heading_is_spoken_as_words_not_hash(tmp_path: Path, whisper) -> None:
    from jobs_helpers import transcript

    note, out = tmp_path / "note.md", tmp_path / "note.wav"
    note.write_text(MARKDOWN_NOTE, encoding="utf-8")
    result = say("--file", str(note), "-o", str(out), "--style", "narration")
    assert result.returncode == 0, result.stderr.decode()
    samples, rate = sf.read(out, dtype="float32")
    heard = transcript(whisper, samples, rate)
    assert heard[:2] == ["weather", "report"] and "hash" not in heard, heard


def test_say_volume_applies_on_top_of_the_default_loudness(tmp_path: Path) -> None:
    pyloudnorm = pytest.importorskip("pyloudnorm")
    text = "Our train leaves at seven, so pack the blue suitcase tonight."
    levels = []
    for extra in ([], ["--volume", "-6"]):
        out = tmp_path / f"v{len(extra)}.wav"
        assert say(text, "-o", str(out), *extra).returncode == 0
        samples, rate = sf.read(out, dtype="float64")
        levels.append(pyloudnorm.Meter(rate).integrated_loudness(samples))
    assert levels[0] == pytest.approx(-19.0, abs=1.0)  # docs/api.md#output-loudness
    assert levels[0] - levels[1] == pytest.approx(6.0, abs=0.5)


def test_say_ssml_option_forces_the_reading(tmp_path: Path) -> None:
    ssml = '<speak>Hello <break time="1s"/> there.</speak>'
    forced = say(ssml, "--ssml", "--print-text")
    assert forced.returncode == 0 and forced.stdout.decode().split() == ["Hello", "there."]
    assert b"<speak>" in say(ssml, "--no-ssml", "--print-text").stdout
    out = tmp_path / "s.wav"
    assert say(ssml, "--ssml", "-o", str(out)).returncode == 0
    samples, rate = sf.read(out)
    assert len(samples) / rate > 1.5  # the one-second break is in the audio


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
