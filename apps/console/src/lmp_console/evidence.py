"""What a scorecard's figures rest on, for the pages: the records behind its evidence.

kpi names its evidence by event id, and an event id is the uuid5 of the record's aggregate id
and version under the platform's namespace (`lmp_kit.envelope.envelope_of`). The console lists
the month's records through the public APIs (activities, improvement facts, polls, the city's
own practices, external-resource cases) and computes the ids of their events, so that each
event id of the scorecard points at the record page it came from. Ids it cannot place (ballots,
the city's voter target, a problem marked solved) are counted, not hidden."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from uuid import UUID, uuid5

from lmp.kpi.v1 import kpi_pb2
from lmp.registry.v1 import registry_pb2
from lmp.voting.v1 import voting_pb2
from lmp_kit.envelope import EVENT_ID_NAMESPACE

from lmp_console.services import Services, every_page

# How many versions of one record the index covers: a practice gathers an event per passport
# edit, lifecycle step and decision; an activity, a fact, a poll or a case a handful.
MAX_VERSIONS = 400
FEW_VERSIONS = 64
PAGE_SIZE = 200


def event_ids(aggregate_id: str, versions: int = MAX_VERSIONS) -> Iterable[str]:
    try:
        UUID(aggregate_id)
    except ValueError:
        return ()
    return (str(uuid5(EVENT_ID_NAMESPACE, f"{aggregate_id}:{v}")) for v in range(1, versions + 1))


@dataclass(frozen=True)
class Record:
    kind: str  # activity, fact, poll, practice, case
    record_id: str
    title: str
    url: str


@dataclass(frozen=True)
class Activity:
    entry: registry_pb2.ActivityEntry
    full: registry_pb2.Activity


@dataclass
class MonthRecords:
    """The month's records of one city, with the event ids that lead to each."""

    city_id: str
    month: str
    activities: list[Activity] = field(default_factory=list)
    facts: list[registry_pb2.ImprovementFactEntry] = field(default_factory=list)
    polls: list[voting_pb2.PollEntry] = field(default_factory=list)
    practices: list[registry_pb2.PracticeEntry] = field(default_factory=list)
    cases: list[registry_pb2.ExternalResourceCaseEntry] = field(default_factory=list)
    by_event: dict[str, Record] = field(default_factory=dict)

    def place(self, record: Record, versions: int = MAX_VERSIONS) -> None:
        for event_id in event_ids(record.record_id, versions):
            self.by_event[event_id] = record

    def linked(self, evidence: Iterable[str]) -> tuple[list[Record], int]:
        """The distinct records behind these event ids, and how many ids have none here."""
        records: dict[tuple[str, str], Record] = {}
        unplaced = 0
        for event_id in evidence:
            record = self.by_event.get(event_id)
            if record is None:
                unplaced += 1
            else:
                records.setdefault((record.kind, record.record_id), record)
        return list(records.values()), unplaced

    @property
    def speakers(self) -> list[tuple[str, list[Activity]]]:
        """Each distinct speaker of the month (by person id) with the activities they spoke at."""
        found: dict[str, tuple[str, list[Activity]]] = {}
        for activity in self.activities:
            for person in activity.full.speakers:
                key = person.person_id or person.name
                found.setdefault(key, (person.name or person.person_id, []))[1].append(activity)
        return sorted(found.values(), key=lambda item: item[0])


async def month_records(  # noqa: C901  # one small fetch per list, each its own closure
    svc: Services, city_id: str, month: str
) -> MonthRecords:
    records = MonthRecords(city_id=city_id, month=month)
    base = f"/cities/{city_id}"

    async def activities(token: str) -> tuple[list[registry_pb2.ActivityEntry], str]:
        answer = await svc.registry.ListActivities(
            registry_pb2.ListActivitiesRequest(
                city_id=city_id,
                month=month,
                page=registry_pb2.PageRequest(page_size=PAGE_SIZE, page_token=token),
            ),
            metadata=svc.metadata,
            timeout=svc.timeout,
        )
        return list(answer.activities), answer.next_page_token

    async def facts(token: str) -> tuple[list[registry_pb2.ImprovementFactEntry], str]:
        answer = await svc.registry.ListImprovementFacts(
            registry_pb2.ListImprovementFactsRequest(
                city_id=city_id,
                month=month,
                page=registry_pb2.PageRequest(page_size=PAGE_SIZE, page_token=token),
            ),
            metadata=svc.metadata,
            timeout=svc.timeout,
        )
        return list(answer.facts), answer.next_page_token

    async def polls(token: str) -> tuple[list[voting_pb2.PollEntry], str]:
        answer = await svc.voting.ListPolls(
            voting_pb2.ListPollsRequest(city_id=city_id, page_size=PAGE_SIZE, page_token=token),
            metadata=svc.metadata,
            timeout=svc.timeout,
        )
        return list(answer.polls), answer.next_page_token

    async def practices(token: str) -> tuple[list[registry_pb2.PracticeEntry], str]:
        answer = await svc.registry.ListPractices(
            registry_pb2.ListPracticesRequest(
                city_id=city_id,
                kind="own",
                page=registry_pb2.PageRequest(page_size=PAGE_SIZE, page_token=token),
            ),
            metadata=svc.metadata,
            timeout=svc.timeout,
        )
        return list(answer.practices), answer.next_page_token

    async def cases(token: str) -> tuple[list[registry_pb2.ExternalResourceCaseEntry], str]:
        answer = await svc.registry.ListExternalResourceCases(
            registry_pb2.ListExternalResourceCasesRequest(
                city_id=city_id,
                month=month,
                page=registry_pb2.PageRequest(page_size=PAGE_SIZE, page_token=token),
            ),
            metadata=svc.metadata,
            timeout=svc.timeout,
        )
        return list(answer.cases), answer.next_page_token

    (
        activity_entries,
        records.facts,
        all_polls,
        records.practices,
        records.cases,
    ) = await asyncio.gather(
        every_page(activities),
        every_page(facts),
        every_page(polls),
        every_page(practices),
        every_page(cases),
    )
    full = await asyncio.gather(
        *(
            svc.registry.GetActivity(
                registry_pb2.GetActivityRequest(activity_id=entry.activity_id),
                metadata=svc.metadata,
                timeout=svc.timeout,
            )
            for entry in activity_entries
        )
    )
    records.activities = [Activity(e, f) for e, f in zip(activity_entries, full, strict=True)]
    records.polls = [p for p in all_polls if p.kind == "city_problem"]
    for activity in records.activities:
        record_id = activity.entry.activity_id
        url = f"{base}/activities/{record_id}"
        records.place(Record("activity", record_id, activity.entry.title, url), FEW_VERSIONS)
    for fact in records.facts:
        url = f"{base}/facts/{fact.fact_id}"
        records.place(Record("fact", fact.fact_id, fact.title, url), FEW_VERSIONS)
    for poll in all_polls:
        url = f"{base}/polls/{poll.poll_id}"
        records.place(Record("poll", poll.poll_id, poll.title, url), FEW_VERSIONS)
    for practice in records.practices:
        url = f"{base}/practices/{practice.practice_id}"
        records.place(Record("practice", practice.practice_id, practice.title, url))
    for case in records.cases:
        records.place(Record("case", case.case_id, case.title, ""), FEW_VERSIONS)
    return records


def evaluation_event(card: kpi_pb2.Scorecard) -> set[str]:
    """The curator's evaluation event (the expert indicator's evidence): kpi's own record."""
    for indicator in card.indicators:
        if indicator.name == "expert":
            return set(indicator.evidence)
    return set()
