"""ONNX graph files of the ONNX engines: cache location and keys, atomic writes, weight-norm folding, shared
initializer inlining, int8 (static, calibrated) and float16 conversion, sessions."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from tts_predictor.errors import ModelLoadError

log = logging.getLogger(__name__)

EXPORT_VERSION = "2"
"""Bump when the export / post-processing below changes, so stale cache entries are not reused."""
HASH_CHUNK = 1 << 20
COMPUTE_TYPES = ("float32", "float16", "int8")


DEFAULT_GRAPH_DIR = Path.home() / ".cache" / "tts-predictor" / "onnx"
"""Where exported / quantized graphs are kept unless TTS_CACHE_DIR names a directory (`Settings.graph_dir`)."""


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


def save_atomically(model, target: Path) -> None:
    """`onnx.save` to a temporary file beside `target`, then rename: readers never see half a graph."""
    import onnx

    tmp = _atomic_target(target)
    try:
        onnx.save(model, str(tmp))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


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
                for sub in [attr.g] if attr.type == onnx.AttributeProto.GRAPH else list(attr.graphs):
                    rewire(sub.node)

    keep = [n for n in graph.node if not (n.op_type == "Identity" and n.output[0] in rename)]
    rewire(keep)
    del graph.node[:]
    graph.node.extend(keep)
    return len(rename)


CALIBRATION_SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "Six spoons of fresh snow peas, five thick slabs of blue cheese, and maybe a snack for her brother Bob.",
    "We also need a small plastic snake and a big toy frog for the kids.",
    "She can scoop these things into three red bags, and we will go meet her Wednesday at the train station.",
    "Is it seven o'clock already? Wow!",
)
"""Calibration text for static int8: activation ranges are measured on these (any language's phonemes will do:
the ranges are what matters, not the words)."""
QUANT_OPS = ("Conv",)
"""VITS is almost all Conv1d (attention projections are 1x1 convs; its MatMuls multiply activations)."""


def quantize_int8(source: Path, target: Path, calibration: Sequence[dict[str, np.ndarray]]) -> None:
    """Static 8-bit quantization of a float32 ONNX VITS graph into `target` (`source` is not modified).

    Conv weights become int8 per output channel, activations uint8 with ranges calibrated by running
    `calibration` (input feeds); ONNX Runtime fuses the QDQ pairs into QLinearConv. Measured on the embedded
    voice: 1.7x faster than float32 with the same Whisper WER, where dynamic quantization (ranges computed at
    every run, ConvInteger) gave 1.1x.
    """
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Feeds(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter(calibration)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._it, None)

    model = onnx.load(str(source))
    inline_shared_initializers(model)
    tmp = _atomic_target(target)
    with tempfile.TemporaryDirectory(prefix="tts-quantize-") as work:
        inlined, prepared = Path(work) / "inlined.onnx", Path(work) / "prepared.onnx"
        onnx.save(model, str(inlined))
        quant_pre_process(str(inlined), str(prepared), skip_symbolic_shape=True)
        try:
            quantize_static(
                str(prepared),
                str(tmp),
                Feeds(),
                quant_format=QuantFormat.QDQ,
                op_types_to_quantize=list(QUANT_OPS),
                per_channel=True,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                extra_options={"ActivationSymmetric": False},
            )
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)


def quantized_copy(
    source: Path, calibration: Callable[[], Sequence[dict[str, np.ndarray]]], cache: Path = DEFAULT_GRAPH_DIR
) -> Path:
    """Cached int8 copy of an ONNX voice (e.g. a Piper voice); the file keeps its name, so voice ids stay.

    `calibration` gives the feeds to calibrate on; it is only called when the copy is not cached yet.
    """
    if not source.is_file():
        return source  # the engine reports the missing file
    key = hashlib.sha256(f"{file_fingerprint(source)}|int8-static|{EXPORT_VERSION}".encode())
    target = cache / f"int8-{key.hexdigest()[:20]}" / source.name
    if target.is_file():
        return target
    try:
        quantize_int8(source, target, calibration())
    except OSError as exc:
        raise ModelLoadError(
            f"cannot write the int8 copy of {source} to {target.parent}: {exc}; set TTS_CACHE_DIR"
        ) from exc
    except Exception as exc:
        raise ModelLoadError(f"cannot quantize {source} to int8: {exc}") from None
    log.info("quantized %s to %s", source, target)
    return target


def to_float16(source: Path, target: Path) -> None:
    """Half-precision copy of a float32 graph, inputs/outputs kept float32 (CUDA only)."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    save_atomically(convert_float_to_float16(onnx.load(str(source)), keep_io_types=True), target)


def ort_session(path: Path, *, device: str, threads: int):
    """An ONNX Runtime session on the providers `device` allows; returns (session, actual device)."""
    import onnxruntime as ort

    from tts_predictor.engines.onnx.sessions import execution_providers

    providers, actual = execution_providers(device)
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


DURATIONS_OUTPUT = "durations"
"""Extra output of a Piper graph edited by `durations_copy`: predicted frames per input id, shape [1, 1, ids]."""


def durations_copy(source: Path, cache: Path = DEFAULT_GRAPH_DIR) -> Path | None:
    """Cached copy of a Piper VITS graph that also outputs its duration predictor's frames per phoneme id.

    VITS rounds the predicted durations up (``w_ceil = ceil(exp(logw) * length_scale)``): the graph's one
    ``Ceil`` node. None when `onnx` is not installed, the graph has no single Ceil, or the copy cannot be written.
    """
    try:
        import onnx
    except ImportError:
        return None
    key = hashlib.sha256(f"{file_fingerprint(source)}|durations|{EXPORT_VERSION}".encode())
    target = cache / f"durations-{key.hexdigest()[:20]}" / source.name
    if target.is_file():
        return target
    try:
        model = onnx.load(str(source))
        ceils = [n for n in model.graph.node if n.op_type == "Ceil"]
        if len(ceils) != 1:
            log.info("%s: no single duration Ceil node (%d); no word timings", source.name, len(ceils))
            return None
        model.graph.output.append(onnx.helper.make_tensor_value_info(ceils[0].output[0], onnx.TensorProto.FLOAT, None))
        model.graph.output[-1].name = ceils[0].output[0]
        save_atomically(model, target)
    except Exception as exc:  # a graph we cannot edit still synthesizes, without timings
        log.warning("cannot add a durations output to %s: %s", source.name, exc)
        return None
    log.info("added the duration output to %s: %s", source.name, target)
    return target
