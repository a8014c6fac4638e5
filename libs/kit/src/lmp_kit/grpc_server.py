"""gRPC server bootstrap: health, reflection, one auth interceptor, metrics, error mapping."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc
from eventsourcing.persistence import IntegrityError
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection
from pydantic import ValidationError

from lmp_kit.auth import TokenVerifier, current_principal
from lmp_kit.errors import DomainError, UnauthenticatedError
from lmp_kit.logs import current_city, current_traceparent
from lmp_kit.metrics import GRPC_LATENCY, GRPC_REQUESTS

log = logging.getLogger(__name__)

UNAUTHENTICATED_PREFIXES = ("/grpc.health.v1.Health/",)

Behavior = Callable[..., Any]
Wrapper = Callable[[Behavior, bool, str], Behavior]


@dataclass(frozen=True)
class Registration:
    """One servicer: how to add it to a server and its full proto service name."""

    add: Callable[[Any, grpc.aio.Server], None]
    servicer: object
    service_name: str


def _rewrap(
    handler: grpc.RpcMethodHandler[Any, Any], method: str, wrapper: Wrapper
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
                wrapper(behavior, streaming, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
    return handler


if TYPE_CHECKING:
    _ServerInterceptor = grpc.aio.ServerInterceptor[Any, Any]
else:  # generic only in grpc-stubs
    _ServerInterceptor = grpc.aio.ServerInterceptor


class _WrappingInterceptor(_ServerInterceptor):
    def wrap(self, behavior: Behavior, streaming: bool, method: str) -> Behavior:  # noqa: FBT001  # mirrors grpc's handler kinds
        raise NotImplementedError

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        return _rewrap(handler, handler_call_details.method, self.wrap)


def _around(
    behavior: Behavior,
    streaming: bool,  # noqa: FBT001  # mirrors grpc's handler kinds
    before: Callable[[Any], Awaitable[None]],
    on_error: Callable[[BaseException, Any], Awaitable[None]],
    after: Callable[[Any], None] = lambda _context: None,
) -> Behavior:
    if streaming:

        async def stream(request: Any, context: Any) -> AsyncIterator[Any]:  # noqa: ANN401  # any message type
            try:
                await before(context)
                async for response in behavior(request, context):
                    yield response
            except BaseException as error:  # noqa: BLE001  # the hook decides and re-raises
                await on_error(error, context)
            finally:
                after(context)

        return stream

    async def unary(request: Any, context: Any) -> Any:  # noqa: ANN401  # any message type
        try:
            await before(context)
            return await behavior(request, context)
        except BaseException as error:  # noqa: BLE001  # the hook decides and re-raises
            await on_error(error, context)
        finally:
            after(context)

    return unary


async def _nothing(_context: Any) -> None:  # noqa: ANN401  # grpc context
    return None


async def _reraise(error: BaseException, _context: Any) -> None:  # noqa: ANN401  # grpc context
    raise error


class MetricsInterceptor(_WrappingInterceptor):
    def wrap(self, behavior: Behavior, streaming: bool, method: str) -> Behavior:  # noqa: FBT001  # mirrors grpc's handler kinds
        started: dict[int, float] = {}

        async def before(context: Any) -> None:  # noqa: ANN401  # grpc context
            started[id(context)] = time.perf_counter()

        def after(context: Any) -> None:  # noqa: ANN401  # grpc context
            elapsed = time.perf_counter() - started.pop(id(context), time.perf_counter())
            code = context.code() or grpc.StatusCode.OK
            name = code.name if isinstance(code, grpc.StatusCode) else str(code)
            GRPC_REQUESTS.labels(method=method, code=name).inc()
            GRPC_LATENCY.labels(method=method).observe(elapsed)

        return _around(behavior, streaming, before, _reraise, after)


class ErrorInterceptor(_WrappingInterceptor):
    """Domain errors become their status code; a bug is INTERNAL with a trace id to look up."""

    def wrap(self, behavior: Behavior, streaming: bool, method: str) -> Behavior:  # noqa: FBT001  # mirrors grpc's handler kinds
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

        return _around(behavior, streaming, _nothing, on_error)


class AuthInterceptor(_WrappingInterceptor):
    """Verifies the bearer JWT of every call but health; the servicer sees the Principal."""

    def __init__(self, verifier: TokenVerifier) -> None:
        self.verifier = verifier

    def wrap(self, behavior: Behavior, streaming: bool, method: str) -> Behavior:  # noqa: FBT001  # mirrors grpc's handler kinds
        public = method.startswith(UNAUTHENTICATED_PREFIXES)

        async def before(context: Any) -> None:  # noqa: ANN401  # grpc context
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
            current_principal.set(self.verifier.verify(token.strip()))

        return _around(behavior, streaming, before, _reraise)


def new_traceparent() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def _validation_message(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in item['loc']) or 'request'}: {item['msg']}"
        for item in error.errors()
    )


async def start_grpc_server(
    host: str, port: int, registrations: Sequence[Registration], verifier: TokenVerifier
) -> tuple[grpc.aio.Server, HealthServicer]:
    server = grpc.aio.server(
        interceptors=[MetricsInterceptor(), ErrorInterceptor(), AuthInterceptor(verifier)],
        options=[("grpc.so_reuseport", 0)],
    )
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    for registration in registrations:
        registration.add(registration.servicer, server)
    names = [r.service_name for r in registrations]
    reflection.enable_server_reflection(
        [
            *names,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ],
        server,
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
