#!/usr/bin/env python3
"""Voice conversion (TTS_VC_MODEL) on CUDA: tiny OpenVoice and FreeVC store a voice and convert with it; prints JSON.

Runs the engine's own `VoiceConverter` (the path the server takes) on random-weight models built by
`devtools/coqui_vc_models.py`, so it checks device placement (the model, the stored embedding, the
source audio), seeded repeatability and the output rate, and times one conversion. Needs PyTorch with CUDA and
coqui-tts only (no kserve, no server, no network):

    python scripts/gpu_check_vc.py                 # cuda, well under a minute
    python scripts/gpu_check_vc.py --device cpu
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's tts_predictor, not an installed one

from devtools.gpu_check import audio_facts, cuda_missing, device_parser, report  # noqa: E402


def check(family: str, model_dir: Path, device: str, work: Path) -> dict[str, object]:
    """Store a voice from a noisy tone, convert 3 s of a sweep twice with one seed; timings and facts."""
    import torch

    from tts_predictor.audio.buffer import AudioBuffer
    from tts_predictor.engines.coqui.vc import VoiceConverter

    converter = VoiceConverter(str(model_dir), device=device)
    rng = np.random.default_rng(0)
    t = np.arange(22050 * 4) / 22050
    reference = AudioBuffer(
        (0.3 * np.sin(2 * np.pi * 140 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32), 22050
    )
    source = AudioBuffer(
        (0.3 * np.sin(2 * np.pi * (200 + 50 * t[: 22050 * 3]) * t[: 22050 * 3])).astype(np.float32), 22050
    )
    converter.embed(reference, "target", work / family)
    converter.convert(source, "target", work / family, seed=1)  # warm-up (CUDA kernels)
    if device == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    first = converter.convert(source, "target", work / family, seed=1)
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    again = converter.convert(source, "target", work / family, seed=1)
    return {
        "family": family,
        "device": str(next(converter.model.parameters()).device),
        **audio_facts(first, again, seconds, key="convert_s"),
    }


def main() -> int:
    args = device_parser(__doc__).parse_args()
    from devtools.coqui_vc_models import build_freevc, build_openvoice

    if cuda_missing(args.device):
        return 1
    with tempfile.TemporaryDirectory(prefix="gpu-check-vc-") as tmp:
        root = Path(tmp)
        os.environ["TTS_HOME"] = str(root / "home")  # FreeVC's WavLM is looked up there (never downloaded)
        models = {
            "openvoice": build_openvoice(root / "openvoice"),
            "freevc": build_freevc(root / "freevc", root / "home"),
        }
        results = [check(family, path, args.device, root / "voices") for family, path in models.items()]
    return report(args.device, results, results)


if __name__ == "__main__":
    raise SystemExit(main())
