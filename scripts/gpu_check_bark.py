#!/usr/bin/env python3
"""Coqui Bark on CUDA: a tiny Bark loads offline, synthesizes with a speaker prompt, repeats per seed; prints JSON.

Runs the engine's own `CoquiEngine` (the path the server takes) on the random-weight Bark built by
`devtools/coqui_bark_model.py`, with its tokenizer and Encodec in a throw-away Hugging Face cache
(HF_HUB_OFFLINE=1), so it checks device placement, Coqui's CUDA autocast path, seeded repeatability and the
output rate, and times one capped and one full-length sentence (random weights never stop: Bark's own limit,
768 semantic tokens, about 15 s of audio). Needs PyTorch with CUDA and coqui-tts only (no kserve, no network):

    python scripts/gpu_check_bark.py                 # cuda, well under a minute
    python scripts/gpu_check_bark.py --device cpu
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's tts_predictor, not an installed one

from devtools.gpu_check import audio_facts, cuda_missing, device_parser, report  # noqa: E402

TEXT = "Hello from a tiny Bark."


def timed(engine, request, device: str) -> tuple[object, float]:
    """One synthesis and its wall time (CUDA synchronized)."""
    import torch

    started = time.perf_counter()
    audio = engine.synthesize(request)
    if device == "cuda":
        torch.cuda.synchronize()
    return audio, time.perf_counter() - started


def check(model_dir: Path, device: str, max_seconds: float) -> dict[str, object]:
    """Load (capped and uncapped), warm up, then time and repeat one seeded sentence each."""
    from tts_predictor.engines.base import SynthesisRequest
    from tts_predictor.engines.coqui.engine import CoquiEngine

    results: dict[str, object] = {}
    for label, cap in (("capped", max_seconds), ("full", 0.0)):
        started = time.perf_counter()
        engine = CoquiEngine(model_dir, device=device, bark_max_seconds=cap)
        load_s = time.perf_counter() - started
        voice = engine.voices()[0]
        request = SynthesisRequest(TEXT, voice, "en", seed=3)
        engine.synthesize(request)  # warm-up (CUDA kernels)
        first, seconds = timed(engine, request, device)
        again = engine.synthesize(request)
        results[label] = {
            "max_seconds": cap,
            "voice": voice.id,
            "load_s": round(load_s, 2),
            "device": str(next(engine.model.semantic_model.parameters()).device),
            **audio_facts(first, again, seconds),
        }
        engine.close()
    return results


def main() -> int:
    parser = device_parser(__doc__)
    parser.add_argument("--max-seconds", type=float, default=1.0, help="TTS_BARK_MAX_SECONDS of the capped run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gpu-check-bark-") as tmp:
        root = Path(tmp)
        # before anything imports huggingface_hub, which reads these once
        os.environ.update({"HF_HOME": str(root / "hf-home"), "HF_HUB_OFFLINE": "1"})
        from devtools.coqui_bark_model import build_bark

        if cuda_missing(args.device):
            return 1
        results = check(build_bark(root / "bark", root / "hf-home"), args.device, args.max_seconds)
    return report(args.device, results, list(results.values()))


if __name__ == "__main__":
    raise SystemExit(main())
