"""Piper catalogue downloads against a real local mirror: verified, atomic, single-flight, offline, hostile names.

The mirror (`piper_mirror.PiperMirror`) is an HTTP server on 127.0.0.1 with rhasspy/piper-voices' layout; the
voice files are small random files (these tests never load them; tests/server/test_piper_catalogue_server.py
serves real ones). Nothing here touches the internet.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from piper_mirror import PiperMirror

from tts_predictor.engines.piper_hub import available_voices, catalogue_spec, fetch
from tts_predictor.engines.piper_hub.index import forget_index, parse_index
from tts_predictor.errors import VoiceUnavailable
from tts_predictor.settings import Settings

REPO = Path(__file__).resolve().parents[2]
VOICE = "en_GB-alan-medium"
OTHER = "de_DE-thorsten-low"
SIZE = 3 << 20


@pytest.fixture()
def mirror(tmp_path: Path):
    files = tmp_path / "mirror"
    files.mkdir()
    server = PiperMirror()
    for key in (VOICE, OTHER):
        (files / f"{key}.onnx").write_bytes(os.urandom(SIZE))
        (files / f"{key}.onnx.json").write_text('{"audio": {"sample_rate": 22050}}')
        server.add_voice(key, files / f"{key}.onnx", files / f"{key}.onnx.json")
    server.start()
    forget_index()
    yield server
    server.stop()
    forget_index()


def _settings(mirror: PiperMirror, cache: Path, **extra) -> Settings:
    return Settings(piper_voices_url=mirror.url, cache_dir=str(cache), **extra)


def _leftovers(cache: Path) -> list[str]:
    root = cache / "piper-voices"
    return sorted(p.name for p in root.iterdir() if ".onnx" in p.name) if root.is_dir() else []


def test_fetch_downloads_verifies_and_then_reuses_the_cache(mirror, tmp_path):
    """A voice is downloaded with its config, byte-identical to the mirror's; a second fetch asks nothing."""
    settings = _settings(mirror, tmp_path / "cache")
    path = fetch(VOICE, settings)
    assert path == settings.piper_dir() / f"{VOICE}.onnx"
    source = mirror.files[next(p for p in mirror.files if p.endswith(f"{VOICE}.onnx"))]
    assert path.read_bytes() == source.read_bytes()
    assert Path(f"{path}.json").is_file()
    assert fetch(VOICE, settings) == path
    assert mirror.count(f"{VOICE}.onnx") == 1 and mirror.count("voices.json") == 1


def test_a_wrong_checksum_is_refused_and_nothing_is_kept(mirror, tmp_path):
    """The mirror serves bytes whose MD5 differs from the index: the fetch fails naming the MD5, no file stays."""
    mirror.corrupt.add(next(p for p in mirror.files if p.endswith(f"{VOICE}.onnx")))
    settings = _settings(mirror, tmp_path / "cache")
    with pytest.raises(VoiceUnavailable, match=rf"{VOICE}.*MD5 .* does not match"):
        fetch(VOICE, settings)
    assert _leftovers(tmp_path / "cache") == []


def test_a_dropped_connection_leaves_nothing_under_the_final_name(mirror, tmp_path):
    """The mirror closes the connection halfway through the model: a clear error, no partial file anywhere."""
    mirror.drop_after[next(p for p in mirror.files if p.endswith(f"{VOICE}.onnx"))] = SIZE // 2
    settings = _settings(mirror, tmp_path / "cache")
    with pytest.raises(VoiceUnavailable, match=VOICE):
        fetch(VOICE, settings)
    assert _leftovers(tmp_path / "cache") == []


def test_a_killed_download_leaves_nothing_and_the_next_fetch_completes(mirror, tmp_path):
    """A `voices pull` process killed mid-download leaves only a temporary part file (never the final name),
    which the next fetch removes before downloading the voice whole."""
    model_path = next(p for p in mirror.files if p.endswith(f"{VOICE}.onnx"))
    mirror.stall_after[model_path] = SIZE // 3
    cache = tmp_path / "cache"
    env = {**os.environ, "TTS_PIPER_VOICES_URL": mirror.url, "TTS_CACHE_DIR": str(cache)}
    proc = subprocess.Popen([sys.executable, "-m", "tts_predictor", "voices", "pull", VOICE], cwd=REPO, env=env)
    try:
        assert mirror.stalled.wait(60), "the pull never reached the mirror"
        deadline = time.monotonic() + 30
        while not list((cache / "piper-voices").glob(f".{VOICE}.onnx.*.part")) and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not (cache / "piper-voices" / f"{VOICE}.onnx").exists()
    assert [p for p in _leftovers(cache) if not p.endswith(".part")] == []
    del mirror.stall_after[model_path]
    mirror.release.set()
    path = fetch(VOICE, _settings(mirror, cache))
    assert path.stat().st_size == SIZE and _leftovers(cache) == [f"{VOICE}.onnx", f"{VOICE}.onnx.json"]


def test_concurrent_fetches_of_one_voice_download_it_once(mirror, tmp_path):
    """Eight threads ask for the same voice at once: the mirror sees one download, all get the same file."""
    settings = _settings(mirror, tmp_path / "cache")
    results: list[Path] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        try:
            results.append(fetch(VOICE, settings))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(set(results)) == 1 and len(results) == 8
    assert mirror.count(f"{VOICE}.onnx") == 1


