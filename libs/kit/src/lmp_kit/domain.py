"""Base aggregate and application: every event carries its city and the trace that caused it."""

from __future__ import annotations

import functools
import os
import re
import threading
import time
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent, Repository
from eventsourcing.domain import Aggregate, DomainEventProtocol, MutableOrImmutableAggregate
from eventsourcing.persistence import (
    IntegrityError,
    OperationalError,
    ProcessRecorder,
    Recording,
    Tracking,
)

from lmp_kit.consistency import wrote
from lmp_kit.errors import InvalidArgumentError
from lmp_kit.groupcommit import GroupCommitter, Job
from lmp_kit.logs import current_traceparent
from lmp_kit.metrics import EVENTS_RECORDED

if TYPE_CHECKING:
    from lmp_kit.idempotency import RequestKeys

TABLE_CREATION_ATTEMPTS = 5
CITY_ID = re.compile(r"^[a-z][a-z0-9-]{1,62}$")


def check_city_id(city_id: str) -> str:
    if not CITY_ID.fullmatch(city_id):
        msg = (
            f"city_id {city_id!r} is not a city slug: use 2-63 lowercase latin letters, "
            "digits or '-', starting with a letter (e.g. 'sarov')"
        )
        raise InvalidArgumentError(msg)
    return city_id


def event_type_of(topic: str) -> str:
    return topic.rpartition(":")[2]


class CityAggregate(Aggregate):
    city_id: str

    class Event(Aggregate.Event):
        city_id: str
        traceparent: str

    class Created(Event, Aggregate.Created):
        pass

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:  # noqa: ANN401  # library signature
        kwargs.setdefault("city_id", self.city_id)
        kwargs.setdefault("traceparent", current_traceparent.get())
        super().trigger_event(event_class, **kwargs)

    @classmethod
    def _create(cls, event_class: Any, *, id: UUID | None = None, **kwargs: Any) -> Any:  # noqa: A002, ANN401  # library signature
        kwargs.setdefault("traceparent", current_traceparent.get())
        return super()._create(event_class, id=id, **kwargs)


class SettlingRepository(Repository[UUID]):
    """Loads an aggregate in its turn (lmp_kit.groupcommit): a command deciding on a state that
    a queued save is about to change would lose for certain."""

    committer: GroupCommitter[Job] | None = None

    @classmethod
    def adopting(cls, built: Repository[UUID]) -> SettlingRepository:
        """The library's repository as it built it from the settings, as this kind."""
        repository = cls.__new__(cls)
        vars(repository).update(vars(built))
        return repository

    def get(self, aggregate_id: UUID, **kwargs: Any) -> Any:  # noqa: ANN401  # the library's signature
        if self.committer is not None:
            self.committer.before_load(aggregate_id)
        return super().get(aggregate_id, **kwargs)


class ServiceApplication(Application[UUID]):
    """Counts what it records and wakes the relay as soon as something is saved.

    Its recorder also keeps tracking records (the relay's position, and how far each reaction
    to another service's events got), written in the same transaction as the new events.
    """

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env=env)
        self.recorded = threading.Condition()
        # Concurrent commands share transactions (lmp_kit.groupcommit) unless
        # LMP_GROUP_COMMIT=false. Not with an aggregate cache or snapshots, which need the saved
        # aggregates themselves.
        enabled = os.environ.get("LMP_GROUP_COMMIT", "true").strip().lower() != "false"
        plain = not self.repository.cache and not self.snapshotting_intervals
        self.committer: GroupCommitter[Job] | None = (
            GroupCommitter(self.save_directly) if enabled and plain else None
        )
        repository = self.repository
        if isinstance(repository, SettlingRepository):
            repository.committer = self.committer

    def construct_repository(self) -> Repository[UUID]:
        return SettlingRepository.adopting(super().construct_repository())

    def save(
        self,
        *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None,
        **kwargs: Any,  # noqa: ANN401  # the library's signature
    ) -> list[Recording[UUID]]:
        """Record the aggregates' new events: together with other commands' that wait at the
        same moment, in one transaction (group commit), or alone."""
        committer = self.committer
        if committer is None or kwargs or committer.in_committer():
            return self.save_directly(*objs, **kwargs)
        events: list[Any] = []
        for obj in objs:
            if isinstance(obj, Aggregate):
                events.extend(obj.collect_events())
            elif obj is not None:
                events.append(obj)  # an event, or an aggregate of another kind: as given
        if not events:
            return []
        recordings = committer.save(events)
        if recordings:  # recorded on the committer's thread: the token is this caller's
            wrote(max(r.notification.id for r in recordings))
        return recordings

    def save_directly(
        self,
        *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None,
        **kwargs: Any,  # noqa: ANN401  # the library's signature
    ) -> list[Recording[UUID]]:
        """Record in a transaction of its own (the committer's own path, and a committer with
        rules of its own, such as voting's ballot writer)."""
        return super().save(*objs, **kwargs)

    def close(self) -> None:
        if self.committer is not None:
            self.committer.stop()
        super().close()

    @functools.cached_property
    def request_keys(self) -> RequestKeys:
        """The clients' request keys of creating commands (safe retries, lmp_kit.idempotency)."""
        from lmp_kit.idempotency import RequestKeys  # noqa: PLC0415  # it builds on this module

        return RequestKeys(self.name, self)

    def construct_recorder(self) -> ProcessRecorder:
        # Two processes of one service (e.g. its API and its relay) may create the tables of a
        # fresh store at once; the loser sees the winner's rows and simply tries again.
        for attempt in range(1, TABLE_CREATION_ATTEMPTS + 1):
            try:
                return self.factory.process_recorder()
            except (IntegrityError, OperationalError):
                if attempt == TABLE_CREATION_ATTEMPTS:
                    raise
                time.sleep(0.2 * attempt)
        raise AssertionError  # unreachable: the loop returns or raises

    @property
    def tracking(self) -> ProcessRecorder:
        recorder = self.recorder
        if not isinstance(recorder, ProcessRecorder):
            msg = f"{type(recorder).__name__} cannot keep tracking records"
            raise TypeError(msg)
        return recorder

    def save_tracked(self, tracking: Tracking, *objs: Aggregate | None) -> list[Recording[UUID]]:
        """Save the aggregates' new events and the tracking record in one transaction."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent(tracking=tracking)
        processing_event.collect_events(*objs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        super()._notify(recordings)
        if recordings:
            wrote(max(r.notification.id for r in recordings))
        for recording in recordings:
            EVENTS_RECORDED.labels(event_type=type(recording.domain_event).__qualname__).inc()
        with self.recorded:
            self.recorded.notify_all()
