"""Coqui Bark: loaded from its model directory as it stands (nothing deleted or downloaded), speaker prompts as voices.

Coqui's Bark loader (TTS/tts/layers/bark/load_model.py, `load_model`) deletes a checkpoint whose MD5 differs from
the released file's and downloads the released one in its place unless the config says `USE_SMALLER_MODELS`, a
flag that switches nothing else (it guards only that check). A fine-tune, a tiny test model or a read-only
/mnt/models must never meet that, so the config handed to Coqui sets it, after `coqui_files.check_family_files`
and `load` here have found every file Bark opens: then `load_model` finds each checkpoint and downloads nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tts_predictor.engines.coqui import files
from tts_predictor.errors import ModelLoadError

FAMILY = "bark"
CHECKPOINTS = files.HEAVY_FAMILIES[FAMILY][0]
"""text_2.pt, coarse_2.pt, fine_2.pt: Bark.load_checkpoint opens them in the checkpoint directory itself."""
LANGUAGES = ("en", "de", "es", "fr", "hi", "it", "ja", "ko", "pl", "pt", "ru", "tr", "zh")
"""The languages suno lists for Bark (suno-ai/bark README, "Supported Languages"). Bark takes no language id: it
reads the language from the text, so these only let requests name them (Coqui gets no language)."""
VOICES_SUBDIR = "voices"
"""Coqui's Synthesizer looks for speaker prompts (`<name>.npz`, suno's history prompts) in `<model>/voices/`."""


def is_bark(model: Any) -> bool:
    """True for Coqui's Bark model class."""
    return type(model).__name__ == "Bark" and hasattr(model, "load_bark_models")


def load(model_dir: Path, tmp: Path, *, use_cuda: bool) -> Any:
    """Coqui's Synthesizer for a Bark directory whose files were checked by `coqui_files.check_family_files`."""
    from TTS.utils.synthesizer import Synthesizer

    elsewhere = [name for name in CHECKPOINTS if not (model_dir / name).is_file()]
    if elsewhere:  # the family check found them deeper; Coqui would try to download them here
        raise ModelLoadError(f"{model_dir} is a Coqui bark model: put {', '.join(elsewhere)} next to its config.json")
    # keep load_model from replacing a checkpoint that is not suno's release
    patched = files.repoint_config(model_dir, tmp, overrides={"USE_SMALLER_MODELS": True})
    # a directory checkpoint: Bark.load_checkpoint(checkpoint_dir=...) reads the three files from it
    return Synthesizer(tts_checkpoint=model_dir, tts_config_path=patched, use_cuda=use_cuda)


def speakers(model: Any, voice_dir: Path) -> list[str]:
    """Names of the speaker prompts in `voice_dir` that Coqui finds by name (`Bark.load_voice_file` slugifies it)."""
    from TTS.utils.generic_utils import slugify

    return sorted(name for name in model.get_voices(voice_dir) if slugify(name) == name)


def generation_kwargs(max_seconds: float) -> dict[str, Any]:
    """Keyword arguments for every Bark sentence (Synthesizer.tts hands them to `generate_text_semantic`).

    `max_gen_duration_s` stops the semantic GPT after that much audio (TTS_BARK_MAX_SECONDS; 0: Bark's own
    768 tokens); the coarse and fine stages follow its length. `silent` drops that stage's tqdm bar from the log.
    """
    return {"silent": True, **({"max_gen_duration_s": max_seconds} if max_seconds > 0 else {})}
