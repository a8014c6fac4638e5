"""The Kafka client of a service's consumers and reactors: created, started with retry,
watched for a stalled fast path, and re-created.

A client that outlived a broker restart may never deliver again (aiokafka 0.14 against the
embedded broker: its offset commits fail with UnknownTopicOrPartition for ever, and FastStream's
acknowledgement waits on them), although the broker, a fresh client and the relay's producer
are fine. The library does not notice, so we do: each consumer's catch-up round tells its
`FastPathWatch` when it applied events that Kafka had a whole round to deliver, and the
client is then stopped and built again.

A broker that lost its data (the embedded one keeps it in memory) starts every partition at
offset 0 again, and never answers OFFSET_OUT_OF_RANGE to a fetch beyond its end: "no error, no
records", with the true end as the high watermark. A consumer positioned before the restart
then waits silently until the new log grows past its old offset, and skips all below it; a
client re-created in the same group reads those stale offsets once they were committed to the
new broker. So the watch also compares each assigned partition's position with the high
watermark of the last fetch, and reads a partition whose log went back from its start again
(the tracking records make the replay harmless).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any, Protocol

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker

from lmp_kit.metrics import KAFKA_CLIENT_RESTARTS, KAFKA_REWINDS
from lmp_kit.stopping import sleep_unless

log = logging.getLogger(__name__)

# FastStream's own messages (a subscriber's errors) go through the kit's logging, not the
# coloured handler FastStream installs on its "faststream" logger.
FASTSTREAM_LOGGER = "lmp_kit.kafka.faststream"
START_RETRY_S = 2.0
WATCH_INTERVAL_S = 0.5
STOP_TIMEOUT_S = 15.0
STALLED_GRACE_S = 0.5
POSITION_TIMEOUT_S = 1.0
COMMIT_TIMEOUT_S = 2.0


class FastPathWatch:
    """Whether Kafka still delivers what the upstream log holds.

    A consumer's round reads the upstream log only up to the head the previous round saw:
    whatever it still has to apply there, Kafka had a whole round to deliver and did not.
    A new client is judged only on events recorded after its first round: what the old one
    left behind is no fault of the new one.
    """

    def __init__(self) -> None:
        self.excused_up_to: int | None = None
        self.missed_events = 0

    def reset(self) -> None:
        """A new Kafka client."""
        self.excused_up_to = None
        self.missed_events = 0

    def observed(self, head: int) -> None:
        """A round of the consumer saw the upstream log's head."""
        if self.excused_up_to is None:
            self.excused_up_to = head

    def missed(self, notification_ids: Sequence[int]) -> None:
        """The log path applied these events, which Kafka had had time to deliver."""
        if self.excused_up_to is None:
            return
        self.missed_events += sum(1 for nid in notification_ids if nid > self.excused_up_to)

    @property
    def stalled(self) -> bool:
        return self.missed_events > 0


class KafkaSubscriber(Protocol):
    """A consumer or reactor that takes the fast path through a FastStream broker."""

    upstream: str
    watch: FastPathWatch
    # The FastStream subscriber `subscribe` made (its `.consumer` is aiokafka's, once started).
    fast_path: Any

    def subscribe(self, broker: KafkaBroker, group_id: str, session_timeout_ms: int) -> None: ...


async def rewind_if_log_went_back(subscriber: KafkaSubscriber) -> int:
    """Seek each assigned partition whose position is beyond the broker's end of its log back
    to the start; the number of partitions rewound. A real log never ends below a position the
    consumer reached, so this fires only after the broker lost its data."""
    consumer = getattr(subscriber.fast_path, "consumer", None)
    if consumer is None:
        return 0
    rewound = 0
    try:
        for partition in consumer.assignment():
            end = consumer.highwater(partition)
            if end is None:
                continue
            position = await asyncio.wait_for(consumer.position(partition), POSITION_TIMEOUT_S)
            if position <= end:
                continue
            log.warning(
                "Kafka's log of %s (partition %d) went back below this consumer (position %d, "
                "end %d): the broker lost its data; reading the partition from its start again",
                subscriber.upstream,
                partition.partition,
                position,
                end,
            )
            await consumer.seek_to_beginning(partition)
            KAFKA_REWINDS.labels(upstream=subscriber.upstream).inc()
            rewound += 1
    except (KafkaError, TimeoutError) as error:  # a rebalance or an outage: the next tick
        log.debug("cannot compare %s's positions with the log: %s", subscriber.upstream, error)
    if rewound:
        # What the lost log held is the catch-up's to apply, no fault of this client: judge it
        # only on events recorded from now on.
        subscriber.watch.reset()
    return rewound


