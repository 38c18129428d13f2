"""Decode any audio the server sends (streamed or whole, every compressed format) with the ffmpeg program."""

from __future__ import annotations

import re
import subprocess

import numpy as np


def decode_audio(data: bytes) -> tuple[np.ndarray, int]:
    """Mono float32 samples and their rate; a truncated stream decodes as far as it goes."""
    proc = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", "pipe:0", "-f", "f32le", "-ac", "1", "pipe:1"],
        input=data,
        capture_output=True,
        check=False,
        timeout=60,
    )
    found = re.search(rb"Audio: [^\n]*?(\d+) Hz", proc.stderr)
    return np.frombuffer(proc.stdout, dtype="<f4").copy(), int(found.group(1)) if found else 0
