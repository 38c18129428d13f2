"""C2PA content credentials: a real server signing WAV/FLAC/MP3 responses and a job result with a test CA's
certificate (made here with `cryptography`), read back with c2pa's Reader."""

from __future__ import annotations

import io
import json
import subprocess

import httpx
import pytest
import soundfile as sf

c2pa = pytest.importorskip("c2pa")

from c2pa_certs import write_signing_files  # noqa: E402
from jobs_helpers import wait_job  # noqa: E402
from server_process import ServerProcess  # noqa: E402

from tts_predictor.audio.credentials import SOURCE_TYPE  # noqa: E402
from tts_predictor.audio.output import OutputConfig  # noqa: E402
from tts_predictor.settings import Settings  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def signing_files(tmp_path_factory):
    """A test CA and a signing certificate it issued (C2PA refuses self-signed signing certificates)."""
    return write_signing_files(tmp_path_factory.mktemp("c2pa"))


@pytest.fixture(scope="module")
def signing_server(signing_files, tmp_path_factory):
    cert, key = signing_files
    server = ServerProcess(
        env={
            "TTS_C2PA_CERT_FILE": cert,
            "TTS_C2PA_KEY_FILE": key,
            "TTS_JOBS_DIR": str(tmp_path_factory.mktemp("c2pa-jobs")),
        }
    ).start()
    yield server
    server.stop()


def read_manifest(data: bytes, mime: str) -> tuple[dict, list]:
    """The active manifest and the validation status codes."""
    reader = c2pa.Reader(mime, io.BytesIO(data))
    store = json.loads(reader.json())
    return store["manifests"][store["active_manifest"]], [s["code"] for s in store.get("validation_status", [])]


def _created(manifest: dict) -> dict:
    actions = [
        a
        for assertion in manifest["assertions"]
        if assertion["label"].startswith("c2pa.actions")
        for a in assertion["data"]["actions"]
    ]
    return next(a for a in actions if a["action"] == "c2pa.created")


@pytest.mark.parametrize("fmt, mime", [("wav", "audio/wav"), ("flac", "audio/flac"), ("mp3", "audio/mpeg")])
def test_responses_carry_signed_credentials(signing_server, fmt, mime):
    response = httpx.post(
        f"{signing_server.url}/synthesize",
        timeout=120,
        json={"text": "This voice was made by a machine.", "options": {"format": fmt}},
    )
    assert response.status_code == 200
    manifest, codes = read_manifest(response.content, mime)
    assert _created(manifest)["digitalSourceType"] == SOURCE_TYPE
    assert manifest["claim_generator_info"][0]["name"] == "tts-predictor"
    assert codes == ["signingCredential.untrusted"]  # the signature verifies; only the test CA is not trusted
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", "pipe:0", "-f", "s16le", "-"],
        input=response.content,
        capture_output=True,
        check=True,
    )
    assert len(decoded.stdout) > 22050 and decoded.stderr == b""


def test_job_result_is_signed_after_its_chapter_marks(signing_server):
    markdown = "# One\n\nThe first part of the story.\n\n# Two\n\nThe second part of the story."
    job = httpx.post(f"{signing_server.url}/v1/jobs", json={"markdown": markdown, "options": {"format": "wav"}}).json()
    assert wait_job(signing_server.url, job["id"])["state"] == "completed"
    data = httpx.get(f"{signing_server.url}/v1/jobs/{job['id']}/audio").content
    manifest, codes = read_manifest(data, "audio/wav")
    assert _created(manifest)["digitalSourceType"] == SOURCE_TYPE and codes == ["signingCredential.untrusted"]
    assert b"cue " in data and b"labl" in data  # chapter marks kept (covered by the manifest's hash)
    assert sf.info(io.BytesIO(data)).duration > 2


def test_cert_without_key_is_refused():
    with pytest.raises(ValueError, match="TTS_C2PA_KEY_FILE"):
        OutputConfig.from_settings(Settings(c2pa_cert_file="/some/chain.pem"))
