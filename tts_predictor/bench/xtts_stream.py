"""XTTS streaming: time to first audio (the first `inference_stream` chunk) against the whole sentence.

On CPU the tiny model shows the ratio (how early in a sentence audio starts); absolute times need a GPU and
real weights (scripts/gpu_check_xtts.py runs the same measurement on CUDA).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..engines.base import SynthesisRequest, Voice

LONG_SENTENCE = (
    "This is one long sentence that a voice assistant might read aloud, and the listener should hear "
    "its first words while the model is still working on the rest of it."
)
BENCH_AUDIO_TOKENS = 60
"""GPT tokens per sentence for the bench's tiny model (random weights always run to the cap): ~2.8 s of audio."""
CHUNK_TOKENS = 20


def measure_stream(model: Any, voices: Any, voice: Voice, *, repeats: int, chunk_tokens: int = CHUNK_TOKENS,
                   text: str = LONG_SENTENCE, sync: Callable[[], None] = lambda: None) -> dict[str, Any]:
    """Median time to first chunk, to the last chunk and for `Xtts.inference` on the same sentence and seed.

    `sync` waits for the device (torch.cuda.synchronize on a GPU) before each clock reading.
    """
    from ..engines import coqui_xtts

    rows = []
    for i in range(repeats):
        request = SynthesisRequest(text, voice, voice.languages[0], seed=i)
        sync()
        start = time.perf_counter()
        first, samples, chunks = None, 0, 0
        for chunk in coqui_xtts.stream(model, voices, request, chunk_tokens):
            sync()
            first = first if first is not None else time.perf_counter() - start
            samples, chunks = samples + len(chunk), chunks + 1
        streamed = time.perf_counter() - start
        start = time.perf_counter()
        whole = coqui_xtts.synthesize(model, voices, request)
        sync()
        rows.append({"ttfa_s": first or streamed, "stream_total_s": streamed, "whole_s": time.perf_counter() - start,
                     "chunks": chunks, "audio_s": samples / model.args.output_sample_rate,
                     "whole_audio_s": len(whole) / model.args.output_sample_rate})
    out = {key: statistics.median(r[key] for r in rows) for key in rows[0]}
    out["ttfa_whole_ratio"] = statistics.median(r["ttfa_s"] / r["whole_s"] for r in rows)
    return {**out, "repeats": repeats, "chunk_tokens": chunk_tokens, "text_chars": len(text)}


def run_xtts_stream(repeats: int, workdir: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """Build the tiny XTTS, load it as the server does (CoquiEngine, CPU) and measure."""
    from ..devtools.coqui_xtts import build_xtts
    from ..engines.coqui import CoquiEngine

    start = time.perf_counter()
    model_dir = build_xtts(workdir / "xtts-tiny", gpt_max_audio_tokens=BENCH_AUDIO_TOKENS)
    engine = CoquiEngine(model_dir, device="cpu")
    prepare_s = time.perf_counter() - start
    log(f"[bench] xtts-stream: {repeats} x (streamed, whole) on one {len(LONG_SENTENCE)}-character sentence")
    result = measure_stream(engine.model, engine.xtts, engine.voices()[0], repeats=repeats)
    engine.close()
    return {"prepare_s": prepare_s, "device": "cpu", "model": "tiny XTTS v2 (random weights)", **result}
