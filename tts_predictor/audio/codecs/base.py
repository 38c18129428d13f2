"""What every streaming codec shares: the sinks it writes into, the codec protocol and the default bitrates."""

from __future__ import annotations

import io
from typing import Any, Protocol

import numpy as np

PYAV_MODULE = "av"
DEFAULT_BITRATES = {"mp3": "64k", "ogg": "64k", "opus": "32k", "aac": "64k"}


def kbps(bitrate: str | None, fmt: str) -> int:
    """A bitrate such as "64k" (or the format's default) in kbit/s."""
    return int((bitrate or DEFAULT_BITRATES[fmt]).rstrip("k"))


class Sink(io.RawIOBase):
    """A write-only, non-seekable byte sink (so muxers write streamable headers) drained by `take`."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self.position += len(chunk)
        return len(chunk)

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


class StreamSink(Sink):
    """A sink libsndfile may seek in: writes into bytes not yet taken land in place; writes into bytes already
    sent (a header rewritten at the end: FLAC's total length, MP3's Xing frame) are dropped, as on a pipe."""

    def __init__(self) -> None:
        super().__init__()
        self._pending = bytearray()
        self._sent = 0

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        end = self._sent + len(self._pending)
        self.position = {io.SEEK_SET: offset, io.SEEK_CUR: self.position + offset, io.SEEK_END: end + offset}[whence]
        return self.position

    def tell(self) -> int:
        return self.position

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        skip = min(len(chunk), max(0, self._sent - self.position))
        at = self.position + skip - self._sent
        self._pending[at : at + len(chunk) - skip] = chunk[skip:]
        self.position += len(chunk)
        return len(chunk)

    def take(self) -> bytes:
        data, self._pending = bytes(self._pending), bytearray()
        self._sent += len(data)
        return data

    def peek(self) -> bytes:
        return bytes(self._pending)

    def discard(self, count: int) -> None:
        """Drop the first `count` bytes not yet taken, as if they had been sent."""
        del self._pending[:count]
        self._sent += count


class FileSink(io.BytesIO):
    """A seekable in-memory file for whole-file encodes (mp3 gets its Xing header, flac its total length)."""

    def take(self) -> bytes:
        return b""


class Codec(Protocol):
    """One open encoder writing into a sink."""

    def write(self, samples: np.ndarray) -> None: ...  # int16 mono

    def end(self) -> None: ...  # flush and write the trailer

    def abort(self) -> None: ...  # release without finishing
