"""Tortoise specifics behind CoquiEngine: loading from a directory, its voices, and bounded work per request.

Coqui's `Tortoise.load_checkpoint` takes a directory (it finds `autoregressive.pth`, `diffusion_decoder.pth`,
`clvp2.pth`, `vocoder.pth` and `mel_norms.pth` anywhere below it with `rglob`), so the Synthesizer is given the
directory, not a checkpoint file. Every Tortoise voice is a pair of conditioning latents (autoregressive,
diffusion): built-in voices are Coqui voice files (`voices/<id>.pth`, what `clone_voice` writes) or the original
Tortoise voice folders (`voices/<name>/*.wav`, made into latents once at start); with neither, the model's own
voice uses Coqui's random latents (`rlg_auto.pth`, `rlg_diffuser.pth`), and cloning works as for any model.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tts_predictor.engines.base import SynthesisRequest
from tts_predictor.engines.coqui.xtts import adapt_cache_argument
from tts_predictor.errors import ModelLoadError, TextTooLong, UnsupportedOption

log = logging.getLogger(__name__)

FAMILY = "tortoise"
"""The `model` field of a Tortoise config.json."""
VOICES_SUBDIR = "voices"
"""Built-in voices in a model directory (Coqui's Synthesizer default `voice_dir` is `<checkpoint dir>/voices`)."""
SAMPLE_SUFFIXES = (".wav", ".mp3")
"""Reference clips Coqui's `load_required_audio` reads."""
VOICE_KEYS = ("auto_conditioning", "diffusion_conditioning")
"""What a Coqui Tortoise voice file holds (`TTS/utils/voices.py` clone_voice; read by `Tortoise.synthesize`)."""
RANDOM_VOICE_FILES = ("rlg_auto.pth", "rlg_diffuser.pth")
"""Coqui's `get_random_conditioning_latents` loads these when no voice is given (the catalogue download has them)."""
MAX_MEL_TOKENS = 500
"""Coqui's `Tortoise.inference` default cap on audio codes per sentence (1/20 s each: 25 s)."""
MAX_TEXT_TOKENS = 398
"""Text tokens per sentence `Tortoise.inference` takes (it pads one and asserts fewer than 400)."""
REDACTION_REPOS = (
    "jbetker/wav2vec2-large-robust-ft-libritts-voxpopuli",
    "facebook/wav2vec2-large-960h",
    "jbetker/tacotron-symbols",
)
"""Hugging Face repositories `Wav2VecAlignment` loads at construction when `model_args.enable_redaction` is on."""


def is_tortoise(model: Any) -> bool:
    """True for Coqui's Tortoise model class."""
    return type(model).__name__ == "Tortoise" and hasattr(model, "autoregressive")


def check_redaction(config: dict[str, Any]) -> None:
    """Refuse `enable_redaction` unless its wav2vec models are in the Hugging Face cache (Coqui would download them)."""
    if not (config.get("model_args") or {}).get("enable_redaction"):
        return
    from huggingface_hub import try_to_load_from_cache

    missing = [repo for repo in REDACTION_REPOS if not isinstance(try_to_load_from_cache(repo, "config.json"), str)]
    if missing:
        raise ModelLoadError(
            f"this Tortoise config sets model_args.enable_redaction, which loads {', '.join(missing)} from Hugging "
            "Face; pre-fill HF_HOME with them (HF_HUB_OFFLINE=1) or set enable_redaction to false"
        )


def load(model_dir: Path, config_path: Path, cuda: bool) -> Any:
    """Coqui's Synthesizer for a Tortoise directory, its GPT adapted to this transformers release."""
    from TTS.utils.synthesizer import Synthesizer

    synth = Synthesizer(tts_checkpoint=model_dir, tts_config_path=config_path, use_cuda=cuda)
    adapt_cache_argument(synth.tts_model.autoregressive.inference_model)
    return synth


def _clips(path: Path) -> list[str]:
    """The reference clips of a Tortoise voice folder (none for a file)."""
    return sorted(str(p) for p in path.iterdir() if p.suffix.lower() in SAMPLE_SUFFIXES) if path.is_dir() else []


def _check_voice_file(path: Path) -> None:
    """Refuse at start a `voices/*.pth` that is not a Tortoise voice (it would fail every request naming it)."""
    import torch

    try:
        voice = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling errors of all kinds
        raise ModelLoadError(
            f"{VOICES_SUBDIR}/{path.name}: not a voice file torch can read ({type(exc).__name__})"
        ) from None
    if not (isinstance(voice, dict) and all(isinstance(voice.get(k), torch.Tensor) for k in VOICE_KEYS)):
        raise ModelLoadError(
            f"{VOICES_SUBDIR}/{path.name}: not a Tortoise voice (a dict with tensors "
            f"{', '.join(VOICE_KEYS)}, as Coqui's clone_voice saves)"
        )


class TortoiseVoices:
    """The built-in voices of one loaded Tortoise and the settings every request runs with."""

    def __init__(self, model: Any, model_dir: Path, voice_dir: Path, device: str, split: Callable[[str], list[str]]):
        self.model = model
        self.split = split  # the Synthesizer's sentence splitter: Tortoise runs once per sentence
        self.model_dir = model_dir
        self.voice_dir = voice_dir
        self.half = device == "cuda"  # Coqui's default autocast only means something on a GPU
        self.random_voice = all(any(model_dir.rglob(name)) for name in RANDOM_VOICE_FILES)
        self.ids = self._gather(model_dir / VOICES_SUBDIR)

    def _gather(self, source: Path) -> list[str]:
        """Link `voices/*.pth` into `voice_dir` and make latents of `voices/<name>/` clips there; their ids."""
        from TTS.utils.generic_utils import slugify

        if not source.is_dir():
            return []
        self.voice_dir.mkdir(parents=True, exist_ok=True)
        ids = []
        for path in sorted(source.iterdir()):
            voice_id = slugify(path.stem if path.is_file() else path.name)
            clips = _clips(path)
            if voice_id in ids or not (clips or (path.suffix == ".pth" and path.is_file())):
                continue
            if clips:
                log.info("computing Tortoise voice %s from %d clip(s)", voice_id, len(clips))
                self.model.clone_voice(clips, speaker_id=voice_id, voice_dir=str(self.voice_dir))
            else:
                _check_voice_file(path)
                (self.voice_dir / f"{voice_id}.pth").symlink_to(path.resolve())
            ids.append(voice_id)
        return ids

    def speakers(self) -> list[str]:
        """Ids of the built-in voices."""
        return list(self.ids)

    def settings(self, request: SynthesisRequest) -> dict[str, Any]:
        """Keyword arguments for `Synthesizer.tts`: where the voice is, and the work one sentence may take.

        The work is the model config's (Coqui's `TortoiseConfig` fields, which Coqui's own `inference_with_config`
        ignores): `num_autoregressive_samples` GPT samples ranked by CLVP, `diffusion_iterations` steps of
        `sampler`, and at most `model_args.ar_max_mel_tokens` (cap 500) audio codes.
        """
        self._check_sentences(request.text)
        voice = request.voice
        kwargs: dict[str, Any] = {}
        if voice.store is None and voice.speaker is not None:
            kwargs["voice_dir"] = str(self.voice_dir)
        elif voice.store is None and not self.random_voice:
            raise UnsupportedOption(
                f"voice: Tortoise model {voice.id} has no built-in voices ({VOICES_SUBDIR}/<id>.pth or "
                f"{VOICES_SUBDIR}/<name>/*.wav) and no random-voice files ({', '.join(RANDOM_VOICE_FILES)}); clone a "
                "voice with POST /v1/voices or send speaker_wav"
            )
        config = self.model.config
        return {
            **kwargs,
            "num_autoregressive_samples": int(config.num_autoregressive_samples),
            "diffusion_iterations": int(config.diffusion_iterations),
            "sampler": config.sampler,
            "max_mel_tokens": min(MAX_MEL_TOKENS, int(config.model_args.ar_max_mel_tokens)),
            # Coqui re-seeds torch with int(time()) when this is None: requests in the same second would sound alike
            "use_deterministic_seed": secrets.randbits(31) if request.seed is None else request.seed,
            "half": self.half,
            "verbose": False,
        }

    def _check_sentences(self, text: str) -> None:
        """A clear 400 for a sentence Tortoise cannot take, instead of Coqui's AssertionError (a 500)."""
        for sentence in self.split(text):
            tokens = len(self.model.tokenizer.encode(sentence))
            if tokens > MAX_TEXT_TOKENS:
                raise TextTooLong(
                    f"text: a sentence of {len(sentence)} characters makes {tokens} Tortoise text "
                    f"tokens; Tortoise takes at most {MAX_TEXT_TOKENS} per sentence: split it"
                )
