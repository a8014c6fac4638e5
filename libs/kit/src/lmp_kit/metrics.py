"""The metrics every service exports, defined once."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

GRPC_REQUESTS = Counter("lmp_grpc_requests_total", "gRPC requests handled", ["method", "code"])
GRPC_LATENCY = Histogram(
    "lmp_grpc_request_duration_seconds",
    "gRPC request latency",
    ["method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_RECORDED = Counter(
    "lmp_events_recorded_total", "Domain events recorded in the event store", ["event_type"]
)
RELAY_PUBLISHED = Counter("lmp_relay_published_total", "Events the relay published to Kafka")
RELAY_POSITION = Gauge("lmp_relay_position", "Last notification id the relay published")
RELAY_LAG = Gauge(
    "lmp_relay_lag_events", "Notification ids recorded but not yet published by the relay"
)
CONSUMER_APPLIED = Counter(
    "lmp_consumer_applied_total", "Upstream events applied to read models", ["upstream", "path"]
)
CONSUMER_DUPLICATES = Counter(
    "lmp_consumer_duplicates_total", "Upstream events skipped as already applied", ["upstream"]
)
CONSUMER_SKIPPED_PAGES = Counter(
    "lmp_consumer_catch_up_pages_skipped_total",
    "Pages of the upstream log the catch-up passed unread: Kafka had applied all of them",
    ["upstream"],
)
CONSUMER_LEFT_TO_ROUND = Counter(
    "lmp_consumer_left_to_round_total",
    "Kafka messages the fast path left to the full catch-up round reading them anyway",
    ["upstream"],
)
CONSUMER_POSITION = Gauge(
    "lmp_consumer_position",
    "Notification id up to which every upstream event is applied",
    ["upstream"],
)
CONSUMER_LAG = Gauge(
    "lmp_consumer_lag_events",
    "Upstream notification ids not yet reconciled (upstream head minus position)",
    ["upstream"],
)
CONSUMER_LAST_APPLIED = Gauge(
    "lmp_consumer_last_applied_timestamp_seconds",
    "When the consumer last applied upstream events by each path (kafka, catch-up): the newer "
    "tells which path is carrying the read model (lmp status)",
    ["upstream", "path"],
)
FOLLOWER_AHEAD = Gauge(
    "lmp_follower_ahead_of_log",
    "1 while a read model's or reaction's stored position is past its upstream's log head: the "
    "log was restored to an earlier point than the follower (rebuild it: lmp rebuild SERVICE)",
    ["upstream", "kind"],
)
PROJECTION_STALENESS = Gauge(
    "lmp_projection_staleness_seconds",
    "Age of the newest upstream event applied when the consumer last checked",
    ["upstream"],
)
WORKER_FAILURES = Counter(
    "lmp_worker_failures_total",
    "Jobs, messages or deliveries a shared worker could not handle; it went on with the next",
    ["worker"],
)
WORKER_UP = Gauge(
    "lmp_worker_up", "1 while a worker the service needs is running, 0 once it died", ["worker"]
)
DEPENDENCY_UP = Gauge(
    "lmp_dependency_up",
    "1 while a dependency (mongodb, kafka, an upstream service) answers, 0 while it is away",
    ["dependency"],
)
GROUP_COMMIT_BATCH = Histogram(
    "lmp_group_commit_batch_commands",
    "Commands whose events one event-store transaction recorded (lmp_kit.groupcommit)",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 200),
)
GRPC_STREAMS_OPEN = Gauge("lmp_grpc_streams_open", "Server streams open now", ["method"])
GRPC_STREAMS_REFUSED = Counter(
    "lmp_grpc_streams_refused_total",
    "Server streams refused with RESOURCE_EXHAUSTED (per caller or per service cap)",
    ["method"],
)
KAFKA_REWINDS = Counter(
    "lmp_kafka_rewinds_total",
    "Partitions read again from their start because the broker's log went back below the "
    "consumer's position (a broker that lost its data, e.g. the embedded one restarting)",
    ["upstream"],
)
KAFKA_CLIENT_RESTARTS = Counter(
    "lmp_kafka_client_restarts_total",
    "Kafka clients re-created after the consumer noticed a stalled fast path",
    ["upstream"],
)


def serve_metrics(host: str, port: int) -> None:
    start_http_server(port, addr=host)
