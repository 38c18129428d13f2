"""Time XTTS's first streamed audio against the whole sentence; shared by `make bench` and the GPU check script.

Imports neither kserve nor the server (only Coqui, torch and the engine's XTTS helpers), so it also runs on a
machine that has just PyTorch and coqui-tts.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from tts_predictor.engines.base import SynthesisRequest, Voice
from tts_predictor.engines.coqui import xtts as coqui_xtts

LONG_SENTENCE = (
    "This is one long sentence that a voice assistant might read aloud, and the listener should hear "
    "its first words while the model is still working on the rest of it."
)


def measure_stream(
    model: Any,
    voices: Any,
    voice: Voice,
    *,
    repeats: int,
    chunk_tokens: int = 20,
    text: str = LONG_SENTENCE,
    sync: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """Median time to first chunk, to the last chunk and for `Xtts.inference` on the same sentence.

    `sync` waits for the device (torch.cuda.synchronize on a GPU) before each clock reading.
    """
    rows = []
    for _ in range(repeats):
        request = SynthesisRequest(text, voice, voice.languages[0])
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
        rows.append(
            {
                "ttfa_s": first or streamed,
                "stream_total_s": streamed,
                "whole_s": time.perf_counter() - start,
                "chunks": chunks,
                "audio_s": samples / model.args.output_sample_rate,
                "whole_audio_s": len(whole) / model.args.output_sample_rate,
            }
        )
    out = {key: statistics.median(r[key] for r in rows) for key in rows[0]}
    out["ttfa_whole_ratio"] = statistics.median(r["ttfa_s"] / r["whole_s"] for r in rows)
    return {**out, "repeats": repeats, "chunk_tokens": chunk_tokens, "text_chars": len(text)}
