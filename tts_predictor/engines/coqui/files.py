"""Where a Coqui model's files are: checkpoints, re-pointed configs, catalogue downloads, vocoders, fairseq MMS.

Imports Coqui only inside `fetch_catalogue_model` (its ModelManager); everything else reads files.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tts_predictor.errors import ModelLoadError

log = logging.getLogger(__name__)

CHECKPOINT_NAMES = ("model.pth", "model_file.pth", "best_model.pth", "model.safetensors", "model_file.pth.tar")
NOT_CHECKPOINTS = ("speakers.pth", "speakers_xtts.pth", "model_se.pth")
# Coqui configs store absolute paths from training time; a mounted model dir needs them re-pointed.
SIDE_FILES = {
    "speakers_file": ("speakers.pth", "speakers.json"),
    "language_ids_file": ("language_ids.json",),
    "d_vector_file": ("speakers.pth", "speakers.json"),
    "speaker_encoder_model_path": ("model_se.pth", "model_se.pth.tar"),  # YourTTS-style cloning models
    "speaker_encoder_config_path": ("config_se.json",),
    "stats_path": ("scale_stats.npy",),  # mean-variance spectrogram normalisation (Tacotron2-DDC, vocoders)
}
SPECTROGRAM_MODELS = frozenset(
    {
        "tacotron",
        "tacotron2",
        "glow_tts",
        "fast_pitch",
        "fast_speech",
        "fastspeech2",
        "speedy_speech",
        "align_tts",
        "overflow",
        "neuralhmm_tts",
    }
)
"""Coqui `config.model` values whose output is a mel spectrogram: they need a vocoder (else Griffin-Lim)."""
GRIFFIN_LIM = "griffin-lim"
UNDETERMINED = "und"
"""ISO 639 code for a language nobody named."""
VOCODER_SUBDIR = "vocoder"
FAIRSEQ_NAME = re.compile(r"(?:^|[/-])([a-z]{3})(?:/|--)fairseq(?:/|--)vits$")
"""An MMS model's ISO 639-3 code in its catalogue name (tts_models/deu/fairseq/vits) or its download directory."""


def find_checkpoint(model_dir: Path) -> Path:
    """The checkpoint file of a Coqui model directory."""
    for name in CHECKPOINT_NAMES:
        if (model_dir / name).is_file():
            return model_dir / name
    candidates = sorted(p for p in model_dir.glob("*.pth") if p.name not in NOT_CHECKPOINTS)
    if not candidates:
        raise ModelLoadError(f"{model_dir} has no checkpoint; expected one of {', '.join(CHECKPOINT_NAMES)}")
    return candidates[-1]


def read_config(model_dir: Path) -> dict[str, Any]:
    """config.json of a model directory, or a ModelLoadError naming the file."""
    config_path = model_dir / "config.json"
    try:
        config: dict[str, Any] = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{config_path} is missing or not JSON: {exc}") from None
    return config


def repoint_config(model_dir: Path, out_dir: Path, overrides: dict[str, Any] | None = None) -> Path:
    """Copy config.json with side-file paths pointed into `model_dir` and top-level `overrides` set; return the
    copy's path."""
    config = {**read_config(model_dir), **(overrides or {})}
    for section in (config, config.get("model_args") or {}, config.get("audio") or {}):
        for key, names in SIDE_FILES.items():
            if not section.get(key):
                continue
            local = next((model_dir / n for n in names if (model_dir / n).is_file()), None)
            if local is not None:
                section[key] = str(local)
    out_dir.mkdir(parents=True, exist_ok=True)
    patched = out_dir / "config.json"
    patched.write_text(json.dumps(config), encoding="utf-8")
    return patched


def model_name(source: str | Path) -> str:
    """The name a Coqui model is served under: its directory's name, or the catalogue name with '/' -> '--'."""
    source = str(source)
    return Path(source).name if source.startswith(("/", ".")) else source.replace("/", "--")


@dataclass(frozen=True)
class CatalogueModel:
    """A catalogue model on disk."""

    path: Path
    """Its directory (in TTS_HOME)."""
    default_vocoder: str | None
    """The catalogue entry's `default_vocoder` (spectrogram models), e.g. vocoder_models/en/ljspeech/hifigan_v2."""
    config: Path | None = None
    """The config.json Coqui's ModelManager names for it; Tortoise's lies in TTS_HOME, apart from its weights."""


