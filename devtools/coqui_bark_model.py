"""Build a tiny Coqui Bark: its three GPT checkpoints, and the Hugging Face cache its `__init__` loads from.

Coqui's Bark (TTS/tts/models/bark.py) reads `text_2.pt`, `coarse_2.pt` and `fine_2.pt` from the model directory
(`load_checkpoint`; each `{"model_args", "model", "best_val_loss"}` as TTS/tts/layers/bark/load_model.py reads
it) and, at construction, `bert-base-multilingual-cased`'s tokenizer and `facebook/encodec_24khz` (a transformers
`EncodecModel` and its feature extractor) from the Hugging Face hub. Here each network is Coqui's or transformers'
own class with random weights, few layers and narrow widths, but the vocabulary sizes and token ids of the
released Bark (the code indexes logits by them) and Encodec's 24 kHz frame rate (75 Hz, 32 codebooks of 1024).
Speaker prompts (suno's `.npz` history prompts) go to `<model>/voices/`, where Coqui's Synthesizer looks.
"""

from __future__ import annotations

import json
import string
import tempfile
from pathlib import Path
from typing import Any

from devtools.coqui_catalogue import fill_hf_cache

BERT_REPO = "bert-base-multilingual-cased"
ENCODEC_REPO = "facebook/encodec_24khz"
TINY = {"n_layer": 1, "n_head": 2, "n_embd": 16, "block_size": 1024, "dropout": 0.0, "bias": True}
"""Layer sizes of each GPT; block_size stays the released 1024 (Bark's prompts are 513 tokens + history)."""
VOCABULARIES = {"text": (129_600, 10_048), "coarse": (20_000, 20_000), "fine": (1_056, 1_056)}
"""(input, output) vocabulary sizes of the released checkpoints: text ids sit at offset 10_048 with pad/infer
tokens up to 129_599; coarse codes at 10_000 + 2 x 1024; fine codes 1024 + pads."""
LOGIT_SCALE = 30.0
"""Factor on every GPT output head, so tokens depend on their context (see `_sharpen`)."""
EOS = 10_000
"""Bark's semantic end token (SEMANTIC_VOCAB_SIZE, also its pad token)."""
CHECKPOINTS = {"text": "text_2.pt", "coarse": "coarse_2.pt", "fine": "fine_2.pt"}


def build_bark(out_dir: Path, hf_home: Path, *, speakers: tuple[str, ...] = ("en_speaker_0",), seed: int = 0) -> Path:
    """Write a random-weight Bark model directory and fill `hf_home`'s hub cache with its two repositories.

    Args:
        out_dir: The model directory (config.json, the three checkpoints, voices/<speaker>.npz).
        hf_home: Becomes HF_HOME; its `hub/` gets the tiny tokenizer and Encodec (serve with HF_HUB_OFFLINE=1).
        speakers: Names of the speaker prompts written to `voices/`.
        seed: Seed of the random weights and prompts.
    """
    import torch

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    configs = {kind: _write_gpt(out_dir / name, kind) for kind, name in CHECKPOINTS.items()}
    _write_config(out_dir / "config.json", configs)
    for speaker in speakers:
        _write_prompt(out_dir / "voices" / f"{speaker}.npz", seed)
    _fill_hub(Path(hf_home))
    return out_dir


def _write_gpt(path: Path, kind: str) -> dict[str, Any]:
    """One GPT checkpoint in the layout Coqui's `load_model` reads; returns its model_args."""
    import torch
    from TTS.tts.layers.bark.model import GPT, GPTConfig
    from TTS.tts.layers.bark.model_fine import FineGPT, FineGPTConfig

    n_in, n_out = VOCABULARIES[kind]
    args = {**TINY, "input_vocab_size": n_in, "output_vocab_size": n_out}
    if kind == "fine":
        args |= {"n_codes_total": 8, "n_codes_given": 1}
        model: Any = FineGPT(FineGPTConfig(**args))
    else:
        model = GPT(GPTConfig(**args))
    _sharpen(model, kind)
    torch.save({"model_args": args, "model": model.state_dict(), "best_val_loss": torch.tensor(0.0)}, path)
    return args


