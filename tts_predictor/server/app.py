"""Process assembly: parse flags, build the predictor, add our routes to kserve's app, serve."""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tts_predictor.logs import quiet_per_request_logs
from tts_predictor.pipeline.front import Front
from tts_predictor.server.cpus import size_settings
from tts_predictor.server.error_handlers import add_error_handlers, errors_after_kserve
from tts_predictor.server.sockets import bind_servers, tune_rest_sockets
from tts_predictor.server.timeouts import guard_slow_clients
from tts_predictor.settings import Settings, add_settings_arguments, load_settings
from tts_predictor.tracing import setup_tracing

log = logging.getLogger(__name__)


def build_parser(prog: str = "tts-predictor serve") -> argparse.ArgumentParser:
    """kserve's server flags (--http_port, --grpc_port, --workers, ...) plus ours."""
    from kserve.model_server import parser as kserve_parser

    parser = argparse.ArgumentParser(prog=prog, parents=[kserve_parser], description="Serve a TTS model over V2.")
    parser.add_argument(
        "--host", default=None, help="Address to listen on for REST and gRPC (default 0.0.0.0: every interface)."
    )
    add_settings_arguments(parser)
    parser.set_defaults(model_name=None)
    return parser


def refuse_workers(args: argparse.Namespace, role: str) -> None:
    """Stop with a clear message on `--workers N > 1` instead of kserve's pickling crash.

    kserve starts extra workers by pickling the registered models into spawned processes; ours hold locks,
    engines and clients that cannot be pickled. KServe injects `--workers <containerConcurrency>` into custom
    transformers (pkg/apis/serving/v1beta1/transformer_custom.go lines 111-115), so the chart never sets it there.
    """
    if getattr(args, "workers", 1) > 1:
        raise SystemExit(
            f"tts-predictor {role}: --workers {args.workers} is not supported (one worker process per pod); "
            "scale with replicas and TTS_MAX_CONCURRENCY, and leave containerConcurrency unset on a transformer"
        )


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings from env vars, overridden by the flags given on the command line."""
    return load_settings(**{name: getattr(args, name, None) for name in Settings.model_fields})


def add_middleware(app: FastAPI, settings: Settings, admission: Any = None, usage: Any = None) -> None:
    """Gateway (request id, body limit, auth, rate limit, admission of inference before its body is read) and CORS,
    closed unless origins are configured."""
    from tts_predictor.server.gateway import GatewayMiddleware

    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"], allow_headers=["*"])
    app.add_middleware(GatewayMiddleware, settings=settings, admission=admission, usage=usage)


def add_routes(app: FastAPI, predictor: Front, repository: Any = None) -> None:
    """Routes beside kserve's: the voices listing, the repository index, our APIs."""
    from kserve.errors import InvalidInput

    from tts_predictor.api.graph import install_graph_adapter
    from tts_predictor.api.routes import install_api
    from tts_predictor.errors import UnknownVoice

    install_api(app, predictor)

    async def voices(model_name: str) -> dict[str, Any]:
        model = (
            predictor if model_name == predictor.name else (repository.get_model(model_name) if repository else None)
        )
        if model is None:
            raise UnknownVoice(f"model '{model_name}' is not served here; this server serves '{predictor.name}'")
        return model.voices_listing()

    async def repository_index(request: Request) -> list[dict[str, str]]:
        # Triton's index request: POST with an optional {"ready": true} to list only the models ready now.
        body = await request.body() if request.method == "POST" else b""
        try:
            ready_only = bool(json.loads(body).get("ready")) if body.strip() else False
        except (ValueError, AttributeError):
            raise InvalidInput('repository index: the body must be a JSON object such as {"ready": true}') from None
        return repository.index(ready_only=ready_only) if repository else []

    async def server_ready() -> JSONResponse:
        # kserve's own /v2/health/ready is always true; ours means "ready for inference": model loaded and warm.
        ready = bool(predictor.ready)
        states: dict[str, str] = getattr(
            predictor, "model_states", dict
        )()  # loaded / loading / unloaded / failed, by model
        return JSONResponse(
            status_code=200 if ready else 503,
            content={"ready": ready, **({"models": states} if len(states) > 1 else {})},
        )

    app.add_api_route("/v2/models/{model_name}/voices", voices, methods=["GET"], tags=["tts"])
    app.add_api_route("/v2/health/ready", server_ready, methods=["GET"], tags=["tts"])  # registered before kserve's
    app.add_api_route("/v2/repository/index", repository_index, methods=["GET", "POST"], tags=["tts"])
    install_graph_adapter(app, predictor.name)


