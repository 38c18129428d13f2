"""Network-adaptive bitrate of streamed mp3/opus: lower it while the client takes the audio slower than real time.

A stream's sends wait while the connection's buffers are full (uvicorn pauses a writer above 64 KiB; the kernel
keeps at most `UNSENT_LOWAT_BYTES` unsent, see `limit_unsent`), so the routes time each send and report it here.
Over a window of at least `WINDOW_S` seconds of audio (wall time measured from the window's start):

- the sends waited for at least `FULL_SHARE` of the wall time (the pipe to the client stayed full), so the client's
  read rate is bytes sent / wall time; when the window also took longer than its audio (`SLOW_RATIO`), the client
  reads slower than real time: step down to the largest rung at most `HEADROOM` x that rate (else the lowest);
- the sends hardly waited (`IDLE_SHARE`): the client took everything, so it reads at least bytes / wall time; step up
  one rung when that rung is at most `HEADROOM` x the best rate seen, never above the requested bitrate. A rate
  learnt while the client was slow is forgotten after `FORGET_WINDOWS` idle windows (the network may have got
  better): the next rung is then tried, and taken back if the client is still too slow.

Down needs the client below real time (`SLOW_RATIO`), up leaves `HEADROOM`: the two do not flap. Pure logic here; the
routes report each send (`BitrateAdapter.sent`), and at each sentence joint `take` the change, switch their encoder
(`streaming.ChunkEncoder.set_bitrate`) and tell the client (``quality`` events).
"""

from __future__ import annotations

import logging
import socket
import time
from dataclasses import dataclass
from typing import Any

from tts_predictor.audio.codecs.base import kbps

log = logging.getLogger(__name__)

UNSENT_LOWAT_BYTES = 16384
"""TCP_NOTSENT_LOWAT of client connections: the kernel keeps at most this much not-yet-sent data per socket beyond
what is in flight, so a slow client makes the server's sends wait after tens of KB, not after the megabyte the
kernel's send-buffer autotuning would otherwise hold (on loopback, where MSS is 64 KB, it held ~1 MB)."""
_TCP_NOTSENT_LOWAT = getattr(socket, "TCP_NOTSENT_LOWAT", 25)  # Linux value; Python names it from 3.12 on Linux only

LADDERS_KBPS: dict[str, tuple[int, ...]] = {
    "mp3": (16, 24, 32, 48, 64, 96, 128, 160, 192, 256, 320),
    "opus": (8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256),
}
"""Bitrates a stream moves between (kbit/s), per format; the requested bitrate is the ceiling."""
ADAPTIVE_FORMATS = tuple(LADDERS_KBPS)
WINDOW_S = 2.0
"""Seconds of audio sent between decisions."""
FULL_SHARE = 0.5
"""Share of a window's wall time spent waiting in sends above which the pipe counts as full."""
IDLE_SHARE = 0.1
"""Share below which the client counts as taking everything at once."""
SLOW_RATIO = 1.0
"""Step down when, with the pipe full, a window took longer than this x its audio."""
HEADROOM = 0.8
"""A bitrate suits a client reading at R kbit/s when it is at most this x R (step down to it, step up to it)."""
FORGET_WINDOWS = 4
"""Idle windows after which a read rate learnt while the client was slow no longer holds the bitrate down."""


@dataclass(frozen=True)
class BitrateChange:
    """A decision to re-encode the rest of the stream at another bitrate."""

    bitrate: str
    """The new bitrate ("32k")."""
    previous: str
    """The bitrate so far."""
    reason: str
    """``slow_client`` (down) or ``client_caught_up`` (up)."""
    client_kbps: float | None
    """The client's estimated read rate in kbit/s (None: it took everything at once)."""

    def event(self, at_s: float) -> dict[str, object]:
        """The ``quality`` event sent to clients (WebSocket message, NDJSON line)."""
        return {
            "type": "quality",
            "bitrate": self.bitrate,
            "previous": self.previous,
            "reason": self.reason,
            "client_kbps": None if self.client_kbps is None else round(self.client_kbps, 1),
            "at_s": round(at_s, 3),
        }


