"""Plugins from separate packages (tests/data/plugins/), installed with pip into a temporary folder that only the
server process sees (PYTHONPATH): the demo's engine, effect, normalizer and format serve through V2 and OpenAI; the
broken package's plugins are listed with their errors and skipped, or stop the start with TTS_PLUGINS_STRICT.

The grounds are the audio itself, measured here with numpy: the robot engine's pulse train repeats every 128
samples at 16 kHz (125 Hz for vowels), and the band-pass effect leaves little energy below 200 Hz or above 4 kHz.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest
from server_process import ServerProcess
from v2_helpers import decode_wav, infer_body

pytestmark = pytest.mark.slow

PLUGINS = Path(__file__).parents[1] / "data" / "plugins"


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Both plugin packages installed by pip (from copies: a build writes into its source) into one folder."""
    root = tmp_path_factory.mktemp("plugins")
    target = root / "site"
    for name in ("tts-plugin-demo", "tts-plugin-broken"):
        shutil.copytree(PLUGINS / name, root / name)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
            + ["--target", str(target), str(root / name)],
            check=True,
            capture_output=True,
        )
    return str(target)


@pytest.fixture(scope="module")
def http(plugin_path: str):
    server = ServerProcess(env={"PYTHONPATH": plugin_path, "TTS_MODEL": "robot"}).start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            yield client
    finally:
        server.stop()


def band_share(samples: np.ndarray, rate: int, low: float, high: float) -> float:
    """Share of the signal's energy between `low` and `high` Hz."""
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    return float(spectrum[(freqs >= low) & (freqs < high)].sum() / spectrum.sum())


def period(samples: np.ndarray) -> int:
    """The lag (in samples, 40-400) where the signal best repeats itself."""
    x = samples.astype(np.float64) - samples.mean()
    corr = np.correlate(x, x, mode="full")[len(x) - 1 :]
    return int(np.argmax(corr[40:400]) + 40)


def v2_audio(http: httpx.Client, text: str, **params: object) -> tuple[np.ndarray, int]:
    r = http.post("/v2/models/tts/infer", json=infer_body([text], voice="robot", **params))
    assert r.status_code == 200, r.text
    [audio] = [o for o in r.json()["outputs"] if o["name"] == "audio"]
    return decode_wav(audio["data"][0])


def openai_pcm(http: httpx.Client, text: str, **extra: object) -> np.ndarray:
    body = {"model": "tts-1", "input": text, "voice": "robot", "response_format": "pcm", **extra}
    r = http.post("/v1/audio/speech", json=body)
    assert r.status_code == 200, r.text
    return np.frombuffer(r.content, "<i2").astype(np.float32) / 32768


def test_plugin_engine_voice_is_listed_and_speaks_through_v2(http: httpx.Client) -> None:
    voices = http.get("/voices").json()["voices"]
    assert [v["id"] for v in voices if v["quality"] != "formant"] == ["robot"] and voices[0]["engine"] == "robot"
    samples, rate = v2_audio(http, "aaaa aaaa")
    assert rate == 16000 and len(samples) > 0.4 * rate
    assert period(samples) == 128  # 125 Hz at 16 kHz: the engine's vowel buzz


def test_plugin_effect_band_limits_v2_audio(http: httpx.Client) -> None:
    dry, rate = v2_audio(http, "aaaa aaaa")
    wet, _ = v2_audio(http, "aaaa aaaa", effects="lofi")
    assert band_share(dry, rate, 4000, 8000) > 0.2  # a pulse train is broadband
    assert band_share(wet, rate, 4000, 8000) < 0.01
    assert band_share(wet, rate, 0, 200) < 0.01
    assert band_share(wet, rate, 250, 3500) > 0.95  # the pass band and the near skirts


def test_plugin_engine_and_effect_through_openai_stream(http: httpx.Client) -> None:
    text = "aaaa aaaa. ooo ooo."  # two sentences: the effect's state carries across streamed chunks
    dry, wet = openai_pcm(http, text), openai_pcm(http, text, effects="lofi")
    assert len(dry) == len(wet) > 0.5 * 24000
    assert period(dry) == 192  # 125 Hz at OpenAI's 24 kHz
    assert band_share(dry, 24000, 4000, 12000) > 0.2
    assert band_share(wet, 24000, 4000, 12000) < 0.01 and band_share(wet, 24000, 0, 200) < 0.01


