"""Coqui VITS models exported to ONNX at load and run with ONNX Runtime (``TTS_COQUI_BACKEND=onnx``).

The model is loaded once with `CoquiEngine` (tokenizer, speakers, languages, voice ids all come from
Coqui), its weight norm is folded into plain weights, and Coqui's own `Vits.export_onnx` writes the graph.
The export is cached in a writable directory (`$TTS_CACHE_DIR`, else ``~/.cache/tts-predictor/onnx``;
model directories such as ``/mnt/models`` are read-only) under a key computed from the checkpoint,
the config and the compute type, so a restart or a second replica on the same node skips the export.

Cache key: sha256 over the checkpoint's size plus its first and last MiB (hashing a multi-hundred-MB
checkpoint in full would cost seconds at every start; a retrained checkpoint of the same size that differs
only in its middle bytes is not a realistic case), the bytes of ``config.json``, the compute type and the
coqui-tts / torch / exporter versions.

``compute_type=int8`` quantizes the folded float32 export with ONNX Runtime static quantization (int8
weights, activation ranges calibrated on a few sentences); ``float16`` converts the graph to half precision and is only
accepted with the CUDA execution provider.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

from tts_predictor.audio.alignment import TimedAudio, WordTiming, word_timings
from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.engines.base import SynthesisRequest, Voice
from tts_predictor.engines.coqui.engine import CoquiEngine
from tts_predictor.engines.coqui.timings import token_word_frames
from tts_predictor.engines.onnx.graphs import (
    CALIBRATION_SENTENCES,
    DEFAULT_GRAPH_DIR,
    EXPORT_VERSION,
    _atomic_target,
    check_compute_type,
    durations_copy,
    file_fingerprint,
    inline_shared_initializers,
    ort_session,
    quantize_int8,
    to_float16,
)
from tts_predictor.engines.onnx.sessions import AdaptiveSessions
from tts_predictor.engines.speed import CALIBRATION_SEED
from tts_predictor.errors import ModelLoadError
from tts_predictor.text.split import split_sentences

log = logging.getLogger(__name__)


def fold_weight_norm(model) -> int:
    """Replace weight-norm (parametrizations or legacy hooks) by plain weights, in place; return how many."""
    import torch
    from torch.nn.utils import parametrize

    folded = 0
    for module in model.modules():
        if parametrize.is_parametrized(module):
            for name in list(module.parametrizations.keys()):
                parametrize.remove_parametrizations(module, name, leave_parametrized=True)
                folded += 1
        for hook in list(module._forward_pre_hooks.values()):
            if isinstance(hook, torch.nn.utils.weight_norm.WeightNorm):  # type: ignore[attr-defined]
                torch.nn.utils.remove_weight_norm(module, hook.name)
                folded += 1
    return folded


class CoquiOnnxEngine(CoquiEngine):
    """A Coqui VITS model run by ONNX Runtime; voices, speakers and languages exactly as `CoquiEngine`."""

    kind = "coqui-onnx"

    def __init__(
        self,
        source: str | Path,
        *,
        device: str = "auto",
        threads: int = 1,
        compute_type: str = "float32",
        busy_threads: int | None = None,
        cache: Path = DEFAULT_GRAPH_DIR,
    ):
        """`busy_threads`: intra-op threads of a call that overlaps another (see `sessions.AdaptiveSessions`);
        `cache`: where the exported graphs are kept."""
        self.cache = cache
        from tts_predictor.engines.onnx.sessions import execution_providers

        ort_device = execution_providers(device)[1]
        check_compute_type(compute_type, ort_device)
        super().__init__(source, device="cpu", threads=threads)  # torch only exports; ORT runs on `device`
        self.compute_type = compute_type
        try:
            self._load_onnx(ort_device, threads, busy_threads)
        except BaseException:
            super().close()  # the temporary config directory
            raise

    def _load_onnx(self, ort_device: str, threads: int, busy_threads: int | None = None) -> None:
        model = self.model
        if not hasattr(model, "export_onnx"):
            raise ModelLoadError(
                f"{self.name}: only Coqui VITS models can be exported to ONNX; use TTS_COQUI_BACKEND=torch"
            )
        if getattr(model.args, "use_d_vector_file", False):
            raise ModelLoadError(
                f"{self.name}: d-vector models cannot be exported to ONNX; use TTS_COQUI_BACKEND=torch"
            )
        self.exported = False
        """True when this load ran the export (False: taken from the cache)."""
        self.noise_scale = float(model.inference_noise_scale)
        self.noise_scale_dp = float(model.inference_noise_scale_dp)
        self.length_scale = float(model.length_scale)
        self.onnx_path = self._prepare(self.compute_type)
        graph = durations_copy(self.onnx_path, self.cache) or self.onnx_path  # + frames per token id (word timings)
        self.session, self.device = ort_session(graph, device=ort_device, threads=threads)
        busy = busy_threads if self.device == "cpu" and busy_threads and busy_threads != threads else None
        self.sessions = AdaptiveSessions(
            lambda n: self.session if n == threads else ort_session(graph, device=ort_device, threads=n)[0],
            threads,
            busy,
            background_threads=1 if self.device == "cpu" else None,
        )
        self._inputs = {i.name for i in self.session.get_inputs()}
        self._outputs = [o.name for o in self.session.get_outputs()]
        self._trim = bool(self.synth.tts_config.audio.get("do_trim_silence"))

    # -- export / cache -------------------------------------------------------------------------------
    def _cache_path(self, compute_type: str) -> Path:
        import torch
        from TTS import __version__ as tts_version

        checkpoint = Path(self.synth.tts_checkpoint)
        config = checkpoint.parent / "config.json"
        digest = hashlib.sha256()
        for part in (
            file_fingerprint(checkpoint),
            config.read_bytes() if config.is_file() else b"",
            compute_type,
            tts_version,
            torch.__version__,
            EXPORT_VERSION,
        ):
            digest.update(part if isinstance(part, bytes) else part.encode())
        return self.cache / f"{self.name}-{digest.hexdigest()[:20]}-{compute_type}.onnx"

    def _prepare(self, compute_type: str) -> Path:
        target = self._cache_path(compute_type)
        if target.is_file():
            log.info("using cached ONNX export %s", target)
            return target
        fp32 = self._cache_path("float32")
        try:
            if not fp32.is_file():
                self._export(fp32)
            if compute_type == "int8":
                quantize_int8(fp32, target, self._calibration_feeds())
            elif compute_type == "float16":
                to_float16(fp32, target)
        except ModelLoadError:
            raise
        except OSError as exc:
            raise ModelLoadError(f"cannot write the ONNX export to {target.parent}: {exc}; set TTS_CACHE_DIR") from None
        except Exception as exc:
            raise ModelLoadError(f"{self.name}: ONNX export ({compute_type}) failed: {exc}") from None
        return target

    def _export(self, target: Path) -> None:
        import onnx

        start = time.perf_counter()
        folded = fold_weight_norm(self.model)  # same math; Coqui's export copies the model anyway
        tmp = _atomic_target(target)
        try:
            with warnings.catch_warnings():  # TracerWarnings about Python control flow, expected
                warnings.simplefilter("ignore")
                self.model.export_onnx(str(tmp), verbose=False)
            graph = onnx.load(str(tmp))
            shared = inline_shared_initializers(graph)
            onnx.save(graph, str(tmp))
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        self.exported = True
        log.info(
            "exported %s to %s in %.1f s (%d weight norms folded, %d shared weights inlined)",
            self.name,
            target,
            time.perf_counter() - start,
            folded,
            shared,
        )

    # -- inference ------------------------------------------------------------------------------------
    def _ids(self, text: str, language: str | None) -> tuple[list[int], int | None]:
        manager = self.model.language_manager
        if language is None and manager is not None and manager.num_languages == 1:
            language = manager.language_names[0]
        lang_id = None
        if manager is not None and manager.num_languages > 0 and language is not None:
            lang_id = manager.name_to_id.get(language, 0)
        return list(self.model.tokenizer.text_to_ids(text, language=language)), lang_id

    def _speaker_id(self, speaker: str | None) -> int:
        manager = self.model.speaker_manager
        if manager is None or not manager.name_to_id:
            return 0
        if speaker in manager.name_to_id:
            return int(manager.name_to_id[speaker])
        return int(next(iter(manager.name_to_id.values())))

    def _feeds(self, ids: list[int], lang_id: int | None, speaker: str | None, speed: float) -> dict[str, np.ndarray]:
        feeds: dict[str, np.ndarray] = {
            "input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": np.array([self.noise_scale, self.length_scale / speed, self.noise_scale_dp], dtype=np.float32),
        }
        if "sid" in self._inputs:
            feeds["sid"] = np.array([self._speaker_id(speaker)], dtype=np.int64)
        if "langid" in self._inputs:
            feeds["langid"] = np.array([lang_id or 0], dtype=np.int64)
        return feeds

    def _calibration_feeds(self) -> list[dict[str, np.ndarray]]:
        """Inputs for int8 calibration: the calibration sentences, spread over speakers and languages."""
        import onnx

        graph = onnx.load(str(self._cache_path("float32")), load_external_data=False).graph
        self._inputs = {i.name for i in graph.input}
        speakers: list[str | None] = [*self.speakers()] or [None]
        languages: list[str | None] = [*self.languages()] or [None]
        feeds = []
        for i, sentence in enumerate(CALIBRATION_SENTENCES):
            ids, lang_id = self._ids(sentence, languages[i % len(languages)])
            feeds.append(self._feeds(ids, lang_id, speakers[i % len(speakers)], 1.0))
        return feeds

    def synthesize(self, request: SynthesisRequest) -> AudioBuffer:
        """Synthesize sentence by sentence (Coqui's 10000-sample pause after each) and join the audio, with word
        timings from the duration predictor's frames."""
        from TTS.utils.synthesizer import PAD_SILENCE_SAMPLES

        language = request.language if self.languages() else None
        parts: list[np.ndarray] = []
        words: list[WordTiming] = []
        offset = 0.0
        for sentence in split_sentences(request.text, language or self._config_language()):
            ids, lang_id = self._ids(sentence, language)
            if not ids:
                continue
            wav, timed = self._sentence(sentence, ids, self._feeds(ids, lang_id, request.voice.speaker, request.speed))
            words += [WordTiming(w.text, round(w.start_s + offset, 4), round(w.end_s + offset, 4)) for w in timed]
            parts += [wav, np.zeros(PAD_SILENCE_SAMPLES, dtype=np.float32)]
            offset += (len(wav) + PAD_SILENCE_SAMPLES) / self.sample_rate
        samples = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        return TimedAudio(samples, self.sample_rate, tuple(words))

    def _sentence(
        self, sentence: str, ids: list[int], feeds: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, tuple[WordTiming, ...]]:
        outputs = self.sessions.run(self._outputs, feeds)
        wav = np.asarray(outputs[0], dtype=np.float32).reshape(-1)
        timed: tuple[WordTiming, ...] = ()
        if len(outputs) > 1:
            frames = np.asarray(outputs[1], dtype=np.float32).reshape(-1)
            per_frame = len(wav) / self.sample_rate / max(float(frames.sum()), 1.0)
            spans = token_word_frames(ids, self.model.tokenizer.characters, frames)
            timed = word_timings(sentence, spans, per_frame)
        if self._trim:
            wav = wav[: self.model.ap.find_endpoint(wav)]
            end = len(wav) / self.sample_rate
            timed = tuple(WordTiming(w.text, min(w.start_s, end), min(w.end_s, end)) for w in timed)
        return wav, timed

    def calibration_synthesize(self, request: SynthesisRequest) -> AudioBuffer:
        """The same model in PyTorch, where `request.seed` holds: the ONNX graph draws the duration predictor's
        noise unseeded, so a speed curve measured through it would be one noisy sample per speed (±7 % per call
        on the tiny test model) instead of the length-scale response (see `engines/speed.py`). The seed is held
        here because this engine's voices do not offer `seed`."""
        return super().synthesize(replace(request, seed=CALIBRATION_SEED if request.seed is None else request.seed))

    def voices(self) -> list[Voice]:
        """The PyTorch model's voices without `seed`: the graph's noise ignores it, so a seed is refused (400)."""
        return [_unseeded(v) for v in super().voices()]

    def cloned_voice(self, voice_id: str, directory: Path) -> Voice:
        """A stored embedding's voice, without `seed` (see `voices`)."""
        return _unseeded(super().cloned_voice(voice_id, directory))

    def close(self) -> None:
        """Drop the session and the Coqui model."""
        self.session = self.sessions = None  # type: ignore[assignment]
        super().close()


def _unseeded(voice: Voice) -> Voice:
    return replace(voice, capabilities=tuple(c for c in voice.capabilities if c != "seed"))
