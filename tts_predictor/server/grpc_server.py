"""kserve's gRPC server with an API-key check on every RPC but the health checks (admin keys for repository
load/unload, failed attempts limited), and repository load/unload answering OK (kserve 0.21's servicer reads a reply dict its repository extension never returns: INTERNAL)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc
from grpc import aio
from grpc_interceptor import AsyncServerInterceptor
from grpc_interceptor import exceptions as grpc_errors
from kserve.errors import InvalidInput
from kserve.protocol.grpc import grpc_predict_v2_pb2_grpc
from kserve.protocol.grpc.interceptors import ExceptionToStatusInterceptor, LoggingInterceptor
from kserve.protocol.grpc.server import GRPCServer
from kserve.protocol.grpc.servicer import InferenceServicer
from kserve.protocol.model_repository_extension import ModelRepositoryExtension

from tts_predictor.auth import Network, client_address, is_admin, key_from, key_valid, parse_networks
from tts_predictor.errors import ModelLoadError, UnknownModel
from tts_predictor.server.rate_limits import FailureLimiter
from tts_predictor.settings import Settings

OPEN_METHODS = frozenset({"ServerLive", "ServerReady"})
"""RPCs served without a key, like the REST probes (grpc.health.v1 is not served by kserve)."""

ADMIN_METHODS = frozenset({"RepositoryModelLoad", "RepositoryModelUnload"})
"""RPCs that change the models every tenant is served: admin keys only (TTS_ADMIN_API_KEYS), as over REST."""


def _api_key(metadata: Any) -> str | None:
    meta = {str(k).lower(): v for k, v in (metadata or ())}
    return key_from(meta.get("authorization"), meta.get("x-api-key"))


def peer_address(peer: str | None) -> str | None:
    """The address in a gRPC peer string (`ipv4:10.0.0.1:5000`, `ipv6:[::1]:5000`, `unix:/path`)."""
    if not peer:
        return None
    kind, _, rest = peer.partition(":")
    if kind not in ("ipv4", "ipv6"):
        return peer
    host = rest.rsplit(":", 1)[0] if rest.count(":") == 1 or rest.startswith("[") else rest
    return host.strip("[]")


class ApiKeyInterceptor(AsyncServerInterceptor):
    """UNAUTHENTICATED for every RPC but `OPEN_METHODS` unless the metadata carries a configured key;
    PERMISSION_DENIED for `ADMIN_METHODS` without an admin key; RESOURCE_EXHAUSTED once an address or a wrong key
    failed too often (TTS_AUTH_FAILURES_PER_MINUTE, as over REST: a valid key is never refused for it)."""

    def __init__(
        self,
        keys: frozenset[str],
        admin_keys: frozenset[str] = frozenset(),
        failures_per_minute: int = 0,
        proxies: tuple[Network, ...] = (),
    ):
        self.keys, self.admin_keys, self.proxies = keys, admin_keys, proxies
        self.failures = FailureLimiter(failures_per_minute) if failures_per_minute else None

    async def intercept(
        self, method: Callable, request_or_iterator: Any, context: aio.ServicerContext, method_name: str
    ) -> Any:
        rpc = method_name.rsplit("/", 1)[-1]
        if self.keys and rpc not in OPEN_METHODS:
            metadata = context.invocation_metadata()
            key = _api_key(metadata)
            if not key_valid(key, self.keys):
                await self._refuse(context, metadata, key)
            if rpc in ADMIN_METHODS and not is_admin(key, self.admin_keys):
                await context.abort(
                    grpc.StatusCode.PERMISSION_DENIED,
                    "loading and unloading models needs an admin API key (TTS_ADMIN_API_KEYS)",
                )
        return await super().intercept(method, request_or_iterator, context, method_name)

    async def _refuse(self, context: aio.ServicerContext, metadata: Any, key: str | None) -> None:
        if self.failures is not None:
            hops = ", ".join(str(v) for k, v in (metadata or ()) if str(k).lower() == "x-forwarded-for") or None
            address = client_address(peer_address(context.peer()), hops, self.proxies)
            blocked = self.failures.blocked(address, key)
            if blocked:
                await context.abort(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    "too many failed authentications from this address or with this key "
                    f"(TTS_AUTH_FAILURES_PER_MINUTE); retry in {max(1, round(blocked))} s",
                )
            self.failures.failed(address, key)
        await context.abort(
            grpc.StatusCode.UNAUTHENTICATED,
            "missing or invalid API key: send gRPC metadata 'authorization: Bearer <key>' or 'x-api-key: <key>'",
        )


class RepositoryReplies(ModelRepositoryExtension):
    """kserve's repository extension, returning the reply its gRPC servicer reads (`name`, `load` / `unload`).

    Load failures become NOT_FOUND / FAILED_PRECONDITION with our message: kserve wraps them in ModelNotReady,
    whose missing `reason` its interceptor trips over (AttributeError: UNKNOWN).
    """

    def __init__(self, inner: ModelRepositoryExtension):
        super().__init__(inner._model_registry)

    async def load(self, model_name: str) -> dict[str, Any]:  # type: ignore[override]
        try:
            await self._model_registry.load(model_name)
        except UnknownModel as exc:
            raise grpc_errors.NotFound(str(exc)) from None
        except ModelLoadError as exc:
            raise grpc_errors.FailedPrecondition(str(exc)) from None
        return {"name": model_name, "load": True}

    async def unload(self, model_name: str) -> dict[str, Any]:  # type: ignore[override]
        try:
            await super().unload(model_name)
        except InvalidInput as exc:
            raise grpc_errors.FailedPrecondition(str(exc)) from None
        return {"name": model_name, "unload": True}


class AuthenticatedGRPCServer(GRPCServer):
    """kserve's GRPCServer (kserve 0.21 protocol/grpc/server.py, `start`, lines 46-73) with our interceptor first."""

    def __init__(self, *args: Any, keys: frozenset[str], settings: Settings | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.keys = keys
        self.settings = settings

    def _auth(self) -> ApiKeyInterceptor:
        if self.settings is None:
            return ApiKeyInterceptor(self.keys)
        return ApiKeyInterceptor(
            self.keys,
            self.settings.admin_key_set(),
            self.settings.auth_failures_per_minute,
            parse_networks(self.settings.trusted_proxies),
        )

    async def start(self, max_workers: int) -> None:
        servicer = InferenceServicer(self._data_plane, RepositoryReplies(self._model_repository_extension))
        self._server = aio.server(
            futures.ThreadPoolExecutor(max_workers=max_workers),
            interceptors=(self._auth(), LoggingInterceptor(), ExceptionToStatusInterceptor()),
            options=[
                ("grpc.max_send_message_length", self._kwargs.get("grpc_max_send_message_length")),
                ("grpc.max_receive_message_length", self._kwargs.get("grpc_max_receive_message_length")),
            ],
        )
        grpc_predict_v2_pb2_grpc.add_GRPCInferenceServiceServicer_to_server(servicer, self._server)
        self._server.add_insecure_port(f"[::]:{self._port}")
        await self._server.start()
        await self._server.wait_for_termination()
