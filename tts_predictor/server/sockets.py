"""`serve --host`: the address kserve's REST (uvicorn) and gRPC servers listen on; the REST sockets' TCP options.

kserve 0.21 hard-codes both: ``uvicorn.Config(host="0.0.0.0")`` in kserve/protocol/rest/server.py (RESTServer
__init__, line 127) and ``listen_addr = f"[::]:{self._port}"`` in kserve/protocol/grpc/server.py (GRPCServer.start,
lines 68-69). `bind_servers` runs after ModelServer.start built both servers and before their coroutines run.
"""

from __future__ import annotations

from typing import Any

ANY_HOST = "0.0.0.0"


def grpc_address(host: str, port: str) -> str:
    """``host:port`` for grpc, with IPv6 literals bracketed."""
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def _bind_grpc(server: Any, host: str) -> Any:
    """Make `server` (grpc.aio) bind `host` instead of the address kserve asks for."""
    add_port = server.add_insecure_port
    server.add_insecure_port = lambda address: add_port(grpc_address(host, address.rsplit(":", 1)[1]))
    return server


def tune_rest_sockets(model_server: Any) -> None:
    """Every connection uvicorn accepts gets `adaptive_bitrate.limit_unsent` (TCP_NOTSENT_LOWAT): uvicorn has no
    socket-option setting, but its ``http`` config takes a protocol class, so the class configured by then (uvicorn's
    own, or `slow_clients`' guarded one: call this after `guard_slow_clients`) is subclassed."""
    from uvicorn.config import HTTP_PROTOCOLS
    from uvicorn.importer import import_from_string

    from tts_predictor.pipeline.bitrate import limit_unsent

    rest = getattr(model_server, "_rest_server", None)
    if rest is None:
        return
    config = rest.config
    base = (
        import_from_string(HTTP_PROTOCOLS.get(config.http, config.http))
        if isinstance(config.http, str)
        else config.http
    )
    if getattr(base, "_unsent_limited", False) or getattr(config, "http2", False):
        return

    class _UnsentLimited(base):  # type: ignore[misc, valid-type]
        _unsent_limited = True

        def connection_made(self, transport: Any) -> None:
            limit_unsent(transport)
            super().connection_made(transport)

    config.http = _UnsentLimited


def bind_servers(model_server: Any, host: str | None) -> None:
    """Point kserve's REST and gRPC servers at `host` (None or 0.0.0.0: kserve's defaults, every interface)."""
    if not host or host == ANY_HOST:
        return
    rest = getattr(model_server, "_rest_server", None)
    if rest is not None:
        rest.config.host = host
    grpc_server = getattr(model_server, "_grpc_server", None)
    if grpc_server is not None:
        # GRPCServer.start assigns self._server = aio.server(...) and then adds the port: wrap it on assignment.
        base = type(grpc_server)

        class _BoundGRPCServer(base):  # type: ignore[misc, valid-type]
            def __setattr__(self, name: str, value: Any) -> None:
                if name == "_server" and value is not None and host is not None:
                    value = _bind_grpc(value, host)
                super().__setattr__(name, value)

        grpc_server.__class__ = _BoundGRPCServer
