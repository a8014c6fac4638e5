"""The five public gRPC APIs as the signed-in user calls them: one channel per service for the
whole console, and for every request a freshly minted, short-lived platform JWT of that user
(the same key and claims as `lmp token`); the services check it as for any client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from lmp.expertise.v1 import expertise_pb2_grpc
from lmp.kpi.v1 import kpi_pb2_grpc
from lmp.notifications.v1 import notifications_pb2_grpc
from lmp.registry.v1 import registry_pb2_grpc
from lmp.voting.v1 import voting_pb2_grpc
from lmp_kit.settings import SERVICES
from starlette.requests import Request

from lmp_console.session import User, require_user
from lmp_console.settings import ConsoleSettings

Metadata = tuple[tuple[str, str], ...]


@dataclass
class Channels:
    """grpc.aio channels belong to the event loop that made them; a new loop (a test
    client's) gets new ones."""

    targets: dict[str, str]
    _loop: asyncio.AbstractEventLoop | None = field(default=None, init=False)
    _channels: dict[str, grpc.aio.Channel] = field(default_factory=dict, init=False)

    def get(self, service: str) -> grpc.aio.Channel:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._channels = {}
        channel = self._channels.get(service)
        if channel is None:
            channel = grpc.aio.insecure_channel(self.targets[service])
            self._channels[service] = channel
        return channel

    async def close(self) -> None:
        channels, self._channels, self._loop = list(self._channels.values()), {}, None
        for channel in channels:
            await channel.close(grace=None)


@dataclass(frozen=True)
class Services:
    user: User
    registry: registry_pb2_grpc.RegistryServiceAsyncStub
    voting: voting_pb2_grpc.VotingServiceAsyncStub
    expertise: expertise_pb2_grpc.ExpertiseServiceAsyncStub
    kpi: kpi_pb2_grpc.KpiServiceAsyncStub
    notifications: notifications_pb2_grpc.NotificationsServiceAsyncStub
    metadata: Metadata
    timeout: float


def console_settings(request: Request) -> ConsoleSettings:
    found: ConsoleSettings = request.app.state.settings
    return found


def channels(request: Request) -> Channels:
    found: Channels = request.app.state.channels
    return found


def bearer_for(settings: ConsoleSettings, user: User) -> str:
    return settings.issuer.issue(
        user.subject,
        roles=user.roles,
        cities=user.cities,
        ttl_seconds=settings.call_token_ttl_s,
    )


CONSISTENCY_HEADER = "lmp-consistency-token"
SESSION_CONSISTENCY = "consistency"
# A write's token is sent with the user's reads for a minute: long enough for the page that
# follows the write, short enough that a token never outlives the stack that issued it.
CONSISTENCY_KEEP_S = 60.0


def _kept_consistency(request: Request) -> str:
    kept = request.session.get(SESSION_CONSISTENCY)
    if not isinstance(kept, dict):
        return ""
    value, at = kept.get("value"), kept.get("at")
    if not isinstance(value, str) or not isinstance(at, int | float):
        return ""
    if time.time() - at > CONSISTENCY_KEEP_S:
        request.session.pop(SESSION_CONSISTENCY, None)
        return ""
    return value


async def remember_write(request: Request, call: grpc.aio.Call) -> None:
    """Keep the consistency token a command answered, so that the pages read after it show
    the write (docs/api/portal.md, "Read your writes")."""
    metadata = await call.initial_metadata()
    if metadata is None:
        return
    found = [str(v) for k, v in metadata if k == CONSISTENCY_HEADER]
    if not found:
        return
    request.session[SESSION_CONSISTENCY] = {
        "value": merge_consistency([_kept_consistency(request), *found]),
        "at": time.time(),
    }


def merge_consistency(values: list[str]) -> str:
    """One token: the largest position named for each service."""
    positions: dict[str, int] = {}
    for value in values:
        for part in value.split(","):
            service, _, position = part.strip().partition("=")
            if service and position.isdigit():
                positions[service] = max(positions.get(service, 0), int(position))
    return ",".join(f"{s}={n}" for s, n in sorted(positions.items()))


def services(request: Request) -> Services:
    """The signed-in user's stubs (SignInRequiredError when nobody is signed in); their
    metadata carries the user's fresh token and the consistency token of the user's last
    write."""
    user = require_user(request)
    settings = console_settings(request)
    pool = channels(request)
    token = bearer_for(settings, user)
    metadata: Metadata = (("authorization", f"Bearer {token}"),)
    consistency = _kept_consistency(request)
    if consistency:
        metadata += ((CONSISTENCY_HEADER, consistency),)
    return Services(
        user=user,
        registry=registry_pb2_grpc.RegistryServiceStub(pool.get("registry")),
        voting=voting_pb2_grpc.VotingServiceStub(pool.get("voting")),
        expertise=expertise_pb2_grpc.ExpertiseServiceStub(pool.get("expertise")),
        kpi=kpi_pb2_grpc.KpiServiceStub(pool.get("kpi")),
        notifications=notifications_pb2_grpc.NotificationsServiceStub(pool.get("notifications")),
        metadata=metadata,
        timeout=settings.grpc_timeout_s,
    )


def rpc_status(error: grpc.RpcError) -> tuple[grpc.StatusCode, str]:
    """The code and message of a refused call: grpc.aio's AioRpcError is no grpc.Call but
    has the same two methods."""
    if isinstance(error, grpc.aio.AioRpcError | grpc.Call):
        return error.code(), error.details() or ""
    return grpc.StatusCode.UNKNOWN, str(error)


HEALTH_TIMEOUT_S = 2.0


async def unhealthy_services(request: Request) -> list[str]:
    """The services whose standard health check does not answer SERVING now."""
    pool = channels(request)

    async def serving(service: str) -> bool:
        stub = health_pb2_grpc.HealthStub(pool.get(service))
        try:
            response = await stub.Check(
                health_pb2.HealthCheckRequest(service=""), timeout=HEALTH_TIMEOUT_S
            )
        except grpc.RpcError:
            return False
        return bool(response.status == health_pb2.HealthCheckResponse.SERVING)

    answers = await asyncio.gather(*(serving(s) for s in SERVICES))
    return [s for s, ok in zip(SERVICES, answers, strict=True) if not ok]


T = TypeVar("T")
# One page of a list RPC: (its items, the next page's token) for a page token.
Fetch = Callable[[str], Awaitable[tuple[list[T], str]]]
MAX_PAGES = 20


async def every_page(fetch: Fetch[T], max_pages: int = MAX_PAGES) -> list[T]:
    """The items of a paged list RPC, page after page (at most `max_pages`: a page shows what
    a person can read, not a whole federation)."""
    items: list[T] = []
    token = ""
    for _ in range(max_pages):
        page, token = await fetch(token)
        items += page
        if not token:
            break
    return items
