"""Build a tiny OpenVoice voice-conversion model with random weights, in the layout its catalogue entry ships.

The catalogue's `voice_conversion_models/multilingual/multi-dataset/openvoice_v2` is the Hugging Face repository
`myshell-ai/OpenVoiceV2`, whose `converter/` folder holds OpenVoice's own `config.json` (sections `data` and
`model`) and `checkpoint.pth` (`{"model": state_dict}`). This builder writes the same two files from Coqui's own
`OpenVoiceArgs` and `OpenVoice` class with small channel counts; the reference encoder's convolution stack and
GRU have fixed sizes in Coqui, so they are the real ones. OpenVoice needs no other download (unlike FreeVC, whose
WavLM content encoder Coqui fetches at construction).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OPENVOICE_AUDIO = {"sampling_rate": 22050, "filter_length": 1024, "hop_length": 256, "win_length": 1024}
"""OpenVoice v2's `data` section (the real values: 22.05 kHz, 1024-point linear spectrogram, hop 256)."""
TINY_OPENVOICE_ARGS: dict[str, Any] = {
    "zero_g": True,
    "inter_channels": 16,
    "hidden_channels": 16,
    "filter_channels": 32,
    "resblock": "1",
    "resblock_kernel_sizes": [3],
    "resblock_dilation_sizes": [[1, 3, 5]],
    "upsample_rates": [8, 8, 2, 2],  # their product is the hop length
    "upsample_initial_channel": 32,
    "upsample_kernel_sizes": [16, 16, 4, 4],
    "gin_channels": 16,
}
"""OpenVoice's `model` section with small channel counts (the real one: 192 / 192 / 768, 512, gin 256)."""


def build_openvoice(out_dir: Path, *, seed: int = 0) -> Path:
    """Write `config.json` + `checkpoint.pth` of a random-weight OpenVoice converter into `out_dir`; return it."""
    import torch
    from TTS.vc.configs.openvoice_config import OpenVoiceArgs, OpenVoiceConfig
    from TTS.vc.models.openvoice import OpenVoice

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    config = OpenVoiceConfig(model_args=OpenVoiceArgs(**TINY_OPENVOICE_ARGS))
    model = OpenVoice(config)
    with torch.no_grad():  # random weights small enough that the flows and decoder stay finite
        for param in model.parameters():
            param.mul_(0.5)
    raw = {"_version_": "v2", "data": {**OPENVOICE_AUDIO, "n_speakers": 0}, "model": TINY_OPENVOICE_ARGS}
    (out_dir / "config.json").write_text(json.dumps(raw, indent=2), encoding="utf-8")
    torch.save({"model": model.state_dict()}, out_dir / "checkpoint.pth")
    return out_dir
