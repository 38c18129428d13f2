"""Coqui families beyond VITS/XTTS: spectrogram models with their vocoders, fairseq MMS, Bark/Tortoise refusals.

Spectrogram models speak through their vocoder, never silently through Griffin-Lim. Tiny random-weight models of the real architectures (Coqui's config classes): Tacotron2-DDC + HiFi-GAN loaded by
catalogue name from a local catalogue (its `default_vocoder`), Glow-TTS + MelGAN and FastPitch + HiFi-GAN from
directories with a `vocoder/` subdirectory. Each vocoder runs at a sample rate of its own (16 or 24 kHz, the
spectrogram models at 22.05 kHz), so the output rate shows that the vocoder made the audio: Griffin-Lim keeps
the model's 22.05 kHz. The MMS model is full-size (Coqui loads fairseq checkpoints into its default VITS; its
sizes cannot shrink) and served from a directory named as Coqui's download names it.
"""

from __future__ import annotations

import logging
import shutil

import httpx
import numpy as np
import pytest
from server_process import ServerProcess
from v2_helpers import decode_wav, grpc_audio, infer_body

pytestmark = pytest.mark.slow

TACOTRON = "tts_models/en/tiny/tacotron2-DDC"
HIFIGAN = "vocoder_models/en/tiny/hifigan"


@pytest.fixture(scope="module")
def vocoded(tmp_path_factory):
    """Model directories, and a TTS_HOME + catalogue file holding the Tacotron2-DDC and its HiFi-GAN."""
    pytest.importorskip("TTS", reason="coqui-tts is not installed (pip install '.[coqui]')")
    from devtools.coqui_catalogue import build_catalogue
    from devtools.coqui_vocoded import build_spectrogram_model, build_vocoder

    root = tmp_path_factory.mktemp("vocoded")
    glow = build_spectrogram_model(root / "glow-tts", "glow-tts")
    build_vocoder(glow / "vocoder", "melgan", sample_rate=16000)
    pitch = build_spectrogram_model(root / "fast-pitch", "fast-pitch")
    build_vocoder(pitch / "vocoder", "hifigan", sample_rate=24000)
    home = root / "tts-home"
    catalogue = build_catalogue(
        home,
        {
            TACOTRON: build_spectrogram_model(root / "tacotron2", "tacotron2-ddc"),
            HIFIGAN: build_vocoder(root / "hifigan", "hifigan", sample_rate=16000),
        },
        default_vocoders={TACOTRON: HIFIGAN},
    )
    from devtools.coqui_models import build_fairseq_vits

    mms = build_fairseq_vits(root / "tts_models--deu--fairseq--vits")
    return {"glow": glow, "pitch": pitch, "home": home, "catalogue": catalogue, "mms": mms}


@pytest.fixture(scope="module")
def server(vocoded):
    proc = ServerProcess(
        env={
            "TTS_MODEL": f"{TACOTRON},{vocoded['glow']},{vocoded['pitch']},{vocoded['mms']}",
            "TTS_DEVICE": "cpu",
            "TTS_HOME": str(vocoded["home"]),
            "TTS_COQUI_CATALOGUE": str(vocoded["catalogue"]),
            "TTS_CACHE_MAX_BYTES": "0",
        }
    ).start()
    yield proc
    proc.stop()


@pytest.mark.parametrize(
    ("voice", "vocoder", "rate"),
    [
        ("tts_models--en--tiny--tacotron2-DDC", HIFIGAN, 16000),
        ("glow-tts", "glow-tts/vocoder", 16000),
        ("fast-pitch", "fast-pitch/vocoder", 24000),
    ],
)
def test_each_family_answers_v2_at_its_vocoders_rate(server, voice, vocoder, rate):
    listed = {v["id"]: v for v in httpx.get(f"{server.url}/v1/voices", timeout=10).json()["voices"]}
    assert listed[voice]["vocoder"] == vocoder and listed[voice]["sample_rate"] == rate
    res = httpx.post(f"{server.url}/v2/models/tts/infer", json=infer_body(["Hello there."], voice=voice), timeout=120)
    assert res.status_code == 200, res.text
    samples, got = decode_wav(res.json()["outputs"][0]["data"][0])
    assert got == rate and len(samples) > 0.05 * rate, "the vocoder made the audio (Griffin-Lim would be 22050 Hz)"


def test_v2_grpc_through_a_vocoder(server):
    from kserve import InferInput, InferRequest

    text = InferInput("text", [1], "BYTES")
    text.set_data_from_numpy(np.array([b"Hello over gRPC."], dtype=np.object_), binary_data=True)
    request = InferRequest(model_name="tts", infer_inputs=[text], parameters={"voice": "fast-pitch"})

    assert decode_wav(grpc_audio(server.grpc_url, request))[1] == 24000


