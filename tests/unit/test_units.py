"""Pure units: settings validation, model-spec parsing, clause splitting, phoneme ids, voice resolution."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tts_predictor.engines.base import Voice
from tts_predictor.engines.onnx.espeak import split_clauses
from tts_predictor.engines.onnx.vits import phoneme_ids
from tts_predictor.engines.registry import describe_source, spec_name
from tts_predictor.errors import ModelLoadError, UnknownLanguage, UnknownVoice
from tts_predictor.settings import SettingsError, load_settings
from tts_predictor.voices.catalog import VoiceCatalog, match_language


def test_settings_defaults_and_env(monkeypatch):
    monkeypatch.setenv("TTS_MAX_TEXT_CHARS", "100")
    settings = load_settings()
    assert settings.model == "embedded" and settings.model_name == "tts" and settings.max_text_chars == 100
    assert settings.threads >= 1  # 0 resolves to the core count
    assert load_settings(max_text_chars="7").max_text_chars == 7  # a CLI flag beats the env var


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("device", "gpu", "TTS_DEVICE"),
        ("compute_type", "int4", "TTS_COMPUTE_TYPE"),
        ("coqui_backend", "tf", "TTS_COQUI_BACKEND"),
        ("threads", "-1", "TTS_THREADS"),
        ("max_text_chars", "0", "TTS_MAX_TEXT_CHARS"),
        ("model", "  ", "TTS_MODEL"),
    ],
)
def test_bad_settings_exit_with_the_field_named(field, value, message):
    with pytest.raises(SettingsError) as info:
        load_settings(**{field: value})
    assert message in str(info.value)


def test_model_specs(tmp_path):
    assert describe_source("embedded") == ("onnx", "embedded")
    assert describe_source("coqui:tts_models/en/vctk/vits") == ("coqui", "tts_models/en/vctk/vits")
    assert describe_source("tts_models/en/ljspeech/vits") == ("coqui", "tts_models/en/ljspeech/vits")
    assert describe_source("/voices/en_US-x.onnx") == ("onnx", "/voices/en_US-x.onnx")
    assert describe_source("piper:en_GB-alan-medium") == ("piper", "en_GB-alan-medium")
    assert spec_name("piper:en_GB-alan-medium") == "en_GB-alan-medium"  # the voice file's stem, as loaded
    (tmp_path / "config.json").write_text("{}")
    assert describe_source(str(tmp_path)) == ("coqui", str(tmp_path))
    with pytest.raises(ModelLoadError, match="not found"):
        describe_source("/no/such/dir")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelLoadError, match="neither"):
        describe_source(str(empty))


def test_clause_splitting_keeps_punctuation():
    assert split_clauses("Hello, world. How are you?") == [("Hello", ","), ("world", "."), ("How are you", "?")]
    assert split_clauses("No punctuation") == [("No punctuation", "")]
    assert split_clauses("It costs 3.5 dollars!") == [("It costs 3.5 dollars", "!")]


def test_phoneme_ids_interleave_pad():
    id_map = {"^": [1], "$": [2], "_": [0], "a": [5], "b": [6]}
    assert phoneme_ids("ab?", id_map) == [1, 0, 5, 0, 6, 0, 2]  # unknown symbols are skipped


def test_voice_resolution_and_fallbacks():
    voices = [
        Voice("en1", ("en-US",), "onnx", 22050),
        Voice("fr1", ("fr-FR",), "onnx", 22050),
        Voice("multi", ("en", "fr-fr"), "coqui", 22050),
    ]
    catalog = VoiceCatalog(voices)
    assert catalog.resolve(None, None) == (voices[0], "en-US")
    assert catalog.resolve(None, "fr") == (voices[1], "fr-FR")  # language only: first voice speaking it
    assert catalog.resolve("multi", "FR_fr") == (voices[2], "fr-fr")
    with pytest.raises(UnknownVoice, match="valid voices: en1, fr1, multi"):
        catalog.resolve("de1", None)
    with pytest.raises(UnknownLanguage, match="supported: en-US, fr-FR, en, fr-fr"):
        catalog.resolve(None, "de")
    assert match_language("en", ["en-US", "en-GB"]) is None  # ambiguous primary tag
    assert match_language("en-GB", ["en"]) == "en"


def test_bad_model_keeps_the_server_live_but_not_ready(tmp_path):
    """A missing/corrupt model directory: liveness stays true, readiness false, the reason in the log."""
    import httpx
    from server_process import ServerProcess

    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "config.json").write_text("{not json")
    for model in (str(tmp_path / "missing"), str(corrupt)):
        # One try (TTS_LOAD_RETRY_SECONDS=0): by default a failed load is retried for 120 s before it counts as failed.
        server = ServerProcess(env={"TTS_MODEL": model, "TTS_LOAD_RETRY_SECONDS": "0"}).start(wait=False)
        try:
            deadline = time.monotonic() + 60
            # the load fails before uvicorn binds its port: wait for both lines
            while (
                not all(m in server.log() for m in ("failed to load", "Uvicorn running"))
                and time.monotonic() < deadline
            ):
                time.sleep(0.3)
            assert "failed to load" in server.log()
            # The load can fail before the HTTP listener is up: wait for it.
            while time.monotonic() < deadline:
                try:
                    httpx.get(f"{server.url}/v2/health/live")
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            assert httpx.get(f"{server.url}/v2/health/live").status_code == 200
            assert httpx.get(f"{server.url}/v2/health/ready").status_code == 503
            res = httpx.post(f"{server.url}/v2/models/tts/infer", json={"inputs": []})
            assert res.status_code == 503
        finally:
            server.stop()


def test_server_refuses_bad_settings():
    proc = subprocess.run(
        [sys.executable, "-m", "tts_predictor", "serve", "--device", "tpu"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode != 0 and "TTS_DEVICE" in proc.stderr
