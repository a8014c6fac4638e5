from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from lmp.expertise.v1 import expertise_pb2, expertise_pb2_grpc
from lmp_kit.auth import principal
from lmp_kit.domain import check_city_id
from lmp_kit.errors import NotFoundError, NotYetError, PermissionDeniedError
from lmp_kit.grpc_server import Registration
from lmp_kit.idempotency import Retry
from lmp_kit.registry_client import RegistryClient
from lmp_kit.rpc import Context, parse_id, timestamp

from expertise import views
from expertise.access import OFFICE, SERVICE_NAME, policy
from expertise.application import CouncilNotFoundError, ExpertiseApplication
from expertise.domain import (
    CRITERIA,
    ApprovedList,
    Council,
    CouncilSession,
    Plan,
    Review,
    summarize,
)
from expertise.domain.reviews import weighted_score_of
from expertise.domain.sessions import check_agenda
from expertise.projections import Database


class ExpertiseServicer(expertise_pb2_grpc.ExpertiseServiceServicer):
    def __init__(self, app: ExpertiseApplication, db: Database) -> None:
        self.app = app
        self.db = db

    async def FormCouncil(  # noqa: N802  # gRPC method name
        self, request: expertise_pb2.FormCouncilRequest, context: Context
    ) -> expertise_pb2.Council:
        del context
        return council_message(await asyncio.to_thread(self.app.form_council, request.quorum))

    async def GetCouncil(  # noqa: N802  # gRPC method name
        self, request: expertise_pb2.GetCouncilRequest, context: Context
    ) -> expertise_pb2.Council:
        del request, context
        return council_message(await asyncio.to_thread(self.app.get_council))

    async def AdmitMember(  # noqa: N802  # gRPC method name
        self, request: expertise_pb2.AdmitMemberRequest, context: Context
    ) -> expertise_pb2.Council:
        del context
        member = request.member
        council = await asyncio.to_thread(
            self.app.admit_member, member.person_id, member.name, list(member.cities)
        )
        return council_message(council)

    async def ChangeMemberCities(  # noqa: N802  # gRPC method name
        self, request: expertise_pb2.ChangeMemberCitiesRequest, context: Context
    ) -> expertise_pb2.Council:
        del context
        council = await asyncio.to_thread(
            self.app.change_member_cities, request.person_id, list(request.cities)
        )
        return council_message(council)

    async def RemoveMember(  # noqa: N802  # gRPC method name
        self, request: expertise_pb2.RemoveMemberRequest, context: Context
    ) -> expertise_pb2.Council:
        del context
        council = await asyncio.to_thread(self.app.remove_member, request.person_id, request.reason)
        return council_message(council)

    async def AppointChair(  # noqa: N802  # gRPC method name
        self, request: expertise_pb2.AppointChairRequest, context: Context
    ) -> expertise_pb2.Council:
        del context
        return council_message(await asyncio.to_thread(self.app.appoint_chair, request.person_id))

    async def SetQuorum(  # noqa: N802  # gRPC method name
        self, request: expertise_pb2.SetQuorumRequest, context: Context
    ) -> expertise_pb2.Council:
        del context
        return council_message(await asyncio.to_thread(self.app.set_quorum, request.quorum))

    async def SetCriterionWeights(  # noqa: N802  # gRPC method name
        self, request: expertise_pb2.SetCriterionWeightsRequest, context: Context
    ) -> expertise_pb2.Council:
        del context
        weights = {c: getattr(request.weights, c) for c in CRITERIA}
        return council_message(await asyncio.to_thread(self.app.set_criterion_weights, weights))

    async def OpenReview(  # noqa: N802  # gRPC method name
        self, request: expertise_pb2.OpenReviewRequest, context: Context
    ) -> expertise_pb2.Review:
        del context
        practice_id = parse_id("practice_id", request.practice_id)
        practice = await views.practice_facts(self.db, str(practice_id))
        if practice is None:  # the guard found it in the registry: not here yet
            msg = (
                f"practice {practice_id} is registered, but expertise has not received it from "
                "the registry yet: retry shortly"
            )
            raise NotYetError(msg)
        review = await asyncio.to_thread(
            self.app.open_review,
            practice,
            request.round,
            Retry.of(practice.city_id, request),
        )
        return review_message(review)

    async def ScorePractice(  # noqa: N802  # gRPC method name
        self, request: expertise_pb2.ScorePracticeRequest, context: Context
    ) -> expertise_pb2.Review:
        del context
        caller = principal()
        review_id = parse_id("review_id", request.review_id)
        scores = {c: getattr(request.scores, c) for c in CRITERIA}
        review = await asyncio.to_thread(self.app.score, review_id, caller.subject, scores)
        return review_message(review)

    async def AssessPractice(  # noqa: N802  # gRPC method name
        self, request: expertise_pb2.AssessPracticeRequest, context: Context
    ) -> expertise_pb2.Review:
        del context
        caller = principal()
        review_id = parse_id("review_id", request.review_id)
        scores = {c: getattr(request.scores, c) for c in CRITERIA}
        review = await asyncio.to_thread(
            self.app.assess, review_id, caller.subject, scores, request.rationale
        )
        return review_message(review)

    async def ConcludeReview(  # noqa: N802  # gRPC method name
        self, request: expertise_pb2.ConcludeReviewRequest, context: Context
    ) -> expertise_pb2.Review:
        del context
        caller = principal()
        review_id = parse_id("review_id", request.review_id)
        session_id = parse_id("session_id", request.session_id)
        plan = Plan(
            priority_rank=request.priority_rank or None,
            expected_results=request.expected_results,
            deadlines=request.deadlines,
            resource_sources=request.resource_sources,
            regulation_proposals=request.regulation_proposals,
        )
        review = await asyncio.to_thread(
            lambda: self.app.conclude_review(
                review_id,
                by=caller.subject,
                session_id=session_id,
                verdict=request.verdict,
                rationale=request.rationale,
                plan=plan,
            )
        )
        return review_message(review)

    async def GetReview(  # noqa: N802  # gRPC method name
        self, request: expertise_pb2.GetReviewRequest, context: Context
    ) -> expertise_pb2.Review:
        del context
        review_id = parse_id("review_id", request.review_id)
        return review_message(await asyncio.to_thread(self.app.get_review, review_id))

    async def ListPendingReviews(  # noqa: N802  # gRPC method name
        self, request: expertise_pb2.ListPendingReviewsRequest, context: Context
    ) -> expertise_pb2.ListReviewsResponse:
        del context
        caller = principal()
        person_id = request.person_id or caller.subject
        if person_id != caller.subject and OFFICE not in caller.roles:
            msg = "an expert reads their own queue; only programme_office reads another member's"
            raise PermissionDeniedError(msg)
        page = views.page_of(views.PENDING_REVIEW_PAGES, request.page_size, request.page_token)
        try:
            council = await asyncio.to_thread(self.app.get_council)
        except CouncilNotFoundError:
            return expertise_pb2.ListReviewsResponse()  # no council, no members, no queue
        member = council.members.get(person_id)
        if member is None:
            return expertise_pb2.ListReviewsResponse()
        # the member's cities that are also the caller's: never another city's reviews
        cities = views.shared_cities(member["cities"], caller.cities)
        if not cities:
            return expertise_pb2.ListReviewsResponse()
        ids = await views.pending_review_ids(self.db, person_id, cities, page)
        reviews = [await asyncio.to_thread(self.app.get_review, UUID(i)) for i in ids]
        return expertise_pb2.ListReviewsResponse(
            reviews=[
                review_message(r)
                for r in reviews
                if caller.may_act_in(r.city_id)
                and not r.concluded
                and person_id not in r.scores
                and person_id not in r.recused
            ],
            next_page_token=page.next_token(len(ids)),
        )

    async def ListReviews(  # noqa: N802  # gRPC method name
        self, request: expertise_pb2.ListReviewsRequest, context: Context
    ) -> expertise_pb2.ListReviewsResponse:
        del context
        query = views.ReviewQuery(
            city_id=request.city_id,
            status=request.status,
            practice_id=request.practice_id,
            round=request.round,
            verdict=request.verdict,
        )
        docs, token = await views.list_reviews(
            self.db, query, request.page_size, request.page_token
        )
        return expertise_pb2.ListReviewsResponse(
            reviews=[review_document_message(d) for d in docs], next_page_token=token
        )

    async def ScheduleSession(  # noqa: N802  # gRPC method name
        self, request: expertise_pb2.ScheduleSessionRequest, context: Context
    ) -> expertise_pb2.CouncilSession:
        del context
        city_id = check_city_id(request.city_id)
        await self._require_chair_or_office("schedules a session")
        agenda = check_agenda(list(request.agenda))
        known = await views.practices_of_city(self.db, city_id, agenda)
        unknown = [p for p in agenda if p not in known]
        if unknown:
            # the same answer for another city's practice as for none at all
            msg = (
                f"no practice {', '.join(unknown[:5])}{' …' if len(unknown) > 5 else ''} in "  # noqa: PLR2004  # the ids named in a message
                f"{city_id!r} known to expertise: a session's agenda lists practices of its "
                "city, registered in the registry"
            )
            raise NotFoundError(msg)
        session = await asyncio.to_thread(
            self.app.schedule_session,
            city_id,
            request.scheduled_on,
            agenda,
            Retry.of(city_id, request),
        )
        return session_message(session)

    async def HoldSession(  # noqa: N802  # gRPC method name
        self, request: expertise_pb2.HoldSessionRequest, context: Context
    ) -> expertise_pb2.CouncilSession:
        del context
        session_id = parse_id("session_id", request.session_id)
        await self._require_chair_or_office("holds a session")
        session = await asyncio.to_thread(
            self.app.hold_session,
            session_id,
            request.held_on,
            list(request.attendees),
            request.minutes,
        )
        return session_message(session)

    async def ListSessions(  # noqa: N802  # gRPC method name
        self, request: expertise_pb2.ListSessionsRequest, context: Context
    ) -> expertise_pb2.ListSessionsResponse:
        del context
        query = views.SessionQuery(
            city_id=request.city_id, status=request.status, month=request.month
        )
        docs, token = await views.list_sessions(
            self.db, query, request.page_size, request.page_token
        )
        return expertise_pb2.ListSessionsResponse(
            sessions=[session_document_message(d) for d in docs], next_page_token=token
        )

    async def GetApprovedList(  # noqa: N802  # gRPC method name
        self, request: expertise_pb2.GetApprovedListRequest, context: Context
    ) -> expertise_pb2.ApprovedList:
        del context
        city_id = check_city_id(request.city_id)
        approved = await asyncio.to_thread(self.app.get_list, city_id, request.kind)
        return list_message(approved)

    async def CloseApprovedList(  # noqa: N802  # gRPC method name
        self, request: expertise_pb2.CloseApprovedListRequest, context: Context
    ) -> expertise_pb2.ApprovedList:
        del context
        city_id = check_city_id(request.city_id)
        approved = await asyncio.to_thread(
            self.app.close_list, city_id, request.kind, principal().subject
        )
        return list_message(approved)

    async def _require_chair_or_office(self, action: str) -> None:
        """Sessions are scheduled and held by the chair, or by the programme office."""
        caller = principal()
        if OFFICE in caller.roles:
            return
        council = await asyncio.to_thread(self.app.council)
        council.check_chair(caller.subject, action)


