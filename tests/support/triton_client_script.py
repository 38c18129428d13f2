"""Run tritonclient (HTTP or gRPC) against a server; prints a JSON summary.

Run in a subprocess: tritonclient.grpc and kserve both register the protobuf package `inference`
and cannot be imported into one process.
"""

from __future__ import annotations

import io
import json
import sys

import numpy as np
import soundfile as sf


def main(kind: str, url: str, texts: list[str], params: dict) -> None:
    if kind == "http":
        import tritonclient.http as client_mod
    else:
        import tritonclient.grpc as client_mod
    client = client_mod.InferenceServerClient(url=url)
    tensor = client_mod.InferInput("text", [len(texts)], "BYTES")
    data = np.array([t.encode() for t in texts], dtype=np.object_)
    if kind == "http":
        tensor.set_data_from_numpy(data, binary_data=True)
        outputs = [client_mod.InferRequestedOutput(n, binary_data=True) for n in ("audio", "sample_rate", "duration_s")]
    else:
        tensor.set_data_from_numpy(data)
        outputs = [client_mod.InferRequestedOutput(n) for n in ("audio", "sample_rate", "duration_s")]
    summary: dict = {"ready": client.is_model_ready("tts")}
    try:
        result = client.infer("tts", [tensor], outputs=outputs, parameters=params)
    except Exception as exc:  # InferenceServerException
        summary["error"] = str(exc)[:500]
        print(json.dumps(summary))
        return
    files = result.as_numpy("audio")
    summary["rates"] = [int(r) for r in result.as_numpy("sample_rate")]
    summary["durations"] = [float(d) for d in result.as_numpy("duration_s")]
    summary["decoded"] = [sf.info(io.BytesIO(bytes(f))).duration for f in files]
    print(json.dumps(summary))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4]))
