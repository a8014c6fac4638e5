"""Outbox relay: follows the service's notification log and publishes each event to Kafka."""

from __future__ import annotations

import asyncio
import logging
import time

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from eventsourcing.persistence import Notification, Tracking, TrackingRecorder

from lmp_kit.domain import ServiceApplication
from lmp_kit.envelope import envelope_of
from lmp_kit.metrics import RELAY_LAG, RELAY_POSITION, RELAY_PUBLISHED
from lmp_kit.stopping import sleep_unless

log = logging.getLogger(__name__)

RELAY_TRACKING_NAME = "kafka-relay"


class OutboxRelay:
    """At-least-once: the position is stored only after Kafka acknowledged the batch.

    Under a steady stream of events the relay starts a batch at most every
    `min_batch_interval_s`: fewer, larger produce requests, and one position write per batch.
    The broker's fetch cost grows with the number of batches a partition holds (the embedded
    broker most of all), and every position write is a commit of the event store."""

    def __init__(  # noqa: PLR0913  # the relay's collaborators, each named
        self,
        *,
        service: str,
        app: ServiceApplication,
        tracking: TrackingRecorder,
        bootstrap_servers: str,
        topic: str,
        batch_size: int = 500,
        poll_interval_s: float = 0.05,
        min_batch_interval_s: float = 0.05,
    ) -> None:
        self.service = service
        self.app = app
        self.tracking = tracking
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.min_batch_interval_s = min_batch_interval_s
        self.position = 0

    def stored_position(self) -> int:
        return self.tracking.max_tracking_id(RELAY_TRACKING_NAME) or 0

    async def run(self, stopping: asyncio.Event) -> None:
        self.position = await asyncio.to_thread(self.stored_position)
        log.info("relay starts after notification %d", self.position)
        while not stopping.is_set():
            producer = AIOKafkaProducer(
                bootstrap_servers=self.bootstrap_servers,
                client_id=f"lmp-{self.service}-relay",
                acks="all",
                enable_idempotence=False,
                linger_ms=5,
                request_timeout_ms=15_000,
            )
            try:
                await producer.start()
                await self._follow(producer, stopping)
            except KafkaError as error:
                log.warning("relay lost the broker (%s); reconnecting", error)
                await sleep_unless(stopping, 1.0)
            except Exception:
                # The event store may be briefly unavailable (locked, restarting): the relay
                # must outlive it, and resumes from its stored position.
                log.exception("relay failed; retrying from notification %d", self.position)
                await sleep_unless(stopping, 2.0)
            finally:
                await producer.stop()

    async def _follow(self, producer: AIOKafkaProducer, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            started = time.monotonic()
            published = await self.publish_batch(producer)
            if not published:
                await asyncio.to_thread(self._wait_for_new_events)
            elif published < self.batch_size:
                # A part batch: more events are arriving one by one; let them gather.
                rest = started + self.min_batch_interval_s - time.monotonic()
                if rest > 0:
                    await sleep_unless(stopping, rest)

    def _wait_for_new_events(self) -> None:
        with self.app.recorded:
            self.app.recorded.wait(self.poll_interval_s)

    async def publish_batch(self, producer: AIOKafkaProducer) -> int:
        notifications, head = await asyncio.to_thread(self._next_batch)
        RELAY_LAG.set(max(0, head - self.position))
        if not notifications:
            return 0
        futures = []
        for notification in notifications:
            envelope = envelope_of(self.service, self.app.mapper, notification)
            futures.append(
                await producer.send(
                    self.topic, value=envelope.to_json(), key=envelope.city_id.encode()
                )
            )
        await asyncio.gather(*futures)
        last = notifications[-1].id
        await asyncio.to_thread(self.tracking.insert_tracking, Tracking(RELAY_TRACKING_NAME, last))
        self.position = last
        RELAY_PUBLISHED.inc(len(notifications))
        RELAY_POSITION.set(last)
        RELAY_LAG.set(max(0, head - last))
        return len(notifications)

    def _next_batch(self) -> tuple[list[Notification], int]:
        notifications = self.app.recorder.select_notifications(
            start=self.position, limit=self.batch_size, inclusive_of_start=False
        )
        head = self.app.recorder.max_notification_id() or 0
        return list(notifications), head