def fetch_catalogue_model(name: str, catalogue: str | None = None) -> CatalogueModel:
    """A catalogue model's directory: from TTS_HOME if it is there, else downloaded (Coqui's ModelManager)."""
    from TTS.utils.manage import ModelManager

    try:
        manager = ModelManager(models_file=catalogue, progress_bar=True)
        _check_terms(manager, name)
        model_path, config_path, item = manager.download_model(name)
    except ModelLoadError:
        raise
    except Exception as exc:  # network errors, unknown names
        raise ModelLoadError(
            f"cannot get Coqui model '{name}': {exc}. Without internet access, mount the model directory "
            "and set TTS_MODEL to it (e.g. /mnt/models), or pre-fill TTS_HOME."
        ) from None
    path = Path(model_path)
    return CatalogueModel(
        path if path.is_dir() else path.parent,
        item.get("default_vocoder") or None,
        Path(config_path) if config_path else None,
    )


def joined_directory(model: CatalogueModel, out_dir: Path) -> Path:
    """The model's directory, or when its config.json lies elsewhere (Coqui's tortoise-v2: weights in the Hugging
    Face cache, config in TTS_HOME) a directory of links to both in `out_dir` (files linked one by one: Coqui's
    Tortoise loader searches with `rglob`, which does not descend into linked directories)."""
    if (model.path / "config.json").is_file() or model.config is None or not model.config.is_file():
        return model.path
    for file in (p for p in model.path.rglob("*") if p.is_file()):
        link = out_dir / file.relative_to(model.path)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(file.resolve())
    (out_dir / "config.json").symlink_to(model.config.resolve())
    return out_dir


def _check_terms(manager: Any, name: str) -> None:
    """Refuse a catalogue model whose licence must be accepted (XTTS: CPML) unless it was, instead of letting Coqui
    ask on stdin (`ModelManager.ask_tos` calls input(): a server would hang or fail with EOFError)."""
    parts = name.split("/")
    if len(parts) != 4 or "fairseq" in name:
        return
    item = manager.models_dict.get(parts[0], {}).get(parts[1], {}).get(parts[2], {}).get(parts[3])
    if not item or not item.get("tos_required"):
        return
    folder = manager.output_prefix / name.replace("/", "--")
    if not manager.tos_agreed(item, folder):
        raise ModelLoadError(
            f"Coqui model '{name}' is under a licence you must accept first ({item.get('license', 'see its card')}): "
            f"set COQUI_TOS_AGREED=1 (Coqui's switch for it) or put tos_agreed.txt in {folder}"
        )


def is_spectrogram_model(model_dir: Path) -> bool:
    """True when the model outputs mel spectrograms (it needs a vocoder)."""
    return str(read_config(model_dir).get("model", "")).lower() in SPECTROGRAM_MODELS


@dataclass(frozen=True)
class VocoderChoice:
    """The vocoder a spectrogram model speaks through."""

    directory: Path | None
    """Vocoder model directory; None for Griffin-Lim."""
    label: str
    """Shown in /v1/voices: the vocoder's catalogue name or directory name, or ``griffin-lim``."""
    asked: bool = False
    """True when Griffin-Lim was asked for (TTS_VOCODER=griffin-lim): no warning."""


def choose_vocoder(model_dir: Path, setting: str, default_vocoder: str | None, catalogue: str | None) -> VocoderChoice:
    """TTS_VOCODER if set, else the model's `vocoder/` subdirectory, else the catalogue's default, else Griffin-Lim."""
    setting = setting.strip()
    if setting.lower() == GRIFFIN_LIM:
        return VocoderChoice(None, GRIFFIN_LIM, asked=True)
    if setting:
        path = Path(setting)
        if path.is_dir():
            return VocoderChoice(path, path.name)
        if setting.startswith(("/", ".")):
            raise ModelLoadError(
                f"TTS_VOCODER {setting} is not a directory; give a vocoder directory, a catalogue "
                "name such as vocoder_models/en/ljspeech/hifigan_v2, or griffin-lim"
            )
        return VocoderChoice(fetch_catalogue_model(setting, catalogue).path, setting)
    if (model_dir / VOCODER_SUBDIR / "config.json").is_file():
        return VocoderChoice(model_dir / VOCODER_SUBDIR, f"{model_dir.name}/{VOCODER_SUBDIR}")
    if default_vocoder:
        return VocoderChoice(fetch_catalogue_model(default_vocoder, catalogue).path, default_vocoder)
    return VocoderChoice(None, GRIFFIN_LIM)


