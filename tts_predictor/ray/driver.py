"""Ray Serve mode: TTSPredictor replicas on a Ray cluster behind one kserve ModelServer (the driver).

kserve's documented pattern (``kserve.ray.RayModel``): the model class becomes a ``@serve.deployment``,
``serve.run`` returns a ``DeploymentHandle``, ``RayModel(name, handle)`` wraps it as a kserve model and
``ModelServer().start([model])`` serves REST/gRPC; every V2 inference is ``handle.remote(...)`` to one replica.
The other APIs (OpenAI, /synthesize, streaming, WebSocket) plan and encode in the driver, exactly as in-process,
and send the planned segments to a replica (``RaySynthesizer``).

Cluster: with ``RAY_ADDRESS`` set the driver joins that cluster (``ray start --head`` / KubeRay) and removes
its application on exit; otherwise it starts a private local Ray and shuts it down on exit. Replicas and
autoscaling come from ``TTS_RAY_*`` (see ray_replica.py). Needs ``ray[serve]`` (extra ``ray``).

Run: ``TTS_RAY_NUM_REPLICAS=2 python -m tts_predictor serve --http_port 8080``.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.audio.output import OutputConfig
from tts_predictor.errors import PredictorUnavailable
from tts_predictor.pipeline.admission import AdmissionController
from tts_predictor.pipeline.stages import check_capabilities
from tts_predictor.pipeline.voice_choice import resolve_segment
from tts_predictor.protocol.v2 import SynthesisParameters
from tts_predictor.ray.replica import RayOptions, ray_options, replica_class
from tts_predictor.settings import Settings
from tts_predictor.text.segments import Segment

log = logging.getLogger(__name__)

RETRIES = 2
"""Extra tries of a call whose replica died (node lost, replica restarted): synthesis is idempotent."""


async def call_with_retry(make_call: Any, what: str) -> Any:
    """Await ``make_call()``; when its replica dies, ask the router again (it picks a live replica)."""
    from ray.exceptions import RayActorError

    for attempt in range(RETRIES + 1):
        try:
            return await make_call()
        except RayActorError as exc:
            if attempt == RETRIES:
                raise PredictorUnavailable(f"{what}: no live replica answered ({type(exc).__name__})") from None
            log.warning("%s: replica lost (%s); retrying on another replica", what, type(exc).__name__)
            await asyncio.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


class RaySynthesizer:
    """Segment synthesis on the replicas; voices resolve here against the replicas' catalogue."""

    def __init__(self, handle: Any, catalog: Any):
        self.handle = handle
        self.catalog = catalog

    async def synthesize(
        self, segments: list[Segment], params: SynthesisParameters, request_id: str = "-"
    ) -> list[AudioBuffer]:
        for segment in segments:  # 400s (unknown voice, unsupported option) come from here, before any replica is busy
            voice, _language = resolve_segment(self.catalog, segment, params)
            check_capabilities(voice, params)
        _replica, audios = await call_with_retry(
            lambda: self.handle.synthesize_segments.remote(segments, params, request_id), f"request {request_id}"
        )
        return audios

    def voice_labels(self, segments: list[Segment], params: SynthesisParameters) -> list[str]:
        return [resolve_segment(self.catalog, s, params)[0].id for s in segments]


class RayFront:
    """What the routes need from a predictor, in the driver: settings, admission, voices; the engine is remote."""

    def __init__(self, settings: Settings, handle: Any, options: RayOptions):
        self.name = settings.model_name
        self.settings = settings
        self.options = options
        catalog = handle.voice_catalog.remote().result()
        self.synth = RaySynthesizer(handle, catalog)
        self.cloner = None  # cloned voices live in one replica's engine: not offered in Ray mode
        self.cache = None  # replicas keep no shared cache; the driver's routes run without one
        self.api_keys = settings.api_key_set()
        self.output = OutputConfig.from_settings(settings)  # the driver encodes what the replicas synthesize
        self._listing = handle.voices_listing.remote().result()
        capacity = settings.max_concurrency * (options.max_replicas or options.num_replicas)
        self.admission = AdmissionController(capacity, settings.max_queue, settings.request_timeout_s)
        self.load_seconds: float | None = None
        self.ready = True

    def voices_listing(self) -> dict[str, Any]:
        return self._listing

    def status(self) -> dict[str, Any]:
        return {
            "model": self.name,
            "source": self.settings.model,
            "ready": self.ready,
            "load_error": None,
            "load_seconds": None,
            "engine": self._listing.get("engine"),
            "device": "ray",
            "voices": len(self.synth.catalog.voices),
            "models": [self.name],
            "in_flight": self.admission.running,
            "queued": self.admission.queued,
            "ray": {
                "running_replicas": running_replicas(self.name),
                "min_replicas": self.options.min_replicas,
                "max_replicas": self.options.max_replicas,
                "autoscaling": self.options.autoscaling,
            },
        }


