"""The long-lived espeak-ng workers: same phonemes as one process per sentence, thread-safe, restarted after a crash."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from tts_predictor.engines.onnx.espeak import EspeakPhonemizer
from tts_predictor.engines.onnx.espeak_worker import SENTINEL, EspeakWorker
from tts_predictor.errors import SynthesisFailed

SENTENCES = [
    "The quick brown fox jumps over the lazy dog near the quiet river bank.",
    "Mr. Smith paid $5.50, ok?",
    "no punctuation here",
    "Dr. Who; 12:30 p.m. on 3/4/2021, fine!",
    "...",
    "Café naïve, über.",
]


@pytest.fixture(scope="module")
def phonemizer():
    ph = EspeakPhonemizer("en-us", workers=2)
    yield ph
    ph.close()


def test_worker_lines_equal_one_process_per_sentence(phonemizer):
    for sentence in SENTENCES:
        assert phonemizer.pool.lines(sentence) == phonemizer._run(sentence), sentence
    assert len(phonemizer.pool.workers()) >= 1 and all(w.starts == 1 for w in phonemizer.pool.workers())


def test_sentinel_in_the_text_does_not_desynchronize(phonemizer):
    assert phonemizer.phonemize(f"Say {SENTINEL} twice, {SENTINEL}.")
    assert phonemizer.phonemize(SENTENCES[0]) == " ".join(phonemizer._run(SENTENCES[0])) + "."


def test_threads_share_the_pool_safely(phonemizer):
    expected = [phonemizer.phonemize(s) for s in SENTENCES]
    results: dict[int, list[str]] = {}

    def job(i: int) -> None:
        results[i] = [phonemizer.phonemize(s) for s in SENTENCES * 3]

    threads = [threading.Thread(target=job, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(results[i] == expected * 3 for i in range(4))
    assert len(phonemizer.pool.workers()) <= 2


def test_a_killed_worker_is_restarted(phonemizer):
    phonemizer.phonemize("Start a worker.")
    worker = phonemizer.pool.workers()[0]
    before = worker.starts
    os.kill(worker.pid, signal.SIGKILL)
    assert phonemizer.pool.lines(SENTENCES[0]) == phonemizer._run(SENTENCES[0])
    assert sum(w.starts for w in phonemizer.pool.workers()) > before


def test_a_worker_that_never_answers_fails_within_its_time_bound(tmp_path):
    silent = tmp_path / "silent-espeak"
    silent.write_text("#!/bin/sh\nexec sleep 30\n")  # reads nothing, prints nothing: a hung phonemizer
    silent.chmod(0o755)
    worker = EspeakWorker(str(silent), "en-us", timeout_s=0.5)
    with pytest.raises(SynthesisFailed, match="failed twice"):
        worker.lines("Hello.")
    assert worker.pid is None and worker.starts == 2
