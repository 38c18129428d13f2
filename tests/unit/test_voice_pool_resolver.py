"""The voice pool's on-demand hook through the real predictor: an unknown voice id that a resolver maps to a model
spec adds that model, and the catalogue lists its voices from then on; ids the resolver has no model for stay 400s,
and implausible ids (paths, overlong, odd characters) never reach it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tts_predictor.engines.base import SynthesisRequest
from tts_predictor.engines.loading import load_all
from tts_predictor.engines.onnx.vits import embedded_voice_paths
from tts_predictor.errors import UnknownVoice
from tts_predictor.predictor import TTSPredictor
from tts_predictor.settings import Settings


@pytest.fixture
def resolved(tmp_path: Path):
    """A predictor serving the embedded voice whose pool resolves 'zed' to a copy of it under another name."""
    model, config = embedded_voice_paths()
    shutil.copy(model, tmp_path / "zed-voice.onnx")
    shutil.copy(config, tmp_path / "zed-voice.onnx.json")
    asked: list[str] = []

    def resolver(voice_id: str) -> str | None:
        asked.append(voice_id)
        return str(tmp_path / "zed-voice.onnx") if voice_id == "zed-voice" else None

    settings = Settings(model="embedded", device="cpu", warmup=False, max_models=2, cache_max_bytes=0)
    predictor = TTSPredictor(settings, engine=load_all(settings, resolver=resolver))
    predictor.load()
    yield predictor, asked
    predictor.synth.engine.close()


def test_unknown_voice_resolved_to_a_new_model(resolved):
    """'zed-voice' is not configured: the resolver's spec is added, listed, loaded on use and speaks."""
    predictor, asked = resolved
    assert "zed-voice" not in {v.id for v in predictor.synth.catalog.visible()}
    voice, language = predictor.synth.catalog.resolve("zed-voice", None)
    assert (voice.id, language, asked) == ("zed-voice", "en-US", ["zed-voice"])
    assert "zed-voice" in {v.id for v in predictor.synth.catalog.visible()}, "listed from then on"
    assert predictor.model_states()["zed-voice"] == "unloaded", "a Piper voice is listed from its .onnx.json"
    audio = predictor.synth.engine.synthesize(SynthesisRequest("Hello from the new voice.", voice, language))
    assert len(audio.samples) > 8000 and float(np.abs(audio.samples).max()) > 0.05
    assert predictor.model_states()["zed-voice"] == "loaded"
    predictor.synth.catalog.resolve("zed-voice", None)
    assert asked == ["zed-voice"], "a known voice does not ask the resolver again"


def test_unresolvable_and_hostile_ids(resolved):
    """No model for the id: 400 as before; paths, overlong and odd ids are refused before the resolver."""
    predictor, asked = resolved
    with pytest.raises(UnknownVoice, match="unknown voice 'nobody'"):
        predictor.synth.catalog.resolve("nobody", None)
    for hostile in ["../../etc/passwd", "a" * 500, "zed voice", "zed\u202evoice", "/tmp/x.onnx", "..", ""]:
        with pytest.raises(UnknownVoice):
            predictor.synth.catalog.resolve(hostile or "\x00", None)
    assert asked == ["nobody"]
