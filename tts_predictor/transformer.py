"""TTSTransformer: the KServe transformer; plans and encodes here, synthesizes segments on the predictor over V2.

Run: `python -m tts_predictor transformer --predictor_host HOST:PORT [--predictor_protocol v2|grpc-v2]`
(KServe injects `--model_name`, `--predictor_host` and `--http_port`).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

import httpx
import kserve
import numpy as np
from kserve.errors import InvalidInput
from kserve.protocol.infer_type import InferInput, InferRequest, InferResponse, RequestedOutput

from tts_predictor import budget
from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.audio.output import OutputConfig
from tts_predictor.errors import PredictorRefused, PredictorUnavailable
from tts_predictor.pipeline.admission import AdmissionController
from tts_predictor.pipeline.audio_cache import make_cache
from tts_predictor.pipeline.stages import SAMPLING_KNOBS, Batch, ServiceContext, finish, prepare, segment_speed, speak
from tts_predictor.protocol import v2
from tts_predictor.protocol.v2 import SynthesisParameters
from tts_predictor.settings import Settings
from tts_predictor.text import pls
from tts_predictor.text.blocklist import Blocklist
from tts_predictor.text.segments import Segment

FORWARDED_HEADERS = frozenset({"authorization", "x-request-id", "traceparent", "tracestate"})
"""Sent on to the predictor as received, with every `x-b3-*` header. kserve's own rule for a `predict`
override forwards only x-request-id, x-b3-traceid and authorization (kserve/model.py `_FORWARDABLE_HEADERS`);
we add the rest of the B3 and W3C trace context so one trace spans both hops."""

CALLER_HEADERS: ContextVar[dict[str, str]] = ContextVar("tts_caller_headers", default={})
"""The headers of the request being served, for the segment calls it makes to the predictor."""


def forward_headers(headers: Mapping[str, str] | None, service_key: str | None = None) -> dict[str, str]:
    """The caller's headers the predictor should see; `service_key` (explicit option) replaces its Authorization."""
    out = {
        key.lower(): value
        for key, value in (headers or {}).items()
        if key.lower() in FORWARDED_HEADERS or key.lower().startswith("x-b3-")
    }
    if service_key:
        out["authorization"] = f"Bearer {service_key}"
    return out


log = logging.getLogger(__name__)

SEGMENTS_PER_CALL = 16
"""Segments sent to the predictor in one V2 request (below its default TTS_MAX_BATCH_SIZE of 32)."""


def segment_request(model_name: str, segments: list[Segment], params: SynthesisParameters) -> InferRequest:
    """A V2 request with one element per segment: text, voice, language and speed as [N] tensors, PCM back."""
    columns = {
        "text": ("BYTES", np.array([s.text.encode() for s in segments], dtype=np.object_)),
        "voice": ("BYTES", np.array([(s.voice or params.voice or "").encode() for s in segments], dtype=np.object_)),
        "language": (
            "BYTES",
            np.array([(s.language or params.language or "").encode() for s in segments], dtype=np.object_),
        ),
        "speed": ("FP32", np.array([segment_speed(s, params) for s in segments], dtype=np.float32)),
    }
    inputs = []
    for name, (dtype, data) in columns.items():
        tensor = InferInput(name, [len(segments)], dtype)
        tensor.set_data_from_numpy(data, binary_data=False)
        inputs.append(tensor)
    return InferRequest(
        model_name=model_name,
        infer_inputs=inputs,
        # emotion/style are already folded into speed (sent per segment) and pitch/volume (applied here)
        parameters={
            "format": "pcm",
            "ssml": False,
            "normalize": False,
            # floats as strings: kserve's gRPC parameters have no double (infer_type.to_grpc_parameters)
            **{
                k: str(v) if isinstance(v, float) else v
                for k in ("seed", *SAMPLING_KNOBS)
                if (v := getattr(params, k)) is not None
            },
        },
        # kserve's REST client UTF-8-decodes binary BYTES outputs, so PCM comes base64 in JSON over REST
        # and as raw bytes over gRPC.
        request_outputs=[RequestedOutput("audio"), RequestedOutput("sample_rate")],
    )


def pcm_buffers(response: InferResponse) -> list[AudioBuffer]:
    """The predictor's s16le PCM elements as AudioBuffers."""
    outputs = {o.name: o for o in response.outputs}
    rates = [int(r) for r in outputs["sample_rate"].as_numpy().reshape(-1)]
    buffers = []
    for element, rate in zip(outputs["audio"].as_numpy().reshape(-1), rates):
        raw = base64.b64decode(element) if isinstance(element, str) else bytes(element)
        buffers.append(AudioBuffer(np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0, rate))
    return buffers