def weights_message(weights: Mapping[str, int]) -> expertise_pb2.CriterionWeights:
    return expertise_pb2.CriterionWeights(**{c: weights[c] for c in CRITERIA})


def council_message(council: Council) -> expertise_pb2.Council:
    return expertise_pb2.Council(
        members=[
            expertise_pb2.Member(person_id=m["person_id"], name=m["name"], cities=m["cities"])
            for m in sorted(council.members.values(), key=lambda m: str(m["person_id"]))
        ],
        chair_id=council.chair_id or "",
        quorum=council.quorum,
        quorum_required=council.quorum_required(),
        weights=weights_message(council.weights),
        version=council.version,
    )


def decimal_text(value: object) -> str:
    return "" if value is None else str(value)


def review_message(review: Review) -> expertise_pb2.Review:
    summary = review.summary()
    message = expertise_pb2.Review(
        review_id=str(review.id),
        practice_id=review.practice_id,
        city_id=review.city_id,
        round=review.round,
        practice_kind=review.practice_kind,
        practice_title=review.practice_title,
        weights=weights_message(review.weights),
        recusals=[
            expertise_pb2.Recusal(person_id=p, reason=r) for p, r in sorted(review.recused.items())
        ],
        scores=[
            expertise_pb2.ExpertScore(
                person_id=person_id,
                scores=expertise_pb2.CriterionScores(**scores),
                weighted=str(review.weighted_score_of(person_id)),
            )
            for person_id, scores in review.scores.items()
        ],
        aggregate=expertise_pb2.ScoreAggregate(
            experts=summary.experts,
            aggregate=decimal_text(summary.aggregate),
            minimum=decimal_text(summary.minimum),
            maximum=decimal_text(summary.maximum),
            stdev=decimal_text(summary.stdev),
            per_criterion={c: str(v) for c, v in summary.per_criterion.items()},
        ),
        status="concluded" if review.concluded else "open",
        opened_at=timestamp(review.created_on),
        version=review.version,
        assessment=assessment_message(review.weights, review.assessment),
    )
    if review.concluded:
        message.decision.CopyFrom(decision_message(review))
    return message


