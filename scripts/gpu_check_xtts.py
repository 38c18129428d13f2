#!/usr/bin/env python3
"""XTTS v2 on CUDA: time to first streamed audio vs the whole sentence, on random-weight models; prints JSON.

Sizes: ``tiny`` (the tests' model: one 64-wide GPT layer, the real HiFi-GAN decoder) and ``full`` (XTTS v2's
real GPT size: 30 layers x 1024, ~450 M parameters). Random weights never emit the stop token, so every
sentence runs to `--audio-tokens` GPT tokens (250 ~ 11.6 s of audio, a long sentence); the speech is noise but
the work per token is the real model's. Needs only PyTorch with CUDA and coqui-tts (no kserve, no server):

    python scripts/gpu_check_xtts.py                  # both sizes, 3 repeats, under ~3 minutes on an H100
    python scripts/gpu_check_xtts.py --sizes tiny --device cpu --repeats 1
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's tts_predictor, not an installed one

FULL = {"gpt_layers": 30, "gpt_n_model_channels": 1024, "gpt_n_heads": 16, "decoder_input_dim": 1024}


def load(model_dir: Path, device: str):
    """Load the directory as the engine does (Coqui's own loader), apply the transformers fix, move to `device`."""
    from TTS.tts.configs.xtts_config import XttsConfig
    from TTS.tts.models.xtts import Xtts

    from tts_predictor.engines.coqui.xtts import XttsVoices, adapt_generation

    config = XttsConfig()
    config.load_json(str(model_dir / "config.json"))
    model = Xtts.init_from_config(config)
    model.load_checkpoint(config, checkpoint_dir=str(model_dir), eval=True)
    model.to(device)
    adapt_generation(model)
    return model, XttsVoices(model)


def check(size: str, device: str, repeats: int, audio_tokens: int, chunk_tokens: int, workdir: Path) -> dict:
    """Build, load, warm up once, then measure."""
    import torch

    from devtools.coqui_xtts import build_xtts
    from devtools.xtts_timing import measure_stream
    from tts_predictor.engines.base import Voice

    started = time.perf_counter()
    overrides = {**(FULL if size == "full" else {}), "gpt_max_audio_tokens": audio_tokens}
    model_dir = build_xtts(workdir / size, **overrides)
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    model, voices = load(model_dir, device)
    load_s = time.perf_counter() - started
    speaker = voices.speakers()[0]
    voice = Voice(speaker, ("en",), "coqui", 24000, speaker=speaker)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    measure_stream(model, voices, voice, repeats=1, chunk_tokens=chunk_tokens, text="Warm up.", sync=sync)
    result = measure_stream(model, voices, voice, repeats=repeats, chunk_tokens=chunk_tokens, sync=sync)
    params = sum(p.numel() for p in model.parameters())
    return {
        "size": size,
        "parameters_m": round(params / 1e6, 1),
        "build_s": round(build_s, 2),
        "load_s": round(load_s, 2),
        "audio_tokens": audio_tokens,
        **result,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="tiny,full", help="comma-separated: tiny, full")
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--audio-tokens", type=int, default=250, help="GPT tokens per sentence (46 ms of audio each)")
    p.add_argument("--chunk-tokens", type=int, default=20, help="GPT tokens per streamed chunk (Coqui's default)")
    args = p.parse_args()

    import torch
    import transformers

    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device visible to torch")
    torch.manual_seed(0)
    out = {
        "device": torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "results": [],
    }
    with tempfile.TemporaryDirectory(prefix="xtts-gpu-check-") as tmp:
        for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
            print(f"[gpu-check] {size} on {args.device}", file=sys.stderr, flush=True)
            out["results"].append(
                check(size, args.device, args.repeats, args.audio_tokens, args.chunk_tokens, Path(tmp))
            )
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
