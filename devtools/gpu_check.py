"""What the `scripts/gpu_check_*.py` scripts share: the --device flag, the CUDA guard, per-output facts, the report."""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np


def device_parser(doc: str) -> argparse.ArgumentParser:
    """A parser described by `doc`'s first line, with ``--device cuda|cpu`` (default cuda)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    return parser


def cuda_missing(device: str) -> bool:
    """True (and the reason printed as JSON) when CUDA is asked for and torch sees no GPU."""
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        print(json.dumps({"error": "torch sees no CUDA GPU"}))
        return True
    return False


def audio_facts(first: Any, again: Any, seconds: float, key: str = "synth_s") -> dict[str, Any]:
    """Rate, length, the timed run's seconds under `key`, finiteness and whether a seeded rerun gave the same audio."""
    return {
        "output_rate": first.sample_rate,
        "output_s": round(first.duration_s, 3),
        key: round(seconds, 4),
        "finite": bool(np.isfinite(first.samples).all()),
        "seeded_repeatable": bool(np.array_equal(first.samples, again.samples)),
    }


def report(device: str, results: Any, checked: list[dict[str, Any]]) -> int:
    """Print torch's version, the GPU and `results` as JSON; exit status 0 when every `checked` entry is finite and
    seeded-repeatable (and there is at least one)."""
    import torch

    info = {"torch": torch.__version__, "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None}
    print(json.dumps({**info, "results": results}, indent=2))
    return 0 if checked and all(r["finite"] and r["seeded_repeatable"] for r in checked) else 1
