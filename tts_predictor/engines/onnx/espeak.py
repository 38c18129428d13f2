"""IPA phonemes from Debian's `espeak-ng` program, one sentence at a time, with clause punctuation kept.

espeak-ng is GPL; we run the program as a separate process instead of linking its library, so the
MIT package carries no GPL code. Long-lived processes take one sentence per line (`espeak_worker`), so
no process starts per sentence. `espeak-ng --ipa` prints one line per clause and drops the
punctuation, so the clause punctuation is put back from the text (it drives Piper voices' prosody).
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess

from tts_predictor.engines.onnx.espeak_worker import MAX_LINE_BYTES, WorkerPool
from tts_predictor.errors import ModelLoadError, SynthesisFailed
from tts_predictor.text.guard import UnspeakableText

_CLAUSE_END = re.compile(r"(?<![,;:.!?])[,;:.!?]++(?=\s|$)")
r"""A run of clause punctuation before a space or the end. Tried only from a run's start and never backtracked
(the former `(.*?)([,;:.!?]+)(?=\s|$)` was quadratic on `;` repeated: issue 23's ReDoS property test)."""
log = logging.getLogger(__name__)

_TIMEOUT_S = 30
_DOTTED_LETTER = re.compile(r"(?<![^\W\d_])([^\W\d_]\.)(?=\S)")
"""A single letter and a full stop glued to what follows (`a.a.`, `U.S.A.`)."""
MAX_DOTTED_LETTERS = 8
"""espeak-ng 1.51 aborts (`*** stack smashing detected ***`) on about 85 dotted single letters in one clause
(`a.` x 100, `U.S.A.` x 30; fewer for multi-byte letters: `é.` x 57), spaces between them or not (issue 23,
finding 13). Past this many in a sentence, a space follows each dot: `a. a. a.`, which it reads safely."""
MAX_FAILED_WORDS = 8
"""When espeak-ng dies on a sentence it is retried word by word; a sentence with more words it cannot read is
refused (400) instead of costing a process start per word."""


def find_espeak() -> str:
    """Path of the espeak-ng binary, or a ModelLoadError telling how to install it."""
    path = shutil.which("espeak-ng")
    if path is None:
        raise ModelLoadError("espeak-ng is not installed; run `apt-get install espeak-ng` (or `make install`)")
    return path


def split_clauses(sentence: str) -> list[tuple[str, str]]:
    """Split a sentence into (clause text, trailing punctuation) pairs."""
    sentence = sentence.strip()
    pairs: list[tuple[str, str]] = []
    pos = 0
    for end in (*_CLAUSE_END.finditer(sentence), None):
        text = sentence[pos : end.start()] if end else sentence[pos:]
        punct = end.group(0) if end else ""
        if text.strip():
            pairs.append((text.strip(), punct[-1] if punct else ""))
        elif punct and pairs:
            pairs[-1] = (pairs[-1][0], punct[-1])
        pos = end.end() if end else len(sentence)
    return pairs


def espeak_safe(sentence: str) -> str:
    """`sentence` on one line, made safe for espeak-ng: its `[[phoneme]]` input escaped, long runs of dotted
    letters spaced (MAX_DOTTED_LETTERS)."""
    # `[[...]]` is espeak-ng's phoneme input; text/guard.py already single-brackets it, this is the last door.
    clean = " ".join(sentence.replace("[[", "[ [").replace("]]", "] ]").split())
    if len(_DOTTED_LETTER.findall(clean)) > MAX_DOTTED_LETTERS:
        clean = _DOTTED_LETTER.sub(r"\1 ", clean)
    return clean


class EspeakPhonemizer:
    """Turns a sentence into IPA with `, ; : . ! ?` kept where espeak-ng ended a clause."""

    def __init__(self, voice: str, workers: int = 2) -> None:
        """`workers`: espeak-ng processes kept running (threads phonemizing at once; more wait for one)."""
        self.binary = find_espeak()
        self.voice = voice
        self._run("test")  # fails early, with espeak's message, on an unknown espeak voice
        self.pool = WorkerPool(self.binary, voice, workers)

    def phonemize(self, sentence: str) -> str:
        """IPA phonemes for one sentence (clauses separated by their punctuation and a space)."""
        clean = espeak_safe(sentence)
        if not clean:
            return ""
        try:
            lines = self._lines(clean)
        except SynthesisFailed:  # the process died twice on this text: contain it to the words that kill it
            log.warning(
                "espeak-ng (%s) failed on a sentence of %d characters; retrying word by word", self.voice, len(clean)
            )
            lines = [" ".join(self._words(clean.split()))]
        clauses = split_clauses(clean)
        if len(lines) == len(clauses):
            return " ".join(ipa + punct for ipa, (_, punct) in zip(lines, clauses))
        # espeak split differently (abbreviations, numbers): keep the sentence-final punctuation only.
        final = clauses[-1][1] if clauses else ""
        return " ".join(lines) + final

    def _lines(self, text: str) -> list[str]:
        return self.pool.lines(text) if len(text.encode("utf-8")) <= MAX_LINE_BYTES else self._run(text)

    def _words(self, words: list[str]) -> list[str]:
        """IPA of each word on its own; a word espeak-ng still dies on is spelled letter by letter, or skipped."""
        out, failed = [], 0
        for word in words:
            for attempt in (word, " ".join(word)):
                try:
                    out += self._lines(attempt)
                    break
                except SynthesisFailed:
                    failed += 1
                    if failed > MAX_FAILED_WORDS:
                        raise UnspeakableText(
                            "text: the phonemizer (espeak-ng) cannot read this text; remove unusual punctuation runs"
                        ) from None
            else:
                log.warning("espeak-ng (%s) cannot read a word of %d characters; skipped", self.voice, len(word))
        return out

    def close(self) -> None:
        """Stop the espeak-ng processes."""
        self.pool.close()

    def _run(self, text: str) -> list[str]:
        """One-off process (start-up check, sentences too long for the workers' line buffer)."""
        try:
            proc = subprocess.run(
                [self.binary, "-q", "--ipa", "-v", self.voice],
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise SynthesisFailed("espeak-ng timed out") from None
        if proc.returncode != 0:
            detail = proc.stderr.decode("utf-8", "replace").strip()[:200]
            raise SynthesisFailed(f"espeak-ng failed for voice '{self.voice}': {detail}")
        return [line.strip() for line in proc.stdout.decode("utf-8", "replace").splitlines() if line.strip()]
