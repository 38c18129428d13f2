"""Build a tiny XTTS v2 model directory with random weights, in the layout the Coqui catalogue ships.

The catalogue's `tts_models/multilingual/multi-dataset/xtts_v2` directory holds `config.json`, `model.pth`,
`vocab.json` (a BPE tokenizer made with `tokenizers`) and `speakers_xtts.pth` (built-in speakers: GPT
conditioning latents + a speaker embedding per name). This builder writes the same files from Coqui's own
`XttsConfig`/`XttsArgs` with a small GPT; the HiFi-GAN decoder and its ResNet speaker encoder have fixed sizes
in Coqui (`HifiDecoder` ignores the config), so they are the real ones, randomly initialised.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

XTTS_LANGUAGES = (
    "en",
    "es",
    "fr",
    "de",
    "it",
    "pt",
    "pl",
    "tr",
    "ru",
    "nl",
    "cs",
    "ar",
    "zh-cn",
    "hu",
    "ko",
    "ja",
    "hi",
)
"""XTTS v2's 17 languages, as its config.json names them."""
TINY_XTTS_ARGS: dict[str, Any] = {
    "gpt_layers": 1,
    "gpt_n_model_channels": 64,
    "gpt_n_heads": 2,
    "gpt_max_audio_tokens": 30,  # random weights never emit the stop token: this caps every sentence (~1.3 s)
    "gpt_max_text_tokens": 402,
    "gpt_max_prompt_tokens": 70,
    "gpt_use_perceiver_resampler": True,  # v2 (v1.1 has prompt embeddings instead)
    "gpt_code_stride_len": 1024,
    "decoder_input_dim": 64,
    "d_vector_dim": 512,  # the decoder's speaker encoder always projects to 512
}
"""A GPT of one 64-wide layer; each audio token is 1024 samples at 22.05 kHz (46 ms)."""
_CORPUS = (
    "hello world this is a tiny test of the speech model one two three four five six seven eight nine ten",
    "bonjour le monde ceci est un petit essai hallo welt das ist ein kleiner test hola mundo esto es una prueba",
    "ciao mondo questo e una prova ola mundo isto e um teste witaj swiecie merhaba dunya hallo wereld ahoj svete",
)


def build_vocab(path: Path, languages: tuple[str, ...] = XTTS_LANGUAGES) -> Path:
    """A small BPE vocabulary in XTTS's format: [STOP]=0, [UNK]=1, [SPACE]=2, language tags, [START]."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    specials = ["[STOP]", "[UNK]", "[SPACE]", *(f"[{lang}]" for lang in languages), "[START]"]
    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    alphabet = list(string.ascii_lowercase + string.digits + ".,!?'-:;\"()")
    trainer = trainers.BpeTrainer(
        vocab_size=200, special_tokens=specials, initial_alphabet=alphabet, show_progress=False
    )
    tokenizer.train_from_iterator(list(_CORPUS), trainer=trainer)
    tokenizer.save(str(path))
    return path


def _write_speakers(model: Any, speakers: list[str], path: Path, seed: int) -> None:
    """Built-in speakers as speakers_xtts.pth holds them, computed by the model from seeded noise."""
    import torch

    table = {}
    generator = torch.Generator().manual_seed(seed)
    for name in speakers:
        noise = 0.1 * torch.randn(1, 22050 * 3, generator=generator)
        latent = model.get_gpt_cond_latents(noise, 22050)
        embedding = model.get_speaker_embedding(noise, 22050)
        table[name] = {"gpt_cond_latent": latent.cpu(), "speaker_embedding": embedding.cpu()}
    torch.save(table, path)


def build_xtts(out_dir: Path, *, speakers: list[str] | None = None, seed: int = 0, **overrides: Any) -> Path:
    """Write a random-weight XTTS v2 model directory and return it.

    Args:
        out_dir: Target directory (created).
        speakers: Built-in speaker names written to speakers_xtts.pth (default: two).
        seed: Torch seed for the random weights and the speakers.
        overrides: XttsArgs fields to change from `TINY_XTTS_ARGS`.
    """
    import torch
    from TTS.tts.configs.xtts_config import XttsArgs, XttsAudioConfig, XttsConfig
    from TTS.tts.layers.xtts.tokenizer import VoiceBpeTokenizer
    from TTS.tts.models.xtts import Xtts

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    vocab = build_vocab(out_dir / "vocab.json")
    config = XttsConfig(model_args=XttsArgs(**{**TINY_XTTS_ARGS, **overrides}), audio=XttsAudioConfig())
    config.languages = list(XTTS_LANGUAGES)
    config.model_args.tokenizer_file = str(vocab)  # absolute, as a fine-tune leaves it; the engine re-points it
    model = Xtts(config)
    model.tokenizer = VoiceBpeTokenizer(vocab_file=str(vocab))
    model.init_models()
    torch.save({"model": model.state_dict(), "config": config.to_dict()}, out_dir / "model.pth")
    config.save_json(str(out_dir / "config.json"))
    model.gpt.init_gpt_for_inference(kv_cache=True)
    model.eval()
    _write_speakers(model, speakers or ["Ana Florence", "Claribel Dervla"], out_dir / "speakers_xtts.pth", seed)
    (out_dir / "hash.md5").write_text("tiny-random\n")  # the catalogue's directories carry one; Coqui ignores it
    return out_dir
