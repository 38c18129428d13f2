"""Process assembly: parse flags, build the predictor, add our routes to kserve's app, serve."""

from __future__ import annotations

import argparse
import logging
import struct
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from .settings import Settings, add_settings_arguments, load_settings

log = logging.getLogger(__name__)


def build_parser(prog: str = "tts-predictor serve") -> argparse.ArgumentParser:
    """kserve's server flags (--http_port, --grpc_port, --workers, ...) plus ours."""
    from kserve.model_server import parser as kserve_parser

    parser = argparse.ArgumentParser(prog=prog, parents=[kserve_parser], description="Serve a TTS model over V2.")
    add_settings_arguments(parser)
    parser.set_defaults(model_name=None)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings from env vars, overridden by the flags given on the command line."""
    return load_settings(**{name: getattr(args, name, None) for name in Settings.model_fields})


async def _bad_request_body(_request: Any, exc: RequestValidationError) -> JSONResponse:
    # FastAPI answers malformed bodies with 422; V2 clients expect 400 with {"error": ...}.
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body" and not isinstance(p, int))
    message = f"invalid request body{' at ' + where if where else ''}: {first.get('msg', 'malformed')}"
    return JSONResponse(status_code=400, content={"error": message})


async def _bad_binary_tensor(_request: Any, _exc: Exception) -> JSONResponse:
    # kserve unpacks binary-extension tensors before any model code runs; a bad length prefix raises struct.error.
    return JSONResponse(status_code=400, content={"error": "malformed binary tensor data: element lengths do not match binary_data_size"})


async def _predictor_unavailable(_request: Any, exc: Exception) -> JSONResponse:
    return JSONResponse(status_code=503, content={"error": str(exc)}, headers={"Retry-After": "5"})


def add_error_handlers(app: FastAPI) -> None:
    """400 instead of FastAPI's 422 or kserve's 500 for malformed bodies; 503 when the predictor is away."""
    from .errors import PredictorUnavailable

    app.add_exception_handler(RequestValidationError, _bad_request_body)  # type: ignore[arg-type]
    app.add_exception_handler(struct.error, _bad_binary_tensor)
    app.add_exception_handler(PredictorUnavailable, _predictor_unavailable)


def add_routes(app: FastAPI, predictor: Any) -> None:
    """Routes beside kserve's: the voices listing."""
    from .errors import UnknownVoice

    async def voices(model_name: str) -> dict[str, Any]:
        if model_name != predictor.name:
            raise UnknownVoice(f"model '{model_name}' is not served here; this server serves '{predictor.name}'")
        return predictor.voices_listing()

    app.add_api_route("/v2/models/{model_name}/voices", voices, methods=["GET"], tags=["tts"])


def serve(argv: list[str] | None = None) -> None:
    """Load the model (with warm-up), then serve REST and gRPC until SIGTERM."""
    from kserve.model_server import app

    from .errors import ModelLoadError
    from .predictor import TTSPredictor

    args = build_parser().parse_args(argv)
    settings = settings_from_args(args)
    logging.getLogger("tts_predictor").setLevel(settings.log_level)
    predictor = TTSPredictor(settings)
    try:
        predictor.load()
    except ModelLoadError as exc:
        raise SystemExit(f"tts-predictor: cannot load model '{settings.model}': {exc}") from None
    add_routes(app, predictor)
    add_error_handlers(app)
    _model_server(args).start([predictor])


def _model_server(args: argparse.Namespace, predictor_config: Any = None) -> Any:
    import kserve

    return kserve.ModelServer(
        http_port=args.http_port,
        grpc_port=args.grpc_port,
        workers=args.workers,
        enable_grpc=args.enable_grpc,
        enable_docs_url=args.enable_docs_url,
        predictor_config=predictor_config,
    )


def run_transformer(argv: list[str] | None = None) -> None:
    """Serve the transformer in front of `--predictor_host` (V2 over REST, or gRPC with grpc-v2)."""
    from kserve.model_server import app
    from kserve.predictor_config import PredictorConfig

    from .transformer import TTSTransformer

    args = build_parser("tts-predictor transformer").parse_args(argv)
    if not args.predictor_host:
        raise SystemExit("tts-predictor transformer: --predictor_host HOST:PORT is required")
    settings = settings_from_args(args)
    logging.getLogger("tts_predictor").setLevel(settings.log_level)
    protocol = args.predictor_protocol if args.predictor_protocol != "v1" else args.protocol
    config = PredictorConfig(
        predictor_host=args.predictor_host,
        predictor_protocol="v2" if protocol == "v1" else protocol,  # the predictor only speaks V2
        predictor_use_ssl=args.predictor_use_ssl,
        predictor_request_timeout_seconds=args.predictor_request_timeout_seconds,
        predictor_request_retries=args.predictor_request_retries,
        predictor_health_check=args.enable_predictor_health_check,
    )
    add_error_handlers(app)
    _model_server(args, config).start([TTSTransformer(settings)])
