"""Coqui TTS models (catalogue names or local model directories) run with PyTorch.

This module and its helpers (`coqui_files`: where the files are, vocoders, catalogue; `coqui_xtts`: XTTS;
`coqui_bark`: Bark; `coqui_tortoise`: Tortoise) are the only ones that import `TTS` or `torch`, lazily, so
transformer-only images need neither.
"""

from __future__ import annotations

import inspect
import logging
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from tts_predictor.audio.alignment import TimedAudio, WordTiming
from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.engines.base import SynthesisRequest, Voice
from tts_predictor.engines.coqui import bark as coqui_bark
from tts_predictor.engines.coqui import files
from tts_predictor.engines.coqui import tortoise as coqui_tortoise
from tts_predictor.engines.coqui import xtts as coqui_xtts
from tts_predictor.engines.coqui.concurrency import ModelGate, RequestRng, mixed_speaker_table, module_view
from tts_predictor.engines.coqui.timings import captured_sentences, torch_word_timings
from tts_predictor.errors import ModelLoadError, UnsupportedOption

log = logging.getLogger(__name__)

CLONE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}", re.ASCII)
"""Cloned voice ids: also their file names (Coqui stores `<voice_dir>/<id>.pth`) and header values; always matched
with fullmatch (a "$" would accept a trailing newline, and the id would then break every response naming it)."""


def _resolve_device(device: str) -> str:
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError("device=cuda asked for, but torch sees no CUDA GPU")
    if device == "auto" and not torch.cuda.is_available():
        log.info("no CUDA GPU present (torch.cuda.is_available() is false): Coqui runs on CPU")
    return "cuda" if device in ("cuda", "auto") and torch.cuda.is_available() else "cpu"


