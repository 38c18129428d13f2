"""Long-lived `espeak-ng --ipa` processes fed one sentence per line over pipes, so no process starts per sentence.

Licensing: espeak-ng is GPL-3.0; this package is MIT. We talk to Debian's ``espeak-ng`` *program* over
stdin/stdout, which keeps it a separate program (the same as running it once per sentence did). We do not
load ``libespeak-ng`` with ctypes or a C extension (that would link GPL code into this process), and we do
not depend on ``piper-phonemize``/``espeakbridge`` (shipped inside the GPL-3.0 ``piper-tts``) at run time.

Protocol: with no text argument espeak-ng reads stdin line by line (``fgets`` into a 1000-byte buffer) and
synthesizes each line on its own, printing one IPA line per clause and flushing as it goes. After each
sentence we write a sentinel word whose IPA line we learnt at start; everything before that line is the
sentence's output. Sentences longer than `MAX_LINE_BYTES` (which espeak would cut at 1000 bytes) and the
sentinel itself (removed from the text) are the only special cases.
"""

from __future__ import annotations

import logging
import queue
import re
import subprocess
import threading
import time
from typing import IO

from tts_predictor.errors import SynthesisFailed

log = logging.getLogger(__name__)

SENTINEL = "kwyxzq"
"""A non-word written after each sentence; its IPA line marks the end of the sentence's output."""
MAX_LINE_BYTES = 900
"""Longer sentences go to a one-off process: espeak-ng reads stdin lines into a 1000-byte buffer."""
CALL_TIMEOUT_S = 10.0
"""Longest wait for one sentence's phonemes; then the worker is killed (restarted on the next call)."""
_SENTINEL_RE = re.compile(re.escape(SENTINEL), re.I)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class EspeakWorker:
    """One `espeak-ng -q --ipa -v VOICE` process; one sentence at a time (a lock); restarted after a crash."""

    def __init__(self, binary: str, voice: str, timeout_s: float = CALL_TIMEOUT_S):
        self.binary, self.voice, self.timeout_s = binary, voice, timeout_s
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._sentinel_ipa = ""
        self.starts = 0
        """How many processes this worker started (1 + restarts)."""

    @property
    def pid(self) -> int | None:
        """The running process's id (None before the first call or after a failure)."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def lines(self, sentence: str) -> list[str]:
        """The IPA lines (one per clause) espeak-ng prints for one sentence; retried once on a fresh process."""
        text = _SENTINEL_RE.sub(" ", _CONTROL.sub(" ", sentence)).strip()
        with self._lock:
            for attempt in (1, 2):
                try:
                    self._ensure_started()
                    return self._exchange(text)
                except (OSError, _WorkerDied) as exc:
                    self._stop()
                    if attempt == 2:
                        raise SynthesisFailed(f"espeak-ng ({self.voice}) failed twice: {exc}") from None
                    log.warning("espeak-ng worker (%s) died (%s); restarting", self.voice, exc)
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Stop the process (it also ends by itself when this process exits: its stdin closes)."""
        with self._lock:
            self._stop()

    def _ensure_started(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        self._stop()
        self._lines = queue.SimpleQueue()
        self._proc = subprocess.Popen(
            [self.binary, "-q", "--ipa", "-v", self.voice],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,
        )
        self.starts += 1
        assert self._proc.stdout is not None
        threading.Thread(
            target=_read_lines, args=(self._proc.stdout, self._lines), name=f"espeak-{self.voice}", daemon=True
        ).start()
        self._send(SENTINEL)
        first = self._next_line(time.monotonic() + self.timeout_s)
        if not first:
            raise _WorkerDied(f"no IPA for the sentinel from voice {self.voice!r}")
        self._sentinel_ipa = first

    def _exchange(self, text: str) -> list[str]:
        self._send(text)
        self._send(SENTINEL)
        deadline = time.monotonic() + self.timeout_s
        out = []
        while (line := self._next_line(deadline)) != self._sentinel_ipa:
            if line:
                out.append(line)
        return out

    def _send(self, text: str) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        try:
            self._proc.stdin.write(text.encode("utf-8") + b"\n")
        except (BrokenPipeError, ValueError) as exc:
            raise _WorkerDied(f"cannot write: {exc!r}") from None

    def _next_line(self, deadline: float) -> str:
        try:
            line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise _WorkerDied(f"no answer within {self.timeout_s:g} s") from None
        if line is None:
            raise _WorkerDied(f"exited with code {self._proc.wait(1) if self._proc else '?'}")
        return line

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        if proc.poll() is None:
            proc.kill()
        try:
            proc.wait(2)
        except subprocess.TimeoutExpired:
            log.warning("espeak-ng process %s did not exit after kill", proc.pid)


class _WorkerDied(Exception):
    """The process crashed, hung or closed its pipes."""


def _read_lines(stream: IO[bytes], out: queue.SimpleQueue[str | None]) -> None:
    """Reader thread: every output line, stripped; None at end of output."""
    try:
        for raw in stream:
            out.put(raw.decode("utf-8", "replace").strip())
    except (OSError, ValueError):
        pass
    finally:
        out.put(None)


class WorkerPool:
    """Up to `size` workers, started on first need; a caller borrows an idle one (threads never share one)."""

    def __init__(self, binary: str, voice: str, size: int = 2):
        self._idle: queue.LifoQueue[EspeakWorker] = queue.LifoQueue()
        self._all: list[EspeakWorker] = []
        self._lock = threading.Lock()
        self.binary, self.voice, self.size = binary, voice, max(1, size)

    def lines(self, sentence: str) -> list[str]:
        """IPA lines of one sentence from an idle worker (waits for one when all `size` are busy)."""
        worker = self._borrow()
        try:
            return worker.lines(sentence)
        finally:
            self._idle.put(worker)

    def workers(self) -> list[EspeakWorker]:
        """The workers started so far."""
        with self._lock:
            return list(self._all)

    def close(self) -> None:
        """Stop every worker."""
        for worker in self.workers():
            worker.close()

    def _borrow(self) -> EspeakWorker:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if len(self._all) < self.size:
                worker = EspeakWorker(self.binary, self.voice)
                self._all.append(worker)
                return worker
        return self._idle.get()
