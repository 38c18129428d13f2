#!/usr/bin/env python3
"""Coqui Tortoise on CUDA: a tiny Tortoise loads offline, speaks with a built-in voice, repeats per seed; prints JSON.

Runs the engine's own `CoquiEngine` (the path the server takes) on the random-weight Tortoise built by
`devtools/coqui_tortoise.py` (one-layer GPT, diffusion decoder and CLVP, the real UnivNet vocoder),
so it checks device placement, Coqui's fp16 autocast (used on CUDA only), seeded repeatability and the output
rate, and times one sentence (random weights never stop: every sentence is the model's `ar_max_mel_tokens` long).
Needs PyTorch with CUDA and coqui-tts only (no kserve, no network):

    python scripts/gpu_check_tortoise.py                 # cuda, well under a minute
    python scripts/gpu_check_tortoise.py --device cpu
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's tts_predictor, not an installed one

from devtools.gpu_check import audio_facts, cuda_missing, device_parser, report  # noqa: E402

TEXT = "Hello from a tiny Tortoise."


def check(model_dir: Path, device: str) -> dict[str, object]:
    """Load, warm up, then time and repeat one seeded sentence with each built-in voice."""
    import torch

    from tts_predictor.engines.base import SynthesisRequest
    from tts_predictor.engines.coqui.engine import CoquiEngine

    started = time.perf_counter()
    engine = CoquiEngine(model_dir, device=device)
    load_s = time.perf_counter() - started
    results: dict[str, object] = {
        "load_s": round(load_s, 2),
        "device": str(next(engine.model.autoregressive.parameters()).device),
    }
    for voice in [v for v in engine.voices() if v.speaker]:
        request = SynthesisRequest(TEXT, voice, "en", seed=3)
        engine.synthesize(request)  # warm-up (CUDA kernels)
        if device == "cuda":
            torch.cuda.synchronize()
        begun = time.perf_counter()
        first = engine.synthesize(request)
        if device == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - begun
        again = engine.synthesize(request)
        results[voice.id] = audio_facts(first, again, seconds)
    engine.close()
    return results


def main() -> int:
    args = device_parser(__doc__).parse_args()
    from devtools.coqui_tortoise import build_tortoise

    if cuda_missing(args.device):
        return 1
    with tempfile.TemporaryDirectory(prefix="gpu-check-tortoise-") as tmp:
        results = check(build_tortoise(Path(tmp) / "tortoise"), args.device)
    return report(args.device, results, [r for r in results.values() if isinstance(r, dict)])


if __name__ == "__main__":
    raise SystemExit(main())
