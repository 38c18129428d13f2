"""VoicePool: several speech models behind one voice catalogue, loaded on demand, evicted least-recently-used.

Each member (a model spec) loads through `load_engine` when a request first needs one of its voices: one load per
member however many requests wait for it, one load at a time in the process (so each RSS delta measures one
model). Every call marks its member most recently used and holds it while it runs. When more than `max_models`
members are loaded, or their measured costs pass `memory_bytes`, the least recently used idle members are closed;
a member in use (a call running, a stream open) is never evicted, and when every loaded member is busy the pool
stays over its bound until a call ends.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

from tts_predictor import metrics
from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.engines.base import Engine, SynthesisRequest, Voice
from tts_predictor.engines.members import LoadedMembers, Member, Victim, cheap_voices, measure_cost, rss_bytes
from tts_predictor.errors import EngineNotReady, UnknownVoice

log = logging.getLogger(__name__)

SpecResolver = Callable[[str], "str | None"]
"""Maps a voice id no member has to a model spec that serves it (e.g. a Piper catalogue voice), or None."""


class VoicePool:
    """Serves the voices of every member; a voice id clashing with an earlier member's gets `<model>/` in front."""

    def __init__(
        self,
        specs: list[str],
        load: Callable[[str], Engine],
        name_of: Callable[[str], str],
        *,
        max_models: int = 8,
        memory_bytes: int = 0,
        wait_s: float = 120.0,
        resolver: SpecResolver | None = None,
        fallback: Engine | None = None,
    ):
        """`load` makes a member's engine from its spec and `name_of` names it; `wait_s` bounds a request's wait
        for a load; `memory_bytes` 0 means no memory bound; `fallback` (the formant voices, TTS_FALLBACK_VOICES)
        serves its voices after every member's, always loaded, never evicted and not a model (not in `by_name`,
        `states` or the bounds)."""
        self._load_spec, self._name_of = load, name_of
        self.wait_s = wait_s
        self.resolver = resolver
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._members: dict[str, Member] = {}
        self._loaded = LoadedMembers(max_models, memory_bytes)
        self._routes: dict[str, tuple[Member, Voice]] = {}
        self.fallback = fallback
        self._fallback_routes: dict[str, Voice] = {}
        self._listeners: list[Callable[[], None]] = []
        self.device = "cpu"
        self.kind = "multi"
        for spec in specs:
            member = Member(spec, name_of(spec), cheap_voices(spec))
            self._members.setdefault(member.name, member)
        if not self._members:
            raise ValueError("a voice pool needs at least one model")
        self._home = {name: rank for rank, name in enumerate(self._members)}
        """The start-up members' places: one removed and added again returns to its place (its default voice
        with it), members added at run time come after them."""
        self._rebuild()

    # -- catalogue ---------------------------------------------------------------------------------
    @property
    def by_name(self) -> dict[str, Engine]:
        """The loaded members' engines by name (cloning looks for models that can clone here)."""
        with self._lock:
            return {m.name: m.engine for m in self._members.values() if m.engine is not None}

    def voices(self) -> list[Voice]:
        """Every member's voices, loaded or not, the first member's default first."""
        with self._lock:
            own = [replace(voice, id=public) for public, (_, voice) in self._routes.items()]
            return own + list(self._fallback_routes.values())

    def member_voices(self, name: str) -> list[Voice]:
        """The voices of member `name` under their ids in this pool."""
        with self._lock:
            return [replace(v, id=public) for public, (m, v) in self._routes.items() if m.name == name]

    def states(self) -> dict[str, str]:
        """Each member's state: ``loaded``, ``loading``, ``unloaded`` or ``failed``."""
        with self._lock:
            return {m.name: m.state for m in self._members.values()}

    def listen(self, callback: Callable[[], None]) -> None:
        """Call `callback` (in the changing thread) whenever the voice list changes."""
        self._listeners.append(callback)

    def _rebuild(self) -> None:
        """Routes and kind from the members' voices (lock held)."""
        routes: dict[str, tuple[Member, Voice]] = {}
        for member in self._members.values():
            for voice in member.voices:
                routes[voice.id if voice.id not in routes else f"{member.name}/{voice.id}"] = (member, voice)
        self._routes = routes
        fallback = self.fallback.voices() if self.fallback is not None else []
        self._fallback_routes = {v.id: v for v in fallback if v.id not in routes}
        kinds = {m.kind or v.engine for m in self._members.values() for v in m.voices}
        self.kind = kinds.pop() if len(kinds) == 1 else "multi"
        """The engine kind of every member when they share one, else ``multi``."""

    def _notify(self) -> None:
        for callback in list(self._listeners):
            try:
                callback()
            except Exception:
                log.exception("voice pool listener failed")

    # -- members at run time -----------------------------------------------------------------------
    def add_spec(self, spec: str, load: bool = True) -> list[Voice]:
        """Add a member (if no member has its name) and return its voices; it is loaded now when `load` is set or
        when its voices cannot be read without loading it (anything but a Piper voice)."""
        name = self._name_of(spec)
        voices = cheap_voices(spec) if name not in self._members else []
        with self._lock:
            member = self._members.get(name)
            added = member is None
            if member is None:
                self._members[name] = Member(spec, name, voices)
                order = sorted(self._members, key=lambda n: self._home.get(n, len(self._home)))  # stable
                self._members = {n: self._members[n] for n in order}
                member = self._members[name]
                self._rebuild()
        if load or not member.voices:
            self._acquire(member)
            self._release(member)
        elif added:
            self._notify()
        return self.member_voices(name)

    def discover(self, voice_id: str) -> list[Voice]:
        """The on-demand hook: ask the resolver for a model serving `voice_id` and add it; [] when none."""
        spec = self.resolver(voice_id) if self.resolver is not None else None
        if spec is None:
            return []
        log.info("voice %s: adding model %s on demand", voice_id, spec)
        return self.add_spec(spec, load=False)

    def remove(self, name: str) -> None:
        """Drop member `name` (its voices leave the listing); it is closed once its running calls end."""
        with self._lock:
            member = self._members.pop(name)
            member.removed = True
            self._rebuild()
            victims = [self._loaded.unload(member, None)] if member.engine is not None and member.refs == 0 else []
        self._close(victims)
        self._notify()

    def members(self) -> list[Member]:
        """The members, in order (the first one's default voice is the server's)."""
        with self._lock:
            return list(self._members.values())

    def ensure_loaded(self, member: Member, reason: str | None = None) -> None:
        """Load `member` unless it is loaded (waiting for a load that runs); `reason` labels the load metric."""
        self._acquire(member, reason)
        self._release(member)

    def has_room(self, member: Member) -> bool:
        """Whether `member` would load without evicting another (count and memory bounds)."""
        with self._lock:
            return self._loaded.has_room(member)

    # -- synthesis ---------------------------------------------------------------------------------
    def synthesize(self, request: SynthesisRequest) -> AudioBuffer:
        """Run the member that owns the voice (for a blend: the owner of its first voice; cloned: its model)."""
        member, own = self._route(request)
        with self.use(member) as engine:
            return engine.synthesize(own)

    def calibration_synthesize(self, request: SynthesisRequest) -> AudioBuffer:
        """The owning engine's seeded run for measuring speed curves (its `synthesize` where it has none)."""
        member, own = self._route(request)
        with self.use(member) as engine:
            return getattr(engine, "calibration_synthesize", engine.synthesize)(own)

    def stream(self, request: SynthesisRequest) -> Iterator[AudioBuffer]:
        """The owning engine's chunks (whole audio from engines that cannot stream); held until the stream ends."""
        member, own = self._route(request)
        with self.use(member) as engine:
            stream = getattr(engine, "stream", None)
            if stream is None:
                yield engine.synthesize(own)
                return
            yield from stream(own)

    def _route(self, request: SynthesisRequest) -> tuple[Member | None, SynthesisRequest]:
        """The member owning the request's voice (None: the fallback engine) and the request in its own ids."""
        voice = request.voice
        with self._lock:
            if voice.model in self._members and voice.id not in self._routes:
                return self._members[voice.model], request
            first = voice.id.split("+")[0].split("*")[0].strip()  # a blend "a*0.7+b*0.3" lives on a's model
            route = self._routes.get(voice.id) or self._routes.get(first)
            fallback = self._fallback_routes.get(voice.id)
        if route is None and fallback is not None:
            return None, replace(request, voice=fallback)
        if route is None:
            raise UnknownVoice(f"voice: '{voice.id[:80]}' is no longer served here")
        member, own = route
        return member, replace(request, voice=replace(voice, id=own.id) if voice.mix else own)

    @contextmanager
    def use(self, member: Member | None) -> Iterator[Engine]:
        """The member's engine, loaded if need be, held (never evicted) until the block ends; a load that fails
        or outlasts `wait_s` is EngineNotReady (503), never a synthesis failure. None: the fallback engine."""
        if member is None:
            assert self.fallback is not None
            yield self.fallback
            return
        try:
            engine = self._acquire(member)
        except (EngineNotReady, UnknownVoice):
            raise
        except Exception as exc:
            raise EngineNotReady(member.name, f"model {member.name} failed to load: {exc}") from None
        try:
            yield engine
        finally:
            self._release(member)

    def member(self, name: str) -> Member:
        """Member `name` (KeyError if the pool has none)."""
        with self._lock:
            return self._members[name]

    # -- loading and eviction ----------------------------------------------------------------------
    def _acquire(self, member: Member, reason: str | None = None) -> Engine:
        deadline = time.monotonic() + self.wait_s
        while True:
            with self._lock:
                if member.removed:
                    raise EngineNotReady(member.name, f"model {member.name} was unloaded")
                if member.engine is not None:
                    member.refs += 1
                    self._loaded.touch(member)
                    return member.engine
                event, mine = member.loading, member.loading is None
                if event is None:
                    event = member.loading = threading.Event()
            if mine:
                return self._load(member, event, reason or ("reload" if member.loads else "cold"))
            if not event.wait(max(0.0, deadline - time.monotonic())):
                raise EngineNotReady(member.name, f"model {member.name} is still loading; try again")
            with self._lock:
                if member.engine is None and member.loading is None and member.error:
                    raise EngineNotReady(member.name, f"model {member.name} failed to load: {member.error}")

    def _load(self, member: Member, event: threading.Event, reason: str) -> Engine:
        started = time.perf_counter()
        try:
            with self._load_lock:
                with self._lock:
                    victims = self._loaded.make_room(member)
                self._close(victims)
                before = rss_bytes()
                engine = self._load_spec(member.spec)
                cost = measure_cost(member.spec, before)
        except BaseException as exc:
            with self._lock:
                member.loading, member.error = None, f"{type(exc).__name__}: {exc}"
            event.set()
            log.error("model %s failed to load: %s", member.name, member.error)
            raise
        voices = engine.voices()
        with self._lock:
            changed = voices != member.voices
            member.engine, member.voices, member.cost = engine, voices, cost
            member.loading, member.error, member.loads, member.refs = None, None, member.loads + 1, member.refs + 1
            self.device, member.kind = engine.device, engine.kind
            self._loaded.touch(member)
            if changed or self.kind != engine.kind:
                self._rebuild()
            victims = self._loaded.over_limits()
        event.set()
        seconds = time.perf_counter() - started
        metrics.MODEL_LOADS.labels(member.name, reason).inc()
        if reason != "start":
            metrics.COLD_START.observe(seconds)
        log.info("model %s loaded (%s) in %.2f s, ~%.0f MB", member.name, reason, seconds, cost / 2**20)
        self._close(victims)
        if changed:
            self._notify()
        return engine

    def _release(self, member: Member) -> None:
        with self._lock:
            member.refs -= 1
            victims = []
            if member.removed and member.refs == 0 and member.engine is not None:
                victims.append(self._loaded.unload(member, None))
            victims += self._loaded.over_limits()
        self._close(victims)

    def _close(self, victims: list[Victim]) -> None:
        """Close evicted engines (outside the lock) and update the gauges."""
        for member, engine, reason in victims:
            try:
                engine.close()
            except Exception:
                log.exception("closing model %s failed", member.name)
            if reason is not None:
                metrics.MODEL_EVICTIONS.labels(member.name, reason).inc()
                log.info("model %s evicted (%s)", member.name, reason)
        if victims:
            gc.collect()  # engines hold large buffers: free them now, not at the next collection
        with self._lock:
            metrics.MODELS_LOADED.set(len(self._loaded.order))
            metrics.MODELS_MEMORY.set(self._loaded.used())

    def close(self) -> None:
        """Close every loaded member and the fallback engine."""
        with self._lock:
            victims = [self._loaded.unload(m, None) for m in list(self._loaded.order)]
            for member in self._members.values():
                member.removed = True
        self._close(victims)
        if self.fallback is not None:
            self.fallback.close()
