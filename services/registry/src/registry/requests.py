"""What the registry's requests carry, read from protobuf into the values its use cases take
(from proto); the answers are built in registry.messages."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from lmp.registry.v1 import registry_pb2 as pb
from lmp_kit.errors import InvalidArgumentError

from registry.views import (
    ActivityQuery,
    CaseQuery,
    FactQuery,
    LibraryQuery,
    PlanQuery,
    PracticeQuery,
    ProblemQuery,
    ReportQuery,
)


def people(persons: Iterable[pb.Person]) -> list[dict[str, str]]:
    return [{"person_id": p.person_id, "name": p.name} for p in persons]


def members(values: Iterable[pb.WorkingGroupMember]) -> list[dict[str, str]]:
    return [{"person_id": m.person_id, "name": m.name, "role": m.role} for m in values]


def cells(messages: Iterable[pb.Cell]) -> list[dict[str, Any]]:
    return [
        {"function": c.function, "method": c.method, "sub_methods": list(c.sub_methods)}
        for c in messages
    ]


def content(section: str, message: pb.SectionContent) -> dict[str, Any]:
    if section == "cost":
        return {"amount": message.cost.amount, "currency": message.cost.currency}
    if section == "result":
        return {
            "indicators": [
                {
                    "name": i.name,
                    "unit": i.unit,
                    "baseline": i.baseline,
                    "target": i.target,
                    "actual": i.actual,
                }
                for i in message.indicators
            ]
        }
    if section == "effects":
        effects = message.effects
        return {
            "social": effects.social,
            "economic": effects.economic,
            "political": effects.political,
        }
    return {"text": message.text}


def milestones(messages: Iterable[pb.Milestone]) -> list[dict[str, Any]]:
    return [
        {
            "title": m.title,
            "owner": {"person_id": m.owner.person_id, "name": m.owner.name},
            "due_date": m.due_date,
            "status": m.status,
        }
        for m in messages
    ]


def sources(messages: Iterable[pb.ResourceSource]) -> list[dict[str, str]]:
    return [{"kind": m.kind, "amount": m.amount, "currency": m.currency} for m in messages]


def progress(messages: Iterable[pb.IndicatorProgress]) -> list[dict[str, Any]]:
    return [{"indicator": v.indicator, "planned": v.planned, "actual": v.actual} for v in messages]


def photos(messages: Iterable[pb.Photo]) -> list[dict[str, str]]:
    return [{"uri": p.uri, "sha256": p.sha256} for p in messages]


def as_of(request: pb.GetPracticeRequest) -> datetime | None:
    """The moment a practice is asked for as it was then; None for as it is now."""
    return request.as_of.ToDatetime(tzinfo=UTC) if request.HasField("as_of") else None


def published_at(request: pb.PublishRequest) -> datetime:
    if not request.HasField("published_at"):
        msg = "published_at is required: when the text was published"
        raise InvalidArgumentError(msg)
    return request.published_at.ToDatetime(tzinfo=UTC)


def problem_query(request: pb.ListProblemsRequest) -> ProblemQuery:
    return ProblemQuery(
        city_id=request.city_id,
        priority=request.priority,
        unsolved_only=request.unsolved_only,
        text=request.text,
    )


def activity_query(request: pb.ListActivitiesRequest) -> ActivityQuery:
    return ActivityQuery(city_id=request.city_id, month=request.month, kind=request.kind)


def practice_query(request: pb.ListPracticesRequest) -> PracticeQuery:
    return PracticeQuery(
        city_id=request.city_id,
        kind=request.kind,
        status=request.status,
        lifecycle_step=request.lifecycle_step,
        cell=request.cell,
        text=request.text,
    )


def fact_query(request: pb.ListImprovementFactsRequest) -> FactQuery:
    return FactQuery(city_id=request.city_id, month=request.month, verdict=request.verdict)


def case_query(request: pb.ListExternalResourceCasesRequest) -> CaseQuery:
    return CaseQuery(
        city_id=request.city_id,
        month=request.month,
        problem_id=request.problem_id,
        source_kind=request.source_kind,
    )


def plan_query(request: pb.ListImplementationPlansRequest) -> PlanQuery:
    return PlanQuery(
        city_id=request.city_id, practice_id=request.practice_id, status=request.status
    )


def report_query(request: pb.ListProgressReportsRequest) -> ReportQuery:
    return ReportQuery(
        city_id=request.city_id, practice_id=request.practice_id, month=request.month
    )


def library_query(request: pb.SearchLibraryRequest) -> LibraryQuery:
    return LibraryQuery(
        text=request.text,
        function=request.function,
        method=request.method,
        cell=request.cell,
        kind=request.kind,
        status=request.status,
        city_id=request.city_id,
        problem_id=request.problem_id,
    )
