"""gRPC server bootstrap: health, reflection, and one guard per method: auth, error mapping,
metrics."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import grpc
from eventsourcing.persistence import IntegrityError
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc
from grpc_reflection.v1alpha._async import ReflectionServicer
from pydantic import ValidationError

from lmp_kit.auth import TokenVerifier, current_principal
from lmp_kit.errors import DomainError, UnauthenticatedError
from lmp_kit.logs import current_city, current_traceparent
from lmp_kit.metrics import GRPC_LATENCY, GRPC_REQUESTS

log = logging.getLogger(__name__)

UNAUTHENTICATED_PREFIXES = ("/grpc.health.v1.Health/",)

Behavior = Callable[..., Any]


@dataclass(frozen=True)
class Registration:
    """One servicer: how to add it to a server and its full proto service name."""

    add: Callable[[Any, grpc.aio.Server], None]
    servicer: object
    service_name: str


class CallGuard:
    """What every call goes through, built once per method when the server starts (not per
    call, as grpc's interceptors would): the bearer JWT is verified (but for health) and the
    servicer sees the Principal; domain errors become their status code and a bug is INTERNAL
    with a trace id to look up; each call is counted and timed."""

    def __init__(self, verifier: TokenVerifier) -> None:
        self.verifier = verifier

    def wrap(
        self, handler: grpc.RpcMethodHandler[Any, Any], method: str
    ) -> grpc.RpcMethodHandler[Any, Any]:
        kinds = (
            ("unary_unary", grpc.unary_unary_rpc_method_handler, False),
            ("unary_stream", grpc.unary_stream_rpc_method_handler, True),
            ("stream_unary", grpc.stream_unary_rpc_method_handler, False),
            ("stream_stream", grpc.stream_stream_rpc_method_handler, True),
        )
        for attribute, make, streaming in kinds:
            behavior = getattr(handler, attribute)
            if behavior is not None:
                return make(
                    self._guarded(behavior, streaming=streaming, method=method),
                    request_deserializer=handler.request_deserializer,
                    response_serializer=handler.response_serializer,
                )
        return handler

    def _guarded(self, behavior: Behavior, *, streaming: bool, method: str) -> Behavior:
        authenticate = self._authenticator(method)
        on_error = _error_mapper(method)
        latency = GRPC_LATENCY.labels(method=method)
        requests: dict[str, Any] = {}

        def observe(context: Any, started: float) -> None:  # noqa: ANN401  # grpc context
            code = context.code() or grpc.StatusCode.OK
            name = code.name if isinstance(code, grpc.StatusCode) else str(code)
            counter = requests.get(name)
            if counter is None:
                counter = requests[name] = GRPC_REQUESTS.labels(method=method, code=name)
            counter.inc()
            latency.observe(time.perf_counter() - started)

        if streaming:

            async def stream(request: Any, context: Any) -> AsyncIterator[Any]:  # noqa: ANN401  # any message type
                started = time.perf_counter()
                try:
                    authenticate(context)
                    async for response in behavior(request, context):
                        yield response
                except BaseException as error:  # noqa: BLE001  # the mapper decides and re-raises
                    await on_error(error, context)
                finally:
                    observe(context, started)

            return stream

        async def unary(request: Any, context: Any) -> Any:  # noqa: ANN401  # any message type
            started = time.perf_counter()
            try:
                authenticate(context)
                return await behavior(request, context)
            except BaseException as error:  # noqa: BLE001  # the mapper decides and re-raises
                await on_error(error, context)
            finally:
                observe(context, started)

        return unary

    def _authenticator(self, method: str) -> Callable[[Any], None]:
        public = method.startswith(UNAUTHENTICATED_PREFIXES)
        verify = self.verifier.verify

        def authenticate(context: Any) -> None:  # noqa: ANN401  # grpc context
            metadata = dict(context.invocation_metadata() or ())
            current_traceparent.set(str(metadata.get("traceparent") or new_traceparent()))
            current_city.set("")
            if public:
                return
            header = str(metadata.get("authorization", ""))
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token:
                msg = "missing credentials: send metadata 'authorization: Bearer <JWT>' (lmp token)"
                raise UnauthenticatedError(msg)
            current_principal.set(verify(token.strip()))

        return authenticate


def _error_mapper(method: str) -> Callable[[BaseException, Any], Awaitable[None]]:
    async def on_error(error: BaseException, context: Any) -> None:  # noqa: ANN401  # grpc context
        if isinstance(error, DomainError):
            await context.abort(error.status, error.message)
        if isinstance(error, ValidationError):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, _validation_message(error))
        if isinstance(error, IntegrityError):
            await context.abort(
                grpc.StatusCode.ABORTED,
                "the record changed at the same moment (another command or a reaction); "
                "nothing was recorded: send the command again",
            )
        if not isinstance(error, Exception) or context.code() not in (None, grpc.StatusCode.OK):
            raise error
        log.error("unexpected error in %s", method, exc_info=error)
        trace = current_traceparent.get()
        await context.abort(
            grpc.StatusCode.INTERNAL, f"internal error; quote trace {trace} to the operators"
        )

    return on_error


if TYPE_CHECKING:
    _GenericHandler = grpc.GenericRpcHandler[Any, Any]
else:  # generic only in grpc-stubs
    _GenericHandler = grpc.GenericRpcHandler


class _GuardedHandlers(_GenericHandler):
    """A generic handler (health, reflection, services) whose methods go through the guard;
    each method is wrapped the first time it is called and then taken from a dict."""

    def __init__(self, inner: _GenericHandler, guard: CallGuard) -> None:
        self.inner = inner
        self.guard = guard
        self.wrapped: dict[str, grpc.RpcMethodHandler[Any, Any] | None] = {}

    def service(
        self, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        method = handler_call_details.method
        if method not in self.wrapped:
            handler = self.inner.service(handler_call_details)
            self.wrapped[method] = None if handler is None else self.guard.wrap(handler, method)
        return self.wrapped[method]


class _GuardedServer:
    """Stands in for the server while servicers are added: every handler they add is wrapped
    by the guard once."""

    def __init__(self, server: grpc.aio.Server, guard: CallGuard) -> None:
        self.server = server
        self.guard = guard

    def add_generic_rpc_handlers(self, handlers: Sequence[_GenericHandler]) -> None:
        self.server.add_generic_rpc_handlers([_GuardedHandlers(h, self.guard) for h in handlers])

    def add_registered_method_handlers(
        self, service: str, handlers: dict[str, grpc.RpcMethodHandler[Any, Any]]
    ) -> None:
        # grpc's fast path for known methods (grpcio >= 1.62), not in grpc-stubs yet
        self.server.add_registered_method_handlers(  # type: ignore[attr-defined]
            service,
            {name: self.guard.wrap(h, f"/{service}/{name}") for name, h in handlers.items()},
        )


def new_traceparent() -> str:
    """A W3C traceparent with a fresh random trace and span id (ids, not secrets: no system
    call for them on every request)."""
    return f"00-{random.getrandbits(128):032x}-{random.getrandbits(64):016x}-01"


def _validation_message(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in item['loc']) or 'request'}: {item['msg']}"
        for item in error.errors()
    )


async def start_grpc_server(
    host: str,
    port: int,
    registrations: Sequence[Registration],
    verifier: TokenVerifier,
    *,
    reuse_port: bool = False,
) -> tuple[grpc.aio.Server, HealthServicer]:
    """`reuse_port`: several processes of a service share the port on one host (SO_REUSEPORT:
    the kernel spreads connections over them); otherwise a taken port fails at once."""
    server = grpc.aio.server(options=[("grpc.so_reuseport", int(reuse_port))])
    guarded = cast("grpc.aio.Server", _GuardedServer(server, CallGuard(verifier)))
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, guarded)
    for registration in registrations:
        registration.add(registration.servicer, guarded)
    names = [r.service_name for r in registrations]
    # what reflection.enable_server_reflection does for a grpc.aio.Server, on the guarded one
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(
        ReflectionServicer(
            [
                *names,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ]
        ),
        guarded,
    )
    address = f"{host}:{port}"
    if server.add_insecure_port(address) == 0:
        msg = f"cannot listen on {address}: the port is taken or the host is wrong"
        raise RuntimeError(msg)
    await server.start()
    for name in ["", *names]:
        await health.set(name, health_pb2.HealthCheckResponse.SERVING)
    return server, health


async def stop_grpc_server(server: grpc.aio.Server, health: HealthServicer, grace: float) -> None:
    await health.enter_graceful_shutdown()
    await server.stop(grace)
