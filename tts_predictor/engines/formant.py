"""Fallback voices for every language espeak-ng knows, spoken by its own formant synthesizer.

espeak-ng is GPL-3.0; this package is MIT. As `engines/onnx/espeak.py` does for phonemes, we run Debian's
``espeak-ng`` *program* as a separate process (text on stdin, a WAV file on stdout) and never load its library.
One short-lived process per sentence (about 15 ms to start): nothing stays running between requests, and a
process that crashes on hostile text takes nothing else with it.

Voice ids: ``espeak-`` and the language tag in lower case (``espeak-de``, ``espeak-en-gb``, ``espeak-pt-br``,
``espeak-en-gb-x-rp``); each voice's languages are its BCP-47 tag (``en-GB``) and espeak-ng's regional aliases
(``pt-PT`` for ``pt``, ``es-MX`` for ``es-419``).
"""

from __future__ import annotations

import io
import logging
import re
import subprocess
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.engines.base import SynthesisRequest, Voice
from tts_predictor.engines.onnx.espeak import espeak_safe, find_espeak
from tts_predictor.errors import ModelLoadError, SynthesisFailed, UnspeakableText

log = logging.getLogger(__name__)

QUALITY = "formant"
"""`Voice.quality` of these voices: rule-based formant synthesis, intelligible but robotic."""
ID_PREFIX = "espeak-"
SAMPLE_RATE = 22050
"""espeak-ng's output rate."""
BASE_WPM = 175
"""espeak-ng's default speaking rate (words per minute): speed 1.0."""
MIN_WPM, MAX_WPM = 80, 450
"""The rates espeak-ng accepts with ``-s``; SpeedControl time-stretches what lies beyond."""
TIMEOUT_S = 20.0
"""Longest one sentence may take; then the process is killed (a 3,000-character sentence takes about 0.2 s)."""
MAX_FAILED_WORDS = 8
"""After a crash the sentence is retried word by word; more unreadable words than this make the text a 400."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ALIAS = re.compile(r"\(([a-z0-9-]{1,40}) \d+\)")


@dataclass(frozen=True)
class EspeakVoice:
    """One line of ``espeak-ng --voices``."""

    tag: str
    """BCP-47 tag (``en-GB``, ``cmn-Latn-pinyin``)."""
    path: str
    """What ``-v`` selects: the voice file (``gmw/en-GB-x-rp``), unique even where language codes repeat."""
    aliases: tuple[str, ...]
    """Other tags espeak-ng lists for it that name a region or another language (``pt-PT``, ``zh``)."""
    gender: str | None


def bcp47(code: str) -> str:
    """espeak-ng's lower-case code as a BCP-47 tag: ``en-gb-x-rp`` -> ``en-GB-x-rp``, ``es-419`` stays."""
    parts = code.split("-")
    out = [parts[0].lower()]
    private = False
    for part in parts[1:]:
        private = private or len(part) == 1
        if not private and len(part) == 2 and part.isalpha():
            part = part.upper()
        elif not private and len(part) == 4 and part.isalpha():
            part = part.title()
        else:
            part = part.lower()
        out.append(part)
    return "-".join(out)


def parse_voices(listing: str) -> list[EspeakVoice]:
    """The voices of an ``espeak-ng --voices`` listing (header skipped), one per distinct tag."""
    voices: dict[str, EspeakVoice] = {}
    for line in listing.splitlines()[1:]:
        fields = line.split(None, 5)
        if len(fields) < 5:
            continue
        code, age_gender, path = fields[1], fields[2], fields[4]
        stem = path.rsplit("/", 1)[-1]
        tag = bcp47(stem if stem.lower().startswith(code.lower()) else code)
        primary = tag.split("-")[0].lower()
        aliases = tuple(
            bcp47(a)
            for a in _ALIAS.findall(fields[5] if len(fields) > 5 else "")
            if "-" in a or a.split("-")[0] != primary
        )
        gender = {"M": "male", "F": "female"}.get(age_gender.rsplit("/", 1)[-1])
        voices.setdefault(tag.lower(), EspeakVoice(tag, path, aliases, gender))
    return list(voices.values())


