"""Ray Serve mode: N TTSPredictor replicas behind one kserve ModelServer, in one pod.

kserve's documented pattern (``kserve.ray.RayModel``): the model class becomes a ``@serve.deployment``,
``serve.run`` returns a ``DeploymentHandle``, ``RayModel(name, handle)`` wraps it as a kserve model and
``ModelServer().start([model])`` serves REST/gRPC; every inference is ``handle.remote(...)`` to one replica.

Configured by env (the chart's ``ray.*`` values set them; presence of ``TTS_RAY_NUM_REPLICAS`` = Ray mode):
``TTS_RAY_NUM_REPLICAS`` (int >= 1), ``TTS_RAY_NUM_CPUS`` (CPUs per replica, default 1),
``TTS_RAY_NUM_GPUS`` (GPUs per replica, may be fractional, default 0).

Per replica: ``max_ongoing_requests`` = ``TTS_MAX_CONCURRENCY`` (extra requests queue in the router and go
to whichever replica frees up first); engine threads are capped at ceil(num_cpus). Each response carries
``x-tts-replica: <host>:<pid>`` naming the replica that served it. Needs ``ray[serve]`` (extra ``ray``).

Run directly: ``python -c "from tts_predictor.ray_serving import main; main()" --http_port 8080``.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from typing import Any

from .settings import Settings

log = logging.getLogger(__name__)

REPLICA_HEADER = "x-tts-replica"
ENV_REPLICAS = "TTS_RAY_NUM_REPLICAS"
ENV_CPUS = "TTS_RAY_NUM_CPUS"
ENV_GPUS = "TTS_RAY_NUM_GPUS"


@dataclass(frozen=True)
class RayOptions:
    num_replicas: int
    num_cpus: float
    num_gpus: float


def ray_mode_requested(environ: dict[str, str] | None = None) -> bool:
    """True when TTS_RAY_NUM_REPLICAS is set (the chart sets it only with ray.enabled)."""
    return bool((os.environ if environ is None else environ).get(ENV_REPLICAS, "").strip())


def ray_options_from_env(environ: dict[str, str] | None = None) -> RayOptions:
    """Replicas and per-replica resources from TTS_RAY_NUM_*; a clear SystemExit on bad values."""
    env = os.environ if environ is None else environ
    try:
        options = RayOptions(
            num_replicas=int(env.get(ENV_REPLICAS, "1") or 1),
            num_cpus=float(env.get(ENV_CPUS, "1") or 1),
            num_gpus=float(env.get(ENV_GPUS, "0") or 0),
        )
    except ValueError as exc:
        raise SystemExit(f"tts-predictor: invalid TTS_RAY_NUM_* setting: {exc}") from None
    if options.num_replicas < 1 or options.num_cpus < 0 or options.num_gpus < 0:
        raise SystemExit(f"tts-predictor: TTS_RAY_NUM_* out of range: {options}")
    return options


def _replica_class() -> Any:
    """The TTSPredictor subclass deployed as replicas (built lazily: ray is an optional dependency)."""
    import socket

    from kserve.model import InferenceVerb

    from .predictor import TTSPredictor

    class TTSReplica(TTSPredictor):
        def __init__(self, settings: dict[str, Any]) -> None:
            super().__init__(Settings(**settings))
            self.replica_id = f"{socket.gethostname()}:{os.getpid()}"
            super().load()  # engine + warm-up happen in the replica, before it takes traffic

        def load(self) -> bool:  # RayModel.load() calls this on one replica: already loaded
            return self.ready

        async def __call__(self, body: Any, headers: dict[str, str] | None = None, verb: Any = InferenceVerb.PREDICT) -> Any:
            response, response_headers = await super().__call__(body, headers, verb)
            return response, {**(response_headers or {}), REPLICA_HEADER: self.replica_id}

    return TTSReplica


class _DriverView:
    """What server.add_routes needs from a predictor, in the Ray driver (the engine lives in the replicas).

    V2 inference and the voices listing go to the replicas; the in-process extra APIs (those that call
    ``predictor.synth``) see no local engine and answer "not ready" in Ray mode.
    """

    def __init__(self, settings: Settings, listing: dict[str, Any]) -> None:
        self.name = settings.model_name
        self.settings = settings
        self.ready = True
        self.synth = None
        self.pipeline = None
        self.load_seconds: float | None = None
        self._listing = listing

    def voices_listing(self) -> dict[str, Any]:
        return self._listing


def serve_with_ray(
    settings: Settings,
    num_replicas: int,
    num_cpus: float,
    num_gpus: float,
    http_port: int,
    grpc_port: int,
    **server_options: Any,
) -> None:
    """Start Ray (local, no dashboard), deploy `num_replicas` replicas, serve them with kserve until SIGTERM."""
    import kserve
    import ray
    from kserve.model_server import app
    from kserve.ray import RayModel
    from ray import serve

    from . import server as tts_server

    replica_settings = settings.model_dump()
    if num_cpus > 0:
        replica_settings["threads"] = max(1, min(settings.threads, math.ceil(num_cpus)))
    ray.init(
        num_cpus=max(1, math.ceil(num_replicas * num_cpus)),
        num_gpus=math.ceil(num_replicas * num_gpus) if num_gpus > 0 else None,
        include_dashboard=False,
        object_store_memory=int(os.environ.get("TTS_RAY_OBJECT_STORE_BYTES", 100 * 1024 * 1024)),
        log_to_driver=True,
        logging_level=logging.WARNING,
    )
    try:
        serve.start(proxy_location="Disabled")  # kserve's server is the only HTTP/gRPC front end
        deployment = serve.deployment(
            _replica_class(),
            name=settings.model_name,
            num_replicas=num_replicas,
            max_ongoing_requests=settings.max_concurrency,
            ray_actor_options={"num_cpus": num_cpus, "num_gpus": num_gpus},
        )
        handle = serve.run(deployment.bind(replica_settings), name=settings.model_name, route_prefix=None)
        model = RayModel(name=settings.model_name, handle=handle)
        model.load()
        listing = handle.voices_listing.remote().result()
        log.info("ray serve: %d replicas of %s ready (%s CPU, %s GPU each)", num_replicas, settings.model_name, num_cpus, num_gpus)
        tts_server.add_routes(app, _DriverView(settings, listing))
        tts_server.add_error_handlers(app)
        if hasattr(tts_server, "add_middleware"):  # gateway: request id, body limit, auth, rate limit, CORS
            tts_server.add_middleware(app, settings)
        kserve.ModelServer(http_port=http_port, grpc_port=grpc_port, **server_options).start([model])
    finally:
        # Not serve.shutdown(): it waits on replicas' graceful shutdown; this process started the local
        # Ray cluster, so ray.shutdown() ends the controller, the replicas and Ray's own processes.
        ray.shutdown()


def serve_from_args(settings: Settings, args: Any) -> None:
    """Ray mode for `tts-predictor serve`: replicas from TTS_RAY_NUM_*, ports and flags from the parsed args."""
    options = ray_options_from_env()
    serve_with_ray(
        settings,
        options.num_replicas,
        options.num_cpus,
        options.num_gpus,
        args.http_port,
        args.grpc_port,
        workers=1,  # replicas are Ray's job; kserve's multi-process REST would re-import the app without them
        enable_grpc=args.enable_grpc,
        enable_docs_url=args.enable_docs_url,
    )


def main(argv: list[str] | None = None) -> None:
    """`tts-predictor serve` flags (kserve's + ours), replicas from TTS_RAY_NUM_*; serve with Ray."""
    from .server import build_parser, settings_from_args

    args = build_parser("tts-predictor serve (ray)").parse_args(argv)
    settings = settings_from_args(args)
    logging.getLogger("tts_predictor").setLevel(settings.log_level)
    serve_from_args(settings, args)