def test_two_processes_download_a_voice_once(mirror, tmp_path):
    """Two `voices pull` processes on one cache directory: the file lock lets one download, the other waits."""
    cache = tmp_path / "cache"
    env = {**os.environ, "TTS_PIPER_VOICES_URL": mirror.url, "TTS_CACHE_DIR": str(cache)}
    cmd = [sys.executable, "-m", "tts_predictor", "voices", "pull", VOICE]
    procs = [subprocess.Popen(cmd, cwd=REPO, env=env) for _ in range(2)]
    assert [p.wait(120) for p in procs] == [0, 0]
    assert mirror.count(f"{VOICE}.onnx") == 1


def test_offline_without_a_cached_voice_fails_clearly_without_a_request(mirror, tmp_path):
    """HF_HUB_OFFLINE with nothing cached: the error names the voice and `voices pull`; the mirror is not asked."""
    settings = _settings(mirror, tmp_path / "cache", hf_hub_offline=True)
    with pytest.raises(VoiceUnavailable, match=rf"'{VOICE}'.*HF_HUB_OFFLINE.*tts-predictor voices pull {VOICE}"):
        fetch(VOICE, settings)
    assert sum(mirror.requests.values()) == 0
    fetch(VOICE, _settings(mirror, tmp_path / "cache"))
    assert fetch(VOICE, settings).is_file()  # once cached, offline is fine


def test_an_unreachable_catalogue_fails_clearly(tmp_path):
    """A mirror URL nobody listens on: the error names the voice, the URL and how to pre-fetch it."""
    from server_process import free_port

    forget_index()
    settings = Settings(piper_voices_url=f"http://127.0.0.1:{free_port()}/x", cache_dir=str(tmp_path))
    with pytest.raises(VoiceUnavailable, match=rf"'{VOICE}'.*cannot be read.*voices pull {VOICE}"):
        fetch(VOICE, settings)
    assert catalogue_spec(VOICE, settings) == f"piper:{VOICE}"  # Piper's name shape, index unreachable
    assert catalogue_spec("alloy", settings) is None
    forget_index()


def test_an_unknown_name_is_refused(mirror, tmp_path):
    """A well-formed name the catalogue lacks: refused with a pointer to the listing; nothing downloaded."""
    with pytest.raises(VoiceUnavailable, match=r"not a voice of Piper's catalogue.*available=true"):
        fetch("xx_XX-nobody-low", _settings(mirror, tmp_path / "cache"))
    assert mirror.count(".onnx") == 0


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "..",
        "en_GB/../../etc/passwd",
        "a" * 5000,
        "en_GB-alan-medium\x00",
        "ünïcode-voice",
        "http://evil/x",
        "en_GB-alan-medium?x=1",
        "",
        " en_GB-alan-medium",
        "%2e%2e%2fx",
        "\u202eevil",
    ],
)
def test_hostile_names_are_refused_before_any_request(mirror, tmp_path, name):
    """Traversal, huge, NUL, Unicode, URL-ish and encoded names: refused by fetch, not catalogue voices, no
    request made and no file created."""
    settings = _settings(mirror, tmp_path / "cache")
    with pytest.raises(VoiceUnavailable, match="not a Piper catalogue voice name"):
        fetch(name, settings)
    assert catalogue_spec(name, settings) is None
    assert sum(mirror.requests.values()) == 0 and not (tmp_path / "cache").exists()


def test_available_voices_lists_the_catalogue_and_what_is_installed(mirror, tmp_path):
    """The listing has every catalogue voice with language, quality, size; `installed` flips after a fetch."""
    settings = _settings(mirror, tmp_path / "cache")
    listed = {v["id"]: v for v in available_voices(settings)}
    assert set(listed) == {VOICE, OTHER}
    assert listed[VOICE]["language"] == "en-GB" and listed[VOICE]["quality"] == "medium"
    assert listed[VOICE]["size_bytes"] > SIZE and listed[VOICE]["installed"] is False
    fetch(OTHER, settings)
    assert {v["id"]: v["installed"] for v in available_voices(settings)} == {VOICE: False, OTHER: True}
    assert catalogue_spec(OTHER, settings) == f"piper:{OTHER}" and catalogue_spec("alloy", settings) is None


def test_an_index_listing_a_larger_size_than_served_or_a_traversal_path_is_refused(mirror, tmp_path):
    """A model longer than the index says is refused while streaming; an entry whose path climbs out of the
    catalogue (`../`) is dropped from the index, so it cannot be fetched."""
    entry = mirror.index[VOICE]
    model_path = next(p for p in entry["files"] if p.endswith(".onnx"))
    entry["files"][model_path]["size_bytes"] = SIZE - 10
    mirror.index[OTHER]["files"] = {
        f"../../{p.rsplit('/', 1)[-1]}": meta for p, meta in mirror.index[OTHER]["files"].items()
    }
    settings = _settings(mirror, tmp_path / "cache")
    with pytest.raises(VoiceUnavailable, match=r"announced; the catalogue lists"):
        fetch(VOICE, settings)
    with pytest.raises(VoiceUnavailable, match="not a voice of Piper's catalogue"):
        fetch(OTHER, settings)
    assert _leftovers(tmp_path / "cache") == []
    oversized = {VOICE: {**entry, "files": {p: {**m, "size_bytes": 2 << 30} for p, m in entry["files"].items()}}}
    assert parse_index(json.dumps(oversized).encode()) == {}  # past the sane cap whatever the index says


@pytest.mark.parametrize(("value", "offline"), [("1", True), ("ON", True), ("yes", True), ("0", False), ("", False)])
def test_hf_hub_offline_is_read_as_hugging_face_reads_it(monkeypatch, value, offline):
    """HF_HUB_OFFLINE takes Hugging Face's truthy values (1/ON/YES/TRUE); anything else, empty included, is off."""
    monkeypatch.setenv("HF_HUB_OFFLINE", value)
    assert Settings().hf_hub_offline is offline