def running_replicas(name: str) -> int | None:
    """Replicas of the deployment Ray Serve reports RUNNING (None when the controller does not answer)."""
    from ray import serve

    try:
        deployment = serve.status().applications[name].deployments[name]
    except Exception:  # controller restarting, application gone
        return None
    return int(deployment.replica_states.get("RUNNING", 0))


def retrying_ray_model(name: str, handle: Any) -> Any:
    """kserve's RayModel whose V2 calls are retried on another replica when theirs died."""
    from kserve.model import InferenceVerb
    from kserve.ray import RayModel

    class RetryingRayModel(RayModel):
        async def __call__(
            self, body: Any, headers: dict[str, str] | None = None, verb: Any = InferenceVerb.PREDICT
        ) -> Any:
            rid = (headers or {}).get("x-request-id", "-")
            return await call_with_retry(lambda: self._handle.remote(body, headers=headers), f"request {rid}")

    return RetryingRayModel(name=name, handle=handle)


def connect(settings: Settings, options: RayOptions) -> bool:
    """Join the cluster at RAY_ADDRESS, or start a private local one; True when this process owns the cluster."""
    import ray

    quiet = {"log_to_driver": True, "logging_level": logging.WARNING}
    address = (settings.ray_address or "").strip()
    if address:
        ray.init(address=address, **quiet)
        log.info("ray: joined the cluster at %s (%s)", address, ray.cluster_resources())
        return False
    replicas = options.max_replicas or options.num_replicas
    ray.init(
        num_cpus=max(1, math.ceil(replicas * options.num_cpus)),
        num_gpus=math.ceil(replicas * options.num_gpus) if options.num_gpus > 0 else None,
        include_dashboard=False,
        object_store_memory=settings.ray_object_store_bytes,
        **quiet,
    )
    return True


def deploy(settings: Settings, options: RayOptions) -> Any:
    """Deploy the replicas (Ray Serve's HTTP proxy off: kserve is the front end); the handle once they are up."""
    from ray import serve

    replica_settings = settings.model_dump()
    if options.num_cpus > 0:
        replica_settings["threads"] = max(1, min(settings.threads, math.ceil(options.num_cpus)))
    serve.start(proxy_location="Disabled")
    deployment = serve.deployment(
        replica_class(), name=settings.model_name, **options.deployment_options(settings.max_concurrency)
    )
    return serve.run(deployment.bind(replica_settings), name=settings.model_name, route_prefix=None)


def serve_with_ray(settings: Settings, options: RayOptions, args: Any) -> None:
    """Deploy the replicas, serve the whole API from this process until SIGTERM, then clean up.

    The app is assembled as in serve mode (`server.app.assemble`: routes, jobs, tracing, the gateway) and served by
    the same kserve server (`server.app.model_server`: the authenticated gRPC server, the slow-client guard, --host).
    """
    import ray
    from kserve.model_server import app
    from ray import serve

    from tts_predictor.server import app as assembly

    owns_cluster = connect(settings, options)
    try:
        handle = deploy(settings, options)
        model = retrying_ray_model(settings.model_name, handle)
        model.load()
        front = RayFront(settings, handle, options)
        log.info("ray serve: %s ready (%s)", settings.model_name, options)
        assembly.assemble(app, front, settings)
        args.workers = 1  # replicas are Ray's job; kserve's multi-process REST would re-import the app without them
        assembly.model_server(args, is_ready=lambda: bool(front.ready), settings=settings).start([model])
    finally:
        if not owns_cluster:  # a shared cluster outlives us; our replicas should not
            try:
                serve.delete(settings.model_name)
            except Exception as exc:  # the cluster may be gone already
                log.warning("ray: could not delete application %s: %s", settings.model_name, exc)
        # Not serve.shutdown() on our own cluster: it waits on replicas' graceful shutdown; ray.shutdown()
        # ends the controller, the replicas and Ray's own processes.
        ray.shutdown()


def main(argv: list[str] | None = None) -> None:
    """`tts-predictor serve` in Ray mode: kserve's flags and ours; replicas from TTS_RAY_*."""
    from tts_predictor.logs import configure_logging
    from tts_predictor.server.app import build_parser, settings_from_args

    args = build_parser("tts-predictor serve (ray)").parse_args(argv)
    settings = settings_from_args(args)
    configure_logging(settings.log_format, settings.log_level)
    serve_with_ray(settings, ray_options(settings), args)
