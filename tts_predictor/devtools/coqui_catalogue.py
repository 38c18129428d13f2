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
        entry = {"description": f"tiny random-weight {model} (tests)", "license": "MIT",
                 "github_rls_url": UNREACHABLE.format(name=name.replace("/", "--"))}
        if default_vocoders and name in default_vocoders:
            entry["default_vocoder"] = default_vocoders[name]
        catalogue.setdefault(model_type, {}).setdefault(lang, {}).setdefault(dataset, {})[model] = entry
        target = root / "tts" / name.replace("/", "--")
        if not target.exists():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("vocoder"))
    (root / "models.json").write_text(json.dumps(catalogue, indent=2), encoding="utf-8")
    return root / "models.json"
