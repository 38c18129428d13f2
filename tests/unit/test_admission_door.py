"""Admission at the gateway's door (issue 23, finding 14): a request is let in or refused before its body is read."""

from __future__ import annotations

import asyncio

import pytest

from tts_predictor.pipeline.admission import AdmissionController, Overloaded


def test_the_door_counts_requests_inside_against_slots_and_queue():
    async def run() -> None:
        admission = AdmissionController(max_running=1, max_queued=1, timeout_s=5)
        admission.enter()
        admission.enter()  # both still parsing: neither holds a slot yet
        with pytest.raises(Overloaded, match="TTS_MAX_QUEUE"):
            admission.enter()
        admission.leave()
        admission.enter()

    asyncio.run(run())


def test_the_door_refuses_when_other_paths_fill_the_slots():
    async def run() -> None:
        admission = AdmissionController(max_running=1, max_queued=0, timeout_s=5)
        await admission.acquire()  # a WebSocket utterance, a gRPC request: no door
        with pytest.raises(Overloaded):
            admission.enter()
        admission.release()
        admission.enter()

    asyncio.run(run())