class AppliedOffsets:
    """Commits, in the background, the offsets of what a handler applied: never from the
    handler itself (it returns at once), each commit bounded in time, and only for partitions
    that had messages. A commit is an optimisation (a restarted consumer is redelivered less;
    the tracking records make a redelivery harmless), so one that fails or times out is dropped
    and the next batch commits further. aiokafka retries a commit to a partition the broker
    does not know for ever (after a broker that lost its data restarted): a handler that waited
    on it would stop the fast path, and a client being stopped would hang on it."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.pending: dict[TopicPartition, int] = {}
        self.task: asyncio.Task[None] | None = None

    def applied(self, consumer: Any, records: Sequence[Any]) -> None:  # noqa: ANN401  # aiokafka
        """The handler applied these records (aiokafka ConsumerRecords) of `consumer`."""
        for record in records:
            partition = TopicPartition(record.topic, record.partition)
            self.pending[partition] = max(self.pending.get(partition, 0), record.offset + 1)
        if self.pending and (self.task is None or self.task.done()):
            self.task = asyncio.create_task(self._commit(consumer))

    async def _commit(self, consumer: Any) -> None:  # noqa: ANN401  # aiokafka's consumer
        while self.pending:
            offsets, self.pending = self.pending, {}
            try:
                await asyncio.wait_for(consumer.commit(offsets), COMMIT_TIMEOUT_S)
            except (KafkaError, TimeoutError, AssertionError) as error:
                # AssertionError: aiokafka asserts the partitions are still assigned.
                log.debug("dropped a commit of %s's offsets: %r", self.upstream, error)


class KafkaClient:
    """One FastStream broker for all of a service's subscribers, kept delivering."""

    def __init__(  # noqa: PLR0913  # the client's settings, each named
        self,
        *,
        bootstrap_servers: str,
        client_id: str,
        group_id: str,
        session_timeout_ms: int,
        subscribers: Sequence[KafkaSubscriber],
        graceful_timeout_s: float,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.client_id = client_id
        self.group_id = group_id
        self.session_timeout_ms = session_timeout_ms
        self.subscribers = subscribers
        self.graceful_timeout_s = graceful_timeout_s
        self.restarts = 0

    def build(self) -> KafkaBroker:
        broker = KafkaBroker(
            self.bootstrap_servers,
            client_id=self.client_id,
            logger=logging.getLogger(FASTSTREAM_LOGGER),
            graceful_timeout=self.graceful_timeout_s,
        )
        for subscriber in self.subscribers:
            subscriber.subscribe(broker, self.group_id, self.session_timeout_ms)
        return broker

    async def run(self, stopping: asyncio.Event) -> None:
        """Until stopping: start a client, watch it, and replace it when it stalls."""
        if not self.subscribers:
            await stopping.wait()
            return
        away_since: float | None = None
        while not stopping.is_set():
            broker = self.build()
            try:
                await broker.start()
            except (KafkaError, OSError) as error:
                away_since = away_since or time.monotonic()
                log.warning(
                    "cannot reach Kafka for %.0f s (%s); retrying",
                    time.monotonic() - away_since,
                    error,
                )
                # A half-started broker may hold consumers: the next try builds a new one.
                await self._stop(broker)
                await sleep_unless(stopping, START_RETRY_S)
                continue
            away_since = None
            for subscriber in self.subscribers:
                subscriber.watch.reset()
            stalled = await self._watch(stopping)
            if stalled:
                self._restarting(stalled)
                # Its handlers wait on commits that never end: no batch there is worth the
                # shutdown grace (what it held is redelivered or caught up, applied once).
                broker.config.broker_config.graceful_timeout = STALLED_GRACE_S
            await self._stop(broker)

    async def _watch(self, stopping: asyncio.Event) -> list[KafkaSubscriber]:
        while not stopping.is_set():
            stalled = [s for s in self.subscribers if s.watch.stalled]
            if stalled:
                return stalled
            for subscriber in self.subscribers:
                await rewind_if_log_went_back(subscriber)
            await sleep_unless(stopping, WATCH_INTERVAL_S)
        return []

    async def _stop(self, broker: KafkaBroker) -> None:
        try:
            await asyncio.wait_for(broker.stop(), STOP_TIMEOUT_S)
        except TimeoutError:
            log.warning("the Kafka client did not stop within %.0f s", STOP_TIMEOUT_S)
        except Exception:  # a client that failed may fail to stop too; the next one is new
            log.exception("stopping the Kafka client failed")

    def _restarting(self, stalled: Sequence[KafkaSubscriber]) -> None:
        self.restarts += 1
        for subscriber in stalled:
            KAFKA_CLIENT_RESTARTS.labels(upstream=subscriber.upstream).inc()
            log.warning(
                "Kafka stopped delivering %s's events (the event log supplied %d of them); "
                "re-creating the Kafka client",
                subscriber.upstream,
                subscriber.watch.missed_events,
            )