def test_tacotron2_has_no_speed_control(server):
    voices = {v["id"]: v for v in httpx.get(f"{server.url}/v1/voices", timeout=10).json()["voices"]}
    assert "speed" not in voices["tts_models--en--tiny--tacotron2-DDC"]["capabilities"]
    assert "speed" in voices["glow-tts"]["capabilities"] and "speed" in voices["fast-pitch"]["capabilities"]
    res = httpx.post(
        f"{server.url}/v2/models/tts/infer",
        timeout=60,
        json=infer_body(["Hi."], voice="tts_models--en--tiny--tacotron2-DDC", speed=1.5),
    )
    assert res.status_code == 400 and "speed" in res.json()["error"]


def test_vocoder_setting_and_griffin_lim_fallback(vocoded, tmp_path, caplog):
    """TTS_VOCODER names a directory or griffin-lim; a model without any vocoder warns and says so."""
    from tts_predictor.engines.base import SynthesisRequest
    from tts_predictor.engines.coqui.engine import CoquiEngine

    bare = tmp_path / "glow-bare"
    shutil.copytree(vocoded["glow"], bare, ignore=shutil.ignore_patterns("vocoder"))
    with caplog.at_level(logging.WARNING, logger="tts_predictor.engines.coqui.engine"):
        fallback = CoquiEngine(bare, device="cpu")
    assert fallback.voices()[0].to_dict()["vocoder"] == "griffin-lim" and fallback.sample_rate == 22050
    assert "Griffin-Lim" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="tts_predictor.engines.coqui.engine"):
        asked = CoquiEngine(bare, device="cpu", vocoder="griffin-lim")
    assert asked.voices()[0].vocoder == "griffin-lim" and "Griffin-Lim" not in caplog.text
    named = CoquiEngine(bare, device="cpu", vocoder=str(vocoded["pitch"] / "vocoder"))
    audio = named.synthesize(SynthesisRequest("Hello.", named.voices()[0], "en"))
    assert named.voices()[0].vocoder == "vocoder" and audio.sample_rate == 24000


def test_catalogue_name_resolves_in_tts_home_without_network(vocoded, monkeypatch):
    from tts_predictor.engines.coqui.files import fetch_catalogue_model

    monkeypatch.setenv("TTS_HOME", str(vocoded["home"]))
    model = fetch_catalogue_model(TACOTRON, str(vocoded["catalogue"]))
    assert model.path.name == "tts_models--en--tiny--tacotron2-DDC" and model.default_vocoder == HIFIGAN


def test_fairseq_mms_serves_with_its_language(server):
    listed = {v["id"]: v for v in httpx.get(f"{server.url}/v1/voices", timeout=10).json()["voices"]}
    mms = listed["tts_models--deu--fairseq--vits"]
    assert mms["languages"] == ["deu"] and mms["sample_rate"] == 16000 and "vocoder" not in mms
    res = httpx.post(
        f"{server.url}/v2/models/tts/infer",
        timeout=120,
        json=infer_body(["guten tag."], voice="tts_models--deu--fairseq--vits", language="deu"),
    )
    assert res.status_code == 200, res.text
    assert decode_wav(res.json()["outputs"][0]["data"][0])[1] == 16000


def test_fairseq_from_a_mounted_directory(vocoded, tmp_path):
    """/mnt/models has no 'fairseq' in its path (Coqui's cue) and no name to take the language from."""
    from tts_predictor.engines.coqui.engine import CoquiEngine

    mounted = tmp_path / "mnt" / "models"
    shutil.copytree(vocoded["mms"], mounted)
    engine = CoquiEngine(mounted, device="cpu")
    assert engine.voices()[0].languages == ("und",) and engine.sample_rate == 16000


@pytest.mark.parametrize(
    ("family", "files", "missing"),
    [
        ("bark", ["text_2.pt"], "coarse_2.pt, fine_2.pt"),
        ("tortoise", ["autoregressive.pth", "clvp2.pth"], "diffusion_decoder.pth, vocoder.pth, mel_norms.pth"),
    ],
)
def test_bark_and_tortoise_refused_at_start_naming_what_is_missing(tmp_path, monkeypatch, family, files, missing):
    from tts_predictor.engines.coqui.engine import CoquiEngine
    from tts_predictor.errors import ModelLoadError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the check only looks into the cache; nothing may be downloaded
    model = tmp_path / family
    model.mkdir()
    (model / "config.json").write_text(f'{{"model": "{family}"}}')
    for name in files:
        (model / name).write_bytes(b"")
    with pytest.raises(ModelLoadError) as info:
        CoquiEngine(model, device="cpu")
    assert f"is a Coqui {family} model but lacks {missing}" in str(info.value) and "slow" in str(info.value)