def _sharpen(model: Any, kind: str) -> None:
    """Make each GPT's next token depend on its context; the semantic one never picks the end token.

    Fresh weights give near-uniform logits, and a seeded sampler then draws the same tokens whatever the speaker
    prompt or the text; scaled up, the context changes the tokens. The end token's row is zeroed (with these scales
    it could win at the first step, and Bark has no empty output), so every sentence runs to its length limit.
    """
    import torch

    heads = list(model.lm_heads) if kind == "fine" else [model.lm_head]
    with torch.no_grad():
        for head in heads:
            head.weight.mul_(LOGIT_SCALE)
        if kind == "text":
            model.lm_head.weight[EOS] = 0.0


def _write_config(path: Path, configs: dict[str, dict[str, Any]]) -> None:
    """config.json from Coqui's BarkConfig with the tiny sizes (Bark builds its GPTs from it before loading)."""
    from TTS.tts.configs.bark_config import BarkConfig
    from TTS.tts.layers.bark.model import GPTConfig
    from TTS.tts.layers.bark.model_fine import FineGPTConfig

    config = BarkConfig(
        semantic_config=GPTConfig(**configs["text"]),
        coarse_config=GPTConfig(**configs["coarse"]),
        fine_config=FineGPTConfig(**configs["fine"]),
    )
    path.write_text(json.dumps(config.to_dict(), indent=2), encoding="utf-8")


def _write_prompt(path: Path, seed: int) -> None:
    """A suno-format history prompt: semantic tokens, and the 2 coarse / 8 fine Encodec codebooks at 75 Hz."""
    import numpy as np

    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    semantic = rng.integers(0, 10_000, 50)  # 1 s at 49.9 Hz; coarse/fine hold 75 frames per second
    fine = rng.integers(0, 1024, (8, 75))
    np.savez(path, semantic_prompt=semantic, coarse_prompt=fine[:2], fine_prompt=fine)


def _encodec() -> Any:
    """A narrow Encodec at the real 24 kHz / 75 Hz with 32 codebooks of 1024, filled (transformers starts them at
    zero, and every code would then decode to the same sound)."""
    import torch
    from transformers import EncodecConfig, EncodecModel

    model = EncodecModel(EncodecConfig(hidden_size=8, num_filters=2, num_lstm_layers=1))
    with torch.no_grad():
        for layer in model.quantizer.layers:
            layer.codebook.embed.normal_()
            layer.codebook.embed_avg.copy_(layer.codebook.embed)
    return model


def _fill_hub(hf_home: Path) -> None:
    """The two repositories Bark's `__init__` loads, tiny, in `hf_home`'s hub cache."""
    from transformers import BertConfig, BertTokenizer, EncodecFeatureExtractor

    with tempfile.TemporaryDirectory(prefix="tiny-bark-hub-") as tmp:
        bert = Path(tmp) / "bert"
        letters = list(string.ascii_letters + string.digits + string.punctuation)
        vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *letters, *(f"##{c}" for c in letters)]
        BertTokenizer(vocab={t: i for i, t in enumerate(vocab)}, do_lower_case=False).save_pretrained(bert)
        BertConfig(
            vocab_size=len(vocab), hidden_size=8, num_hidden_layers=1, num_attention_heads=1, intermediate_size=8
        ).save_pretrained(bert)  # the hub repo has one; Coqui reads only the tokenizer
        fill_hf_cache(hf_home, BERT_REPO, bert)
        encodec = Path(tmp) / "encodec"
        _encodec().save_pretrained(encodec)
        EncodecFeatureExtractor(feature_size=1, sampling_rate=24_000).save_pretrained(encodec)
        fill_hf_cache(hf_home, ENCODEC_REPO, encodec)
