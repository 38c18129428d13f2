"""Admission at the gateway's door (issue 23, finding 14): a request is refused before its body is read when there is
no room, and counted in once its body has arrived (a slow body holds a socket, never a place)."""

from __future__ import annotations

import asyncio

import pytest

from tts_predictor.errors import Overloaded
from tts_predictor.pipeline.admission import AdmissionController


def test_the_door_counts_requests_inside_against_slots_and_queue():
    async def run() -> None:
        admission = AdmissionController(max_running=1, max_queued=1, timeout_s=5)
        admission.check_door()
        admission.enter()
        admission.check_door()
        admission.enter()  # both bodies in, still parsing: neither holds a slot yet
        with pytest.raises(Overloaded, match="TTS_MAX_QUEUE"):
            admission.check_door()
        admission.leave()
        admission.check_door()

    asyncio.run(run())


def test_the_door_refuses_when_other_paths_fill_the_slots():
    async def run() -> None:
        admission = AdmissionController(max_running=1, max_queued=0, timeout_s=5)
        await admission.acquire()  # a WebSocket utterance, a gRPC request: no door
        with pytest.raises(Overloaded):
            admission.check_door()
        admission.release()
        admission.check_door()

    asyncio.run(run())


def test_requests_whose_bodies_are_still_arriving_hold_no_place():
    """Passing the door takes nothing: fifty slowloris bodies leave room for the next complete request."""
    admission = AdmissionController(max_running=1, max_queued=1, timeout_s=5)
    for _ in range(50):
        admission.check_door()  # heads in, bodies trickling: not counted
    admission.check_door()
    assert admission.entered == 0
