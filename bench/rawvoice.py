"""A VITS voice as a bare ONNX Runtime session fed padded id rows, for the engine experiments.

Neither the Piper nor the Coqui export declares per-item audio lengths as an output (only the padded
``[B, 1, (1,) T]`` audio), but both graphs compute them: VITS's ``y_lengths`` (frames per item) is the
``Cast`` after ``Ceil -> ReduceSum -> Clip`` of the durations. The bench adds that tensor as a second
graph output (in memory, with the ``onnx`` package) so padded batch items can be cut to their length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.models import MODEL_SETTINGS, load_raw_engine, prepare_model

OPTIONAL_INPUTS = ("sid", "langid")
"""Speaker / language inputs of multi-speaker or multi-lingual graphs; fed id 0 for every item."""


@dataclass(frozen=True)
class RawRun:
    """What one session call produced."""

    item_samples: list[int] | None
    """Audio samples of each item without padding (None: the graph gave no per-item length)."""
    output_samples: int
    """Samples of the whole output, padding included (batch size x padded length)."""


@dataclass(frozen=True)
class RawVoice:
    """A VITS graph plus what feeding it needs, loaded with the engine's own settings."""

    name: str
    """Benchmark model name (``embedded``, ``coqui-full-onnx``)."""
    graph: bytes | str
    """Serialized graph with the per-item lengths output added, or the graph's path."""
    scales: tuple[float, float, float]
    """noise scale, length scale, noise scale of the duration predictor (the engine's defaults)."""
    sample_rate: int
    threads: int
    """The engine's intra-op thread count (``TTS_THREADS`` resolved, 0 = cores)."""
    mem_pattern: bool
    """The engine's `enable_mem_pattern` (the Piper engine turns it off)."""
    inputs: tuple[str, ...]
    audio_output: str
    lengths_output: str | None
    """Name of the exposed per-item frame-count tensor, or None."""
    lengths_note: str
    """How per-item lengths are obtained, for the report."""

    def session(self, threads: int | None = None) -> Any:
        """A new session on the CPU, with the engine's options (or another intra-op thread count)."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or self.threads
        options.inter_op_num_threads = 1
        options.enable_mem_pattern = self.mem_pattern
        return ort.InferenceSession(self.graph, sess_options=options, providers=["CPUExecutionProvider"])

    def run(self, session: Any, rows: Sequence[Sequence[int]]) -> RawRun:
        """One call on a batch of id rows, zero-padded to the longest."""
        batch = np.zeros((len(rows), max(len(r) for r in rows)), dtype=np.int64)
        for i, row in enumerate(rows):
            batch[i, : len(row)] = row
        feeds = {
            "input": batch,
            "input_lengths": np.array([len(r) for r in rows], dtype=np.int64),
            "scales": np.array(self.scales, dtype=np.float32),
        }
        feeds.update({name: np.zeros(len(rows), dtype=np.int64) for name in OPTIONAL_INPUTS if name in self.inputs})
        names = [self.audio_output] + ([self.lengths_output] if self.lengths_output else [])
        outputs = session.run(names, feeds)
        padded = int(outputs[0].shape[-1])
        if len(rows) == 1:
            return RawRun([padded], padded)
        if self.lengths_output is None:
            return RawRun(None, padded * len(rows))
        frames = np.asarray(outputs[1]).reshape(-1)
        hop = padded // int(frames.max())  # the longest item fills the padded output exactly
        return RawRun([int(f) * hop for f in frames], padded * len(rows))


def frame_lengths_tensor(graph: Any) -> tuple[str, int] | None:
    """Name and element type of VITS's ``y_lengths`` in an `onnx.GraphProto`: Ceil -> ReduceSum -> Clip -> Cast."""
    producer = {out: node for node in graph.node for out in node.output}
    for node in graph.node:
        clip = producer.get(node.input[0]) if node.op_type == "Cast" else None
        total = producer.get(clip.input[0]) if clip is not None and clip.op_type in ("Clip", "Max") else None
        ceil = producer.get(total.input[0]) if total is not None and total.op_type == "ReduceSum" else None
        if ceil is not None and ceil.op_type == "Ceil":
            to = next(a.i for a in node.attribute if a.name == "to")
            return node.output[0], int(to)
    return None


def with_lengths_output(path: Path) -> tuple[bytes | str, str | None, str]:
    """The graph with ``y_lengths`` added as an output, its name and a note; the path alone if impossible."""
    try:
        import onnx
    except ImportError:
        return (
            str(path),
            None,
            (
                "per-item lengths unavailable: the onnx package is not installed (coqui extra); "
                "batched throughput counts the whole padded output"
            ),
        )
    model = onnx.load(str(path))
    found = frame_lengths_tensor(model.graph)
    if found is None:
        return (
            str(path),
            None,
            (
                "the graph outputs no per-item length and no y_lengths tensor was found; "
                "batched throughput counts the whole padded output"
            ),
        )
    name, elem_type = found
    model.graph.output.append(onnx.helper.make_tensor_value_info(name, elem_type, ["batch_size"]))
    return (
        model.SerializeToString(),
        name,
        (
            f"not a declared graph output: the internal frame counts {name!r} (VITS y_lengths) are exposed "
            "as an extra output by the bench; item samples = frames x hop"
        ),
    )


def _raw_voice(
    name: str,
    path: Path,
    engine_session: Any,
    scales: Sequence[float],
    sample_rate: int,
    threads: int,
    mem_pattern: bool,
) -> RawVoice:
    graph, lengths_output, note = with_lengths_output(path)
    return RawVoice(
        name=name,
        graph=graph,
        scales=(float(scales[0]), float(scales[1]), float(scales[2])),
        sample_rate=int(sample_rate),
        threads=int(threads),
        mem_pattern=mem_pattern,
        inputs=tuple(i.name for i in engine_session.get_inputs()),
        audio_output=engine_session.get_outputs()[0].name,
        lengths_output=lengths_output,
        lengths_note=note,
    )


def embedded_voice(texts: Sequence[str]) -> tuple[RawVoice, list[list[int]]]:
    """The packaged Piper voice and the phoneme ids of `texts` (phonemized once, outside any timing)."""
    from tts_predictor.engines.onnx.vits import embedded_voice_paths, phoneme_ids

    engine, _, info = load_raw_engine("embedded")
    try:
        cfg = engine.config
        rows = [phoneme_ids(engine.phonemizer.phonemize(t), cfg.phoneme_id_map) for t in texts]
        voice = _raw_voice(
            "embedded",
            embedded_voice_paths()[0],
            engine.session,
            (cfg.noise_scale, cfg.length_scale, cfg.noise_w),
            cfg.sample_rate,
            info["threads"],
            mem_pattern=False,
        )
    finally:
        engine.close()
    return voice, rows


def coqui_onnx_voice(texts: Sequence[str], workdir: Path) -> tuple[RawVoice, list[list[int]]]:
    """The random-weight full-size Coqui VITS, exported to ONNX (cached), and the token ids of `texts`."""
    spec = prepare_model("coqui-full-onnx", workdir)
    engine, _, info = load_raw_engine(spec, MODEL_SETTINGS["coqui-full-onnx"])
    try:
        rows = [engine._ids(t, None)[0] for t in texts]  # the engine's own tokenizer
        scales = (engine.noise_scale, engine.length_scale, engine.noise_scale_dp)
        voice = _raw_voice(
            "coqui-full-onnx",
            engine.onnx_path,
            engine.session,
            scales,
            engine.sample_rate,
            info["threads"],
            mem_pattern=True,
        )
    finally:
        engine.close()
    return voice, rows