def voice_id(tag: str) -> str:
    """The public voice id of the formant voice for `tag`."""
    return ID_PREFIX + tag.lower()


class FormantEngine:
    """espeak-ng's formant voices, one per language; synthesizes one sentence per process."""

    kind = "espeak"
    name = "espeak"
    device = "cpu"

    def __init__(self, binary: str | None = None) -> None:
        self.binary = binary or find_espeak()
        try:
            listing = subprocess.run(
                [self.binary, "--voices"], capture_output=True, timeout=TIMEOUT_S, check=True
            ).stdout.decode("utf-8", "replace")
        except (OSError, subprocess.SubprocessError) as exc:
            raise ModelLoadError(f"espeak-ng --voices failed: {exc}") from exc
        self.espeak = {voice_id(v.tag): v for v in parse_voices(listing)}
        if not self.espeak:
            raise ModelLoadError("espeak-ng lists no voices (is espeak-ng-data installed?)")
        self._voices = [
            Voice(vid, (v.tag, *v.aliases), self.kind, SAMPLE_RATE, gender=v.gender, quality=QUALITY)
            for vid, v in self.espeak.items()
        ]

    def voices(self) -> list[Voice]:
        """One voice per language espeak-ng lists, in its order."""
        return list(self._voices)

    def synthesize(self, request: SynthesisRequest) -> AudioBuffer:
        """Speak `request.text`; a text espeak-ng cannot read is an UnspeakableText (400), never a crash."""
        voice = self.espeak.get(request.voice.id)
        if voice is None:
            raise SynthesisFailed(f"voice '{request.voice.id}' is not an espeak-ng voice")
        text = espeak_safe(_CONTROL.sub(" ", request.text))
        if not text:
            return AudioBuffer.silence(0, SAMPLE_RATE)
        wpm = int(min(MAX_WPM, max(MIN_WPM, round(BASE_WPM * request.speed))))
        try:
            return self._run(voice.path, wpm, text)
        except _Failed as exc:
            log.warning("espeak-ng (%s) failed on %d characters (%s); retrying word by word", voice.tag, len(text), exc)
        return self._words(voice.path, wpm, text.split())

    def _words(self, path: str, wpm: int, words: list[str]) -> AudioBuffer:
        """Each word on its own; words espeak-ng still dies on are left out, too many of them refuse the text."""
        parts, failed = [], 0
        for word in words:
            try:
                parts.append(self._run(path, wpm, word))
            except _Failed:
                failed += 1
                if failed > MAX_FAILED_WORDS:
                    raise UnspeakableText(
                        "text: espeak-ng cannot read this text; remove unusual punctuation runs"
                    ) from None
        return AudioBuffer.concat(parts) if parts else AudioBuffer.silence(0, SAMPLE_RATE)

    def _run(self, path: str, wpm: int, text: str) -> AudioBuffer:
        """One process: text on stdin (never argv: no option injection, no length limit), WAV on stdout."""
        try:
            proc = subprocess.run(
                [self.binary, "--stdout", "-v", path, "-s", str(wpm)],
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:  # subprocess.run kills and reaps the process
            raise _Failed(f"no audio within {TIMEOUT_S:g} s") from None
        if proc.returncode != 0:
            raise _Failed(f"exit code {proc.returncode}: {proc.stderr.decode('utf-8', 'replace').strip()[:200]}")
        try:
            samples, rate = sf.read(io.BytesIO(proc.stdout), dtype="float32", always_2d=False)
        except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
            raise _Failed(f"unreadable WAV output: {exc}") from None
        return AudioBuffer(np.asarray(samples, dtype=np.float32).reshape(-1), int(rate))

    def close(self) -> None:
        """Nothing to release: no process outlives a call."""


class _Failed(Exception):
    """espeak-ng crashed, hung or wrote no audio for one text."""
