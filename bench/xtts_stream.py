"""XTTS streaming: time to first audio (the first `inference_stream` chunk) against the whole sentence.

On CPU the tiny model shows the ratio (how early in a sentence audio starts); absolute times need a GPU and
real weights (scripts/gpu_check_xtts.py runs the same measurement on CUDA).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devtools.xtts_timing import LONG_SENTENCE, measure_stream

BENCH_AUDIO_TOKENS = 60
"""GPT tokens per sentence for the bench's tiny model (random weights always run to the cap): ~2.8 s of audio."""


def run_xtts_stream(repeats: int, workdir: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """Build the tiny XTTS, load it as the server does (CoquiEngine, CPU) and measure."""
    from devtools.coqui_xtts import build_xtts
    from tts_predictor.engines.coqui.engine import CoquiEngine

    start = time.perf_counter()
    model_dir = build_xtts(workdir / "xtts-tiny", gpt_max_audio_tokens=BENCH_AUDIO_TOKENS)
    engine = CoquiEngine(model_dir, device="cpu")
    prepare_s = time.perf_counter() - start
    log(f"[bench] xtts-stream: {repeats} x (streamed, whole) on one {len(LONG_SENTENCE)}-character sentence")
    result = measure_stream(engine.model, engine.xtts, engine.voices()[0], repeats=repeats)
    engine.close()
    return {"prepare_s": prepare_s, "device": "cpu", "model": "tiny XTTS v2 (random weights)", **result}
