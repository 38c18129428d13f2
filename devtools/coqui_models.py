"""Build Coqui VITS model directories with random weights, laid out like a KServe `/mnt/models`.

Real Coqui weights cannot be downloaded everywhere (CI has no hub access), so tests build tiny
models and benchmarks build a full-size one. The directory holds `config.json` + `model.pth`,
plus `speakers.pth` / `language_ids.json` for multi-speaker / multi-lingual models, exactly as a
trained Coqui recipe leaves them. A cloning model (YourTTS-style) has d-vector speakers (`speakers.pth`
holding embeddings) and a speaker encoder (`model_se.pth` + `config_se.json`).
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
TINY_D_VECTOR_DIM = 16


def build_speaker_encoder(out_dir: Path, dim: int) -> tuple[Path, Path]:
    """A tiny random LSTM speaker encoder (16 kHz, 40 mels) as Coqui lays it out: model_se.pth + config_se.json."""
    import torch
    from TTS.config.shared_configs import BaseAudioConfig
    from TTS.encoder.configs.speaker_encoder_config import SpeakerEncoderConfig
    from TTS.encoder.utils.generic_utils import setup_encoder_model

    config = SpeakerEncoderConfig(
        audio=BaseAudioConfig(num_mels=40, sample_rate=16000),
        model_params={
            "model_name": "lstm",
            "input_dim": 40,
            "proj_dim": dim,
            "lstm_dim": 32,
            "num_lstm_layers": 1,
            "use_lstm_with_projection": True,
        },
        num_loader_workers=0,
        num_classes_in_batch=1,
        num_utter_per_class=1,
    )
    torch.save({"model": setup_encoder_model(config).state_dict()}, out_dir / "model_se.pth")
    config.save_json(str(out_dir / "config_se.json"))
    return out_dir / "model_se.pth", out_dir / "config_se.json"


def build_vits(
    out_dir: Path,
    *,
    speakers: list[str] | None = None,
    languages: list[str] | None = None,
    size: str = "tiny",
    seed: int = 0,
    cloning: bool = False,
) -> Path:
    """Write a random-weight Coqui VITS model directory and return it.

    Args:
        out_dir: Target directory (created).
        speakers: Speaker names for a multi-speaker model (speaker embedding table).
        languages: Language ids for a multi-lingual model (language embedding table).
        size: ``"tiny"`` for tests or ``"full"`` for the stock VITS architecture (benchmarks).
        seed: Torch seed for the random weights.
        cloning: d-vector speakers (random embeddings) plus a speaker encoder, so voices clone from samples.
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
    if cloning:
        dim = TINY_D_VECTOR_DIM if size == "tiny" else 512
        names = speakers or ["speaker"]
        torch.save({n: {"name": n, "embedding": torch.randn(dim).tolist()} for n in names}, out_dir / "speakers.pth")
        encoder, encoder_config = build_speaker_encoder(out_dir, dim)
        for section in (config, config.model_args):
            section.use_d_vector_file, section.d_vector_file, section.d_vector_dim = (
                True,
                str(out_dir / "speakers.pth"),
                dim,
            )
        config.model_args.speaker_encoder_model_path = str(encoder)
        config.model_args.speaker_encoder_config_path = str(encoder_config)
    elif speakers:
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


_FAIRSEQ_RENAMES = (  # Coqui's key prefix -> fairseq's (the inverse of TTS/tts/utils/fairseq.py)
    ("text_encoder.", "enc_p."),
    ("waveform_decoder.", "dec."),
    ("posterior_encoder.", "enc_q."),
    ("flow.flows.1.", "flow.flows.2."),
    ("flow.flows.2.", "flow.flows.4."),
    ("flow.flows.3.", "flow.flows.6."),
    ("duration_predictor.flows.0.translation", "dp.flows.0.m"),
    ("duration_predictor.flows.0.log_scale", "dp.flows.0.logs"),
    ("duration_predictor.flows.1", "dp.flows.1"),
    ("duration_predictor.flows.2", "dp.flows.3"),
    ("duration_predictor.flows.3", "dp.flows.5"),
    ("duration_predictor.flows.4", "dp.flows.7"),
    ("duration_predictor.post_flows.0.translation", "dp.post_flows.0.m"),
    ("duration_predictor.post_flows.0.log_scale", "dp.post_flows.0.logs"),
    ("duration_predictor.post_flows.1", "dp.post_flows.1"),
    ("duration_predictor.post_flows.2", "dp.post_flows.3"),
    ("duration_predictor.post_flows.3", "dp.post_flows.5"),
    ("duration_predictor.post_flows.4", "dp.post_flows.7"),
    ("duration_predictor.", "dp."),
)
FAIRSEQ_VOCAB = ["_", *" abcdefghijklmnopqrstuvwxyzäöüß'-.,!?"]
"""vocab.txt: the blank first, then one character per line (MMS models list their language's letters)."""


def build_fairseq_vits(out_dir: Path, *, sample_rate: int = 16000, seed: int = 0) -> Path:
    """A random-weight MMS VITS in fairseq's layout: G_100000.pth (fairseq key names), vocab.txt, config.json.

    Coqui loads fairseq checkpoints into its default VitsConfig architecture (Synthesizer._load_fairseq), so this
    model is full-size (~36 M parameters, ~140 MB), not tiny: its sizes are not configurable.
    """
    import torch
    from torch import nn
    from TTS.tts.configs.vits_config import VitsConfig
    from TTS.tts.models.vits import Vits

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    model = Vits(VitsConfig())
    model.text_encoder.emb = nn.Embedding(len(FAIRSEQ_VOCAB), model.args.hidden_channels)
    state = {}
    for key, value in model.state_dict().items():
        if key.startswith("disc."):
            continue
        new = next((key.replace(a, b, 1) for a, b in _FAIRSEQ_RENAMES if key.startswith(a)), key)
        state[new] = value
    torch.save({"model": state, "iteration": 100000}, out_dir / "G_100000.pth")
    (out_dir / "vocab.txt").write_text("\n".join(FAIRSEQ_VOCAB) + "\n", encoding="utf-8")
    config = {"data": {"sampling_rate": sample_rate, "training_files": "train.ltr", "add_blank": True}}
    (out_dir / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return out_dir
