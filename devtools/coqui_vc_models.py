"""Build tiny voice-conversion models with random weights (OpenVoice, FreeVC + its WavLM), in their on-disk layouts.

The catalogue's `voice_conversion_models/multilingual/multi-dataset/openvoice_v2` is the Hugging Face repository
`myshell-ai/OpenVoiceV2`, whose `converter/` folder holds OpenVoice's own `config.json` (sections `data` and
`model`) and `checkpoint.pth` (`{"model": state_dict}`). This builder writes the same two files from Coqui's own
`OpenVoiceArgs` and `OpenVoice` class with small channel counts; the reference encoder's convolution stack and
GRU have fixed sizes in Coqui, so they are the real ones. OpenVoice needs no other download.

FreeVC (`voice_conversion_models/multilingual/vctk/freevc24`: Coqui's `config.json` + `model.pth`) also needs its
WavLM content encoder, which Coqui's FreeVC loads at construction from `<TTS_HOME>/tts/wavlm/WavLM-Large.pt`
(`trainer.io.get_user_data_dir("tts")`), downloading it from GitHub only when that file is absent
(TTS/vc/layers/freevc/wavlm/__init__.py, `get_wavlm`). `build_freevc` writes a tiny WavLM there, in the same
checkpoint format (`{"cfg": WavLMConfig fields, "model": state_dict}`), so nothing is downloaded.
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


TINY_WAVLM_CFG: dict[str, Any] = {
    "extractor_mode": "layer_norm",
    "encoder_layers": 1,
    "encoder_embed_dim": 32,
    "encoder_ffn_embed_dim": 64,
    "encoder_attention_heads": 2,
    "layer_norm_first": True,
    "normalize": True,
    "conv_pos": 16,
    "conv_pos_groups": 4,
    "conv_feature_layers": "[(32,10,5)] + [(32,3,2)] * 4 + [(32,2,2)] * 2",  # the real stride: 320 samples per frame
    "relative_position_embedding": True,
    "num_buckets": 32,
    "max_distance": 128,
    "gru_rel_pos": True,
}
"""WavLM-Large's switches (layer-norm extractor, pre-norm, gated relative positions) with a 1-layer 32-wide body."""
TINY_FREEVC_ARGS: dict[str, Any] = {
    "inter_channels": 16,
    "hidden_channels": 16,
    "filter_channels": 32,
    "resblock_kernel_sizes": [3],
    "resblock_dilation_sizes": [[1, 3, 5]],
    "upsample_rates": [10, 6, 4, 2],
    "upsample_kernel_sizes": [20, 12, 8, 4],
    "upsample_initial_channel": 32,
    "gin_channels": 16,
    "ssl_dim": TINY_WAVLM_CFG["encoder_embed_dim"],
    "use_spk": False,
}
"""FreeVC-24's layout (WavLM frames every 320 samples at 16 kHz in; upsampling 10·6·4·2 = 480 samples at 24 kHz
out, so the duration is kept) with small channel counts; its own
mel speaker encoder (use_spk=False, as Coqui's default) so no pretrained speaker encoder is fetched."""


def build_wavlm(tts_home: Path, *, seed: int = 0) -> Path:
    """Write a tiny random-weight WavLM where Coqui's FreeVC looks for WavLM-Large.pt under `tts_home`."""
    import torch
    from TTS.vc.layers.freevc.wavlm.wavlm import WavLM, WavLMConfig

    torch.manual_seed(seed)
    model = WavLM(WavLMConfig(TINY_WAVLM_CFG))
    path = Path(tts_home) / "tts" / "wavlm" / "WavLM-Large.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"cfg": TINY_WAVLM_CFG, "model": model.state_dict()}, path)
    return path


def build_freevc(out_dir: Path, tts_home: Path, *, seed: int = 0) -> Path:
    """Write `config.json` + `model.pth` of a random-weight FreeVC (Coqui's format), and its WavLM in `tts_home`."""
    import os

    import torch
    from TTS.vc.configs.freevc_config import FreeVCArgs, FreeVCConfig
    from TTS.vc.models.freevc import FreeVC

    build_wavlm(tts_home, seed=seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    config = FreeVCConfig(model_args=FreeVCArgs(**TINY_FREEVC_ARGS))
    previous = os.environ.get("TTS_HOME")
    os.environ["TTS_HOME"] = str(tts_home)  # FreeVC's constructor loads the WavLM from there
    try:
        model = FreeVC(config)
    finally:
        os.environ.pop("TTS_HOME") if previous is None else os.environ.__setitem__("TTS_HOME", previous)
    config.save_json(str(out_dir / "config.json"))
    # Coqui loads it strictly (BaseTrainerModel.load_checkpoint), so the WavLM's weights are in it too
    torch.save({"model": model.state_dict()}, out_dir / "model.pth")
    return out_dir
