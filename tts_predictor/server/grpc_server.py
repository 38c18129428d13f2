"""kserve's gRPC server with an API-key check on every RPC but the health checks, and repository load/unload
answering OK (kserve 0.21's servicer reads a reply dict its repository extension never returns: INTERNAL)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc
from grpc import aio
from grpc_interceptor import AsyncServerInterceptor
from kserve.protocol.grpc import grpc_predict_v2_pb2_grpc
from kserve.protocol.grpc.interceptors import ExceptionToStatusInterceptor, LoggingInterceptor
from kserve.protocol.grpc.server import GRPCServer
from kserve.protocol.grpc.servicer import InferenceServicer
from kserve.protocol.model_repository_extension import ModelRepositoryExtension

OPEN_METHODS = frozenset({"ServerLive", "ServerReady"})
"""RPCs served without a key, like the REST probes (grpc.health.v1 is not served by kserve)."""


def _api_key(metadata: Any) -> str | None:
    from tts_predictor.auth import key_from

    meta = {str(k).lower(): v for k, v in (metadata or ())}
    return key_from(meta.get("authorization"), meta.get("x-api-key"))


class ApiKeyInterceptor(AsyncServerInterceptor):
    """UNAUTHENTICATED for every RPC but `OPEN_METHODS` unless the metadata carries a configured key."""

    def __init__(self, keys: frozenset[str]):
        self.keys = keys

    async def intercept(
        self, method: Callable, request_or_iterator: Any, context: aio.ServicerContext, method_name: str
    ) -> Any:
        from tts_predictor.auth import key_valid

        if self.keys and method_name.rsplit("/", 1)[-1] not in OPEN_METHODS:
            if not key_valid(_api_key(context.invocation_metadata()), self.keys):
                await context.abort(
                    grpc.StatusCode.UNAUTHENTICATED,
                    "missing or invalid API key: send gRPC metadata 'authorization: Bearer <key>' or 'x-api-key: <key>'",
                )
        return await super().intercept(method, request_or_iterator, context, method_name)


class RepositoryReplies(ModelRepositoryExtension):
    """kserve's repository extension, returning the reply its gRPC servicer reads (`name`, `load` / `unload`)."""

    def __init__(self, inner: ModelRepositoryExtension):
        super().__init__(inner._model_registry)

    async def load(self, model_name: str) -> dict[str, Any]:  # type: ignore[override]
        await super().load(model_name)
        return {"name": model_name, "load": True}

    async def unload(self, model_name: str) -> dict[str, Any]:  # type: ignore[override]
        await super().unload(model_name)
        return {"name": model_name, "unload": True}


class AuthenticatedGRPCServer(GRPCServer):
    """kserve's GRPCServer (kserve 0.21 protocol/grpc/server.py, `start`, lines 46-73) with our interceptor first."""

    def __init__(self, *args: Any, keys: frozenset[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.keys = keys

    async def start(self, max_workers: int) -> None:
        servicer = InferenceServicer(self._data_plane, RepositoryReplies(self._model_repository_extension))
        self._server = aio.server(
            futures.ThreadPoolExecutor(max_workers=max_workers),
            interceptors=(ApiKeyInterceptor(self.keys), LoggingInterceptor(), ExceptionToStatusInterceptor()),
            options=[
                ("grpc.max_send_message_length", self._kwargs.get("grpc_max_send_message_length")),
                ("grpc.max_receive_message_length", self._kwargs.get("grpc_max_receive_message_length")),
            ],
        )
        grpc_predict_v2_pb2_grpc.add_GRPCInferenceServiceServicer_to_server(servicer, self._server)
        self._server.add_insecure_port(f"[::]:{self._port}")
        await self._server.start()
        await self._server.wait_for_termination()
