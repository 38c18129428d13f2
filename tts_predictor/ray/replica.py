"""Ray Serve replicas: options from the TTS_RAY_* settings and the TTSPredictor subclass each replica runs.

The chart's ``ray.*`` values set the env vars; presence of ``TTS_RAY_NUM_REPLICAS`` or ``TTS_RAY_MAX_REPLICAS``
means Ray mode. A fixed replica count, or Ray Serve autoscaling when ``TTS_RAY_MAX_REPLICAS`` exceeds
``TTS_RAY_MIN_REPLICAS`` (``autoscaling_config`` with ``target_ongoing_requests`` per replica).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from tts_predictor.settings import Settings, SettingsError

REPLICA_HEADER = "x-tts-replica"
"""Response header naming the replica (``host:pid@node``) that synthesized the request."""


@dataclass(frozen=True)
class RayOptions:
    """Replica count (fixed or autoscaled) and per-replica resources."""

    num_replicas: int
    """Fixed replica count; the initial count when autoscaling."""
    num_cpus: float
    """CPUs Ray reserves per replica (fractional is fine); engine threads are capped at ceil(num_cpus)."""
    num_gpus: float
    """GPUs per replica (fractional shares one GPU)."""
    min_replicas: int | None = None
    """Autoscaling floor (default: num_replicas)."""
    max_replicas: int | None = None
    """Autoscaling ceiling; autoscaling is on when it exceeds the floor."""
    target_ongoing_requests: float | None = None
    """Ongoing requests per replica Ray Serve aims for (default: TTS_MAX_CONCURRENCY)."""
    upscale_delay_s: float = 3.0
    """How long demand must stay above target before replicas are added."""
    downscale_delay_s: float = 60.0
    """How long demand must stay below target before replicas are removed."""

    @property
    def autoscaling(self) -> bool:
        return self.max_replicas is not None and self.max_replicas > (self.min_replicas or self.num_replicas)

    def deployment_options(self, max_concurrency: int) -> dict[str, Any]:
        """Keyword arguments of ``serve.deployment`` for these options."""
        options: dict[str, Any] = {
            "max_ongoing_requests": max_concurrency,
            "ray_actor_options": {"num_cpus": self.num_cpus, "num_gpus": self.num_gpus},
        }
        if not self.autoscaling:
            return {**options, "num_replicas": self.num_replicas}
        floor = self.min_replicas if self.min_replicas is not None else self.num_replicas
        return {
            **options,
            "autoscaling_config": {
                "min_replicas": floor,
                "initial_replicas": max(floor, min(self.num_replicas, self.max_replicas or floor)),
                "max_replicas": self.max_replicas,
                "target_ongoing_requests": self.target_ongoing_requests or max_concurrency,
                "upscale_delay_s": self.upscale_delay_s,
                "downscale_delay_s": self.downscale_delay_s,
            },
        }


def ray_options(settings: Settings) -> RayOptions:
    """RayOptions from the settings' Ray section; SettingsError naming the variables on a bad combination."""
    minimum, fixed = settings.ray_min_replicas, settings.ray_num_replicas
    options = RayOptions(
        num_replicas=fixed if fixed is not None else max(minimum or 1, 1),
        num_cpus=settings.ray_num_cpus,
        num_gpus=settings.ray_num_gpus,
        min_replicas=minimum,
        max_replicas=settings.ray_max_replicas,
        target_ongoing_requests=settings.ray_target_ongoing_requests,
        upscale_delay_s=settings.ray_upscale_delay_s,
        downscale_delay_s=settings.ray_downscale_delay_s,
    )
    floor = options.min_replicas if options.min_replicas is not None else options.num_replicas
    if options.max_replicas is not None and options.max_replicas < max(floor, 1):
        raise SettingsError(
            f"tts-predictor: TTS_RAY_MAX_REPLICAS={options.max_replicas} is below the floor {floor} "
            "(TTS_RAY_MIN_REPLICAS, else TTS_RAY_NUM_REPLICAS)"
        )
    return options


def replica_class() -> Any:
    """The TTSPredictor subclass deployed as replicas (built lazily: ray is an optional dependency)."""
    import socket

    from kserve.model import InferenceVerb

    from tts_predictor.predictor import TTSPredictor

    class TTSReplica(TTSPredictor):
        """One engine in one Ray worker: whole V2 requests, or planned segments from the driver's APIs."""

        def __init__(self, settings: dict[str, Any]) -> None:
            super().__init__(Settings(**settings))
            import ray

            # host:pid@node: several Ray nodes may share one host (and a pod name is the host on Kubernetes)
            node = ray.get_runtime_context().get_node_id()[:8]
            self.replica_id = f"{socket.gethostname()}:{os.getpid()}@{node}"
            super().load()  # engine + warm-up happen in the replica, before it takes traffic

        def load(self) -> bool:  # RayModel.load() calls this on one replica: already loaded
            return self.ready

        async def __call__(
            self, body: Any, headers: dict[str, str] | None = None, verb: Any = InferenceVerb.PREDICT
        ) -> Any:
            response, response_headers = await super().__call__(body, headers, verb)
            return response, {**(response_headers or {}), REPLICA_HEADER: self.replica_id}

        async def synthesize_segments(self, segments: list[Any], params: Any, request_id: str) -> tuple[str, list[Any]]:
            """Segments planned by the driver (OpenAI, REST, streaming APIs) -> (replica id, AudioBuffers)."""
            assert self.synth is not None  # loaded in __init__
            return self.replica_id, await self.synth.synthesize(segments, params, request_id)

        def voice_catalog(self) -> Any:
            """The replica's VoiceCatalog, so the driver resolves voices and plans like a local server."""
            assert self.synth is not None
            return self.synth.catalog

    return TTSReplica
