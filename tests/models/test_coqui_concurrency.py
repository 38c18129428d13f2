"""Several calls at once on one PyTorch Coqui model (VITS, XTTS): they overlap, never cross, and stay reproducible.

The models are tiny random-weight ones (devtools' builders), so their speech cannot be transcribed: Whisper hears
noise in every output and cannot tell one text's audio from another's. The independent ground is therefore the
same engine run one request at a time: a call that crossed with another (took its length scale, speaker mix or
GPT prompt) gives audio that differs from its own sequential output, which the comparisons below detect.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tts_predictor.engines.base import SynthesisRequest

pytestmark = pytest.mark.filterwarnings("ignore")

TOLERANCE = 1e-5
"""Largest sample difference (audio in [-1, 1]; the tiny models peak near 0.01) between a concurrent output and its sequential one: a call beside
others runs with fewer intra-op threads, which may reorder float sums; a crossed output differs by far more."""
BARRIER_S = 120
"""How long the first call waits inside the model for the second (a deadlock guard, not a speed limit)."""
TEXTS = [
    "Hello there.",
    "The quick brown fox jumps.",
    "One two three four five.",
    "Is it raining today?",
    "A short one.",
    "We meet again at noon.",
    "Seven silver swans swam.",
    "Goodbye for now, friend.",
]


@pytest.fixture(scope="module")
def vits(coqui_models: dict[str, Path]) -> Any:
    """The tiny multi-speaker VITS, two calls at once, its noise turned off (so unseeded outputs are fixed)."""
    from tts_predictor.engines.coqui.engine import CoquiEngine

    engine = CoquiEngine(coqui_models["multi"], device="cpu", threads=2, concurrency=2)
    engine.model.inference_noise_scale = engine.model.inference_noise_scale_dp = 0.0  # set once, before any call
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def xtts(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A tiny XTTS v2 (the shared builder) decoding 12 audio tokens per sentence, two calls at once."""
    pytest.importorskip("TTS")
    from devtools.coqui_xtts import build_xtts
    from tts_predictor.engines.coqui.engine import CoquiEngine

    engine = CoquiEngine(
        build_xtts(tmp_path_factory.mktemp("xtts-c") / "xtts", gpt_max_audio_tokens=12),
        device="cpu",
        threads=2,
        concurrency=2,
    )
    yield engine
    engine.close()


def _rendezvous(module: Any) -> dict[int, list[float]]:
    """Make the first call of each thread into `module` wait for a second call to be inside it too; returns each
    thread's [start, end] engine time (start: entering the model; end: set by the caller when `synthesize` ends)."""
    barrier, spans = threading.Barrier(2, timeout=BARRIER_S), {}

    def hook(_module: Any, _args: Any) -> None:
        if threading.get_ident() not in spans:
            spans[threading.get_ident()] = [time.monotonic(), 0.0]
            barrier.wait()  # BrokenBarrierError if the other call cannot enter the model meanwhile

    module.register_forward_pre_hook(hook)
    return spans


def _overlapping(engine: Any, module: Any, requests: list[SynthesisRequest]) -> list[list[float]]:
    """Run two requests at once; their engine time spans."""
    hooks = set(module._forward_pre_hooks)
    spans = _rendezvous(module)

    def call(request: SynthesisRequest) -> None:
        engine.synthesize(request)
        spans[threading.get_ident()][1] = time.monotonic()

    try:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(call, requests))
    finally:
        for key in set(module._forward_pre_hooks) - hooks:
            del module._forward_pre_hooks[key]
    return list(spans.values())


def _assert_overlap(spans: list[list[float]]) -> None:
    (start_a, end_a), (start_b, end_b) = spans
    assert start_a < end_b and start_b < end_a, spans


def test_two_vits_calls_are_in_the_model_at_once(vits):
    """Both calls enter the text encoder before either ends (a one-at-a-time engine breaks the barrier)."""
    voice = vits.voices()[0]
    spans = _overlapping(
        vits,
        vits.model.text_encoder,
        [SynthesisRequest(TEXTS[1], voice, "en"), SynthesisRequest(TEXTS[2], voice, "en", speed=1.5)],
    )
    _assert_overlap(spans)


def test_two_xtts_calls_are_in_the_model_at_once(xtts):
    voice = xtts.voices()[0]
    spans = _overlapping(xtts, xtts.model.hifigan_decoder, [SynthesisRequest(t, voice, "en") for t in TEXTS[:2]])
    _assert_overlap(spans)


def _vits_requests(engine: Any, seeded: bool) -> list[SynthesisRequest]:
    """Eight texts, each with its own speed and speaker (or mix), so a crossed call would change length or voice."""
    voices = engine.voices()
    names = [v.speaker for v in voices]
    requests = []
    for i, text in enumerate(TEXTS):
        voice = voices[i % len(voices)]
        if i % 4 == 3:
            voice = replace(voice, mix=((names[0], 0.5), (names[1], 0.5)))
        requests.append(SynthesisRequest(text, voice, "en", speed=0.8 + 0.1 * i, seed=i if seeded else None))
    return requests


def _xtts_requests(engine: Any, seeded: bool) -> list[SynthesisRequest]:
    """Eight texts; unseeded ones decode greedily (top_k=1: sampling always picks the most likely token)."""
    voice = engine.voices()[0]
    sampling = () if seeded else (("top_k", 1.0),)
    return [
        SynthesisRequest(t, voice, "en", seed=i if seeded else None, sampling=sampling) for i, t in enumerate(TEXTS)
    ]


