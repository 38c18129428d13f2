"""Coqui TTS models (catalogue names or local model directories) run with PyTorch.

This is the only module that imports `TTS` or `torch`, lazily, so transformer-only images need neither.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..audio.buffer import AudioBuffer
from ..errors import ModelLoadError, UnsupportedOption
from .base import SynthesisRequest, Voice

log = logging.getLogger(__name__)

CHECKPOINT_NAMES = ("model.pth", "model_file.pth", "best_model.pth", "model.safetensors")
# Coqui configs store absolute paths from training time; a mounted model dir needs them re-pointed.
SIDE_FILES = {
    "speakers_file": ("speakers.pth", "speakers.json"),
    "language_ids_file": ("language_ids.json",),
    "d_vector_file": ("speakers.pth", "speakers.json"),
    "speaker_encoder_model_path": ("model_se.pth", "model_se.pth.tar"),  # YourTTS-style cloning models
    "speaker_encoder_config_path": ("config_se.json",),
}
CLONE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
"""Cloned voice ids: also their file names (Coqui stores `<voice_dir>/<id>.pth`)."""


def find_checkpoint(model_dir: Path) -> Path:
    """The checkpoint file of a Coqui model directory."""
    for name in CHECKPOINT_NAMES:
        if (model_dir / name).is_file():
            return model_dir / name
    candidates = sorted(p for p in model_dir.glob("*.pth") if p.name not in ("speakers.pth",))
    if not candidates:
        raise ModelLoadError(f"{model_dir} has no checkpoint; expected one of {', '.join(CHECKPOINT_NAMES)}")
    return candidates[-1]


def repoint_config(model_dir: Path, out_dir: Path) -> Path:
    """Copy config.json with side-file paths pointed into `model_dir`; return the copy's path."""
    config_path = model_dir / "config.json"
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{config_path} is missing or not JSON: {exc}") from None
    for section in (config, config.get("model_args") or {}):
        for key, names in SIDE_FILES.items():
            if not section.get(key):
                continue
            local = next((model_dir / n for n in names if (model_dir / n).is_file()), None)
            if local is not None:
                section[key] = str(local)
    patched = out_dir / "config.json"
    patched.write_text(json.dumps(config), encoding="utf-8")
    return patched


def model_name(source: str | Path) -> str:
    """The name a Coqui model is served under: its directory's name, or the catalogue name with '/' -> '--'."""
    source = str(source)
    return Path(source).name if source.startswith(("/", ".")) else source.replace("/", "--")


def download_catalogue_model(name: str) -> Path:
    """Download a catalogue model (Coqui's progress bar) and return its directory."""
    from TTS.utils.manage import ModelManager

    try:
        model_path, _config, _item = ModelManager(progress_bar=True).download_model(name)
    except Exception as exc:  # network errors, unknown names
        raise ModelLoadError(
            f"cannot get Coqui model '{name}': {exc}. Without internet access, mount the model directory "
            "and set TTS_MODEL to it (e.g. /mnt/models)."
        ) from None
    path = Path(model_path)
    return path if path.is_dir() else path.parent


def _FixedEmbedding(vector: Any) -> Any:  # noqa: N802 - builds a torch module lazily (torch is imported late)
    import torch

    class FixedEmbedding(torch.nn.Module):
        """Returns one embedding for every speaker id."""

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("vector", vector.detach())

        def forward(self, sid: torch.Tensor) -> torch.Tensor:
            return self.vector.unsqueeze(0).expand(sid.shape[0], -1)

    return FixedEmbedding()


def _resolve_device(device: str) -> str:
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError("device=cuda asked for, but torch sees no CUDA GPU")
    if device == "auto" and not torch.cuda.is_available():
        log.info("no CUDA GPU present (torch.cuda.is_available() is false): Coqui runs on CPU")
    return "cuda" if device in ("cuda", "auto") and torch.cuda.is_available() else "cpu"


