"""Build a tiny Tortoise model directory with random weights, in the layout Coqui's catalogue downloads.

Coqui's `tts_models/en/multi-dataset/tortoise-v2` is a snapshot of the Hugging Face repository
`jbetker/tortoise-tts-v2` (`.models/autoregressive.pth`, `diffusion_decoder.pth`, `clvp2.pth`, `vocoder.pth`,
`data/mel_norms.pth`) plus a `config.json` of Coqui's `TortoiseConfig`. This builder writes the same files from
Coqui's own classes: the UnifiedVoice GPT, the DiffusionTts decoder and CLVP at the small sizes `TortoiseArgs`
lets us set; the UnivNet vocoder has fixed sizes in Coqui (`UnivNetGenerator()`), so it is the real one (15 M
parameters), randomly initialised. Its tokenizer is the one bundled with coqui-tts. Built-in voices are written
both ways the engine reads them: a Coqui voice file (`voices/<id>.pth`) and a Tortoise voice folder of clips
(`voices/<name>/*.wav`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

TINY_TORTOISE_ARGS: dict[str, Any] = {
    "ar_layers": 1,
    "ar_model_dim": 32,
    "ar_heads": 2,
    "ar_max_mel_tokens": 24,  # random weights never emit the stop token: this caps a sentence (~1.1 s)
    "diff_model_channels": 32,
    "diff_num_layers": 1,
    "diff_num_heads": 2,
    "diff_in_latent_channels": 32,  # the diffusion decoder reads the GPT's latents: same width
    "clvp_dim_text": 32,
    "clvp_dim_speech": 32,
    "clvp_dim_latent": 32,
    "clvp_text_enc_depth": 1,
    "clvp_speech_enc_depth": 1,
    "clvp_text_heads": 2,
    "clvp_speech_heads": 2,
}
"""One-layer, 32-wide networks; the mel-code (8194) and text (256) vocabularies are Tortoise's own."""
TINY_WORK = {"num_autoregressive_samples": 1, "diffusion_iterations": 2}
"""TortoiseConfig fields the engine runs every sentence with (real weights ship 16 and 30)."""
MEL_CHANNELS = 80
"""`mel_norms.pth` holds one norm per channel of the conditioning mel (`TorchMelSpectrogram`, 80 channels)."""


def _clip(path: Path, seed: int, seconds: float = 3.0) -> Path:
    """Seeded noise at 22.05 kHz as a float WAV (a stand-in for a voice sample)."""
    import numpy as np
    import soundfile

    path.parent.mkdir(parents=True, exist_ok=True)
    noise = 0.1 * np.random.default_rng(seed).standard_normal(int(22050 * seconds)).astype(np.float32)
    soundfile.write(path, noise, 22050, subtype="FLOAT")
    return path


def build_tortoise(
    out_dir: Path,
    *,
    file_voices: tuple[str, ...] = ("tiny-file",),
    folder_voices: tuple[str, ...] = ("tiny-folder",),
    seed: int = 0,
    **overrides: Any,
) -> Path:
    """Write a random-weight Tortoise model directory and return it.

    Args:
        out_dir: Target directory (created).
        file_voices: Voices written as Coqui voice files, `voices/<id>.pth` (latents computed here).
        folder_voices: Voices written as Tortoise voice folders, `voices/<name>/clip.wav` (the engine computes them).
        seed: Torch seed for the weights and the voices' clips.
        overrides: TortoiseArgs fields to change from `TINY_TORTOISE_ARGS`.
    """
    import torch
    from TTS.tts.configs.tortoise_config import TortoiseArgs, TortoiseConfig
    from TTS.tts.models.tortoise import Tortoise

    out_dir = Path(out_dir)
    models, data = out_dir / ".models", out_dir / "data"
    models.mkdir(parents=True, exist_ok=True)
    data.mkdir(exist_ok=True)
    torch.manual_seed(seed)
    config = TortoiseConfig(model_args=TortoiseArgs(**{**TINY_TORTOISE_ARGS, **overrides}), **TINY_WORK)
    model = Tortoise(config)
    torch.save(model.autoregressive.state_dict(), models / "autoregressive.pth")
    torch.save(model.diffusion.state_dict(), models / "diffusion_decoder.pth")
    torch.save(model.clvp.state_dict(), models / "clvp2.pth")
    torch.save({"model_g": model.vocoder.state_dict()}, models / "vocoder.pth")  # UnivNet's checkpoint key
    torch.save(torch.ones(MEL_CHANNELS), data / "mel_norms.pth")
    config.save_json(str(out_dir / "config.json"))
    model.eval()
    model.mel_norm_path = data / "mel_norms.pth"  # load_checkpoint would set it
    with tempfile.TemporaryDirectory(prefix="tiny-tortoise-") as tmp:
        for number, name in enumerate(file_voices):
            clip = _clip(Path(tmp) / f"{name}.wav", seed + number)
            model.clone_voice(str(clip), speaker_id=name, voice_dir=str(out_dir / "voices"))
    for number, name in enumerate(folder_voices):
        _clip(out_dir / "voices" / name / "clip.wav", seed + 100 + number)
    return out_dir