def _gpt_inputs(engine: Any, requests: list[SynthesisRequest], together: bool) -> list[list[Any]]:
    """What XTTS's GPT was fed at each decoding step of each request (its prompt, then one token at a time), with
    each request on its own thread, all started at once (`together`) or one after the other.

    Random-weight greedy decoding picks the same audio tokens whatever the text, and the random HiFi-GAN barely
    varies with its input, so the audio alone would not show a request decoding another's prompt; these inputs do.
    """
    transformer, steps = engine.model.gpt.gpt_inference.transformer, {}

    def hook(_module: Any, _args: Any, kwargs: dict[str, Any]) -> None:
        steps.setdefault(threading.current_thread(), []).append(kwargs["inputs_embeds"].detach().clone())

    handle = transformer.register_forward_pre_hook(hook, with_kwargs=True)
    threads = [threading.Thread(target=engine.synthesize, args=(r,)) for r in requests]
    try:
        for thread in threads:
            thread.start()
            if not together:
                thread.join()
        for thread in threads:
            thread.join()
    finally:
        handle.remove()
    return [steps[t] for t in threads]  # by thread object: a finished thread's ident is reused


def _concurrent_equals_sequential(engine: Any, requests: list[SynthesisRequest], distinct: bool = True) -> float:
    """All eight at once give each text's sequential audio; `distinct`: the texts' audio differ (VITS), so a swap
    between two calls would show here (XTTS: see `_gpt_inputs`)."""
    sequential = [engine.synthesize(r).samples for r in requests]
    for i, a in enumerate(sequential if distinct else []):
        assert all(len(a) != len(b) or np.abs(a - b).max() > 100 * TOLERANCE for b in sequential[i + 1 :])
    with ThreadPoolExecutor(8) as pool:
        concurrent = list(pool.map(lambda r: engine.synthesize(r).samples, requests))
    for request, alone, together in zip(requests, sequential, concurrent, strict=True):
        assert len(together) == len(alone), request.text
        assert np.abs(together - alone).max() <= TOLERANCE, request.text
    return max(float(np.abs(a - b).max()) for a, b in zip(sequential, concurrent, strict=True))


@pytest.mark.parametrize("seeded", [False, True], ids=["noise-free", "seeded"])
def test_eight_concurrent_vits_texts_match_their_sequential_outputs(vits, seeded):
    """Noise-free calls overlap freely (their views hold each one's length scale and speaker mix); seeded ones
    draw noise from torch's global generator, which each takes alone, with its own state."""
    if seeded:
        vits.model.inference_noise_scale, vits.model.inference_noise_scale_dp = 0.667, 1.0
    try:
        assert _concurrent_equals_sequential(vits, _vits_requests(vits, seeded)) <= TOLERANCE
    finally:
        vits.model.inference_noise_scale = vits.model.inference_noise_scale_dp = 0.0


@pytest.mark.parametrize("seeded", [False, True], ids=["greedy", "seeded"])
def test_eight_concurrent_xtts_texts_match_their_sequential_outputs(xtts, seeded):
    """Greedy calls decode side by side, each on its own GPT prompt; seeded sampling stays reproducible."""
    assert _concurrent_equals_sequential(xtts, _xtts_requests(xtts, seeded), distinct=False) <= TOLERANCE


def test_eight_concurrent_xtts_calls_each_decode_their_own_prompt(xtts):
    """Every decoding step of a concurrent call gets what the same call got alone (a call that read another's
    stored prompt, `cached_prefix_emb`, would get another text's prompt or another prompt length)."""
    requests = _xtts_requests(xtts, seeded=False)
    alone, together = _gpt_inputs(xtts, requests, False), _gpt_inputs(xtts, requests, True)
    assert len({steps[0].shape[1] for steps in alone}) > 1  # the prompts differ in length, so a swap would show
    for request, solo, shared in zip(requests, alone, together, strict=True):
        assert len(solo) == len(shared) > 1, request.text
        for a, b in zip(solo, shared, strict=True):
            assert a.shape == b.shape and float((a - b).abs().max()) <= TOLERANCE, request.text


@pytest.mark.parametrize("seeded", [False, True], ids=["unseeded", "seeded"])
def test_a_request_completes_while_an_xtts_stream_is_paused_mid_utterance(xtts, seeded):
    """The stream is suspended after its first chunk (its consumer holds it); another call still runs to the end,
    and the stream then goes on. Were the model held across the stream's yields, the call would wait forever."""
    voice = xtts.voices()[0]
    stream = xtts.stream(SynthesisRequest(TEXTS[1], voice, "en", seed=7 if seeded else None), chunk_tokens=3)
    first = next(stream)
    pool = ThreadPoolExecutor(1)
    try:
        other = pool.submit(xtts.synthesize, SynthesisRequest(TEXTS[0], voice, "en")).result(timeout=BARRIER_S)
    except BaseException:
        stream.close()  # a stream that held the model across its yields lets the waiting call go now
        raise
    finally:
        pool.shutdown(wait=False)
    rest = list(stream)
    assert len(other.samples) > 0 and len(first.samples) > 0
    assert len(rest) >= 2  # 12 tokens in chunks of 3: the stream was far from its end


def test_a_seeded_stream_is_reproducible_with_calls_between_its_chunks(xtts):
    voice = xtts.voices()[0]
    request = SynthesisRequest(TEXTS[2], voice, "en", seed=11)
    alone = np.concatenate([c.samples for c in xtts.stream(request, chunk_tokens=3)])
    chunks = []
    for chunk in xtts.stream(request, chunk_tokens=3):
        chunks.append(chunk.samples)
        xtts.synthesize(SynthesisRequest(TEXTS[0], voice, "en"))  # draws from the global generator meanwhile
    assert np.abs(np.concatenate(chunks) - alone).max() <= TOLERANCE