class CoquiEngine:
    """A Coqui TTS model; multi-speaker and multi-lingual models expose speakers as voices."""

    kind = "coqui"

    def __init__(self, source: str | Path, *, device: str = "auto", threads: int = 1):
        import torch
        from TTS.utils.synthesizer import Synthesizer

        torch.set_num_threads(threads)
        for noisy in ("TTS", "TTS.utils.synthesizer", "TTS.tts"):
            logging.getLogger(noisy).setLevel(logging.WARNING)  # Coqui logs the input text at INFO
        model_dir = Path(source) if Path(source).is_dir() else download_catalogue_model(str(source))
        self.name = model_name(source)
        self.device = _resolve_device(device)
        self._tmp = tempfile.TemporaryDirectory(prefix="tts-coqui-")
        try:
            self.synth = Synthesizer(
                tts_checkpoint=find_checkpoint(model_dir),
                tts_config_path=repoint_config(model_dir, Path(self._tmp.name)),
                use_cuda=self.device == "cuda",
            )
        except ModelLoadError:
            raise
        except Exception as exc:
            raise ModelLoadError(f"Coqui cannot load {model_dir}: {exc}") from None
        self.model = self.synth.tts_model
        self.sample_rate = int(self.synth.output_sample_rate)
        self._lock = threading.Lock()  # the model object is mutated per request (length_scale)
        self._base_length_scale = getattr(self.model, "length_scale", None)

    def speakers(self) -> list[str]:
        """Speaker names of a multi-speaker model: an embedding table or a d-vector file (empty otherwise)."""
        manager = getattr(self.model, "speaker_manager", None)
        args = getattr(self.model, "args", None)
        if manager is None or not (getattr(args, "use_speaker_embedding", False) or getattr(args, "use_d_vector_file", False)):
            return []
        return list(manager.name_to_id)

    @property
    def can_clone(self) -> bool:
        """True when the model makes voices from reference audio: a speaker encoder, or its own cloning (XTTS)."""
        from TTS.tts.models.base_tts import BaseTTS

        if not callable(getattr(self.model, "clone_voice", None)):
            return False
        encoder = getattr(getattr(self.model, "speaker_manager", None), "encoder", None)
        own_cloning = type(self.model)._clone_voice is not BaseTTS._clone_voice
        return encoder is not None or own_cloning

    def languages(self) -> list[str]:
        """Language ids of a multi-lingual model (empty otherwise)."""
        manager = getattr(self.model, "language_manager", None)
        if manager is None or manager.num_languages <= 1:
            return []
        return list(manager.name_to_id)

    def voices(self) -> list[Voice]:
        """Speakers as voices (each speaking every model language), or the model as one voice."""
        langs = tuple(self.languages()) or (self._config_language(),)
        speakers = self.speakers()
        cloning = ("cloning",) if self.can_clone else ()
        if not speakers:
            return [Voice(self.name, langs, self.kind, self.sample_rate, capabilities=("speed", "seed", *cloning))]
        caps = ("speed", "seed", *(("mixing",) if hasattr(self.model, "emb_g") else ()), *cloning)
        return [Voice(s, langs, self.kind, self.sample_rate, speaker=s, capabilities=caps) for s in speakers]

    def clone(self, reference: AudioBuffer, voice_id: str, directory: Path) -> Voice:
        """Compute a voice from reference speech once and store it as `<directory>/<voice_id>.pth` (Coqui's format)."""
        if not self.can_clone:
            raise UnsupportedOption(f"model {self.name} cannot clone voices (no speaker encoder)")
        if not CLONE_ID.match(voice_id):
            raise UnsupportedOption(f"name: '{voice_id}' is not a valid voice id; use 1-63 of a-z, 0-9, '-', '_'")
        import soundfile

        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="tts-clone-") as tmp:
            sample = Path(tmp) / "reference.wav"
            soundfile.write(sample, reference.samples, reference.sample_rate, subtype="FLOAT")
            with self._lock:
                self.model.clone_voice(str(sample), speaker_id=voice_id, voice_dir=str(directory))
        return self.cloned_voice(voice_id, directory)

    def cloned_voice(self, voice_id: str, directory: Path) -> Voice:
        """The Voice of an embedding stored by `clone` (no computation)."""
        langs = tuple(self.languages()) or (self._config_language(),)
        return Voice(voice_id, langs, self.kind, self.sample_rate, speaker=voice_id,
                     capabilities=("speed", "seed", "cloned"), model=self.name, store=str(directory))

    def _config_language(self) -> str:
        return str(getattr(self.synth.tts_config, "phoneme_language", None) or "en")

    def synthesize(self, request: SynthesisRequest) -> AudioBuffer:
        """Run the model on one text."""
        kwargs = self._speed_kwargs(request.speed)
        with self._lock, self._blended(request.voice.mix):
            if request.seed is not None:
                import torch

                torch.manual_seed(request.seed)
            if self._base_length_scale is not None:
                self.model.length_scale = self._base_length_scale / request.speed
            if request.voice.store:
                kwargs["voice_dir"] = request.voice.store  # a cloned voice: Coqui loads <store>/<speaker>.pth
            wav = self.synth.tts(
                request.text,
                speaker_name=request.voice.speaker,
                language_name=request.language if self.languages() else None,
                split_sentences=True,
                **kwargs,
            )
        return AudioBuffer(np.asarray(wav, dtype=np.float32).reshape(-1), self.sample_rate)

    @contextmanager
    def _blended(self, mix: tuple[tuple[str, float], ...]) -> Iterator[None]:
        """Swap the speaker table for the weighted mean of the mixed speakers' embeddings (held under the lock)."""
        if not mix:
            yield
            return
        import torch

        table = self.model.emb_g
        ids = self.model.speaker_manager.name_to_id
        with torch.no_grad():
            vector = sum(weight * table.weight[ids[name]] for name, weight in mix)
        self.model.emb_g = _FixedEmbedding(vector)
        try:
            yield
        finally:
            self.model.emb_g = table

    def _speed_kwargs(self, speed: float) -> dict[str, Any]:
        if speed == 1.0 or self._base_length_scale is not None:
            return {}
        if "speed" in inspect.signature(self.model.inference).parameters:
            return {"speed": speed}  # XTTS and friends
        raise UnsupportedOption(f"speed: this model ({self.name}) has no speed control; use 1.0")

    def close(self) -> None:
        """Free the model and the temporary config."""
        self.synth = None  # type: ignore[assignment]
        self._tmp.cleanup()