class BitrateAdapter:
    """Follows one stream's send timings and decides its bitrate."""

    def __init__(self, fmt: str, bitrate: str | None):
        top = kbps(bitrate, fmt)
        self.ladder = sorted({b for b in LADDERS_KBPS[fmt] if b <= top} | {top})
        self.index = len(self.ladder) - 1
        self.changes: list[BitrateChange] = []
        self.client_kbps: float | None = None
        """The best read rate known (measured with the pipe full, or a lower bound from idle windows)."""
        self._idle = 0
        self._window: list[float] = [0.0, 0.0, 0.0]  # audio s, bytes, blocked s
        self._since: float | None = None
        self._pending: BitrateChange | None = None

    @property
    def bitrate(self) -> str:
        return f"{self.ladder[self.index]}k"

    def observe(
        self, audio_s: float, sent_bytes: int, blocked_s: float, now: float | None = None
    ) -> BitrateChange | None:
        """Record that `audio_s` seconds of audio (`sent_bytes` bytes) were sent, waiting `blocked_s`; maybe decide."""
        now = time.monotonic() if now is None else now
        if self._since is None:
            self._since = now - blocked_s
        window = self._window
        window[0] += audio_s
        window[1] += sent_bytes
        window[2] += blocked_s
        if window[0] < WINDOW_S:
            return None
        (audio, sent, blocked), wall = window, max(now - self._since, 1e-6)
        self._window, self._since = [0.0, 0.0, 0.0], now
        rate = sent * 8 / 1000 / wall
        if blocked >= FULL_SHARE * wall:
            self.client_kbps, self._idle = rate, 0
            if wall > SLOW_RATIO * audio and self.index > 0:
                fits = [i for i, b in enumerate(self.ladder) if b <= HEADROOM * rate]
                target = fits[-1] if fits else 0
                if target < self.index:
                    return self._move(target, "slow_client", rate)
        elif blocked <= IDLE_SHARE * wall:
            self._idle += 1
            known = None if self._idle >= FORGET_WINDOWS else self.client_kbps
            self.client_kbps = max(known or 0.0, rate)
            if self.index < len(self.ladder) - 1 and self.ladder[self.index + 1] <= HEADROOM * self.client_kbps:
                return self._move(self.index + 1, "client_caught_up", rate)
            if known is None:  # forgotten: try the next rung once
                self._idle = 0
                if self.index < len(self.ladder) - 1:
                    return self._move(self.index + 1, "client_caught_up", rate)
        return None

    def sent(self, audio_s: float, sent_bytes: int, blocked_s: float, now: float | None = None) -> None:
        """`observe` a send; a decision waits, merged with later ones (`combine`), for `take`."""
        self._pending = combine(self._pending, self.observe(audio_s, sent_bytes, blocked_s, now))

    def take(self) -> BitrateChange | None:
        """The change to apply at this sentence joint (None: keep the bitrate); it is then no longer pending."""
        change, self._pending = self._pending, None
        return change

    def _move(self, index: int, reason: str, client_kbps: float | None) -> BitrateChange:
        change = BitrateChange(f"{self.ladder[index]}k", self.bitrate, reason, client_kbps)
        self.index = index
        self.changes.append(change)
        return change


def combine(pending: BitrateChange | None, new: BitrateChange | None) -> BitrateChange | None:
    """The change still to apply when `new` is decided while `pending` waits for the next sentence: one change from
    the bitrate the stream has now to the newest decision (None when that is where the stream already is), so a
    ``quality`` event's ``previous`` is always the bitrate the client received."""
    if new is None or pending is None:
        return pending if new is None else new
    if new.bitrate == pending.previous:
        return None
    down = int(new.bitrate.rstrip("k")) < int(pending.previous.rstrip("k"))  # the net move names the reason
    reason = "slow_client" if down else "client_caught_up"
    return BitrateChange(new.bitrate, pending.previous, reason, new.client_kbps)


def adapter_for(fmt: str, bitrate: str | None, enabled: bool) -> BitrateAdapter | None:
    """An adapter when `enabled` and `fmt` is one whose bitrate can change mid-stream (mp3, opus)."""
    return BitrateAdapter(fmt, bitrate) if enabled and fmt in ADAPTIVE_FORMATS else None


def limit_unsent(transport: Any) -> None:
    """Set TCP_NOTSENT_LOWAT (`UNSENT_LOWAT_BYTES`) on a TCP connection's asyncio transport; sockets that refuse it
    (not Linux, not TCP) are left alone."""
    sock = transport.get_extra_info("socket")
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, _TCP_NOTSENT_LOWAT, UNSENT_LOWAT_BYTES)
    except OSError:
        log.debug("TCP_NOTSENT_LOWAT not supported here", exc_info=True)
