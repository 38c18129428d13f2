"""Hostile audio files for the budget tests: real small files written by soundfile, then with header fields patched
to declare absurd sample rates, channel counts or lengths (the decode-bomb shapes of issue 23, finding 5)."""

from __future__ import annotations

import io
import struct

import numpy as np
import soundfile as sf


def silence(fmt: str, seconds: float, rate: int, channels: int = 1, subtype: str | None = None) -> bytes:
    """`seconds` of digital silence in `fmt` (FLAC/OGG compress it to almost nothing), written in 1 s blocks."""
    out = io.BytesIO()
    with sf.SoundFile(out, "w", samplerate=rate, channels=channels, format=fmt, subtype=subtype) as f:
        block = np.zeros((rate, channels), np.int16)
        whole, rest = divmod(int(seconds * rate), rate)
        for _ in range(whole):
            f.write(block)
        f.write(block[:rest])
    return out.getvalue()


def speech_like(fmt: str, seconds: float, rate: int, channels: int = 1) -> bytes:
    """Noise-modulated tones (not silent, so a cloning check would accept it) of `seconds`."""
    t = np.arange(int(seconds * rate)) / rate
    wave = 0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2
    out = io.BytesIO()
    sf.write(out, np.repeat(wave[:, None], channels, axis=1).astype(np.float32), rate, format=fmt)
    return out.getvalue()


def flac_declaring(
    data: bytes, rate: int | None = None, channels: int | None = None, frames: int | None = None
) -> bytes:
    """`data` (a FLAC file) with its STREAMINFO rate (20 bits), channels (3 bits) and total samples (36 bits) set."""
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0, "STREAMINFO first"
    (packed,) = struct.unpack(">Q", data[18:26])
    old_rate, old_ch, bps, total = packed >> 44, (packed >> 41) & 7, (packed >> 36) & 31, packed & (2**36 - 1)
    rate, ch = rate if rate is not None else old_rate, (channels - 1) if channels is not None else old_ch
    total = frames if frames is not None else total
    packed = (rate << 44) | (ch << 41) | (bps << 36) | total
    return data[:18] + struct.pack(">Q", packed) + data[26:]


def _ogg_crc(page: bytes) -> int:
    crc = 0
    for byte in page:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def vorbis_declaring(data: bytes, rate: int) -> bytes:
    """`data` (an Ogg Vorbis file) with the identification header's sample rate set to `rate`, page CRC fixed."""
    at = data.index(b"\x01vorbis")
    body = bytearray(data)
    struct.pack_into("<I", body, at + 12, rate)  # "\x01vorbis", version (4), channels (1), then the rate
    nsegs = body[26]
    end = 27 + nsegs + sum(body[27 : 27 + nsegs])  # the first page holds the identification header alone
    page = bytearray(body[:end])
    page[22:26] = b"\0\0\0\0"
    struct.pack_into("<I", body, 22, _ogg_crc(bytes(page)))
    return bytes(body)


def wav_declaring(
    data: bytes, rate: int | None = None, channels: int | None = None, data_size: int | None = None
) -> bytes:
    """`data` (a canonical 44-byte-header WAV) with its fmt rate/channels or data chunk size set."""
    body = bytearray(data)
    assert body[12:16] == b"fmt " and body[36:40] == b"data"
    if channels is not None:
        struct.pack_into("<H", body, 22, channels)
    if rate is not None:
        struct.pack_into("<I", body, 24, rate)
    if data_size is not None:
        struct.pack_into("<I", body, 40, data_size)
    return bytes(body)
