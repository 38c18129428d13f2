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

``compute_type=int8`` quantizes the folded float32 export with ONNX Runtime dynamic quantization (int8
weights, activations quantized per run); ``float16`` converts the graph to half precision and is only
accepted with the CUDA execution provider.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from ..audio.buffer import AudioBuffer
from ..errors import ModelLoadError
from ..text.split import split_sentences
from .base import SynthesisRequest
from .coqui import CoquiEngine

log = logging.getLogger(__name__)

EXPORT_VERSION = "1"
"""Bump when the export / post-processing below changes, so stale cache entries are not reused."""
HASH_CHUNK = 1 << 20
COMPUTE_TYPES = ("float32", "float16", "int8")


def cache_dir() -> Path:
    """Where exported / quantized graphs are kept: ``$TTS_CACHE_DIR`` or ``~/.cache/tts-predictor/onnx``."""
    env = os.environ.get("TTS_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "tts-predictor" / "onnx"


def file_fingerprint(path: Path) -> str:
    """sha256 of a file's size, first MiB and last MiB (fast for large checkpoints)."""
    digest = hashlib.sha256()
    size = path.stat().st_size
    digest.update(str(size).encode())
    with path.open("rb") as fh:
        digest.update(fh.read(HASH_CHUNK))
        if size > HASH_CHUNK:
            fh.seek(max(HASH_CHUNK, size - HASH_CHUNK))
            digest.update(fh.read(HASH_CHUNK))
    return digest.hexdigest()


def _atomic_target(path: Path) -> Path:
    """A temporary sibling of `path`; `os.replace` it into place so concurrent loaders never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(tmp)


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
            if isinstance(hook, torch.nn.utils.weight_norm.WeightNorm):
                torch.nn.utils.remove_weight_norm(module, hook.name)
                folded += 1
    return folded


def inline_shared_initializers(model) -> int:
    """Rewire `Identity(initializer)` nodes of an `onnx.ModelProto` to the initializer itself; return how many.

    The TorchScript exporter deduplicates equal-valued weights (e.g. the zero-initialized `proj` convs of
    the duration predictor's flows) into one initializer read through Identity nodes; ONNX Runtime's
    quantizer then fails with "Expected <weight> to be an initializer".
    """
    import onnx

    graph = model.graph
    initializers = {i.name for i in graph.initializer}
    outputs = {o.name for o in graph.output}
    rename = {
        node.output[0]: node.input[0]
        for node in graph.node
        if node.op_type == "Identity" and node.input[0] in initializers and node.output[0] not in outputs
    }
    if not rename:
        return 0

    def rewire(nodes) -> None:
        for node in nodes:
            for i, name in enumerate(node.input):
                node.input[i] = rename.get(name, name)
            for attr in node.attribute:  # If/Loop bodies read outer names too
                for sub in ([attr.g] if attr.type == onnx.AttributeProto.GRAPH else list(attr.graphs)):
                    rewire(sub.node)

    keep = [n for n in graph.node if not (n.op_type == "Identity" and n.output[0] in rename)]
    rewire(keep)
    del graph.node[:]
    graph.node.extend(keep)
    return len(rename)


QUANT_WEIGHT_TYPE = "QUInt8"
QUANT_OPS = ("MatMul", "Conv")
"""Dynamic quantization targets. VITS is almost all Conv1d (its attention projections are 1x1 convs, its
MatMuls multiply activations), so Conv must be included; ONNX Runtime's CPU ConvInteger kernel is fast only
with uint8 weights (int8 weights measured 2-3x slower than float32 here), hence QUInt8."""


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic 8-bit quantization of a float32 ONNX VITS graph into `target` (`source` is not modified)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(source))
    inline_shared_initializers(model)
    tmp = _atomic_target(target)
    try:
        quantize_dynamic(
            model, str(tmp), weight_type=QuantType[QUANT_WEIGHT_TYPE], op_types_to_quantize=list(QUANT_OPS)
        )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def quantized_copy(source: Path) -> Path:
    """Cached int8 copy of an ONNX voice (e.g. a Piper voice); the file keeps its name, so voice ids stay."""
    if not source.is_file():
        return source  # the engine reports the missing file
    key = hashlib.sha256(f"{file_fingerprint(source)}|int8|{QUANT_WEIGHT_TYPE}|{EXPORT_VERSION}".encode())
    target = cache_dir() / f"int8-{key.hexdigest()[:20]}" / source.name
    if target.is_file():
        return target
    try:
        quantize_int8(source, target)
    except OSError as exc:
        raise ModelLoadError(f"cannot write the int8 copy of {source} to {target.parent}: {exc}; set TTS_CACHE_DIR")
    except Exception as exc:
        raise ModelLoadError(f"cannot quantize {source} to int8: {exc}") from None
    log.info("quantized %s to %s", source, target)
    return target


def to_float16(source: Path, target: Path) -> None:
    """Half-precision copy of a float32 graph, inputs/outputs kept float32 (CUDA only)."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = convert_float_to_float16(onnx.load(str(source)), keep_io_types=True)
    tmp = _atomic_target(target)
    try:
        onnx.save(model, str(tmp))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def ort_session(path: Path, *, device: str, threads: int):
    """An ONNX Runtime session on the providers `device` allows; returns (session, actual device)."""
    import onnxruntime as ort

    from .onnx_vits import _providers

    providers, actual = _providers(device)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=providers), actual
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
        raise ModelLoadError(f"onnxruntime cannot load {path}: {exc}") from None


def check_compute_type(compute_type: str, device: str) -> None:
    """Raise ModelLoadError for combinations ONNX Runtime cannot run here."""
    if compute_type not in COMPUTE_TYPES:
        raise ModelLoadError(f"compute_type={compute_type!r}: use one of {', '.join(COMPUTE_TYPES)}")
    if compute_type == "float16" and device != "cuda":
        raise ModelLoadError(
            "compute_type=float16 needs a CUDA GPU (onnxruntime CUDAExecutionProvider); on CPU use float32 or int8"
        )


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
    ):
        from .onnx_vits import _providers

        ort_device = _providers(device)[1]
        check_compute_type(compute_type, ort_device)
        super().__init__(source, device="cpu", threads=threads)  # torch only exports; ORT runs on `device`
        self.compute_type = compute_type
        try:
            self._load_onnx(ort_device, threads)
        except BaseException:
            super().close()  # the temporary config directory
            raise

    def _load_onnx(self, ort_device: str, threads: int) -> None:
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
        self.onnx_path = self._prepare(self.compute_type)
        self.session, self.device = ort_session(self.onnx_path, device=ort_device, threads=threads)
        self._inputs = {i.name for i in self.session.get_inputs()}
        self.noise_scale = float(model.inference_noise_scale)
        self.noise_scale_dp = float(model.inference_noise_scale_dp)
        self.length_scale = float(model.length_scale)
        self._trim = bool(self.synth.tts_config.audio.get("do_trim_silence"))

    # -- export / cache -------------------------------------------------------------------------------
    def _cache_path(self, compute_type: str) -> Path:
        import torch
        from TTS import __version__ as tts_version

        checkpoint = Path(self.synth.tts_checkpoint)
        config = checkpoint.parent / "config.json"
        digest = hashlib.sha256()
        for part in (file_fingerprint(checkpoint), config.read_bytes() if config.is_file() else b"",
                     compute_type, tts_version, torch.__version__, EXPORT_VERSION):
            digest.update(part if isinstance(part, bytes) else part.encode())
        return cache_dir() / f"{self.name}-{digest.hexdigest()[:20]}-{compute_type}.onnx"

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
                quantize_int8(fp32, target)
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
        log.info("exported %s to %s in %.1f s (%d weight norms folded, %d shared weights inlined)",
                 self.name, target, time.perf_counter() - start, folded, shared)

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

    def synthesize(self, request: SynthesisRequest) -> AudioBuffer:
        """Synthesize sentence by sentence (Coqui's 10000-sample pause after each) and join the audio."""
        from TTS.utils.synthesizer import PAD_SILENCE_SAMPLES

        language = request.language if self.languages() else None
        scales = np.array([self.noise_scale, self.length_scale / request.speed, self.noise_scale_dp], dtype=np.float32)
        parts: list[np.ndarray] = []
        for sentence in split_sentences(request.text, language or self._config_language()):
            ids, lang_id = self._ids(sentence, language)
            if not ids:
                continue
            feeds = {
                "input": np.array([ids], dtype=np.int64),
                "input_lengths": np.array([len(ids)], dtype=np.int64),
                "scales": scales,
            }
            if "sid" in self._inputs:
                feeds["sid"] = np.array([self._speaker_id(request.voice.speaker)], dtype=np.int64)
            if "langid" in self._inputs:
                feeds["langid"] = np.array([lang_id or 0], dtype=np.int64)
            wav = np.asarray(self.session.run(["output"], feeds)[0], dtype=np.float32).reshape(-1)
            if self._trim:
                wav = wav[: self.model.ap.find_endpoint(wav)]
            parts += [wav, np.zeros(PAD_SILENCE_SAMPLES, dtype=np.float32)]
        samples = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        return AudioBuffer(samples, self.sample_rate)

    def close(self) -> None:
        """Drop the session and the Coqui model."""
        self.session = None  # type: ignore[assignment]
        super().close()

