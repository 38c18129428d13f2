"""Settings: one pydantic-settings object (env `TTS_*` or CLI flags), validated at start."""

from __future__ import annotations

import argparse
import os
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EMBEDDED_MODEL = "embedded"


class Settings(BaseSettings):
    """Everything that configures a tts-predictor process; env vars use the prefix ``TTS_``."""

    model_config = SettingsConfigDict(env_prefix="TTS_", extra="ignore")

    model: str = Field(
        EMBEDDED_MODEL,
        description=(
            "Which model to serve: 'embedded' (the packaged en_US Piper voice), 'coqui:<catalogue name>' "
            "(e.g. coqui:tts_models/en/vctk/vits), a Coqui model directory (config.json + checkpoint, "
            "e.g. /mnt/models), or a Piper-format voice ('<voice>.onnx' with '<voice>.onnx.json')."
        ),
    )
    model_name: str = Field("tts", description="Name the model is served under (/v2/models/<name>).")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Where the engine runs.")
    compute_type: Literal["float32"] = Field(
        "float32", description="Numeric precision of the engine. Only float32 is implemented so far."
    )
    threads: int = Field(0, ge=0, le=256, description="Intra-op threads per engine; 0 = number of CPU cores.")
    max_concurrency: int = Field(1, ge=1, le=64, description="Syntheses run at once per process.")
    max_text_chars: int = Field(5000, ge=1, le=1_000_000, description="Longest text accepted per item.")
    max_batch_size: int = Field(32, ge=1, le=1024, description="Most texts accepted in one V2 request.")
    default_voice: str | None = Field(None, description="Voice used when a request names none.")
    default_language: str = Field(
        "en-US", description="Language for text normalization when a request names none (transformer only)."
    )
    warmup: bool = Field(True, description="Run one synthesis at load, before reporting ready.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level; request text is only logged at DEBUG."
    )

    @field_validator("model")
    @classmethod
    def _model_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name a model: 'embedded', 'coqui:<name>', a directory or an .onnx file")
        return value.strip()

    @model_validator(mode="after")
    def _resolve_threads(self) -> Settings:
        if self.threads == 0:
            self.threads = os.cpu_count() or 1
        return self


class SettingsError(SystemExit):
    """Raised at start when the configuration is invalid; the message lists every bad field."""


def load_settings(**overrides: Any) -> Settings:
    """Build Settings from the environment plus explicit overrides (CLI flags), or exit with a clear message."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        lines = [f"  TTS_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()]
        raise SettingsError("Invalid tts-predictor settings:\n" + "\n".join(lines)) from None


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one ``--flag`` per Settings field (default None = take the env var or the field default)."""
    group = parser.add_argument_group("tts-predictor settings (also TTS_<NAME> env vars)")
    for name, field in Settings.model_fields.items():
        if name == "model_name":
            continue  # kserve's parser already owns --model_name
        group.add_argument(f"--{name}", dest=name, default=None, help=field.description)