def assemble(
    app: FastAPI,
    front: Any,
    settings: Settings,
    *,
    repository: Any = None,
    transformer_of: tuple[str | None, str | None] | None = None,
) -> None:
    """The one app assembly of every mode (serve, transformer, Ray): plugins, routes, jobs, error handlers, the
    gateway middleware (request ids, body limit, keys, rate limits) and tracing.

    Args:
        app: kserve's FastAPI app.
        front: The served model (`TTSPredictor`, `RayFront`) or the `TTSTransformer`.
        settings: This process's settings.
        repository: The model repository extension (serve mode), for the voices and index routes.
        transformer_of: In transformer mode, the predictor's REST base URL (None over gRPC) and the service key
            the voice listings are relayed with; the API routes and jobs run on the predictor, not here.
    """
    from tts_predictor.api.graph import install_graph_adapter
    from tts_predictor.plugins.loader import load_plugins

    load_plugins(settings)  # before any route validates a request or the model loads; strict: stops here
    usage = None
    if transformer_of is not None:
        from tts_predictor.api.proxy import install_voice_routes

        install_voice_routes(app, front.name, *transformer_of)
        install_graph_adapter(app, front.name)  # a graph's TTS step lands here when there is a transformer
    else:
        from tts_predictor.api.admin import install_admin
        from tts_predictor.api.jobs import install_jobs
        from tts_predictor.api.routes import UI_DIR
        from tts_predictor.usage import open_usage

        add_routes(app, front, repository)
        if settings.jobs_enabled:
            install_jobs(app, front)
        usage = open_usage(settings)  # usage analytics and feedback (docs/admin.md)
        install_admin(app, usage, UI_DIR)
    add_error_handlers(app)
    add_middleware(app, settings, front.admission, usage)
    setup_tracing(app, settings)
    # kserve's app answers with FastAPI's ORJSONResponse, deprecated in current FastAPI (a warning on the first
    # request); the same orjson rendering without the deprecated class, for kserve's routes added at start.
    app.router.default_response_class = OrjsonResponse


class OrjsonResponse(JSONResponse):
    """JSON rendered by orjson with numpy values, as kserve's ORJSONResponse (kserve/model_server.py `app`)."""

    def render(self, content: Any) -> bytes:
        """`content` as JSON bytes."""
        import orjson

        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)


def _use_encoder_backend(settings: Settings) -> None:
    """Select the audio encoders (TTS_ENCODER_BACKEND); a backend that cannot load stops the start-up."""
    from tts_predictor.audio.codecs.stream import use_backend
    from tts_predictor.errors import EncoderUnavailable

    try:
        use_backend(settings.encoder_backend)
    except EncoderUnavailable as exc:
        raise SystemExit(f"tts-predictor: {exc}") from None


def serve(argv: list[str] | None = None) -> None:
    """Load the model (with warm-up), then serve REST and gRPC until SIGTERM."""
    from kserve.model_server import app

    from tts_predictor.logs import configure_logging
    from tts_predictor.predictor import TTSPredictor
    from tts_predictor.repository import TTSModelRepository

    args = build_parser().parse_args(argv)
    refuse_workers(args, "serve")
    settings = settings_from_args(args)
    configure_logging(settings.log_format, settings.log_level)
    settings = size_settings(settings)  # auto threads/concurrency from the pod's CPUs, not the node's
    _use_encoder_backend(settings)
    predictor = TTSPredictor(settings)
    repository = TTSModelRepository(predictor)
    assemble(app, predictor, settings, repository=repository)
    server = model_server(args, registered_models=repository, is_ready=lambda: bool(predictor.ready), settings=settings)
    # Register before loading, so probes answer during the load: live, not ready until warm-up is done.
    # (kserve's start([model]) would refuse a model that is not ready yet; it also hands the model the
    # latency-logging switch, which we do here.)
    server.register_model(predictor)
    predictor.enable_latency_logging = server.enable_latency_logging
    predictor.load_in_background(then=repository.adopt)
    server.start([])


