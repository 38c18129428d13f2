"""Build tiny Coqui spectrogram models (Tacotron2-DDC, Glow-TTS, FastPitch) and vocoders (HiFi-GAN, MelGAN).

Each is a model directory as the catalogue ships it (`config.json` + `model_file.pth`), from Coqui's own config
classes with small sizes and random weights. A vocoder directory can be placed as `<model>/vocoder/` (the layout
this project reads) or named with TTS_VOCODER. The vocoder's sample rate is chosen apart from the spectrogram
model's, so a test can tell from the output rate that the vocoder ran (Griffin-Lim keeps the model's rate).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

HOP = 256
"""Hop length of every model here; each vocoder's upsampling factors multiply to it."""
SPECTROGRAM_KINDS = ("tacotron2-ddc", "glow-tts", "fast-pitch")
VOCODER_KINDS = ("hifigan", "melgan")


def _tacotron2_ddc() -> Any:
    from TTS.tts.configs.tacotron2_config import Tacotron2Config

    # Tacotron2's layer sizes are fixed in Coqui; max_decoder_steps caps the random decoder (no stop token)
    return Tacotron2Config(r=2, double_decoder_consistency=True, ddc_r=6, max_decoder_steps=60)


def _glow_tts() -> Any:
    from TTS.tts.configs.glow_tts_config import GlowTTSConfig

    return GlowTTSConfig(
        hidden_channels_enc=32,
        hidden_channels_dec=32,
        hidden_channels_dp=32,
        num_flow_blocks_dec=2,
        num_block_layers=1,
        encoder_params={
            "kernel_size": 3,
            "dropout_p": 0.1,
            "num_layers": 1,
            "num_heads": 2,
            "hidden_channels_ffn": 32,
            "input_length": None,
        },
    )


def _fast_pitch() -> Any:
    from TTS.tts.configs.fast_pitch_config import FastPitchConfig
    from TTS.tts.configs.forward_tts_config import ForwardTTSArgs

    layers = {"hidden_channels_ffn": 32, "num_heads": 2, "num_layers": 1, "dropout_p": 0.1}
    args = ForwardTTSArgs(
        hidden_channels=32,
        pitch_predictor_hidden_channels=16,
        duration_predictor_hidden_channels=16,
        encoder_params=layers,
        decoder_params=layers,
    )
    return FastPitchConfig(model_args=args, compute_f0=False)


BUILDERS = {"tacotron2-ddc": _tacotron2_ddc, "glow-tts": _glow_tts, "fast-pitch": _fast_pitch}


def build_spectrogram_model(out_dir: Path, kind: str, *, sample_rate: int = 22050, seed: int = 0) -> Path:
    """Write a random-weight spectrogram model directory (no vocoder) and return it."""
    import torch
    from TTS.tts.models import setup_model

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    config = BUILDERS[kind]()
    config.use_phonemes = False
    config.text_cleaner = "english_cleaners"
    config.audio.sample_rate = sample_rate
    config.audio.hop_length = HOP
    model = setup_model(config)
    torch.save({"model": model.state_dict(), "config": config.to_dict()}, out_dir / "model_file.pth")
    config.save_json(str(out_dir / "config.json"))
    return out_dir


def build_vocoder(out_dir: Path, kind: str = "hifigan", *, sample_rate: int = 16000, seed: int = 0) -> Path:
    """Write a random-weight GAN vocoder directory (generator weights, the catalogue's older layout)."""
    import torch
    from TTS.vocoder.configs import HifiganConfig, MelganConfig
    from TTS.vocoder.models import setup_generator

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    if kind == "hifigan":
        config = HifiganConfig(
            generator_model_params={
                "upsample_factors": [8, 8, 4],
                "upsample_kernel_sizes": [16, 16, 8],
                "upsample_initial_channel": 32,
                "resblock_kernel_sizes": [3],
                "resblock_dilation_sizes": [[1, 3]],
                "resblock_type": "2",
            }
        )
    else:
        config = MelganConfig(
            generator_model_params={"upsample_factors": [8, 8, 4], "num_res_blocks": 1, "base_channels": 32}
        )
    config.audio.sample_rate = sample_rate
    config.audio.hop_length = HOP
    generator = setup_generator(config)
    # `model_disc` marks a checkpoint holding the generator alone: Coqui's GAN loader then reads just that
    # (TTS/vocoder/models/gan.py, load_checkpoint), as for the catalogue's older vocoders
    torch.save(
        {"model": generator.state_dict(), "model_disc": {}, "config": config.to_dict()}, out_dir / "model_file.pth"
    )
    config.save_json(str(out_dir / "config.json"))
    return out_dir
