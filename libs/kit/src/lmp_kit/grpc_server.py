"""gRPC server bootstrap: health, reflection, and one guard per method: auth, request checks,
error mapping, stream limits, metrics."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import grpc
import pymongo
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc
from grpc_reflection.v1alpha._async import ReflectionServicer
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure, PyMongoError

from lmp_kit.access import AccessPolicy
from lmp_kit.auth import TokenVerifier, current_principal, principal
from lmp_kit.consistency import HEADER, Consistency, ConsistencyToken, recording, token_of
from lmp_kit.errors import DomainError, InvalidArgumentError, NotYetError, UnauthenticatedError
from lmp_kit.logs import current_city, current_traceparent
from lmp_kit.metrics import (
    GRPC_LATENCY,
    GRPC_REQUESTS,
    GRPC_STREAMS_OPEN,
    GRPC_STREAMS_REFUSED,
)
from lmp_kit.requests import check_request
from lmp_kit.settings import GrpcLimits

log = logging.getLogger(__name__)

UNAUTHENTICATED_PREFIXES = ("/grpc.health.v1.Health/",)
# The gRPC retry policy's server pushback (gRFC A6): how long a client should wait before
# sending again a call that met a dependency away.
# A read model behind its command catches up within a second or two.
NOT_YET_PUSHBACK_MS = 500
RETRY_PUSHBACK_MS = 2_000
# A deadline further away than this is no deadline for the read model's database.
NO_DEADLINE_S = 3_600.0

Behavior = Callable[..., Any]


@dataclass(frozen=True)
class Registration:
    """One servicer: how to add it to a server, its full proto service name and its access
    table (lmp_kit.access), which the guard enforces before any of its handlers."""

    add: Callable[[Any, grpc.aio.Server], None]
    servicer: object
    service_name: str
    access: AccessPolicy


class CallGuard:
    """What every call goes through, built once per method when the server starts (not per
    call, as grpc's interceptors would): the bearer JWT is verified (but for health) and the
    servicer sees the Principal; domain errors become their status code and a bug is INTERNAL
    with a trace id to look up; each call is counted and timed."""

    def __init__(
        self,
        verifier: TokenVerifier,
        limits: GrpcLimits | None = None,
        policies: Sequence[AccessPolicy] = (),
        consistency: Consistency | None = None,
    ) -> None:
        self.verifier = verifier
        self.streams = StreamLimiter(limits or GrpcLimits())
        self.policies = {p.service_name: p for p in policies}
        self.consistency = consistency or Consistency("")

    def wrap(
        self, handler: grpc.RpcMethodHandler[Any, Any], method: str
    ) -> grpc.RpcMethodHandler[Any, Any]:
        kinds = (
            ("unary_unary", grpc.unary_unary_rpc_method_handler, False, False),
            ("unary_stream", grpc.unary_stream_rpc_method_handler, False, True),
            ("stream_unary", grpc.stream_unary_rpc_method_handler, True, False),
            ("stream_stream", grpc.stream_stream_rpc_method_handler, True, True),
        )
        for attribute, make, client_streaming, streaming in kinds:
            behavior = getattr(handler, attribute)
            if behavior is not None:
                return make(
                    self._guarded(
                        behavior,
                        client_streaming=client_streaming,
                        streaming=streaming,
                        method=method,
                    ),
                    request_deserializer=tolerant(handler.request_deserializer),
                    response_serializer=handler.response_serializer,
                )
        return handler

    def _guarded(
        self, behavior: Behavior, *, client_streaming: bool, streaming: bool, method: str
    ) -> Behavior:
        enter = self._entrance(method, client_streaming=client_streaming)
        service = self.consistency.service
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
            return self._streamed(behavior, method, enter, on_error, observe)

        async def unary(request: Any, context: Any) -> Any:  # noqa: ANN401  # any message type
            started = time.perf_counter()
            try:
                with pymongo.timeout(_database_budget(context)):
                    request, asked = await enter(request, context)
                    with recording() as written:
                        response = await behavior(request, context)
                answer = asked.merged(service, written.position)
                if answer:
                    await context.send_initial_metadata(((HEADER, str(answer)),))
            except BaseException as error:  # noqa: BLE001  # the mapper decides and re-raises
                await on_error(error, context)
            else:
                return response
            finally:
                observe(context, started)

        return unary

    def _streamed(  # the handler's parts, built once by _guarded
        self,
        behavior: Behavior,
        method: str,
        enter: Callable[[Any, Any], Awaitable[tuple[Any, ConsistencyToken]]],
        on_error: Callable[[BaseException, Any], Awaitable[None]],
        observe: Callable[[Any, float], None],
    ) -> Behavior:
        streams = self.streams
        writes = not inspect.isasyncgenfunction(behavior)  # context.write(), e.g. Health
        idle_s = None if writes else streams.limits.stream_idle_s
        open_streams = GRPC_STREAMS_OPEN.labels(method=method)

        async def stream(request: Any, context: Any) -> AsyncIterator[Any]:  # noqa: ANN401  # any message type
            started = time.perf_counter()
            try:
                request, _ = await enter(request, context)
                with streams.admit(method, _caller_of(context)), _counted(open_streams):
                    if writes:
                        await behavior(request, context)
                    else:
                        # the client knows at once that its stream is open, not refused
                        await context.send_initial_metadata(())
                        async for response in _until_idle(behavior(request, context), idle_s):
                            yield response
            except BaseException as error:  # noqa: BLE001  # the mapper decides and re-raises
                await on_error(error, context)
            finally:
                observe(context, started)

        return stream

    def _entrance(
        self, method: str, *, client_streaming: bool
    ) -> Callable[[Any, Any], Awaitable[tuple[Any, ConsistencyToken]]]:
        """What a call passes before its handler: its credentials, its request's checks, the
        wait for the read models its consistency token names (before the access check, which
        may read the same models), the access table; the request and the token."""
        authenticate = self._authenticator(method)
        check = _checked_requests if client_streaming else _checked_request
        admit = self._admitter(method)
        consistency = self.consistency

        async def enter(request: Any, context: Any) -> tuple[Any, ConsistencyToken]:  # noqa: ANN401  # any message type, grpc context
            asked = authenticate(context)
            request = check(request)
            if asked:
                await consistency.wait(asked, context.time_remaining())
            await admit(request)
            return request, asked

        return enter

    def _admitter(self, method: str) -> Callable[[Any], Awaitable[None]]:
        """The access table's check of the method (lmp_kit.access); nothing for health and
        reflection, which have no table."""
        service, _, name = method.strip("/").partition("/")
        policy = self.policies.get(service)

        async def admit(request: Any) -> None:  # noqa: ANN401  # any message type
            if policy is not None:
                await policy.admit(name, request, principal())

        return admit

    def _authenticator(self, method: str) -> Callable[[Any], ConsistencyToken]:
        """Verifies the caller; the consistency token the call carries (empty: none)."""
        public = method.startswith(UNAUTHENTICATED_PREFIXES)
        verify = self.verifier.verify
        none = ConsistencyToken()

        def authenticate(context: Any) -> ConsistencyToken:  # noqa: ANN401  # grpc context
            pairs = context.invocation_metadata() or ()
            metadata = dict(pairs)
            current_traceparent.set(str(metadata.get("traceparent") or new_traceparent()))
            current_city.set("")
            if public:
                return none
            header = str(metadata.get("authorization", ""))
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token:
                msg = "missing credentials: send metadata 'authorization: Bearer <JWT>' (lmp token)"
                raise UnauthenticatedError(msg)
            current_principal.set(verify(token.strip()))
            return token_of(pairs) if HEADER in metadata else none

        return authenticate


class _Undecodable:
    """What the guard's deserializer gives for bytes that are not the method's message."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def tolerant(
    deserializer: Callable[[bytes], Any] | None,
) -> Callable[[bytes], Any] | None:
    """A request deserializer that does not fail: grpc would answer a failing one with UNKNOWN
    (or INTERNAL); the guard answers INVALID_ARGUMENT instead."""
    if deserializer is None:
        return None

    def deserialize(data: bytes) -> Any:  # noqa: ANN401  # any message type
        try:
            return deserializer(data)
        except Exception as error:  # noqa: BLE001  # whatever the parser raises: the body is bad
            return _Undecodable(f"{type(error).__name__}: {error}")

    return deserialize


