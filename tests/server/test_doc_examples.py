"""Docs as tests: every shell and Python example of the docs runs against a real server, or says why it cannot.

The examples are read from the Markdown (tests/support/doc_examples.py), so a doc and its test cannot drift;
the marker convention is in docs/development.md ("Docs as tests").
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from doc_examples import JS_LANGUAGES, Example, all_examples, audio_files, decode_audio, run
from server_process import ServerProcess

EXAMPLES = all_examples()
RUN = [e for e in EXAMPLES if e.kind == "run"]
SAMPLE_TEXT = (
    "The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore, "
    "and the shells she sells are surely sea shells."
)
# Files the examples need, made by the server itself (or plain text): name -> how to make it.
FIXTURES = {
    "me.wav": lambda url: _synthesize(url, SAMPLE_TEXT, "wav"),  # a 3-30 s voice sample
    "piano.mp3": lambda url: _synthesize(url, "A calm bed of music under the voice. " * 2, "mp3"),
    "text.txt": lambda url: b"This text came from a file.\n",
    "speech.wav": lambda url: _synthesize(url, "Signed speech.", "wav"),  # with content credentials
}


def _synthesize(url: str, text: str, fmt: str) -> bytes:
    res = httpx.post(f"{url}/synthesize", json={"text": text, "options": {"format": fmt}}, timeout=120)
    assert res.status_code == 200, res.text
    return res.content


@pytest.fixture(scope="module")
def doc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The embedded voice, with what the documented examples use: stored beds, content credentials signed with a
    test CA's certificate, and cloning through a tiny OpenVoice converter (TTS_VC_MODEL, docs/voices.md)."""
    root = tmp_path_factory.mktemp("doc-server")
    env = {
        "TTS_BEDS_DIR": str(root / "beds"),
        "TTS_CLONED_VOICES_DIR": str(root / "voices"),
        "TTS_JOBS_DIR": str(root / "jobs"),  # the client examples run a job (docs/clients.md)
        "TTS_DEVICE": "cpu",
    }
    (root / "beds").mkdir()
    try:  # content credentials on every output, as with a real certificate (docs/api.md, "Provenance")
        import c2pa  # noqa: F401
        from c2pa_certs import write_signing_files

        env["TTS_C2PA_CERT_FILE"], env["TTS_C2PA_KEY_FILE"] = write_signing_files(root)
    except ImportError:  # no c2pa-python: the example reading them skips
        pass
    try:
        from devtools.coqui_vc_models import build_openvoice

        env["TTS_VC_MODEL"] = str(build_openvoice(root / "openvoice_v2" / "converter").parent)
    except ImportError:  # no coqui-tts: the cloning examples skip
        pass
    server = ServerProcess(env=env).start()
    server.beds_dir = root / "beds"  # type: ignore[attr-defined]
    server.clones = "TTS_VC_MODEL" in env  # type: ignore[attr-defined]
    server.signs = "TTS_C2PA_CERT_FILE" in env  # type: ignore[attr-defined]
    yield server
    server.stop()


def _payload_files(example: Example) -> dict[str, str]:
    """Blocks of the same document offered as files (``payload, file: NAME``)."""
    return {e.option("file"): e.code for e in EXAMPLES if e.path == example.path and e.option("file")}


def _prepare(example: Example, server: ServerProcess, workdir: Path) -> None:
    offered = _payload_files(example)
    for name in example.needs:
        if name == "me.wav" and not server.clones:  # type: ignore[attr-defined]
            pytest.skip("cloning needs coqui-tts (pip install '.[coqui]') for the tiny OpenVoice converter")
        if name == "speech.wav" and not server.signs:  # type: ignore[attr-defined]
            pytest.skip("content credentials need c2pa-python (pip install '.[c2pa]')")
        if name in offered:
            (workdir / name).write_text(offered[name])
        else:
            (workdir / name).write_bytes(FIXTURES[name](server.url))


def _reset(server: ServerProcess) -> None:
    """Each example starts without uploaded voices and beds (several upload the same names)."""
    voices = httpx.get(f"{server.url}/v1/voices", timeout=30).json()["voices"]
    for voice in voices:
        if "cloned" in voice.get("capabilities", []):
            httpx.delete(f"{server.url}/v1/voices/{voice['id']}", timeout=30)
    for stored in server.beds_dir.iterdir():  # type: ignore[attr-defined]  # audio, owner records, folders
        shutil.rmtree(stored) if stored.is_dir() else stored.unlink()


def test_every_command_example_is_marked():
    """A new shell/Python/JS block (or one without a language) fails here until it is marked run or not run."""
    unmarked = [
        f"{e.id} ({e.language or 'no language'}): {e.marker or 'no marker'}" for e in EXAMPLES if e.kind is None
    ]
    assert not unmarked, (
        "mark each example on the line before its fence: <!-- example: run -->, "
        "<!-- example: not run here: <reason> --> or <!-- example: payload --> (docs/development.md):\n"
        + "\n".join(unmarked)
    )


def test_run_examples_need_known_files():
    for example in RUN:
        unknown = set(example.needs) - set(FIXTURES) - set(_payload_files(example))
        assert not unknown, f"{example.id} needs {sorted(unknown)}: add it to FIXTURES or a payload block"


@pytest.mark.slow
@pytest.mark.parametrize("example", RUN, ids=[e.id for e in RUN])
def test_doc_example(example: Example, doc_server: ServerProcess, tmp_path: Path):
    if example.language in JS_LANGUAGES and shutil.which("node") is None:
        pytest.skip("JavaScript examples run with Node >= 18 (not installed)")
    _reset(doc_server)
    _prepare(example, doc_server, tmp_path)
    before = {p.name for p in audio_files(tmp_path)}
    run(example, tmp_path, doc_server.http_port, doc_server.grpc_port)
    for written in audio_files(tmp_path):
        if written.name not in before:
            assert decode_audio(written) > 0, written.name


@pytest.fixture(autouse=True, scope="module")
def _no_ffmpeg_no_run():
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg decodes the examples' audio (scripts/install-system-deps.sh installs it)")