def assessment_message(
    weights: Mapping[str, int], assessment: Mapping[str, Any] | None
) -> expertise_pb2.WorkingGroupAssessment | None:
    """The working group's assessment, from the aggregate or the read model (the same keys)."""
    if not assessment:
        return None
    return expertise_pb2.WorkingGroupAssessment(
        person_id=assessment["person_id"],
        scores=expertise_pb2.CriterionScores(**assessment["scores"]),
        rationale=assessment["rationale"],
        weighted=str(weighted_score_of(dict(weights), assessment["scores"])),
        revision=assessment["revision"],
        assessed_at=timestamp(assessment["assessed_at"]),
    )


def review_document_message(doc: Mapping[str, Any]) -> expertise_pb2.Review:
    """A review as the read model holds it: the same message GetReview builds from events."""
    weights: dict[str, int] = doc.get("weights") or {}
    scores = {s["person_id"]: s["scores"] for s in doc.get("scores", [])}
    summary = summarize(weights, scores)
    decision = doc.get("decision")
    message = expertise_pb2.Review(
        review_id=doc["_id"],
        practice_id=doc.get("practice_id", ""),
        city_id=doc.get("city_id", ""),
        round=doc.get("round", ""),
        practice_kind=doc.get("practice_kind", ""),
        practice_title=doc.get("practice_title", ""),
        weights=weights_message(weights) if weights else None,
        recusals=[
            expertise_pb2.Recusal(person_id=r["person_id"], reason=r["reason"])
            for r in sorted(doc.get("recusals", []), key=lambda r: str(r["person_id"]))
        ],
        scores=[
            expertise_pb2.ExpertScore(
                person_id=person_id,
                scores=expertise_pb2.CriterionScores(**given),
                weighted=str(weighted_score_of(weights, given)),
            )
            for person_id, given in scores.items()
        ],
        aggregate=expertise_pb2.ScoreAggregate(
            experts=summary.experts,
            aggregate=decimal_text(summary.aggregate),
            minimum=decimal_text(summary.minimum),
            maximum=decimal_text(summary.maximum),
            stdev=decimal_text(summary.stdev),
            per_criterion={c: str(v) for c, v in summary.per_criterion.items()},
        ),
        status=doc.get("status", ""),
        opened_at=timestamp(doc["opened_at"]) if doc.get("opened_at") else None,
        version=doc.get("version", 0),
        assessment=assessment_message(weights, doc.get("assessment")),
    )
    if decision:
        message.decision.CopyFrom(
            expertise_pb2.Decision(
                verdict=decision["verdict"],
                rationale=decision["rationale"],
                session_id=decision["session_id"],
                priority_rank=decision.get("priority_rank") or 0,
                expected_results=decision["expected_results"],
                deadlines=decision["deadlines"],
                resource_sources=decision["resource_sources"],
                regulation_proposals=decision["regulation_proposals"],
                aggregate_score=decision.get("aggregate_score") or "",
                concluded_at=timestamp(decision["concluded_at"]),
            )
        )
    return message


