"""AAC (ADTS) through one ``ffmpeg`` process per stream (a separate program, so no library of it links in).

libsndfile has no AAC encoder. The process stays open for the whole stream; after each write the encoder waits
(up to `WAIT_S`) until ffmpeg has sent the ADTS frames for all but its look-ahead, so `feed` hands them out.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from typing import IO, Any

import numpy as np

from .stream_encoder import EncoderUnavailable, kbps

FRAME = 1024
"""Samples per AAC frame."""
LOOKAHEAD_FRAMES = 3
"""Frames ffmpeg's aac encoder (plus the raw demuxer's 1024-sample reads) may hold back."""
WAIT_S = 2.0
TIMEOUT_S = 60.0


class _AdtsDrain:
    """Reads ffmpeg's stdout on a thread, counting whole ADTS frames, so the writer never blocks on a full pipe."""

    def __init__(self, pipe: IO[bytes]) -> None:
        self._pipe, self._parts, self._scan = pipe, [], bytearray()
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


class FfmpegCodec:
    """ffmpeg reading s16le on stdin and writing ADTS AAC on stdout; its bytes go into `sink`."""

    def __init__(self, sink: Any, fmt: str, rate: int, bitrate: str | None) -> None:
        exe = shutil.which("ffmpeg")
        if exe is None:
            raise EncoderUnavailable(f"format {fmt!r} needs the ffmpeg program, which is not installed")
        command = [exe, "-hide_banner", "-loglevel", "error", "-probesize", "32", "-analyzeduration", "0",
                   "-f", "s16le", "-ar", str(rate), "-ac", "1",
                   "-i", "pipe:0", "-c:a", "aac", "-b:a", f"{kbps(bitrate, fmt)}k", "-f", "adts",
                   "-flush_packets", "1", "pipe:1"]
        self._sink, self._fmt, self._samples = sink, fmt, 0
        self._errors = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._errors)
        assert self._proc.stdout is not None
        self._drain = _AdtsDrain(self._proc.stdout)

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
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        for pipe in (self._proc.stdin, self._proc.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass
        self._errors.close()

    def _fail(self, stage: str) -> None:
        self._proc.wait(TIMEOUT_S)
        self._errors.seek(0)
        detail = self._errors.read().decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        raise EncoderUnavailable(f"ffmpeg failed to {stage} {self._fmt} (exit {self._proc.returncode}): "
                                 f"{detail[0][:200]}")