def _checked_request(request: Any) -> Any:  # noqa: ANN401  # any message type
    if isinstance(request, _Undecodable):
        msg = (
            f"the request body is not a valid message of this method ({request.reason}); "
            "send the method's request message encoded with protobuf"
        )
        raise InvalidArgumentError(msg)
    if isinstance(request, Message):
        check_request(request)
    return request


async def _checked_requests(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for request in requests:
        yield _checked_request(request)


def _database_budget(context: Any) -> float | None:  # noqa: ANN401  # grpc context
    """The time left of the caller's deadline, for every MongoDB operation of the call: the
    answer comes while the caller still waits, even when the database is away."""
    remaining: float | None = context.time_remaining()
    if remaining is None or remaining > NO_DEADLINE_S:
        return None
    # The driver looks for a server every 0.5 s and only then sees its time is up; the answer
    # still has to travel back: a margin of half the time left, at most 1 s.
    return max(remaining - min(1.0, remaining / 2), 0.001)


def _caller_of(context: Any) -> str:  # noqa: ANN401  # grpc context
    caller = current_principal.get(None)
    if caller is not None:
        return f"subject:{caller.subject}"
    peer = str(context.peer() or "")
    return "peer:" + peer.rpartition(":")[0]


@contextlib.contextmanager
def _counted(gauge: Any) -> Iterator[None]:  # noqa: ANN401  # a prometheus gauge child
    gauge.inc()
    try:
        yield
    finally:
        gauge.dec()


class StreamLimiter:
    """Caps the server streams one process holds open: in all, and per caller."""

    def __init__(self, limits: GrpcLimits) -> None:
        self.limits = limits
        self.total = 0
        self.per_caller: Counter[str] = Counter()

    @contextlib.contextmanager
    def admit(self, method: str, caller: str) -> Iterator[None]:
        limits = self.limits
        if self.total >= limits.max_streams:
            GRPC_STREAMS_REFUSED.labels(method=method).inc()
            msg = (
                f"this server holds its limit of {limits.max_streams} open streams; "
                "retry later or read the paginated calls"
            )
            raise ResourceExhaustedError(msg)
        if self.per_caller[caller] >= limits.max_streams_per_caller:
            GRPC_STREAMS_REFUSED.labels(method=method).inc()
            msg = (
                f"you hold {limits.max_streams_per_caller} open streams already, the limit per "
                "caller; close one before opening another"
            )
            raise ResourceExhaustedError(msg)
        self.total += 1
        self.per_caller[caller] += 1
        try:
            yield
        finally:
            self.total -= 1
            self.per_caller[caller] -= 1
            if not self.per_caller[caller]:
                del self.per_caller[caller]


class ResourceExhaustedError(DomainError):
    status = grpc.StatusCode.RESOURCE_EXHAUSTED


async def _until_idle(responses: AsyncIterator[Any], idle_s: float | None) -> AsyncIterator[Any]:
    """The stream's messages until it sends nothing for `idle_s`; then it ends (OK), and the
    client resumes where it was, as after any broken connection."""
    iterator = aiter(responses)
    try:
        while True:
            try:
                response = await asyncio.wait_for(anext(iterator), idle_s)
            except StopAsyncIteration:
                return
            except TimeoutError:
                log.info("a stream sent nothing for %s s and was ended", idle_s)
                return
            yield response
    finally:
        closing = getattr(iterator, "aclose", None)
        if closing is not None:
            with contextlib.suppress(Exception):
                await closing()


def dependency_status(error: BaseException) -> str | None:
    """What an error says is away, if it is a dependency's absence rather than a bug."""
    if isinstance(error, ConnectionFailure) or (isinstance(error, PyMongoError) and error.timeout):
        return "the read-model database (MongoDB) does not answer now"
    if isinstance(error, OperationalError | InterfaceError):
        return "the event store does not answer now"
    if isinstance(error, grpc.aio.AioRpcError) and error.code() in (
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
    ):
        return "a service this call needs does not answer now"
    return None


def _error_mapper(method: str) -> Callable[[BaseException, Any], Awaitable[None]]:
    async def on_error(error: BaseException, context: Any) -> None:  # noqa: ANN401  # grpc context
        if isinstance(error, NotYetError):
            context.set_trailing_metadata((("grpc-retry-pushback-ms", str(NOT_YET_PUSHBACK_MS)),))
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
        away = dependency_status(error) if isinstance(error, Exception) else None
        if away is not None and context.code() in (None, grpc.StatusCode.OK):
            log.warning("%s answered UNAVAILABLE: %s (%s)", method, away, error)
            context.set_trailing_metadata((("grpc-retry-pushback-ms", str(RETRY_PUSHBACK_MS)),))
            await context.abort(
                grpc.StatusCode.UNAVAILABLE,
                f"{away}; nothing was recorded by this call: retry in "
                f"{RETRY_PUSHBACK_MS // 1000} s",
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


async def start_grpc_server(  # noqa: PLR0913  # the server's parts and options, each named
    host: str,
    port: int,
    registrations: Sequence[Registration],
    verifier: TokenVerifier,
    *,
    reuse_port: bool = False,
    limits: GrpcLimits | None = None,
    consistency: Consistency | None = None,
) -> tuple[grpc.aio.Server, HealthServicer]:
    """`reuse_port`: several processes of a service share the port on one host (SO_REUSEPORT:
    the kernel spreads connections over them); otherwise a taken port fails at once."""
    limits = limits or GrpcLimits()
    server = grpc.aio.server(
        options=[
            ("grpc.so_reuseport", int(reuse_port)),
            ("grpc.max_receive_message_length", limits.max_message_bytes),
            ("grpc.max_send_message_length", limits.max_message_bytes),
        ]
    )
    policies = [r.access for r in registrations]
    guard = CallGuard(verifier, limits, policies, consistency)
    guarded = cast("grpc.aio.Server", _GuardedServer(server, guard))
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
