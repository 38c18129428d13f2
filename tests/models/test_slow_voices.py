"""Voices far slower than real time (Bark, Tortoise, TTS_SLOW_MODELS): listed as such, admitted few at a time.

The served test here marks the embedded Piper voice slow with TTS_SLOW_MODELS; a served tiny Bark and a served tiny
Tortoise, slow by their config's `model` field, are admitted the same way in tests/models/test_coqui_bark.py and
tests/models/test_coqui_tortoise.py.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from server_process import ServerProcess
from v2_helpers import infer_body

PIPER = "en_US-joe-medium"
LONG_TEXT = " ".join(f"This is sentence number {i} of a long text for a slow voice." for i in range(30))


def test_admission_refuses_slow_requests_beyond_the_limit_at_once():
    from tts_predictor.errors import SlowOverloaded
    from tts_predictor.pipeline.admission import AdmissionController

    async def scenario():
        admission = AdmissionController(max_running=4, max_queued=4, timeout_s=30, max_slow=1)
        gate = asyncio.Event()

        async def held():
            await gate.wait()
            return "slow done"

        first = asyncio.create_task(admission.run(held(), slow=True))
        await asyncio.sleep(0)
        while admission.slow == 0:
            await asyncio.sleep(0.01)
        never = asyncio.sleep(0, "never")
        with pytest.raises(SlowOverloaded, match="TTS_MAX_SLOW_REQUESTS=1"):
            await admission.run(never, slow=True)
        never.close()  # refused before it ran
        assert await admission.run(asyncio.sleep(0, "fast"), slow=False) == "fast", "real-time voices still pass"
        gate.set()
        assert await first == "slow done"
        assert admission.slow == 0 and admission.running == 0
        assert await admission.run(asyncio.sleep(0, "again"), slow=True) == "again"

    asyncio.run(scenario())


@pytest.fixture(scope="module")
def server():
    proc = ServerProcess(
        env={"TTS_SLOW_MODELS": PIPER, "TTS_MAX_SLOW_REQUESTS": "1", "TTS_CACHE_MAX_BYTES": "0"}
    ).start()
    yield proc
    proc.stop()


@pytest.mark.slow
def test_slow_voice_is_listed_and_admitted_one_at_a_time(server):
    voice = httpx.get(f"{server.url}/v1/voices", timeout=10).json()["voices"][0]
    assert voice["id"] == PIPER and voice["realtime"] is False

    async def burst():
        async with httpx.AsyncClient(timeout=120) as client:
            return await asyncio.gather(
                *(client.post(f"{server.url}/v2/models/tts/infer", json=infer_body([LONG_TEXT])) for _ in range(3))
            )

    answers = asyncio.run(burst())
    statuses = sorted(r.status_code for r in answers)
    assert statuses[0] == 200 and 429 in statuses, statuses
    refused = next(r for r in answers if r.status_code == 429)
    assert refused.headers["retry-after"] == "10" and "TTS_MAX_SLOW_REQUESTS=1" in refused.json()["error"]
