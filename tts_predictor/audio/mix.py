"""Background beds: stored audio files looped under speech, with ducking (the bed drops while someone speaks)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from kserve.errors import InvalidInput

from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.audio.decode import decode_audio
from tts_predictor.audio.dsp import resample
from tts_predictor.auth import current_caller

BED_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
BED_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")


class UnknownBed(InvalidInput):
    """The request names a bed that is not stored (400, listing the stored ones)."""


@dataclass(frozen=True)
class BedOwner:
    """Who a stored bed belongs to (the `<name>.json` beside it, written by POST /v1/beds)."""

    owner: str | None = None
    """`auth.owner_of` the uploading key; None: the operator's bed (no metadata, or uploaded without keys)."""
    shared: bool = False
    """Stored by an admin key for every key to use."""

    def usable_by(self, caller: str | None) -> bool:
        """The operator's and shared beds are everyone's; a key's bed is its own (and its admins', see api/beds.py)."""
        return self.owner is None or self.shared or self.owner == caller


def bed_owner(directory: str, name: str) -> BedOwner:
    """The owner recorded for bed `name` (none recorded: the operator's)."""
    try:
        meta = json.loads((Path(directory) / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return BedOwner()
    owner = meta.get("owner") if isinstance(meta, dict) else None
    return BedOwner(owner if isinstance(owner, str) else None, isinstance(meta, dict) and meta.get("shared") is True)


def stored_beds(directory: str | None) -> list[str]:
    """Every stored bed (audio files in `directory`), by name without suffix, whoever owns it."""
    folder = Path(directory) if directory else None
    if folder is None or not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.iterdir() if p.suffix.lower() in BED_SUFFIXES)


def bed_names(directory: str | None, caller: str | None = None, everyone: bool = False) -> list[str]:
    """The stored beds `caller` (an owner id; default: the current request's) may use; `everyone`: all of them."""
    caller = caller if caller is not None else current_caller()
    return [n for n in stored_beds(directory) if everyone or bed_owner(str(directory), n).usable_by(caller)]


def bed_path(directory: str | None, name: str) -> Path:
    """The file of bed `name`, or UnknownBed when it is not stored or is another key's (the same answer)."""
    if directory and BED_NAME.match(name) and bed_owner(directory, name).usable_by(current_caller()):
        for suffix in BED_SUFFIXES:
            path = Path(directory) / f"{name}{suffix}"
            if path.is_file():
                return path
    stored = ", ".join(bed_names(directory)) or "none (store one with POST /v1/beds)"
    raise UnknownBed(f"bed: unknown bed '{name[:64]}'; stored beds: {stored}")


@lru_cache(maxsize=8)
def _load(path: str, mtime: float, rate: int) -> np.ndarray:
    return resample(decode_audio(Path(path).read_bytes(), "bed"), rate).samples


def load_bed(directory: str | None, name: str, rate: int) -> np.ndarray:
    """Bed samples at `rate` (cached per file version)."""
    path = bed_path(directory, name)
    return _load(str(path), path.stat().st_mtime, rate)


def speech_envelope(speech: np.ndarray, rate: int, threshold_db: float = -40.0, hold_s: float = 0.15) -> np.ndarray:
    """1.0 where speech is active (10 ms frames above threshold, held and smoothed), else 0.0."""
    frame = max(1, rate // 100)
    frames = -(-len(speech) // frame)
    padded = np.pad(np.abs(speech), (0, frames * frame - len(speech)))
    active = (padded.reshape(frames, frame).max(axis=1) > 10 ** (threshold_db / 20)).astype(np.float32)
    hold = max(1, int(hold_s * 100))
    active = np.convolve(active, np.ones(2 * hold + 1, np.float32), mode="same") > 0
    smooth = np.convolve(active.astype(np.float32), np.ones(5, np.float32) / 5, mode="same")
    return np.repeat(smooth, frame)[: len(speech)]


def mix_bed(speech: AudioBuffer, bed: np.ndarray, gain_db: float, duck_db: float, offset: int = 0) -> AudioBuffer:
    """Speech plus the bed looped from sample `offset`, at `gain_db`, lowered by `duck_db` while speech is active."""
    if len(bed) == 0 or len(speech.samples) == 0:
        return speech
    looped = np.resize(np.roll(bed, -(offset % len(bed))), len(speech.samples))  # float32, not an int64 index
    envelope = speech_envelope(speech.samples, speech.sample_rate)
    gain = (10 ** ((gain_db - duck_db * envelope) / 20)).astype(np.float32)
    out = speech.samples + looped * gain
    return AudioBuffer(np.clip(out, -1, 1).astype(np.float32), speech.sample_rate)
