"""A local Coqui model catalogue: a `.models.json` plus a TTS_HOME holding those models as if downloaded.

Coqui's ModelManager looks a catalogue name up in its `.models.json`, then uses `TTS_HOME/tts/<type>--<lang>--
<dataset>--<model>/` when that directory exists ("already downloaded") and downloads only otherwise. Tests point
it (TTS_COQUI_CATALOGUE, TTS_HOME) at tiny models placed so, which exercises the catalogue path with no network.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

UNREACHABLE = "https://coqui-catalogue.invalid/{name}.zip"
"""Download address written into the entries; never fetched while the model is in TTS_HOME."""


def build_catalogue(root: Path, models: dict[str, Path], default_vocoders: dict[str, str] | None = None) -> Path:
    """Place `models` (catalogue name -> model directory) under `root/tts/` and write `root/models.json`.

    Args:
        root: Becomes TTS_HOME; `root/models.json` is the catalogue file.
        models: e.g. {"tts_models/en/tiny/tacotron2-DDC": <dir>, "vocoder_models/en/tiny/hifigan": <dir>}.
        default_vocoders: catalogue name -> its `default_vocoder` entry.
    """
    catalogue: dict[str, dict] = {}
    for name, source in models.items():
        model_type, lang, dataset, model = name.split("/")
        entry = {
            "description": f"tiny random-weight {model} (tests)",
            "license": "MIT",
            "github_rls_url": UNREACHABLE.format(name=name.replace("/", "--")),
        }
        if default_vocoders and name in default_vocoders:
            entry["default_vocoder"] = default_vocoders[name]
        catalogue.setdefault(model_type, {}).setdefault(lang, {}).setdefault(dataset, {})[model] = entry
        target = root / "tts" / name.replace("/", "--")
        if not target.exists():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("vocoder"))
    (root / "models.json").write_text(json.dumps(catalogue, indent=2), encoding="utf-8")
    return root / "models.json"


def fill_hf_cache(
    hf_home: Path,
    repo_id: str,
    model_dir: Path,
    subdir: str = "",
    commit: str = "0123456789abcdef0123456789abcdef01234567",
) -> Path:
    """Place `model_dir`'s files in a Hugging Face hub cache as if `repo_id` had been downloaded; return the snapshot.

    Catalogue entries with a `repo_id` (XTTS v2 `tts-hub/XTTS-v2`, OpenVoice `myshell-ai/OpenVoiceV2`) go through
    `huggingface_hub.snapshot_download`, which with HF_HUB_OFFLINE=1 returns `<HF_HOME>/hub/models--<org>--<name>/
    snapshots/<commit>/` when `refs/main` names that commit. Files land under `subdir` (OpenVoice: `converter`).
    """
    storage = hf_home / "hub" / f"models--{repo_id.replace('/', '--')}"
    snapshot = storage / "snapshots" / commit
    shutil.copytree(model_dir, snapshot / subdir if subdir else snapshot, dirs_exist_ok=True)
    (storage / "refs").mkdir(parents=True, exist_ok=True)
    (storage / "refs" / "main").write_text(commit, encoding="utf-8")
    return snapshot
