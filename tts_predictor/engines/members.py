"""The models of a `VoicePool`: each one's spec, state, known voices and memory cost, and the loaded ones in
least-recently-used order with the bounds that evict them."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tts_predictor.engines.base import Engine, Voice
from tts_predictor.engines.registry import describe_source
from tts_predictor.errors import ModelLoadError
from tts_predictor.settings import EMBEDDED_MODEL

log = logging.getLogger(__name__)

LOADED, LOADING, UNLOADED, FAILED = "loaded", "loading", "unloaded", "failed"
"""A member's states, as /ready and the model metadata list them."""


@dataclass(eq=False)
class Member:
    """A model the pool may serve; its engine is loaded on demand and may be evicted."""

    spec: str
    """The model spec (`TTS_MODEL` syntax) it loads from."""
    name: str
    """The name it is served under (voice file stem, folder or catalogue name)."""
    voices: list[Voice] = field(default_factory=list)
    """Its voices: read from a Piper `.onnx.json` before the first load, else those of its last load."""
    engine: Engine | None = None
    loading: threading.Event | None = None
    """Set while one load runs: every other request for the member waits on it (single flight)."""
    error: str | None = None
    """Why its last load failed (it is tried again on the next request)."""
    refs: int = 0
    """Engine calls running on it now: a member in use is never evicted."""
    cost: int = 0
    """Bytes it took when it last loaded (see `measure_cost`), 0 before its first load."""
    loads: int = 0
    kind: str | None = None
    """Its engine's kind, from its last load."""
    removed: bool = False
    """Dropped from the pool (repository unload): closed once its last call ends."""

    @property
    def state(self) -> str:
        """``loaded``, ``loading``, ``unloaded`` or ``failed``."""
        if self.engine is not None:
            return LOADED
        if self.loading is not None:
            return LOADING
        return FAILED if self.error else UNLOADED

    def estimate(self) -> int:
        """Bytes a load is expected to take: the last measured cost, else the weight files' size."""
        return self.cost or weights_bytes(self.spec)


Victim = tuple[Member, Engine, "str | None"]
"""An evicted member, its engine (to close outside the lock) and the eviction reason (None: removed, not evicted)."""


class LoadedMembers:
    """The loaded members, least recently used first, and the bounds that evict them; the pool's lock is held
    around every call."""

    def __init__(self, max_models: int, memory_bytes: int):
        self.max_models, self.memory_bytes = max_models, memory_bytes
        self.order: list[Member] = []

    def touch(self, member: Member) -> None:
        """Mark `member` most recently used."""
        if member in self.order:
            self.order.remove(member)
        self.order.append(member)

    def used(self) -> int:
        """Estimated bytes of the loaded members."""
        return sum(m.cost for m in self.order)

    def over_memory(self, extra: int = 0) -> bool:
        """Whether the loaded members (plus `extra` bytes) pass the memory budget."""
        return bool(self.memory_bytes) and self.used() + extra > self.memory_bytes

    def has_room(self, member: Member) -> bool:
        """Whether `member` would load without evicting another."""
        return len(self.order) < self.max_models and not self.over_memory(member.estimate())

    def make_room(self, incoming: Member) -> list[Victim]:
        """Before a load: evict idle members so the incoming one fits, by its estimated cost."""
        victims: list[Victim] = []
        self._evict_while(lambda: len(self.order) + 1 > self.max_models, "count", victims)
        self._evict_while(lambda: self.over_memory(incoming.estimate()), "memory", victims)
        return victims

    def over_limits(self) -> list[Victim]:
        """After a load or a call: evict idle members while the pool is over a bound."""
        victims: list[Victim] = []
        self._evict_while(lambda: len(self.order) > self.max_models, "count", victims)
        self._evict_while(self.over_memory, "memory", victims)
        return victims

    def _evict_while(self, over: Callable[[], bool], reason: str, victims: list[Victim]) -> None:
        while over():
            idle = next((m for m in self.order if m.refs == 0), None)
            if idle is None:
                return  # every loaded member is busy: the next release evicts
            victims.append(self.unload(idle, reason))

    def unload(self, member: Member, reason: str | None) -> Victim:
        """Take `member`'s engine out (the caller closes it)."""
        engine = member.engine
        assert engine is not None
        member.engine = None
        self.order.remove(member)
        return member, engine, reason


def _piper_files(spec: str) -> tuple[Path, Path] | None:
    """(model, config) of a spec naming a Piper voice on disk, else None."""
    try:
        kind, location = describe_source(spec)
    except ModelLoadError:
        return None
    if kind != "onnx":
        return None
    if location == EMBEDDED_MODEL:
        from tts_predictor.engines.onnx.vits import embedded_voice_paths

        return embedded_voice_paths()
    model = Path(location)
    return model, Path(f"{model}.json")


def cheap_voices(spec: str) -> list[Voice]:
    """The voices of a Piper voice read from its `.onnx.json` without loading it; [] for other models."""
    files = _piper_files(spec)
    if files is None or not files[1].is_file():
        return []
    from tts_predictor.engines.onnx.vits import PiperConfig, piper_voices

    try:
        return piper_voices(files[0].name.removesuffix(".onnx"), PiperConfig.load(files[1]))
    except ModelLoadError as exc:
        log.warning("cannot list the voices of %s before loading it: %s", spec, exc)
        return []


def weights_bytes(spec: str) -> int:
    """Size of the files a spec loads (a Piper voice's .onnx; every file of a model folder); 0 if unknown."""
    files = _piper_files(spec)
    try:
        if files is not None:
            return files[0].stat().st_size
        kind, location = describe_source(spec)
        path = Path(location)
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    except (OSError, ModelLoadError):
        pass
    return 0


def rss_bytes() -> int:
    """Resident memory of this process (Linux /proc), 0 where unknown."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def measure_cost(spec: str, rss_before: int) -> int:
    """A loaded member's memory: the RSS growth over its load, at least its weight files' size (RSS can shrink
    while a model loads, when the allocator returns memory freed by an eviction)."""
    return max(rss_bytes() - rss_before, weights_bytes(spec))