HEAVY_FAMILIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # family: (files its Coqui loader opens in the model directory, Hugging Face repos it loads at start)
    "bark": (("text_2.pt", "coarse_2.pt", "fine_2.pt"), ("bert-base-multilingual-cased", "facebook/encodec_24khz")),
    "tortoise": (("autoregressive.pth", "diffusion_decoder.pth", "clvp2.pth", "vocoder.pth", "mel_norms.pth"), ()),
}
"""Bark (TTS/tts/models/bark.py: load_checkpoint, and __init__'s from_pretrained calls) and Tortoise
(TTS/tts/models/tortoise.py: load_checkpoint): checked before loading, so a missing piece is named at start
instead of a download attempt or a StopIteration from deep inside Coqui."""


def model_family(model_dir: Path) -> str:
    """The `model` field of a Coqui config.json, lower case ("" when absent, e.g. fairseq's own config)."""
    family = read_config(model_dir).get("model", "")
    return family.lower() if isinstance(family, str) else ""


def check_family_files(model_dir: Path) -> None:
    """Refuse a Bark or Tortoise directory that lacks a file (or a Hugging Face cache entry) its loader needs."""
    family = model_family(model_dir)
    if family not in HEAVY_FAMILIES:
        return
    files, repos = HEAVY_FAMILIES[family]
    missing = [name for name in files if not any(model_dir.rglob(name))]
    if repos:
        from huggingface_hub import try_to_load_from_cache

        missing += [
            f"{repo} (Hugging Face cache)"
            for repo in repos
            if not isinstance(try_to_load_from_cache(repo, "config.json"), str)
        ]
    if missing:
        raise ModelLoadError(
            f"{model_dir} is a Coqui {family} model but lacks {', '.join(missing)}; put the files in the model "
            "directory"
            + (" and pre-fill HF_HOME with those repositories (HF_HUB_OFFLINE=1)" if repos else "")
            + f". {family.capitalize()} is also very slow (many seconds per sentence even on a GPU)"
        )


def is_fairseq_dir(model_dir: Path) -> bool:
    """fairseq MMS layout: `G_<step>.pth` + `vocab.txt` + fairseq's own config.json."""
    return (model_dir / "vocab.txt").is_file() and any(model_dir.glob("G_*.pth"))


def fairseq_language(source: str, model_dir: Path) -> str:
    """An MMS model's ISO 639-3 code, from its catalogue name or download directory name; ``und`` if neither says."""
    for text in (source.rstrip("/"), model_dir.name):
        match = FAIRSEQ_NAME.search(text)
        if match:
            return match.group(1)
    log.warning(
        "cannot tell the language of the MMS model in %s: name its directory like the catalogue does "
        "(tts_models--<iso>--fairseq--vits); serving it as 'und' (undetermined)",
        model_dir,
    )
    return UNDETERMINED


def fairseq_checkpoint(model_dir: Path, tmp: Path) -> Path:
    """A path to the MMS checkpoint that Coqui's Synthesizer recognises as fairseq.

    Synthesizer picks its fairseq loader when the checkpoint path contains "fairseq" (TTS/utils/synthesizer.py,
    `__init__`), true for its own downloads but not for a mounted /mnt/models: a link named so bridges that.
    """
    checkpoint = sorted(model_dir.glob("G_*.pth"))[-1].name  # Vits.load_fairseq_checkpoint reads its siblings
    if "fairseq" in str(model_dir):
        return model_dir / checkpoint
    link = tmp / "fairseq-model"
    link.symlink_to(model_dir.resolve(), target_is_directory=True)
    return link / checkpoint