class RemoteSynthesizer:
    """Segment synthesis on the predictor, through kserve's REST or gRPC client."""

    def __init__(self, model: kserve.Model):
        self.model = model

    async def synthesize(
        self, segments: list[Segment], params: SynthesisParameters, request_id: str
    ) -> list[AudioBuffer]:
        # The caller's Authorization and trace headers (or the configured service key), set by TTSTransformer.predict.
        headers = {**CALLER_HEADERS.get(), "x-request-id": request_id}
        out: list[AudioBuffer] = []
        for start in range(0, len(segments), SEGMENTS_PER_CALL):
            request = segment_request(self.model.name, segments[start : start + SEGMENTS_PER_CALL], params)
            out += pcm_buffers(await self._call(request, headers))
        return out

    def voice_labels(self, segments: list[Segment], params: SynthesisParameters) -> list[str]:
        """The voice asked for (the predictor resolves defaults): SSML span, request, or 'default'."""
        return [s.voice or params.voice or "default" for s in segments]

    async def _send(self, request: InferRequest, headers: dict[str, str]) -> InferResponse:
        """kserve.Model._http_predict / _grpc_predict (kserve/model.py) without their header allowlist, which
        would drop traceparent and all x-b3-* but x-b3-traceid."""
        if self.model.predictor_config.protocol == "grpc-v2":
            metadata = (("request_type", "grpc_v2"), ("response_type", "grpc_v2"), *headers.items())
            return await self.model._grpc_client.infer(infer_request=request, headers=metadata)
        return await self.model._http_client.infer(
            self.model.predictor_config.predictor_base_url,
            model_name=self.model.name,
            data=request,
            headers={"Content-Type": "application/json", **headers},
        )

    async def _call(self, request: InferRequest, headers: dict[str, str]) -> InferResponse:
        try:
            return await self._send(request, headers)
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code in (401, 403):  # the caller's (forwarded) credentials were refused
                raise PredictorRefused(exc.response.status_code, _predictor_message(exc.response)) from None
            if exc.response.status_code < 500:
                raise InvalidInput(_predictor_message(exc.response)) from None
            raise PredictorUnavailable(
                f"predictor answered {exc.response.status_code}: {_predictor_message(exc.response)}"
            ) from None
        except httpx.HTTPError as exc:
            raise PredictorUnavailable(f"predictor unreachable: {type(exc).__name__}") from None
        except Exception as exc:  # grpc.aio.AioRpcError and friends
            code = getattr(exc, "code", lambda: None)()
            if code is not None and code.name == "INVALID_ARGUMENT":
                raise InvalidInput(str(getattr(exc, "details", str)())) from None
            raise PredictorUnavailable(f"predictor call failed: {getattr(code, 'name', type(exc).__name__)}") from None


def _predictor_message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", response.text))[:500]
    except ValueError:
        return response.text[:500]


class TTSTransformer(kserve.Model):
    """User-facing V2 model: SSML, normalization, chunking, DSP and encoding; the predictor only speaks."""

    def __init__(self, settings: Settings):
        super().__init__(settings.model_name)
        self.settings = settings
        self.api_keys = settings.api_key_set()
        # The caller's Authorization goes on to the predictor (kserve's rule for a predict override); a service
        # key replaces it only when configured explicitly (TTS_PREDICTOR_API_KEY).
        key = settings.predictor_api_key
        self.service_key = key.get_secret_value() if key else None
        self.synth = RemoteSynthesizer(self)
        self.output = OutputConfig.from_settings(settings)  # the transformer encodes: beds, tags, credentials here
        self.admission = AdmissionController(settings.max_concurrency, settings.max_queue, settings.request_timeout_s)
        self.ctx = ServiceContext(
            self.synth,
            self.name,
            settings,
            lambda p: p.language or settings.default_language,
            make_cache(settings.cache_max_bytes, settings.redis_url),
            Blocklist.from_file(settings.blocklist_file) if settings.blocklist_file else None,
            api_keys=self.api_keys,
            output=self.output,
        )
        pls.configure(settings.lexicons)  # aliases only: phonemes depend on the predictor's engine
        self.ready = True  # nothing to load; readiness of the predictor is checked by kserve when enabled

    # KServe's transformer shape: preprocess and postprocess here, predict calls the predictor.

    async def preprocess(self, payload: InferRequest | dict[str, Any], headers: dict[str, str] | None = None) -> Batch:
        """V2 request -> validated jobs: parameters, content filter, cache lookup, SSML plan, normalization."""
        if not isinstance(payload, InferRequest):
            raise InvalidInput("this model speaks the V2 protocol: POST /v2/models/<name>/infer")
        if payload.from_grpc:  # REST requests got their budget from the gateway
            budget.start(self.settings)
        return await prepare(payload, headers, self.ctx)

    def validate(self, payload: Any) -> Any:
        """kserve validates what preprocess returns as a V2 request body; a Batch is already validated."""
        return payload if isinstance(payload, Batch) else super().validate(payload)

    async def predict(self, payload: Batch, headers: dict[str, str] | None = None) -> Batch:
        """The predictor speaks the planned segments (SEGMENTS_PER_CALL per V2 call), with the caller's headers."""
        token = CALLER_HEADERS.set(forward_headers(headers, self.service_key))
        try:
            return await self.admission.run(speak(payload))
        finally:
            CALLER_HEADERS.reset(token)

    async def postprocess(self, result: Batch, headers: dict[str, str] | None = None) -> InferResponse:
        """Assemble, DSP (pitch, volume), encode, cache; the V2 response."""
        return await finish(result)

    def get_input_types(self) -> list[dict[str, Any]]:
        """The predictor's V2 inputs: the transformer takes the same requests."""
        return v2.input_types()

    def get_output_types(self) -> list[dict[str, Any]]:
        """The predictor's V2 outputs: the transformer answers the same way."""
        return v2.output_types()