def model_server(
    args: argparse.Namespace,
    predictor_config: Any = None,
    registered_models: Any = None,
    is_ready: Callable[[], bool] | None = None,
    settings: Settings | None = None,
) -> Any:
    import kserve
    from kserve.errors import ModelNotFound
    from kserve.protocol.dataplane import DataPlane

    from tts_predictor.repository import RepositoryActions, missing_model

    class ReadyDataPlane(DataPlane):
        async def ready(self) -> bool:
            # kserve's DataPlane.ready() is always True (protocol/dataplane.py ready); gRPC ServerReady asks it.
            return (is_ready is None or is_ready()) and await super().ready()

        def get_model_from_registry(self, name: str) -> Any:
            try:
                return super().get_model_from_registry(name)
            except ModelNotFound:  # kserve's says only "does not exist": name what is served
                raise missing_model(self._model_registry, name) from None

        async def get_model(self, name: str) -> Any:
            try:
                return await super().get_model(name)
            except ModelNotFound:
                raise missing_model(self._model_registry, name) from None

        async def model_ready(self, model_name: str, disable_predictor_health_check: bool = False) -> bool:
            try:
                return await super().model_ready(model_name, disable_predictor_health_check)
            except ModelNotFound:
                raise missing_model(self._model_registry, model_name) from None

    keys = settings.api_key_set() if settings is not None else frozenset()

    class ModelServer(kserve.ModelServer):
        """kserve's server; on SIGTERM/SIGINT it unloads every model, which our repository must then allow.

        Its gRPC server is ours (grpc_server.py: API keys on every RPC but health); kserve's own stays off.
        """

        def setup_event_loop(self) -> None:
            # kserve's start() appends its servers, then calls this: the one place to add ours to the same loop.
            if args.enable_grpc:
                from tts_predictor.server.grpc_server import AuthenticatedGRPCServer

                self._grpc_server = AuthenticatedGRPCServer(
                    self.grpc_port,
                    self.dataplane,
                    self.model_repository_extension,
                    kwargs=vars(args),
                    grace_period=self.grace_period,
                    keys=keys,
                    settings=settings,
                )
                self.servers.append(self._grpc_server.start(self.max_threads))  # a coroutine: runs later
            bind_servers(self, getattr(args, "host", None))  # `serve --host`: servers are built, not yet started
            if settings is not None:
                guard_slow_clients(self, settings)  # request head/body read timeouts (slowloris)
            tune_rest_sockets(self)  # TCP_NOTSENT_LOWAT: slow readers noticed early (adaptive bitrate); after the guard
            errors_after_kserve(self)
            super().setup_event_loop()

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            quiet_per_request_logs(settings.log_level if settings is not None else "INFO")  # after kserve's config
            self.dataplane = ReadyDataPlane(model_registry=self.registered_models)
            self.model_repository_extension = RepositoryActions(model_registry=self.registered_models)

        def stop(self, sig: int) -> None:
            if registered_models is not None:
                registered_models.begin_shutdown()
            super().stop(sig)

    return ModelServer(
        http_port=args.http_port,
        grpc_port=args.grpc_port,
        workers=args.workers,
        enable_grpc=False,  # ours is started in setup_event_loop
        enable_docs_url=args.enable_docs_url,
        predictor_config=predictor_config,
        registered_models=registered_models,
    )


def run_transformer(argv: list[str] | None = None) -> None:
    """Serve the transformer in front of `--predictor_host` (V2 over REST, or gRPC with grpc-v2)."""
    from kserve.model_server import app
    from kserve.predictor_config import PredictorConfig

    from tts_predictor.logs import configure_logging
    from tts_predictor.transformer import TTSTransformer

    args = build_parser("tts-predictor transformer").parse_args(argv)
    if not args.predictor_host:
        raise SystemExit("tts-predictor transformer: --predictor_host HOST:PORT is required")
    refuse_workers(args, "transformer")
    settings = settings_from_args(args)
    configure_logging(settings.log_format, settings.log_level)
    protocol = args.predictor_protocol if args.predictor_protocol != "v1" else args.protocol
    config = PredictorConfig(
        predictor_host=args.predictor_host,
        predictor_protocol="v2" if protocol == "v1" else protocol,  # the predictor only speaks V2
        predictor_use_ssl=args.predictor_use_ssl,
        predictor_request_timeout_seconds=args.predictor_request_timeout_seconds,
        predictor_request_retries=args.predictor_request_retries,
        predictor_health_check=args.enable_predictor_health_check,
    )
    transformer = TTSTransformer(settings)
    rest_url = config.predictor_base_url if config.predictor_protocol == "v2" else None
    assemble(app, transformer, settings, transformer_of=(rest_url, transformer.service_key))
    model_server(args, config, settings=settings).start([transformer])
