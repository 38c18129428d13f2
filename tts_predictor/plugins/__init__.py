"""Plugins: engines, text normalizers, audio effects and output formats from other installed packages.

A plugin is an entry point in one of the four groups (`GROUPS`) whose object has ``requires_api`` (the plugin API
version it was written for, checked against `API_VERSION`) and the attributes of its kind's interface below. The
entry point's name is what it adds: the engine's model spec (``TTS_MODEL=<name>``), the effect's name (request
field ``effects``), the format's name (request field ``format``). `loader.load_plugins` registers them at start
into the project's own tables (`engines.registry.PLUGIN_ENGINES`, `audio.effects.PLUGIN_EFFECTS`,
`text.normalize.PLUGIN_NORMALIZERS`, `audio.encode.PLUGIN_FORMATS`); docs/plugins.md has a whole example package.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from tts_predictor.engines.base import Engine

API_VERSION = 1
"""The plugin interfaces' version: a plugin whose ``requires_api`` differs is not loaded (its error says why).
Raised only when an interface below changes incompatibly."""

GROUPS: dict[str, str] = {
    "engine": "tts_predictor.engines",
    "normalizer": "tts_predictor.normalizers",
    "effect": "tts_predictor.effects",
    "format": "tts_predictor.formats",
}
"""Plugin kind -> entry point group."""


@runtime_checkable
class EnginePlugin(Protocol):
    """``tts_predictor.engines``: makes an `Engine` (voices + ``synthesize`` returning float32 audio)."""

    requires_api: int

    def load_engine(self, argument: str, settings: Any) -> Engine:
        """The engine for ``TTS_MODEL=<name>:<argument>`` (argument empty for ``<name>``); slow work goes here."""
        ...


@runtime_checkable
class EffectPlugin(Protocol):
    """``tts_predictor.effects``: an audio effect applied after pitch and gain, on whole files and streams."""

    requires_api: int

    def open(self, sample_rate: int) -> Callable[[np.ndarray], np.ndarray]:
        """A fresh processor for one output: called chunk by chunk with float32 mono samples, returns as many
        (finite) samples; keeps its own state between chunks."""
        ...


@runtime_checkable
class NormalizerPlugin(Protocol):
    """``tts_predictor.normalizers``: text normalization for some languages (replaces the built-in one there)."""

    requires_api: int
    languages: Sequence[str]
    """Language codes it handles: ``xx`` (every variant) or ``xx-YY``."""

    def rewrites(self, text: str, language: str) -> Sequence[tuple[int, int, str]]:
        """(start, end, spoken) spans of `text` to replace, left to right, not overlapping."""
        ...


@runtime_checkable
class FormatPlugin(Protocol):
    """``tts_predictor.formats``: an output encoder for whole files (streamed requests get it at the end)."""

    requires_api: int
    media_type: str
    """Content-Type of the encoded bytes."""

    def encode(self, samples: np.ndarray, sample_rate: int) -> bytes:
        """The whole file for float32 mono `samples` in [-1, 1]."""
        ...


INTERFACES: dict[str, type] = {
    "engine": EnginePlugin,
    "normalizer": NormalizerPlugin,
    "effect": EffectPlugin,
    "format": FormatPlugin,
}
"""Plugin kind -> the Protocol its object satisfies."""
