"""Command-line helpers that need no server."""

from __future__ import annotations

import json

from .engines.registry import load_engine
from .server import build_parser, settings_from_args
from .voices import VoiceCatalog


def print_voices(argv: list[str]) -> None:
    """Load the configured model and print its voices as JSON."""
    settings = settings_from_args(build_parser("tts-predictor voices").parse_args(argv))
    engine = load_engine(settings)
    catalog = VoiceCatalog(engine.voices(), settings.default_voice)
    print(json.dumps({"default_voice": catalog.default.id, "voices": [v.to_dict() for v in catalog.voices]}, indent=2))
