"""`lmp status`: where each service of a running deployment stands.

For every service, found from the same settings the services read (the embedded default, or
the real stack's `LMP_<SERVICE>_GRPC_TARGET` and friends): its gRPC health; the head of its
event log (EventLog.ReadEvents with a service token); from its Prometheus metrics, the relay's
position and lag, and each consumer's and reaction's position per upstream, with the lag in
events (the upstream's head minus the position) and in seconds (the age of the oldest event
not yet examined, read from the upstream's log), and the path (Kafka or the catch-up from the
log) that applied its last events.

A service runs as one process or several (API, relay, consumers apart): `LMP_<SERVICE>_METRICS_URLS`
(comma-separated) names every process's metrics endpoint; by default it is the metrics port of
the settings on the gRPC target's host. The exit code is 0 when every service is serving and no
follower is behind by more than `--max-lag` events, 1 otherwise: a probe for scripts.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from lmp.common.v1 import events_pb2, events_pb2_grpc
from lmp_kit.runtime import service_token
from lmp_kit.settings import SERVICES, Settings
from prometheus_client.parser import text_string_to_metric_families

TIMEOUT_S = 3.0
PATHS = ("kafka", "catch-up")
# The services without an event log of their own (notifications keeps only MongoDB state).
NO_EVENT_LOG = frozenset({"notifications"})

Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


@dataclass
class Follower:
    kind: str  # "consumer" (a read model) or "reaction"
    upstream: str
    position: int
    lag_events: int | None = None
    lag_seconds: float | None = None
    last_path: str = ""
    rebuilding: bool = False
    events_per_second: float | None = None
    upstream_head: int | None = None
    # Its position is past the upstream's head: that log was restored to an earlier point.
    ahead_of_log: bool = False


@dataclass
class ServiceStatus:
    service: str
    target: str
    health: str
    head: int | None = None
    relay_position: int | None = None
    relay_lag_events: int | None = None
    metrics: list[str] = field(default_factory=list)
    metrics_error: str = ""
    followers: list[Follower] = field(default_factory=list)


def metrics_urls(settings: Settings, env: Mapping[str, str]) -> list[str]:
    named = env.get(f"LMP_{settings.service.upper()}_METRICS_URLS", "")
    if named.strip():
        return [u.strip() for u in named.split(",") if u.strip()]
    host = settings.endpoint.grpc_target.rpartition(":")[0] or "127.0.0.1"
    return [f"http://{host}:{settings.endpoint.metrics_port}/metrics"]


def scrape(urls: Sequence[str]) -> tuple[Samples, str]:
    """Every sample of the given endpoints (several processes of one service: the largest
    value of a gauge wins, positions only grow); the first error, if any."""
    samples: Samples = {}
    error = ""
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT_S) as answer:  # noqa: S310  # the operator's own endpoints
                text = answer.read().decode()
        except (urllib.error.URLError, OSError) as failure:
            error = error or f"{url}: {failure}"
            continue
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = tuple(sorted(sample.labels.items()))
                known = samples.setdefault(sample.name, {})
                known[labels] = max(sample.value, known.get(labels, float("-inf")))
    return samples, error


def by_upstream(samples: Samples, name: str) -> dict[str, float]:
    found = samples.get(name, {})
    return {dict(labels).get("upstream", ""): value for labels, value in found.items()}


def single(samples: Samples, name: str) -> float | None:
    values = samples.get(name, {})
    return max(values.values()) if values else None


def health_of(channel: grpc.Channel) -> str:
    try:
        answer = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=TIMEOUT_S
        )
    except grpc.RpcError as error:
        return f"unreachable ({error.code().name})"
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status))


class Logs:
    """The event logs of the deployment, read with a service token."""

    def __init__(self, settings: Mapping[str, Settings]) -> None:
        self.settings = settings
        self.channels = {
            name: grpc.insecure_channel(its.endpoint.grpc_target) for name, its in settings.items()
        }
        self.heads: dict[str, int | None] = {}

    def read(self, service: str, after: int, limit: int) -> events_pb2.ReadEventsResponse | None:
        token = service_token(self.settings[service])()
        try:
            answer: events_pb2.ReadEventsResponse = events_pb2_grpc.EventLogStub(
                self.channels[service]
            ).ReadEvents(
                events_pb2.ReadEventsRequest(after=after, limit=limit),
                metadata=(("authorization", f"Bearer {token}"),),
                timeout=TIMEOUT_S,
            )
        except grpc.RpcError:
            return None
        return answer

    def head(self, service: str) -> int | None:
        if service in NO_EVENT_LOG:
            return None
        if service not in self.heads:
            answer = self.read(service, 0, 1)
            self.heads[service] = None if answer is None else int(answer.max_notification_id)
        return self.heads[service]

    def age_after(self, service: str, position: int, now: datetime) -> float | None:
        """Seconds since the oldest event after `position` happened (0: none)."""
        answer = self.read(service, position, 1)
        if answer is None:
            return None
        if not answer.events:
            return 0.0
        occurred = answer.events[0].occurred_at.ToDatetime(tzinfo=UTC)
        return max(0.0, (now - occurred).total_seconds())

    def close(self) -> None:
        for channel in self.channels.values():
            channel.close()


def followers_of(samples: Samples, logs: Logs, now: datetime) -> list[Follower]:
    found = []
    rebuilding = by_upstream(samples, "lmp_rebuild_running")
    last_applied: dict[str, dict[str, float]] = {}
    for labels, value in samples.get("lmp_consumer_last_applied_timestamp_seconds", {}).items():
        named = dict(labels)
        last_applied.setdefault(named.get("upstream", ""), {})[named.get("path", "")] = value
    kinds = (("consumer", "lmp_consumer_position"), ("reaction", "lmp_reaction_position"))
    for kind, metric in kinds:
        for upstream, value in sorted(by_upstream(samples, metric).items()):
            position = int(value)
            head = logs.head(upstream)
            paths = last_applied.get(upstream, {}) if kind == "consumer" else {}
            follower = Follower(
                kind=kind,
                upstream=upstream,
                position=position,
                lag_events=None if head is None else max(0, head - position),
                last_path=max(paths, key=lambda p: paths[p]) if paths else "",
                rebuilding=bool(rebuilding.get(upstream)),
                upstream_head=head,
                ahead_of_log=head is not None and position > head,
            )
            if follower.lag_events == 0:
                follower.lag_seconds = 0.0
            elif follower.lag_events is not None:
                follower.lag_seconds = logs.age_after(upstream, position, now)
            found.append(follower)
    return found


def status_of(
    settings: Mapping[str, Settings], env: Mapping[str, str], logs: Logs
) -> list[ServiceStatus]:
    now = datetime.now(UTC)
    answers = []
    for service, its in settings.items():
        urls = metrics_urls(its, env)
        samples, error = scrape(urls)
        # a gauge without labels reads 0 before it is set: only a running relay's count
        workers = {dict(labels).get("worker") for labels in samples.get("lmp_worker_up", {})}
        relays = "relay" in workers
        relay_position = single(samples, "lmp_relay_position") if relays else None
        relay_lag = single(samples, "lmp_relay_lag_events") if relays else None
        answers.append(
            ServiceStatus(
                service=service,
                target=its.endpoint.grpc_target,
                health=health_of(logs.channels[service]),
                head=logs.head(service),
                relay_position=None if relay_position is None else int(relay_position),
                relay_lag_events=None if relay_lag is None else int(relay_lag),
                metrics=urls,
                metrics_error=error,
                followers=followers_of(samples, logs, now),
            )
        )
    return answers


def with_rates(
    current: list[ServiceStatus], previous: list[ServiceStatus] | None, seconds: float
) -> None:
    """Events per second of each follower since the previous round (`--watch`)."""
    if not previous or seconds <= 0:
        return
    before = {(s.service, f.kind, f.upstream): f.position for s in previous for f in s.followers}
    for service in current:
        for follower in service.followers:
            earlier = before.get((service.service, follower.kind, follower.upstream))
            if earlier is not None:
                follower.events_per_second = (follower.position - earlier) / seconds


def healthy(answers: Sequence[ServiceStatus], max_lag: int) -> bool:
    return all(
        s.health == "SERVING"
        and all(
            f.lag_events is not None and f.lag_events <= max_lag and not f.ahead_of_log
            for f in s.followers
        )
        for s in answers
    )


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "?"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}{unit}"
    return f"{int(value)}{unit}"


def render(answers: Sequence[ServiceStatus]) -> str:
    lines = []
    for s in answers:
        log = "no event log" if s.service in NO_EVENT_LOG else f"head {_number(s.head)}"
        relay = (
            ""
            if s.relay_position is None
            else f", relay at {s.relay_position} (lag {_number(s.relay_lag_events)})"
        )
        lines.append(f"{s.service:<14} {s.health:<12} {s.target:<20} {log}{relay}")
        if s.metrics_error:
            lines.append(f"  metrics: {s.metrics_error}")
        for f in s.followers:
            rate = "" if f.events_per_second is None else f", {f.events_per_second:.0f} events/s"
            lines.append(
                f"  {f.kind:<8} {f.upstream:<14} at {f.position:<8} "
                f"lag {_number(f.lag_events)} events / {_number(f.lag_seconds, ' s')}"
                f"{', last by ' + f.last_path if f.last_path else ''}"
                f"{', REBUILDING' if f.rebuilding else ''}{rate}"
            )
            if f.ahead_of_log:
                lines.append(
                    f"    AHEAD OF {f.upstream}'s log (head {_number(f.upstream_head)}): that "
                    "log was restored to an earlier point; rebuild this service's read models "
                    "(lmp rebuild) once the restore is settled"
                )
    return "\n".join(lines)


def run(env: Mapping[str, str], *, as_json: bool, watch: float | None, max_lag: int) -> int:
    settings = {service: Settings.from_env(service, env) for service in SERVICES}
    previous: list[ServiceStatus] | None = None
    last = time.monotonic()
    while True:
        logs = Logs(settings)
        try:
            answers = status_of(settings, env, logs)
        finally:
            logs.close()
        now = time.monotonic()
        with_rates(answers, previous, now - last)
        previous, last = answers, now
        if as_json:
            print(json.dumps([asdict(a) for a in answers], ensure_ascii=False), flush=True)
        else:
            if watch is not None and sys.stdout.isatty():
                print("\x1b[2J\x1b[H", end="")
            print(render(answers), flush=True)
        if watch is None:
            return 0 if healthy(answers, max_lag) else 1
        time.sleep(watch)
