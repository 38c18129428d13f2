"""Fair scheduling: engine slots shared sentence by sentence (units on the scheduler, then over the real server)."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest
from server_process import ServerProcess
from v2_helpers import infer_body

from tts_predictor.engines.scheduling import Priority, current_scheduling, scheduled_as
from tts_predictor.synthesis.low_priority import LOWEST_NICE, thread_nice
from tts_predictor.synthesis.scheduler import FairScheduler

LONG_TEXT = " ".join(
    f"Paragraph {i} of the long reading goes on about the weather, the trains and the garden." for i in range(34)
)  # about 3,000 characters, 34 sentences


def _blocking(log: list[str], name: str, gate: threading.Event | None = None) -> str:
    if gate is not None:
        gate.wait(5)
    log.append(name)
    return name


def test_flows_take_turns_one_unit_each():
    async def scenario() -> list[str]:
        sched, log, gate = FairScheduler(1), [], threading.Event()
        first = asyncio.ensure_future(sched.run(lambda: _blocking(log, "long-0", gate), flow="long"))
        await asyncio.sleep(0.05)  # long-0 holds the only slot
        rest = [
            asyncio.ensure_future(sched.run(lambda i=i: _blocking(log, f"long-{i}"), flow="long")) for i in (1, 2, 3)
        ]
        short = asyncio.ensure_future(sched.run(lambda: _blocking(log, "short"), flow="short"))
        gate.set()
        await asyncio.gather(first, *rest, short)
        return log

    assert asyncio.run(scenario()) == ["long-0", "short", "long-1", "long-2", "long-3"]


def test_higher_priority_first_background_last():
    async def scenario() -> list[str]:
        sched, log, gate = FairScheduler(1), [], threading.Event()
        first = asyncio.ensure_future(sched.run(lambda: _blocking(log, "busy", gate), flow="a"))
        await asyncio.sleep(0.05)
        jobs = [
            asyncio.ensure_future(
                sched.run(lambda: _blocking(log, "background"), flow="b", priority=Priority.BACKGROUND)
            ),
            asyncio.ensure_future(sched.run(lambda: _blocking(log, "normal"), flow="c")),
            asyncio.ensure_future(sched.run(lambda: _blocking(log, "high"), flow="d", priority=Priority.HIGH)),
        ]
        gate.set()
        await asyncio.gather(first, *jobs)
        return log

    assert asyncio.run(scenario()) == ["busy", "high", "normal", "background"]


def test_an_interactive_unit_starts_beside_background_units_that_fill_the_slots():
    async def scenario() -> list[str]:
        sched, log, gate = FairScheduler(1), [], threading.Event()
        job = asyncio.ensure_future(
            sched.run(lambda: _blocking(log, "job-0", gate), flow="job", priority=Priority.BACKGROUND)
        )
        await asyncio.sleep(0.05)  # job-0 holds the only slot
        queued_job = asyncio.ensure_future(
            sched.run(lambda: _blocking(log, "job-1"), flow="job", priority=Priority.BACKGROUND)
        )
        # not queued behind job-0: it runs while job-0 is still blocked on the gate
        assert await asyncio.wait_for(sched.run(lambda: _blocking(log, "request"), flow="request"), 2) == "request"
        assert sched.busy == 1 and sched.busy_background == 1 and sched.waiting == 1
        gate.set()
        await asyncio.gather(job, queued_job)
        return log

    assert asyncio.run(scenario()) == ["request", "job-0", "job-1"]


def test_background_units_wait_while_interactive_units_fill_the_slots():
    async def scenario() -> list[str]:
        sched, log, gate = FairScheduler(1), [], threading.Event()
        request = asyncio.ensure_future(sched.run(lambda: _blocking(log, "request", gate), flow="request"))
        await asyncio.sleep(0.05)
        job = asyncio.ensure_future(sched.run(lambda: _blocking(log, "job"), flow="job", priority=Priority.BACKGROUND))
        await asyncio.sleep(0.05)
        assert log == [] and sched.waiting == 1  # the job waits for the slot
        gate.set()
        await asyncio.gather(request, job)
        return log

    assert asyncio.run(scenario()) == ["request", "job"]


@pytest.mark.skipif(thread_nice() is None, reason="per-thread nice values are Linux's")
def test_background_units_run_on_lowest_priority_threads_and_others_do_not():
    async def scenario() -> tuple[tuple[int, int | None], int | None]:
        sched = FairScheduler(2)
        with scheduled_as(priority=Priority.BACKGROUND, flow="job"):  # as job sentences are rendered
            background = await sched.run(
                lambda: (current_scheduling().priority, thread_nice()), flow="job", priority=Priority.BACKGROUND
            )
        normal = await sched.run(thread_nice, flow="request")
        return background, normal

    background, normal = asyncio.run(scenario())
    assert background == (Priority.BACKGROUND, LOWEST_NICE)  # the engine still sees the caller's scheduling context
    assert normal == thread_nice() != LOWEST_NICE


def test_cancelled_waiter_leaves_the_queue_and_slots_come_back():
    async def scenario() -> FairScheduler:
        sched, log, gate = FairScheduler(1), [], threading.Event()
        first = asyncio.ensure_future(sched.run(lambda: _blocking(log, "busy", gate), flow="a"))
        await asyncio.sleep(0.05)
        waiting = asyncio.ensure_future(sched.run(lambda: _blocking(log, "never"), flow="b"))
        await asyncio.sleep(0.05)
        waiting.cancel()
        gate.set()
        await first
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert await sched.run(lambda: _blocking(log, "after"), flow="c") == "after"
        assert log == ["busy", "after"]
        return sched

    sched = asyncio.run(scenario())
    assert sched.busy == 0 and sched.waiting == 0


def test_scheduled_as_sets_flow_and_priority_for_the_block():
    assert current_scheduling().priority == Priority.NORMAL and current_scheduling().flow is None
    with scheduled_as(priority=Priority.BACKGROUND, flow="job-1"):
        with scheduled_as(priority=Priority.HIGH):
            assert current_scheduling().flow == "job-1" and current_scheduling().priority == Priority.HIGH
        assert current_scheduling().priority == Priority.BACKGROUND
    assert current_scheduling().flow is None


@pytest.fixture(scope="module")
def fair_server():
    server = ServerProcess(env={"TTS_MAX_CONCURRENCY": "1", "TTS_CACHE_MAX_BYTES": "0"}).start()
    yield server
    server.stop()


async def _short_behind_long(server: ServerProcess, long_request: tuple[str, dict]) -> tuple[float, float, float]:
    """Start the long request, send one sentence once it runs; (short done, long done, long started) times."""
    path, body = long_request
    async with httpx.AsyncClient(timeout=180) as client:
        t0 = time.perf_counter()
        long_task = asyncio.create_task(client.post(f"{server.url}{path}", json=body))
        await asyncio.sleep(1.0)  # the long request is admitted and synthesizing
        res = await client.post(f"{server.url}/v2/models/tts/infer", json=infer_body(["A short hello."]))
        short_done = time.perf_counter() - t0
        assert res.status_code == 200, res.text
        assert not long_task.done(), "the long request ended before the short one was sent; make it longer"
        long_res = await long_task
        assert long_res.status_code == 200, long_res.text[:300]
        return short_done, time.perf_counter() - t0, 1.0


@pytest.mark.parametrize(
    "long_request",
    [
        ("/v2/models/tts/infer", infer_body([LONG_TEXT])),
        ("/synthesize", {"text": LONG_TEXT, "options": {"stream": True}}),
    ],
    ids=["v2", "stream"],
)
def test_one_sentence_is_not_stuck_behind_a_long_text(fair_server, long_request):
    """With one engine slot, a one-sentence request sent while a 3,000-character text synthesizes is answered
    long before the long text ends (it waits for about one of the long text's sentences, not all of them)."""
    short_done, long_done, sent_at = asyncio.run(_short_behind_long(fair_server, long_request))
    print(f"short answered at {short_done:.2f} s (sent at {sent_at:.1f} s); long done at {long_done:.2f} s")
    # Relative progress: the short request took a small part of what the long one still had to do.
    assert short_done - sent_at < 0.5 * (long_done - sent_at)


def test_adaptive_engine_uses_the_one_thread_session_only_for_overlapping_calls():
    """TTS_THREADS > 1 with TTS_MAX_CONCURRENCY > 1: alone a call gets every thread, overlapping calls one each."""
    from concurrent.futures import ThreadPoolExecutor

    from tts_predictor.engines.base import SynthesisRequest
    from tts_predictor.engines.onnx.vits import OnnxVitsEngine, embedded_voice_paths

    engine = OnnxVitsEngine(*embedded_voice_paths(), device="cpu", threads=2, busy_threads=1)
    sessions = engine.sessions
    assert sessions.narrow is not None and sessions.narrow is not sessions.wide
    used: list[str] = []

    class Spy:
        def __init__(self, real, name: str):
            self.real, self.name = real, name

        def run(self, *args, **kwargs):
            used.append(self.name)
            return self.real.run(*args, **kwargs)

    sessions.wide, sessions.narrow = Spy(sessions.wide, "wide"), Spy(sessions.narrow, "narrow")
    voice = engine.voices()[0]
    try:
        engine.synthesize(SynthesisRequest("One call alone.", voice))
        assert used == ["wide"]
        with ThreadPoolExecutor(3) as pool:
            audios = list(pool.map(lambda i: engine.synthesize(SynthesisRequest(LONG_TEXT[:600], voice)), range(3)))
        assert all(a.duration_s > 1 for a in audios)
        assert "narrow" in used[1:]  # some calls overlapped and took the one-thread session
        used.clear()
        with scheduled_as(priority=Priority.BACKGROUND, flow="job-x"):  # a job sentence, even alone: narrow
            engine.synthesize(SynthesisRequest("A job sentence.", voice))
        engine.synthesize(SynthesisRequest("An interactive one.", voice))
        assert used == ["narrow", "wide"]
    finally:
        engine.close()


def test_job_sentences_get_a_one_thread_session_even_without_the_adaptive_layout():
    """Latency profile (one slot, every thread per call): a job sentence must not run on the wide session, whose
    pool threads would keep normal CPU priority; it gets a one-thread session made on its first call."""
    from tts_predictor.engines.base import SynthesisRequest
    from tts_predictor.engines.onnx.vits import OnnxVitsEngine, embedded_voice_paths

    engine = OnnxVitsEngine(*embedded_voice_paths(), device="cpu", threads=2)
    sessions = engine.sessions
    voice = engine.voices()[0]
    try:
        assert sessions.narrow is None
        engine.synthesize(SynthesisRequest("An interactive one.", voice))
        with scheduled_as(priority=Priority.BACKGROUND, flow="job-y"):
            engine.synthesize(SynthesisRequest("A job sentence.", voice))
        background = sessions._for_background()
        assert background is not sessions.wide
        assert background.get_session_options().intra_op_num_threads == 1
        assert sessions.wide.get_session_options().intra_op_num_threads == 2
    finally:
        engine.close()
