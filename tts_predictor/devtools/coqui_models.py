"""Build Coqui VITS model directories with random weights, laid out like a KServe `/mnt/models`.

Real Coqui weights cannot be downloaded everywhere (CI has no hub access), so tests build tiny
models and benchmarks build a full-size one. The directory holds `config.json` + `model.pth`,
plus `speakers.pth` / `language_ids.json` for multi-speaker / multi-lingual models, exactly as a
trained Coqui recipe leaves them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TINY_ARGS: dict[str, Any] = {
    "hidden_channels": 16,
    "hidden_channels_ffn_text_encoder": 32,
    "num_heads_text_encoder": 2,
    "num_layers_text_encoder": 1,
    "num_layers_posterior_encoder": 1,
    "num_layers_flow": 1,
    "resblock_type_decoder": "2",
    "resblock_kernel_sizes_decoder": [3],
    "resblock_dilation_sizes_decoder": [[1, 3]],
    "upsample_rates_decoder": [8, 8, 4],
    "upsample_initial_channel_decoder": 32,
    "upsample_kernel_sizes_decoder": [16, 16, 8],
    "speaker_embedding_channels": 8,
    "embedded_language_dim": 4,
    "init_discriminator": False,
}
"""Small enough to build and run in well under a second; hop length 256 = 8*8*4."""


def build_vits(
    out_dir: Path,
    *,
    speakers: list[str] | None = None,
    languages: list[str] | None = None,
    size: str = "tiny",
    seed: int = 0,
) -> Path:
    """Write a random-weight Coqui VITS model directory and return it.

    Args:
        out_dir: Target directory (created).
        speakers: Speaker names for a multi-speaker model (speaker embedding table).
        languages: Language ids for a multi-lingual model (language embedding table).
        size: ``"tiny"`` for tests or ``"full"`` for the stock VITS architecture (benchmarks).
        seed: Torch seed for the random weights.
    """
    import torch
    from TTS.tts.configs.vits_config import VitsConfig
    from TTS.tts.models.vits import Vits, VitsArgs

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    model_args = VitsArgs(**(TINY_ARGS if size == "tiny" else {"init_discriminator": False}))
    config = VitsConfig(model_args=model_args, use_phonemes=False, text_cleaner="english_cleaners")
    config.audio.sample_rate = 22050
    if speakers:
        torch.save({name: i for i, name in enumerate(speakers)}, out_dir / "speakers.pth")
        config.model_args.use_speaker_embedding = True
        config.model_args.speakers_file = str(out_dir / "speakers.pth")
        config.model_args.num_speakers = len(speakers)
        config.num_speakers = len(speakers)
    if languages:
        (out_dir / "language_ids.json").write_text(json.dumps({lang: i for i, lang in enumerate(languages)}))
        config.model_args.use_language_embedding = True
        config.model_args.language_ids_file = str(out_dir / "language_ids.json")
        config.use_language_weighted_sampler = False
    model = Vits.init_from_config(config)
    config.model_args.num_chars = model.args.num_chars
    torch.save({"model": model.state_dict(), "config": config.to_dict()}, out_dir / "model.pth")
    config.save_json(str(out_dir / "config.json"))
    return out_dir
