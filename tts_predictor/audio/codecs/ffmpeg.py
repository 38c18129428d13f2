"""AAC (ADTS) through one ``ffmpeg`` process per stream (a separate program, so no library of it links in).

libsndfile has no AAC encoder. The process stays open for the whole stream; after each write the encoder waits
(up to `WAIT_S`) until ffmpeg has sent the ADTS frames for all but its look-ahead, so `feed` hands them out.
Starting ffmpeg costs 0.1-0.3 s on a 2-core machine (most of aac's time to first audio), so one idle process per
(rate, bitrate) is kept started (`SPARES`, at most `MAX_SPARES` in all): a stream takes it, and a replacement
starts in the background when the stream ends.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from collections import OrderedDict
from typing import IO, Any

import numpy as np

from tts_predictor.audio.codecs.base import kbps
from tts_predictor.errors import EncoderUnavailable

FRAME = 1024
"""Samples per AAC frame."""
LOOKAHEAD_FRAMES = 3
"""Frames ffmpeg's aac encoder (plus the raw demuxer's 1024-sample reads) may hold back."""
WAIT_S = 2.0
TIMEOUT_S = 60.0
MAX_SPARES = 2
"""Idle ffmpeg processes kept started (one per recent rate and bitrate); each waits on stdin, using no CPU."""


class _AdtsDrain:
    """Reads ffmpeg's stdout on a thread, counting whole ADTS frames, so the writer never blocks on a full pipe."""

    def __init__(self, pipe: IO[bytes]) -> None:
        self._pipe, self._scan = pipe, bytearray()
        self._parts: list[bytes] = []
        self.frames = 0
        self._ready = threading.Condition()
        self.thread = threading.Thread(target=self._run, name="ffmpeg-aac-reader", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while data := self._pipe.read1(65536):  # type: ignore[attr-defined]
            with self._ready:
                self._parts.append(data)
                self._scan += data
                while len(self._scan) >= 7 and self._scan[0] == 0xFF:
                    size = ((self._scan[3] & 3) << 11) | (self._scan[4] << 3) | (self._scan[5] >> 5)
                    if size < 7 or len(self._scan) < size:
                        break
                    del self._scan[:size]
                    self.frames += 1
                self._ready.notify_all()
        with self._ready:
            self.frames = 1 << 62  # EOF: nothing more will come
            self._ready.notify_all()

    def wait_frames(self, count: int, timeout: float) -> None:
        with self._ready:
            self._ready.wait_for(lambda: self.frames >= count, timeout)

    def take(self) -> bytes:
        with self._ready:
            data, self._parts = b"".join(self._parts), []
        return data


class _Process:
    """One started ffmpeg encoder: the process, its stderr file and the thread draining its stdout."""

    def __init__(self, rate: int, kbit: int) -> None:
        exe = shutil.which("ffmpeg")
        if exe is None:
            raise EncoderUnavailable("format 'aac' needs the ffmpeg program, which is not installed")
        command = [
            exe,
            "-hide_banner",
            "-loglevel",
            "error",
            "-probesize",
            "32",
            "-analyzeduration",
            "0",
            "-f",
            "s16le",
            "-ar",
            str(rate),
            "-ac",
            "1",
            "-i",
            "pipe:0",
            "-c:a",
            "aac",
            "-b:a",
            f"{kbit}k",
            "-f",
            "adts",
            "-flush_packets",
            "1",
            "pipe:1",
        ]
        self.errors = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errors)
        assert self.proc.stdout is not None
        self.drain = _AdtsDrain(self.proc.stdout)


class _Spares:
    """At most `MAX_SPARES` started, unused processes, newest key last; taking one starts its replacement."""

    def __init__(self) -> None:
        self._idle: OrderedDict[tuple[int, int], _Process] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, rate: int, kbit: int) -> _Process:
        """The idle process for (rate, kbit), or a new one."""
        with self._lock:
            spare = self._idle.pop((rate, kbit), None)
        if spare is not None and spare.proc.poll() is None:
            return spare
        if spare is not None:
            _close(spare)
        return _Process(rate, kbit)

    def refill(self, rate: int, kbit: int) -> None:
        """Start a spare for (rate, kbit) in the background (after a stream, so that its start-up, 0.1-0.3 s of
        CPU, does not compete with a stream's first audio)."""
        threading.Thread(target=self._refill, args=(rate, kbit), name="ffmpeg-aac-spare", daemon=True).start()

    def _refill(self, rate: int, kbit: int) -> None:
        try:
            spare = _Process(rate, kbit)
        except (EncoderUnavailable, OSError):
            return
        with self._lock:
            old = [self._idle.pop((rate, kbit), None)]
            self._idle[(rate, kbit)] = spare
            while len(self._idle) > MAX_SPARES:
                old.append(self._idle.popitem(last=False)[1])
        for process in old:
            if process is not None:
                _close(process)

    def clear(self) -> None:
        """Stop every idle process (tests, shutdown)."""
        with self._lock:
            idle, self._idle = list(self._idle.values()), OrderedDict()
        for process in idle:
            _close(process)


def _close(process: _Process) -> None:
    if process.proc.poll() is None:
        process.proc.kill()
        process.proc.wait()
    for pipe in (process.proc.stdin, process.proc.stdout):
        try:
            if pipe is not None:
                pipe.close()
        except OSError:
            pass
    process.errors.close()


SPARES = _Spares()


class FfmpegCodec:
    """ffmpeg reading s16le on stdin and writing ADTS AAC on stdout; its bytes go into `sink`."""

    def __init__(self, sink: Any, fmt: str, rate: int, bitrate: str | None) -> None:
        self._key = (rate, kbps(bitrate, fmt))
        process = SPARES.take(*self._key)
        self._sink, self._fmt, self._samples = sink, fmt, 0
        self._errors, self._proc, self._drain = process.errors, process.proc, process.drain
        self._process = process

    def write(self, samples: np.ndarray) -> None:
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(samples.astype("<i2").tobytes())
            self._proc.stdin.flush()
        except BrokenPipeError:
            self._fail("stream")
        self._samples += len(samples)
        self._drain.wait_frames(self._samples // FRAME - LOOKAHEAD_FRAMES, WAIT_S)
        self._sink.write(self._drain.take())

    def end(self) -> None:
        try:
            if self._proc.stdin is not None:
                self._proc.stdin.close()
        except BrokenPipeError:
            pass  # ffmpeg already exited; its status is reported below
        try:
            self._drain.thread.join(TIMEOUT_S)
            if self._proc.wait(TIMEOUT_S) != 0:
                self._fail("finish")
            self._sink.write(self._drain.take())
        finally:
            self.abort()

    def abort(self) -> None:
        _close(self._process)
        SPARES.refill(*self._key)

    def _fail(self, stage: str) -> None:
        self._proc.wait(TIMEOUT_S)
        self._errors.seek(0)
        detail = self._errors.read().decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        raise EncoderUnavailable(
            f"ffmpeg failed to {stage} {self._fmt} (exit {self._proc.returncode}): {detail[0][:200]}"
        )