class CoquiEngine:
    """A Coqui TTS model; multi-speaker and multi-lingual models expose speakers as voices."""

    kind = "coqui"

    def __init__(
        self,
        source: str | Path,
        *,
        device: str = "auto",
        threads: int = 1,
        vocoder: str = "",
        catalogue: str | None = None,
        bark_max_seconds: float = 0.0,
        concurrency: int = 1,
    ):
        """`concurrency`: calls run at once on the model (Bark and Tortoise: always 1); `threads`: torch's
        intra-op threads for a call that runs alone on CPU (see `ModelGate`)."""
        import torch

        torch.set_num_threads(threads)
        for noisy in ("TTS", "TTS.utils.synthesizer", "TTS.tts"):
            logging.getLogger(noisy).setLevel(logging.WARNING)  # Coqui logs the input text at INFO
        fetched = None if Path(source).is_dir() else files.fetch_catalogue_model(str(source), catalogue)
        self._tmp = tempfile.TemporaryDirectory(prefix="tts-coqui-")
        model_dir = Path(source) if fetched is None else files.joined_directory(fetched, Path(self._tmp.name) / "model")
        self.name = files.model_name(source)
        self.device = _resolve_device(device)
        self.vocoder: files.VocoderChoice | None = None
        self.fixed_language: str | None = None
        try:
            self.synth = self._load(
                model_dir, str(source), vocoder, fetched.default_vocoder if fetched else None, catalogue
            )
        except ModelLoadError:
            raise
        except Exception as exc:
            raise ModelLoadError(f"Coqui cannot load {model_dir}: {exc}") from None
        self.model = self.synth.tts_model
        self.sample_rate = int(self.synth.output_sample_rate)
        self.realtime = files.model_family(model_dir) not in files.HEAVY_FAMILIES  # Bark, Tortoise: minutes, not ms
        self.xtts = None
        self.bark = coqui_bark.is_bark(self.model)
        self._model_kwargs = coqui_bark.generation_kwargs(bark_max_seconds) if self.bark else {}
        if coqui_xtts.is_xtts(self.model):
            coqui_xtts.adapt_generation(self.model)
            self.xtts = coqui_xtts.XttsVoices(self.model)
        self.tortoise = None
        if coqui_tortoise.is_tortoise(self.model):
            self.tortoise = coqui_tortoise.TortoiseVoices(
                self.model, model_dir, Path(self._tmp.name) / "voices", self.device, self.synth.split_into_sentences
            )
        # Requests run on views of the model (concurrency.module_view), so unseeded calls overlap. Bark and
        # Tortoise stay one at a time: their generation code is not checked for shared state (and they are slow
        # models, admitted TTS_MAX_SLOW_REQUESTS at a time anyway).
        heavy = self.bark or self.tortoise is not None
        self._gate = ModelGate(1 if heavy else concurrency, threads, cpu=self.device == "cpu")
        self._base_length_scale = getattr(self.model, "length_scale", None)

    def _load(
        self, model_dir: Path, source: str, vocoder: str, default_vocoder: str | None, catalogue: str | None
    ) -> Any:
        """Coqui's Synthesizer for the directory: fairseq MMS, or a model with its vocoder when it needs one."""
        from TTS.utils.synthesizer import Synthesizer

        tmp, cuda = Path(self._tmp.name), self.device == "cuda"
        if files.is_fairseq_dir(model_dir):
            self.fixed_language = files.fairseq_language(source, model_dir)
            return Synthesizer(tts_checkpoint=files.fairseq_checkpoint(model_dir, tmp), use_cuda=cuda)
        files.check_family_files(model_dir)
        family = files.model_family(model_dir)
        if family == coqui_bark.FAMILY:
            return coqui_bark.load(model_dir, tmp, use_cuda=cuda)
        if family == coqui_tortoise.FAMILY:
            coqui_tortoise.check_redaction(files.read_config(model_dir))
            return coqui_tortoise.load(model_dir, files.repoint_config(model_dir, tmp), cuda)
        extra: dict[str, Any] = {}
        if files.is_spectrogram_model(model_dir):
            self.vocoder = files.choose_vocoder(model_dir, vocoder, default_vocoder, catalogue)
            if self.vocoder.directory is not None:
                extra = {
                    "vocoder_checkpoint": files.find_checkpoint(self.vocoder.directory),
                    "vocoder_config": files.repoint_config(self.vocoder.directory, tmp / "vocoder"),
                }
            elif not self.vocoder.asked:
                log.warning(
                    "%s makes spectrograms and has no vocoder (no vocoder/ subdirectory, TTS_VOCODER or "
                    "catalogue default_vocoder): it speaks through Griffin-Lim, which sounds poor",
                    self.name,
                )
        return Synthesizer(
            tts_checkpoint=files.find_checkpoint(model_dir),
            tts_config_path=files.repoint_config(model_dir, tmp),
            use_cuda=cuda,
            **extra,
        )

    def speakers(self) -> list[str]:
        """Speaker names of a multi-speaker model: an embedding table, a d-vector file or XTTS's speakers file."""
        if self.xtts is not None:
            return self.xtts.speakers()
        if self.bark:
            return coqui_bark.speakers(self.model, self.synth.voice_dir)
        if self.tortoise is not None:
            return self.tortoise.speakers()
        manager = getattr(self.model, "speaker_manager", None)
        args = getattr(self.model, "args", None)
        if manager is None or not (
            getattr(args, "use_speaker_embedding", False) or getattr(args, "use_d_vector_file", False)
        ):
            return []
        return list(manager.name_to_id)

    @property
    def can_clone(self) -> bool:
        """True when the model makes voices from reference audio: a speaker encoder, or its own cloning (XTTS)."""
        from TTS.tts.models.base_tts import BaseTTS

        if not callable(getattr(self.model, "clone_voice", None)) or self.bark:
            return False  # Bark clones through HuBERT models that Coqui downloads on first use
        encoder = getattr(getattr(self.model, "speaker_manager", None), "encoder", None)
        own_cloning = type(self.model)._clone_voice is not BaseTTS._clone_voice
        return encoder is not None or own_cloning

    def languages(self) -> list[str]:
        """Language ids of a multi-lingual model (empty otherwise)."""
        if self.xtts is not None:
            return self.xtts.languages()
        if self.bark:
            return list(coqui_bark.LANGUAGES)
        manager = getattr(self.model, "language_manager", None)
        if manager is None or manager.num_languages <= 1:
            return []
        return list(manager.name_to_id)

    def voices(self) -> list[Voice]:
        """Speakers as voices (each speaking every model language), or the model as one voice."""
        langs = tuple(self.languages()) or (self._config_language(),)
        speakers = self.speakers()
        cloning = ("cloning",) if self.can_clone else ()
        vocoder = self.vocoder.label if self.vocoder is not None else None
        if not speakers:
            caps = (*self._speed_caps(), "seed", *cloning)
            return [Voice(self.name, langs, self.kind, self.sample_rate, capabilities=caps, vocoder=vocoder)]
        caps = (
            *self._speed_caps(),
            "seed",
            *(("mixing",) if hasattr(self.model, "emb_g") else ()),
            *self._xtts_caps(),
            *cloning,
        )
        return [
            Voice(s, langs, self.kind, self.sample_rate, speaker=s, capabilities=caps, vocoder=vocoder)
            for s in speakers
        ]

    def clone(self, reference: AudioBuffer, voice_id: str, directory: Path) -> Voice:
        """Compute a voice from reference speech once and store it as `<directory>/<voice_id>.pth` (Coqui's format)."""
        if not self.can_clone:
            raise UnsupportedOption(f"model {self.name} cannot clone voices (no speaker encoder)")
        if not CLONE_ID.fullmatch(voice_id):
            raise UnsupportedOption(f"name: {voice_id[:80]!r} is not a valid voice id; use 1-63 of a-z, 0-9, '-', '_'")
        import soundfile

        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="tts-clone-") as tmp:
            sample = Path(tmp) / "reference.wav"
            soundfile.write(sample, reference.samples, reference.sample_rate, subtype="FLOAT")
            with self._gate.exclusive():  # rare; the speaker encoder is not checked for shared state
                if self.xtts is not None:  # from the samples in memory (Coqui's loader needs torchaudio's file I/O)
                    self.xtts.clone(reference, voice_id, directory)
                else:
                    self.model.clone_voice(str(sample), speaker_id=voice_id, voice_dir=str(directory))
        return self.cloned_voice(voice_id, directory)

    def cloned_voice(self, voice_id: str, directory: Path) -> Voice:
        """The Voice of an embedding stored by `clone` (no computation)."""
        langs = tuple(self.languages()) or (self._config_language(),)
        return Voice(
            voice_id,
            langs,
            self.kind,
            self.sample_rate,
            speaker=voice_id,
            capabilities=(*self._speed_caps(), "seed", *self._xtts_caps(), "cloned"),
            model=self.name,
            store=str(directory),
        )

    def _speed_caps(self) -> tuple[str, ...]:
        """("speed",) unless the model has neither a length scale nor a speed argument (Tacotron2)."""
        own = "speed" in inspect.signature(self.model.inference).parameters
        return ("speed",) if self._base_length_scale is not None or own else ()

    def _xtts_caps(self) -> tuple[str, ...]:
        return ("sampling", "streaming") if self.xtts is not None else ()

    def _config_language(self) -> str:
        return self.fixed_language or str(getattr(self.synth.tts_config, "phoneme_language", None) or "en")

    def synthesize(self, request: SynthesisRequest) -> AudioBuffer:
        """Run the model on one text (on a view of it: other calls may run beside it, see `ModelGate`)."""
        rng = RequestRng(request.seed, self.device == "cuda") if request.seed is not None else None
        if self.xtts is not None:
            with self._gate.turn(rng):
                wav = coqui_xtts.synthesize(coqui_xtts.request_view(self.model), self.xtts, request)
            return AudioBuffer(wav, self.sample_rate)
        import torch

        # Bark: its length cap; it takes no language id (Coqui's sentence splitter for it knows only "en")
        kwargs = {**self._model_kwargs, **self._speed_kwargs(request.speed)}
        if self.tortoise is not None:
            kwargs.update(self.tortoise.settings(request))
        if request.voice.store:
            kwargs["voice_dir"] = request.voice.store  # a cloned voice: Coqui loads <store>/<speaker>.pth
        synth = self._request_synth(request)
        # no_grad: Synthesizer.tts keeps autograd on, and a GAN vocoder's output (MelGAN) then cannot become numpy
        with self._gate.turn(rng), torch.no_grad(), captured_sentences(synth.tts_model) as sentences:
            wav = synth.tts(
                request.text,
                speaker_name=request.voice.speaker,
                language_name=request.language if self.languages() and not self.bark else None,
                split_sentences=True,
                **kwargs,
            )
        samples = np.asarray(wav, dtype=np.float32).reshape(-1)
        return TimedAudio(samples, self.sample_rate, self._word_timings(sentences))

    def _request_synth(self, request: SynthesisRequest) -> Any:
        """A view of the Synthesizer whose model has this request's length scale and speaker mix."""
        changes: dict[str, Any] = {}
        if self._base_length_scale is not None:
            changes["length_scale"] = self._base_length_scale / request.speed
        if request.voice.mix:
            changes["emb_g"] = mixed_speaker_table(self.model, request.voice.mix)
        return module_view(self.synth, tts_model=module_view(self.model, **changes))

    def _word_timings(self, sentences: list[dict]) -> tuple[WordTiming, ...]:
        """Word times from VITS's duration predictor (other models: none)."""
        from TTS.utils.synthesizer import PAD_SILENCE_SAMPLES

        tokenizer = getattr(self.model, "tokenizer", None)
        if tokenizer is None or self.synth.vocoder_model is not None:
            return ()
        trim = self.model.ap.find_endpoint if self.synth.tts_config.audio.get("do_trim_silence") else None
        try:
            return torch_word_timings(sentences, tokenizer.characters, self.sample_rate, trim, PAD_SILENCE_SAMPLES)
        except (AttributeError, KeyError, TypeError, ValueError):  # a model whose outputs differ: no timings
            return ()

    def stream(
        self, request: SynthesisRequest, chunk_tokens: int = coqui_xtts.STREAM_CHUNK_TOKENS
    ) -> Iterator[AudioBuffer]:
        """Audio of one text in chunks as the model produces them (XTTS); other models yield it whole.

        The gate is held while a chunk is computed, never across a yield: other calls run while the consumer
        handles a chunk, and between this stream's chunks (a seeded stream takes the model alone per chunk, with
        its own generator state, so it stays reproducible).
        """
        if self.xtts is None:
            yield self.synthesize(request)
            return
        rng = RequestRng(request.seed, self.device == "cuda") if request.seed is not None else None
        chunks = coqui_xtts.stream(coqui_xtts.request_view(self.model), self.xtts, request, chunk_tokens)
        try:
            while True:
                with self._gate.turn(rng):
                    chunk = next(chunks, None)
                if chunk is None:
                    return
                yield AudioBuffer(chunk, self.sample_rate)
        finally:
            chunks.close()

    def _speed_kwargs(self, speed: float) -> dict[str, Any]:
        if speed == 1.0 or self._base_length_scale is not None:
            return {}
        if "speed" in inspect.signature(self.model.inference).parameters:
            return {"speed": speed}  # XTTS and friends
        raise UnsupportedOption(f"speed: this model ({self.name}) has no speed control; use 1.0")

    def close(self) -> None:
        """Free the model and the temporary config."""
        self.synth = None  # type: ignore[assignment]
        self._tmp.cleanup()
