"""A Coqui voice-conversion model (OpenVoice; FreeVC when its WavLM is present): target embeddings and conversion.

Like `coqui.py`, imports `TTS` and `torch` lazily. Coqui's `Synthesizer` picks its OpenVoice loader only when the
checkpoint path contains "OpenVoice" (TTS/utils/synthesizer.py, `__init__`), and that loader builds the network
from `OpenVoiceConfig()` defaults, ignoring the `model` section of OpenVoice's config.json (only the `data` section
is read, in `OpenVoice.load_checkpoint`). Here the `model` section is honoured, so any OpenVoice-shaped
checkpoint loads (the real v1/v2 converters use exactly those defaults), then Coqui's own `load_checkpoint` runs.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from tts_predictor.audio import dsp
from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.engines.coqui import files
from tts_predictor.errors import ModelLoadError

log = logging.getLogger(__name__)

WAVLM_FILE = Path("wavlm") / "WavLM-Large.pt"
"""Where Coqui's FreeVC looks for its content encoder, under `trainer.io.get_user_data_dir("tts")` (TTS_HOME or
XDG_DATA_HOME), downloading it from GitHub when absent (TTS/vc/layers/freevc/wavlm/__init__.py, `get_wavlm`)."""
_SHARED: dict[tuple[str, str], VoiceConverter] = {}
_SHARED_LOCK = threading.Lock()


def model_directory(source: str, catalogue: str | None) -> Path:
    """The folder holding the VC model's config.json + checkpoint: a directory (or its `converter/`, as the
    OpenVoice Hugging Face repositories lay it out) or a catalogue name fetched by Coqui's ModelManager."""
    path = Path(source)
    if not path.is_dir():
        if source.startswith(("/", ".")):
            raise ModelLoadError(
                f"TTS_VC_MODEL {source} is not a directory; give a voice-conversion model directory "
                "or a catalogue name such as voice_conversion_models/multilingual/multi-dataset/openvoice_v2"
            )
        path = files.fetch_catalogue_model(source, catalogue).path
    if not (path / "config.json").is_file() and (path / "converter" / "config.json").is_file():
        path = path / "converter"
    return path


def _load_openvoice(directory: Path, raw: dict[str, Any]) -> Any:
    from TTS.vc.configs.openvoice_config import OpenVoiceArgs, OpenVoiceConfig
    from TTS.vc.models.openvoice import OpenVoice

    known = {f.name for f in fields(OpenVoiceArgs)}
    args = OpenVoiceArgs(**{k: v for k, v in (raw.get("model") or {}).items() if k in known})
    config = OpenVoiceConfig(model_args=args)
    model = OpenVoice(config)
    model.load_checkpoint(config, files.find_checkpoint(directory), eval=True)  # reads the `data` section
    return model


def _load_coqui_vc(directory: Path, family: str) -> Any:
    from trainer.io import get_user_data_dir
    from TTS.config import load_config
    from TTS.vc.models import setup_model

    wavlm = get_user_data_dir("tts") / WAVLM_FILE
    if family == "freevc" and not wavlm.is_file():
        raise ModelLoadError(
            f"{directory} is a FreeVC model, whose WavLM content encoder Coqui downloads at load; "
            f"put WavLM-Large.pt at {wavlm} (<TTS_HOME>/tts/wavlm/) first, or use an OpenVoice model"
        )
    config = load_config(str(directory / "config.json"))
    model = setup_model(config)
    model.load_checkpoint(config, str(files.find_checkpoint(directory)), eval=True)
    return model


def _load_voices_on_model_device(model: Any) -> None:
    """Coqui loads a stored voice onto the CPU (`CloningMixin.load_voice_file`: map_location="cpu") and its VC
    models then mix devices on a GPU (`voice_conversion` with a `speaker_id`); load them where the model is."""
    load = model.load_voice_file

    def load_on_device(speaker_id: str, voice_dir: Any) -> dict[str, Any]:
        return {k: v.to(model.device) if hasattr(v, "to") else v for k, v in load(speaker_id, voice_dir).items()}

    model.load_voice_file = load_on_device


class VoiceConverter:
    """One loaded VC model: stores target-speaker embeddings and converts speech to them."""

    def __init__(self, source: str, *, device: str = "cpu", catalogue: str | None = None):
        directory = model_directory(source, catalogue)
        raw = files.read_config(directory)
        self.name = files.model_name(source)
        family = str(raw.get("model", "")).lower() if isinstance(raw.get("model"), str) else "openvoice"
        if family not in ("openvoice", "freevc"):
            raise ModelLoadError(
                f"TTS_VC_MODEL {source}: '{family}' is not a voice-conversion model served here (OpenVoice or FreeVC)"
            )
        try:
            self.model = _load_openvoice(directory, raw) if family == "openvoice" else _load_coqui_vc(directory, family)
        except ModelLoadError:
            raise
        except Exception as exc:
            raise ModelLoadError(f"Coqui cannot load the voice-conversion model {directory}: {exc}") from None
        import torch

        if device in ("cuda", "auto") and torch.cuda.is_available():
            self.model.cuda()
        _load_voices_on_model_device(self.model)
        self.family = family
        audio = self.model.config.audio
        self.input_rate = int(audio.get("input_sample_rate", audio.get("sample_rate")))
        self.output_rate = int(audio.get("output_sample_rate", audio.get("sample_rate")))
        self._lock = threading.Lock()
        log.info("voice conversion: %s (%s, %d Hz in, %d Hz out)", self.name, family, self.input_rate, self.output_rate)

    def embed(self, reference: AudioBuffer, voice_id: str, directory: Path) -> None:
        """Compute the target speaker embedding of `reference` once; stored as `<directory>/<voice_id>.pth`."""
        import soundfile

        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="tts-vc-") as tmp:
            sample = Path(tmp) / "reference.wav"  # Coqui's loaders resample the file to the model's input rate
            soundfile.write(sample, reference.samples, reference.sample_rate, subtype="FLOAT")
            with self._lock:
                self.model.clone_voice(str(sample), speaker_id=voice_id, voice_dir=str(directory))

    def convert(self, audio: AudioBuffer, voice_id: str, directory: Path, seed: int | None) -> AudioBuffer:
        """`audio` spoken in the stored voice `voice_id`, at the VC model's output rate."""
        import torch

        source = torch.from_numpy(dsp.resample(audio, self.input_rate).samples.astype(np.float32))
        with self._lock, torch.no_grad():
            if seed is not None:
                torch.manual_seed(seed)  # OpenVoice's posterior encoder samples noise (tau)
            out = self.model.voice_conversion(source, None, speaker_id=voice_id, voice_dir=str(directory))
        return AudioBuffer(np.asarray(out, dtype=np.float32).reshape(-1), self.output_rate)


def shared_converter(source: str, *, device: str, catalogue: str | None) -> VoiceConverter:
    """One VoiceConverter per (model, device) in the process, shared by every model it converts for."""
    with _SHARED_LOCK:
        key = (source, device)
        if key not in _SHARED:
            _SHARED[key] = VoiceConverter(source, device=device, catalogue=catalogue)
        return _SHARED[key]