def test_unknown_or_broken_effects_are_400s_naming_the_field(http: httpx.Client) -> None:
    for effects in ("nope", "futureapi", "noopen", "lofi,lofi,lofi,lofi,lofi", "x" * 300):
        r = http.post("/v2/models/tts/infer", json=infer_body(["a"], effects=effects))
        assert r.status_code == 400 and "effects" in r.text, (effects, r.text)
        body = {"model": "tts-1", "input": "a", "voice": "robot", "effects": effects}
        r = http.post("/v1/audio/speech", json=body)
        assert r.status_code == 400 and r.json()["error"]["param"] == "effects", (effects, r.text)
    assert "lofi" in http.post("/v2/models/tts/infer", json=infer_body(["a"], effects="nope")).text
    for bad in (["lofi"], {"a": 1}, 3):
        r = http.post("/v1/audio/speech", json={"model": "tts-1", "input": "a", "voice": "robot", "effects": bad})
        assert r.status_code == 400, r.text


def test_plugins_listed_with_status_and_errors(http: httpx.Client) -> None:
    r = http.get("/v1/plugins")
    assert r.status_code == 200, r.text
    assert r.json()["api_version"] == 1
    by_name = {p["name"]: p for p in r.json()["plugins"]}
    for name, kind in (("robot", "engine"), ("lofi", "effect"), ("klingon-digits", "normalizer"), ("u8", "format")):
        assert by_name[name] | {"error": None} == {
            "name": name,
            "kind": kind,
            "package": "tts-plugin-demo",
            "version": "0.3.1",
            "status": "loaded",
            "error": None,
        }
    assert by_name["brokenimport"]["status"] == "failed" and "missing_module" in by_name["brokenimport"]["error"]
    assert by_name["futureapi"]["error"] == "requires plugin API 99; this server has API 1"
    assert "open" in by_name["noopen"]["error"] and by_name["noopen"]["status"] == "failed"


def test_plugin_normalizer_reads_its_language(http: httpx.Client) -> None:
    r = http.post("/v1/normalize", json={"text": "3 ships, 10 guns", "language": "tlh"})
    assert r.status_code == 200, r.text
    assert r.json()["segments"][0]["text"] == "wej ships, wa' pagh guns"  # Klingon 3, then 1 0
    r = http.post("/v1/normalize", json={"text": "3 ships", "language": "en"})
    assert r.json()["segments"][0]["text"] == "three ships"  # the built-in rules keep English


def test_plugin_format_encodes_whole_files_only(http: httpx.Client) -> None:
    r = http.post("/v2/models/tts/infer", json=infer_body(["aaaa"], voice="robot", format="u8"))
    assert r.status_code == 200, r.text
    outputs = {o["name"]: o["data"][0] for o in r.json()["outputs"]}
    raw = np.frombuffer(base64.b64decode(outputs["audio"]), np.uint8).astype(np.float32)
    samples = (raw - 128) / 127
    assert len(samples) == round(outputs["duration_s"] * outputs["sample_rate"])
    assert period(samples) == 128 and np.abs(samples).max() > 0.1
    r = http.post("/synthesize", json={"text": "aaaa", "options": {"format": "u8", "stream": True}})
    assert r.status_code == 400 and "whole files" in r.text, r.text
    r = http.post("/v1/jobs", json={"text": "aaaa", "options": {"format": "u8"}})
    assert r.status_code == 400 and "whole files" in r.text, r.text


def test_strict_refuses_start_naming_the_broken_plugin(plugin_path: str) -> None:
    server = ServerProcess(env={"PYTHONPATH": plugin_path, "TTS_PLUGINS_STRICT": "true"})
    with pytest.raises(RuntimeError, match="plugin 'futureapi'") as info:
        server.start(timeout_s=120)
    assert "requires plugin API 99" in str(info.value)


def test_selected_plugins_only(plugin_path: str) -> None:
    """TTS_PLUGINS names the plugins to load: with strict on, the broken ones left out do not matter."""
    env = {"PYTHONPATH": plugin_path, "TTS_PLUGINS": "lofi,u8", "TTS_PLUGINS_STRICT": "true"}
    server = ServerProcess(env=env).start()
    try:
        listed = httpx.get(f"{server.url}/v1/plugins", timeout=30).json()["plugins"]
        assert sorted(p["name"] for p in listed) == ["lofi", "u8"]
        r = httpx.post(f"{server.url}/v2/models/tts/infer", json=infer_body(["Hi."], effects="lofi"), timeout=60)
        assert r.status_code == 200, r.text
    finally:
        server.stop()
