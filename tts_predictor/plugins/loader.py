"""Find plugins through entry points, check them, register them into the project's tables, and keep the report.

Loaded once per process at start (`load_plugins`, called by `server.app.assemble` and `tts-predictor say`). A plugin
that fails (import error, another ``requires_api``, a missing attribute, a taken name) is logged with its name and
reason and skipped; with ``TTS_PLUGINS_STRICT`` the start stops (`PluginError`). Nothing of a plugin runs at request
time that was not checked here, and what it does at request time is guarded where it is called (an engine's errors
become SynthesisFailed, an effect's output is checked).
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import asdict, dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from tts_predictor.audio.effects import register_effect
from tts_predictor.audio.encode import register_format
from tts_predictor.engines.registry import register_engine
from tts_predictor.plugins import API_VERSION, GROUPS, INTERFACES
from tts_predictor.settings import Settings
from tts_predictor.text.normalize import register_normalizer

log = logging.getLogger(__name__)

NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
"""What a plugin's entry point name may be: it becomes a model spec, an effect or a format name."""


class PluginError(SystemExit):
    """A plugin failed to load with TTS_PLUGINS_STRICT on: the start stops with this message."""


@dataclass(frozen=True)
class PluginStatus:
    """One plugin as GET /v1/plugins lists it."""

    name: str
    """The entry point's name: what the plugin adds (model spec, effect or format name) or the normalizer's id."""
    kind: str
    """``engine``, ``normalizer``, ``effect`` or ``format``."""
    package: str | None
    """The distribution that declares it."""
    version: str | None
    """That distribution's version."""
    status: str
    """``loaded`` or ``failed``."""
    error: str | None = None
    """Why it failed (None when loaded)."""


_lock = threading.Lock()
_report: list[PluginStatus] | None = None


def wanted(setting: str) -> set[str] | None:
    """The names TTS_PLUGINS selects: None for all, an empty set for none."""
    value = setting.strip()
    if value == "all":
        return None
    if value in ("", "none"):
        return set()
    return {name.strip() for name in value.split(",") if name.strip()}


def load_plugins(settings: Settings) -> list[PluginStatus]:
    """Discover, check and register the plugins TTS_PLUGINS selects (once per process; later calls return the
    first report). Raises PluginError naming the plugin when one fails and TTS_PLUGINS_STRICT is on."""
    global _report
    with _lock:
        if _report is None:
            _report = _load_all(wanted(settings.plugins))
            for item in _report:
                if item.status == "loaded":
                    log.info("plugin %s (%s) loaded from %s %s", item.name, item.kind, item.package, item.version)
                else:
                    log.error("plugin %s (%s) not loaded: %s", item.name, item.kind, item.error)
        failed = [p for p in _report if p.status == "failed"]
    if failed and settings.plugins_strict:
        reasons = "; ".join(f"plugin '{p.name}' ({p.kind}): {p.error}" for p in failed)
        raise PluginError(f"tts-predictor: {reasons} (TTS_PLUGINS_STRICT is on)")
    return list(_report)


def report() -> list[dict[str, Any]]:
    """The plugins of this process as JSON values (empty before `load_plugins`)."""
    return [asdict(p) for p in _report or []]


def _load_all(names: set[str] | None) -> list[PluginStatus]:
    out: list[PluginStatus] = []
    found: set[str] = set()
    for kind, group in GROUPS.items():
        for point in entry_points(group=group):
            if names is not None and point.name not in names:
                continue
            found.add(point.name)
            out.append(_load_one(kind, point))
    for missing in sorted((names or set()) - found):
        out.append(PluginStatus(missing, "unknown", None, None, "failed", "not installed (named in TTS_PLUGINS)"))
    return out


def _load_one(kind: str, point: EntryPoint) -> PluginStatus:
    """Load, check and register one entry point; its status either way."""
    dist = getattr(point, "dist", None)
    package, version = (dist.name, dist.version) if dist is not None else (None, None)
    try:
        plugin = _checked(kind, point)
        _register(kind, point.name, plugin)
    except Exception as exc:  # whatever a foreign package raises while loading: reported, never a crash later
        return PluginStatus(point.name, kind, package, version, "failed", _describe(exc))
    return PluginStatus(point.name, kind, package, version, "loaded")


def _describe(exc: Exception) -> str:
    text = str(exc) if isinstance(exc, _Refused) else f"{type(exc).__name__}: {exc}"
    return text[:500]


class _Refused(Exception):
    """A check failed; the message is the reason as listed."""


def _checked(kind: str, point: EntryPoint) -> Any:
    """The entry point's object once its name, ``requires_api`` and interface check out."""
    if not NAME.match(point.name):
        raise _Refused(f"name must match {NAME.pattern}")
    try:
        plugin = point.load()
    except Exception as exc:
        raise _Refused(f"import of {point.value} failed: {type(exc).__name__}: {exc}") from exc
    required = getattr(plugin, "requires_api", None)
    if required is None:
        raise _Refused("missing attribute requires_api")
    if required != API_VERSION:
        raise _Refused(f"requires plugin API {required!r}; this server has API {API_VERSION}")
    interface = INTERFACES[kind]
    missing = [a for a in _members(interface) if not hasattr(plugin, a)]
    if missing:
        raise _Refused(f"missing attribute(s) {', '.join(missing)} of the {kind} interface")
    return plugin


def _members(interface: type) -> list[str]:
    """The attributes and methods a Protocol declares (requires_api is checked first, on its own)."""
    names = set(getattr(interface, "__annotations__", {})) | {
        n for n, v in vars(interface).items() if callable(v) and not n.startswith("_")
    }
    return sorted(names - {"requires_api"})


def _register(kind: str, name: str, plugin: Any) -> None:
    """Put the plugin into the table its kind plugs into; a taken name raises ValueError."""
    if kind == "engine":
        register_engine(name, plugin.load_engine)
    elif kind == "effect":
        register_effect(name, plugin.open)
    elif kind == "normalizer":
        register_normalizer(name, [str(code) for code in plugin.languages], plugin.rewrites)
    else:
        register_format(name, str(plugin.media_type), plugin.encode)
