"""IPA phonemes from Debian's `espeak-ng` program, one sentence at a time, with clause punctuation kept.

espeak-ng is GPL; we run the program as a separate process instead of linking its library, so the
MIT package carries no GPL code. Long-lived processes take one sentence per line (`espeak_worker`), so
no process starts per sentence. `espeak-ng --ipa` prints one line per clause and drops the
punctuation, so the clause punctuation is put back from the text (it drives Piper voices' prosody).
"""

from __future__ import annotations

import re
import shutil
import subprocess

from tts_predictor.engines.onnx.espeak_worker import MAX_LINE_BYTES, WorkerPool
from tts_predictor.errors import ModelLoadError, SynthesisFailed

_CLAUSE_END = re.compile(r"(?<![,;:.!?])[,;:.!?]++(?=\s|$)")
r"""A run of clause punctuation before a space or the end. Tried only from a run's start and never backtracked
(the former `(.*?)([,;:.!?]+)(?=\s|$)` was quadratic on `;` repeated: issue 23's ReDoS property test)."""
_TIMEOUT_S = 30


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
        clean = " ".join(sentence.split())
        if not clean:
            return ""
        lines = self.pool.lines(clean) if len(clean.encode("utf-8")) <= MAX_LINE_BYTES else self._run(clean)
        clauses = split_clauses(clean)
        if len(lines) == len(clauses):
            return " ".join(ipa + punct for ipa, (_, punct) in zip(lines, clauses))
        # espeak split differently (abbreviations, numbers): keep the sentence-final punctuation only.
        final = clauses[-1][1] if clauses else ""
        return " ".join(lines) + final

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