def decision_message(review: Review) -> expertise_pb2.Decision:
    plan: dict[str, Any] = review.plan
    return expertise_pb2.Decision(
        verdict=review.verdict or "",
        rationale=review.rationale,
        session_id=review.session_id or "",
        priority_rank=plan.get("priority_rank") or 0,
        expected_results=plan.get("expected_results", ""),
        deadlines=plan.get("deadlines", ""),
        resource_sources=plan.get("resource_sources", ""),
        regulation_proposals=plan.get("regulation_proposals", ""),
        aggregate_score=review.aggregate_score or "",
        concluded_at=timestamp(review.modified_on),
    )


def session_message(session: CouncilSession) -> expertise_pb2.CouncilSession:
    return expertise_pb2.CouncilSession(
        session_id=str(session.id),
        city_id=session.city_id,
        scheduled_on=session.scheduled_on,
        agenda=session.agenda,
        status="scheduled" if session.held_on is None else "held",
        held_on=session.held_on or "",
        attendees=session.attendees,
        quorum_required=session.quorum_required,
        quorum_met=session.quorum_met,
        minutes=session.minutes,
        version=session.version,
    )


def session_document_message(doc: Mapping[str, Any]) -> expertise_pb2.CouncilSession:
    return expertise_pb2.CouncilSession(
        session_id=doc["_id"],
        city_id=doc.get("city_id", ""),
        scheduled_on=doc.get("scheduled_on", ""),
        agenda=doc.get("agenda", []),
        status=doc.get("status", ""),
        held_on=doc.get("held_on", ""),
        attendees=doc.get("attendees", []),
        quorum_required=doc.get("quorum_required", 0),
        quorum_met=doc.get("quorum_met", False),
        minutes=doc.get("minutes", ""),
        decisions=[
            expertise_pb2.SessionDecision(
                review_id=d["review_id"],
                practice_id=d["practice_id"],
                round=d["round"],
                verdict=d["verdict"],
                rationale=d["rationale"],
                priority_rank=d.get("priority_rank") or 0,
                aggregate_score=d.get("aggregate_score") or "",
            )
            for d in doc.get("decisions", [])
        ],
        version=doc.get("version", 0),
    )


def list_message(approved: ApprovedList) -> expertise_pb2.ApprovedList:
    return expertise_pb2.ApprovedList(
        city_id=approved.city_id,
        kind=approved.kind,
        entries=[
            expertise_pb2.ListEntry(
                practice_id=e["practice_id"],
                review_id=e["review_id"],
                priority_rank=e["priority_rank"] or 0,
            )
            for e in approved.ordered()
        ],
        closed=approved.closed,
    )


def registrations(
    app: ExpertiseApplication, db: Database, registry: RegistryClient | None = None
) -> list[Registration]:
    return [
        Registration(
            add=expertise_pb2_grpc.add_ExpertiseServiceServicer_to_server,
            servicer=ExpertiseServicer(app, db),
            service_name=SERVICE_NAME,
            access=policy(app, db, registry),
        )
    ]
