import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CriterionScores(_message.Message):
    __slots__ = ("effectiveness", "resource_intensity", "time_to_implement", "fit_to_city_needs")
    EFFECTIVENESS_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_INTENSITY_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_IMPLEMENT_FIELD_NUMBER: _ClassVar[int]
    FIT_TO_CITY_NEEDS_FIELD_NUMBER: _ClassVar[int]
    effectiveness: int
    resource_intensity: int
    time_to_implement: int
    fit_to_city_needs: int
    def __init__(self, effectiveness: _Optional[int] = ..., resource_intensity: _Optional[int] = ..., time_to_implement: _Optional[int] = ..., fit_to_city_needs: _Optional[int] = ...) -> None: ...

class CriterionWeights(_message.Message):
    __slots__ = ("effectiveness", "resource_intensity", "time_to_implement", "fit_to_city_needs")
    EFFECTIVENESS_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_INTENSITY_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_IMPLEMENT_FIELD_NUMBER: _ClassVar[int]
    FIT_TO_CITY_NEEDS_FIELD_NUMBER: _ClassVar[int]
    effectiveness: int
    resource_intensity: int
    time_to_implement: int
    fit_to_city_needs: int
    def __init__(self, effectiveness: _Optional[int] = ..., resource_intensity: _Optional[int] = ..., time_to_implement: _Optional[int] = ..., fit_to_city_needs: _Optional[int] = ...) -> None: ...

class Member(_message.Message):
    __slots__ = ("person_id", "name", "cities")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CITIES_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    name: str
    cities: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, person_id: _Optional[str] = ..., name: _Optional[str] = ..., cities: _Optional[_Iterable[str]] = ...) -> None: ...

class Council(_message.Message):
    __slots__ = ("members", "chair_id", "quorum", "quorum_required", "weights", "version")
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    CHAIR_ID_FIELD_NUMBER: _ClassVar[int]
    QUORUM_FIELD_NUMBER: _ClassVar[int]
    QUORUM_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[Member]
    chair_id: str
    quorum: int
    quorum_required: int
    weights: CriterionWeights
    version: int
    def __init__(self, members: _Optional[_Iterable[_Union[Member, _Mapping]]] = ..., chair_id: _Optional[str] = ..., quorum: _Optional[int] = ..., quorum_required: _Optional[int] = ..., weights: _Optional[_Union[CriterionWeights, _Mapping]] = ..., version: _Optional[int] = ...) -> None: ...

class FormCouncilRequest(_message.Message):
    __slots__ = ("quorum",)
    QUORUM_FIELD_NUMBER: _ClassVar[int]
    quorum: int
    def __init__(self, quorum: _Optional[int] = ...) -> None: ...

class GetCouncilRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AdmitMemberRequest(_message.Message):
    __slots__ = ("member",)
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    member: Member
    def __init__(self, member: _Optional[_Union[Member, _Mapping]] = ...) -> None: ...

class ChangeMemberCitiesRequest(_message.Message):
    __slots__ = ("person_id", "cities")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    CITIES_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    cities: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, person_id: _Optional[str] = ..., cities: _Optional[_Iterable[str]] = ...) -> None: ...

class RemoveMemberRequest(_message.Message):
    __slots__ = ("person_id", "reason")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    reason: str
    def __init__(self, person_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class AppointChairRequest(_message.Message):
    __slots__ = ("person_id",)
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    def __init__(self, person_id: _Optional[str] = ...) -> None: ...

class SetQuorumRequest(_message.Message):
    __slots__ = ("quorum",)
    QUORUM_FIELD_NUMBER: _ClassVar[int]
    quorum: int
    def __init__(self, quorum: _Optional[int] = ...) -> None: ...

class SetCriterionWeightsRequest(_message.Message):
    __slots__ = ("weights",)
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    weights: CriterionWeights
    def __init__(self, weights: _Optional[_Union[CriterionWeights, _Mapping]] = ...) -> None: ...

class ExpertScore(_message.Message):
    __slots__ = ("person_id", "scores", "weighted")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    scores: CriterionScores
    weighted: str
    def __init__(self, person_id: _Optional[str] = ..., scores: _Optional[_Union[CriterionScores, _Mapping]] = ..., weighted: _Optional[str] = ...) -> None: ...

class ScoreAggregate(_message.Message):
    __slots__ = ("experts", "aggregate", "minimum", "maximum", "stdev", "per_criterion")
    class PerCriterionEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    EXPERTS_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_FIELD_NUMBER: _ClassVar[int]
    MAXIMUM_FIELD_NUMBER: _ClassVar[int]
    STDEV_FIELD_NUMBER: _ClassVar[int]
    PER_CRITERION_FIELD_NUMBER: _ClassVar[int]
    experts: int
    aggregate: str
    minimum: str
    maximum: str
    stdev: str
    per_criterion: _containers.ScalarMap[str, str]
    def __init__(self, experts: _Optional[int] = ..., aggregate: _Optional[str] = ..., minimum: _Optional[str] = ..., maximum: _Optional[str] = ..., stdev: _Optional[str] = ..., per_criterion: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Recusal(_message.Message):
    __slots__ = ("person_id", "reason")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    reason: str
    def __init__(self, person_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class Decision(_message.Message):
    __slots__ = ("verdict", "rationale", "session_id", "priority_rank", "expected_results", "deadlines", "resource_sources", "regulation_proposals", "aggregate_score", "concluded_at")
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_RANK_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_RESULTS_FIELD_NUMBER: _ClassVar[int]
    DEADLINES_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_SOURCES_FIELD_NUMBER: _ClassVar[int]
    REGULATION_PROPOSALS_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_SCORE_FIELD_NUMBER: _ClassVar[int]
    CONCLUDED_AT_FIELD_NUMBER: _ClassVar[int]
    verdict: str
    rationale: str
    session_id: str
    priority_rank: int
    expected_results: str
    deadlines: str
    resource_sources: str
    regulation_proposals: str
    aggregate_score: str
    concluded_at: _timestamp_pb2.Timestamp
    def __init__(self, verdict: _Optional[str] = ..., rationale: _Optional[str] = ..., session_id: _Optional[str] = ..., priority_rank: _Optional[int] = ..., expected_results: _Optional[str] = ..., deadlines: _Optional[str] = ..., resource_sources: _Optional[str] = ..., regulation_proposals: _Optional[str] = ..., aggregate_score: _Optional[str] = ..., concluded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WorkingGroupAssessment(_message.Message):
    __slots__ = ("person_id", "scores", "rationale", "weighted", "revision", "assessed_at")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    ASSESSED_AT_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    scores: CriterionScores
    rationale: str
    weighted: str
    revision: int
    assessed_at: _timestamp_pb2.Timestamp
    def __init__(self, person_id: _Optional[str] = ..., scores: _Optional[_Union[CriterionScores, _Mapping]] = ..., rationale: _Optional[str] = ..., weighted: _Optional[str] = ..., revision: _Optional[int] = ..., assessed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Review(_message.Message):
    __slots__ = ("review_id", "practice_id", "city_id", "round", "practice_kind", "practice_title", "weights", "recusals", "scores", "aggregate", "status", "decision", "opened_at", "version", "assessment")
    REVIEW_ID_FIELD_NUMBER: _ClassVar[int]
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    PRACTICE_KIND_FIELD_NUMBER: _ClassVar[int]
    PRACTICE_TITLE_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    RECUSALS_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    review_id: str
    practice_id: str
    city_id: str
    round: str
    practice_kind: str
    practice_title: str
    weights: CriterionWeights
    recusals: _containers.RepeatedCompositeFieldContainer[Recusal]
    scores: _containers.RepeatedCompositeFieldContainer[ExpertScore]
    aggregate: ScoreAggregate
    status: str
    decision: Decision
    opened_at: _timestamp_pb2.Timestamp
    version: int
    assessment: WorkingGroupAssessment
    def __init__(self, review_id: _Optional[str] = ..., practice_id: _Optional[str] = ..., city_id: _Optional[str] = ..., round: _Optional[str] = ..., practice_kind: _Optional[str] = ..., practice_title: _Optional[str] = ..., weights: _Optional[_Union[CriterionWeights, _Mapping]] = ..., recusals: _Optional[_Iterable[_Union[Recusal, _Mapping]]] = ..., scores: _Optional[_Iterable[_Union[ExpertScore, _Mapping]]] = ..., aggregate: _Optional[_Union[ScoreAggregate, _Mapping]] = ..., status: _Optional[str] = ..., decision: _Optional[_Union[Decision, _Mapping]] = ..., opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ..., assessment: _Optional[_Union[WorkingGroupAssessment, _Mapping]] = ...) -> None: ...

class OpenReviewRequest(_message.Message):
    __slots__ = ("practice_id", "round", "request_id")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    round: str
    request_id: str
    def __init__(self, practice_id: _Optional[str] = ..., round: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ScorePracticeRequest(_message.Message):
    __slots__ = ("review_id", "scores")
    REVIEW_ID_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    review_id: str
    scores: CriterionScores
    def __init__(self, review_id: _Optional[str] = ..., scores: _Optional[_Union[CriterionScores, _Mapping]] = ...) -> None: ...

class AssessPracticeRequest(_message.Message):
    __slots__ = ("review_id", "scores", "rationale")
    REVIEW_ID_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    review_id: str
    scores: CriterionScores
    rationale: str
    def __init__(self, review_id: _Optional[str] = ..., scores: _Optional[_Union[CriterionScores, _Mapping]] = ..., rationale: _Optional[str] = ...) -> None: ...

class ConcludeReviewRequest(_message.Message):
    __slots__ = ("review_id", "session_id", "verdict", "rationale", "priority_rank", "expected_results", "deadlines", "resource_sources", "regulation_proposals")
    REVIEW_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_RANK_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_RESULTS_FIELD_NUMBER: _ClassVar[int]
    DEADLINES_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_SOURCES_FIELD_NUMBER: _ClassVar[int]
    REGULATION_PROPOSALS_FIELD_NUMBER: _ClassVar[int]
    review_id: str
    session_id: str
    verdict: str
    rationale: str
    priority_rank: int
    expected_results: str
    deadlines: str
    resource_sources: str
    regulation_proposals: str
    def __init__(self, review_id: _Optional[str] = ..., session_id: _Optional[str] = ..., verdict: _Optional[str] = ..., rationale: _Optional[str] = ..., priority_rank: _Optional[int] = ..., expected_results: _Optional[str] = ..., deadlines: _Optional[str] = ..., resource_sources: _Optional[str] = ..., regulation_proposals: _Optional[str] = ...) -> None: ...

class GetReviewRequest(_message.Message):
    __slots__ = ("review_id",)
    REVIEW_ID_FIELD_NUMBER: _ClassVar[int]
    review_id: str
    def __init__(self, review_id: _Optional[str] = ...) -> None: ...

class ListPendingReviewsRequest(_message.Message):
    __slots__ = ("person_id", "page_size", "page_token")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    page_size: int
    page_token: str
    def __init__(self, person_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListReviewsRequest(_message.Message):
    __slots__ = ("city_id", "status", "practice_id", "round", "verdict", "page_size", "page_token")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    status: str
    practice_id: str
    round: str
    verdict: str
    page_size: int
    page_token: str
    def __init__(self, city_id: _Optional[str] = ..., status: _Optional[str] = ..., practice_id: _Optional[str] = ..., round: _Optional[str] = ..., verdict: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListReviewsResponse(_message.Message):
    __slots__ = ("reviews", "next_page_token")
    REVIEWS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    reviews: _containers.RepeatedCompositeFieldContainer[Review]
    next_page_token: str
    def __init__(self, reviews: _Optional[_Iterable[_Union[Review, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CouncilSession(_message.Message):
    __slots__ = ("session_id", "city_id", "scheduled_on", "agenda", "status", "held_on", "attendees", "quorum_required", "quorum_met", "minutes", "decisions", "version")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_ON_FIELD_NUMBER: _ClassVar[int]
    AGENDA_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HELD_ON_FIELD_NUMBER: _ClassVar[int]
    ATTENDEES_FIELD_NUMBER: _ClassVar[int]
    QUORUM_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    QUORUM_MET_FIELD_NUMBER: _ClassVar[int]
    MINUTES_FIELD_NUMBER: _ClassVar[int]
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    city_id: str
    scheduled_on: str
    agenda: _containers.RepeatedScalarFieldContainer[str]
    status: str
    held_on: str
    attendees: _containers.RepeatedScalarFieldContainer[str]
    quorum_required: int
    quorum_met: bool
    minutes: str
    decisions: _containers.RepeatedCompositeFieldContainer[SessionDecision]
    version: int
    def __init__(self, session_id: _Optional[str] = ..., city_id: _Optional[str] = ..., scheduled_on: _Optional[str] = ..., agenda: _Optional[_Iterable[str]] = ..., status: _Optional[str] = ..., held_on: _Optional[str] = ..., attendees: _Optional[_Iterable[str]] = ..., quorum_required: _Optional[int] = ..., quorum_met: _Optional[bool] = ..., minutes: _Optional[str] = ..., decisions: _Optional[_Iterable[_Union[SessionDecision, _Mapping]]] = ..., version: _Optional[int] = ...) -> None: ...

class SessionDecision(_message.Message):
    __slots__ = ("review_id", "practice_id", "round", "verdict", "rationale", "priority_rank", "aggregate_score")
    REVIEW_ID_FIELD_NUMBER: _ClassVar[int]
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_RANK_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_SCORE_FIELD_NUMBER: _ClassVar[int]
    review_id: str
    practice_id: str
    round: str
    verdict: str
    rationale: str
    priority_rank: int
    aggregate_score: str
    def __init__(self, review_id: _Optional[str] = ..., practice_id: _Optional[str] = ..., round: _Optional[str] = ..., verdict: _Optional[str] = ..., rationale: _Optional[str] = ..., priority_rank: _Optional[int] = ..., aggregate_score: _Optional[str] = ...) -> None: ...

class ScheduleSessionRequest(_message.Message):
    __slots__ = ("city_id", "scheduled_on", "agenda", "request_id")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_ON_FIELD_NUMBER: _ClassVar[int]
    AGENDA_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    scheduled_on: str
    agenda: _containers.RepeatedScalarFieldContainer[str]
    request_id: str
    def __init__(self, city_id: _Optional[str] = ..., scheduled_on: _Optional[str] = ..., agenda: _Optional[_Iterable[str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class HoldSessionRequest(_message.Message):
    __slots__ = ("session_id", "held_on", "attendees", "minutes")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    HELD_ON_FIELD_NUMBER: _ClassVar[int]
    ATTENDEES_FIELD_NUMBER: _ClassVar[int]
    MINUTES_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    held_on: str
    attendees: _containers.RepeatedScalarFieldContainer[str]
    minutes: str
    def __init__(self, session_id: _Optional[str] = ..., held_on: _Optional[str] = ..., attendees: _Optional[_Iterable[str]] = ..., minutes: _Optional[str] = ...) -> None: ...

class ListSessionsRequest(_message.Message):
    __slots__ = ("city_id", "page_size", "page_token", "status", "month")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    page_size: int
    page_token: str
    status: str
    month: str
    def __init__(self, city_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., status: _Optional[str] = ..., month: _Optional[str] = ...) -> None: ...

class ListSessionsResponse(_message.Message):
    __slots__ = ("sessions", "next_page_token")
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    sessions: _containers.RepeatedCompositeFieldContainer[CouncilSession]
    next_page_token: str
    def __init__(self, sessions: _Optional[_Iterable[_Union[CouncilSession, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListEntry(_message.Message):
    __slots__ = ("practice_id", "review_id", "priority_rank")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    REVIEW_ID_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_RANK_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    review_id: str
    priority_rank: int
    def __init__(self, practice_id: _Optional[str] = ..., review_id: _Optional[str] = ..., priority_rank: _Optional[int] = ...) -> None: ...

class ApprovedList(_message.Message):
    __slots__ = ("city_id", "kind", "entries", "closed")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    kind: str
    entries: _containers.RepeatedCompositeFieldContainer[ListEntry]
    closed: bool
    def __init__(self, city_id: _Optional[str] = ..., kind: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[ListEntry, _Mapping]]] = ..., closed: _Optional[bool] = ...) -> None: ...

class GetApprovedListRequest(_message.Message):
    __slots__ = ("city_id", "kind")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    kind: str
    def __init__(self, city_id: _Optional[str] = ..., kind: _Optional[str] = ...) -> None: ...

class CloseApprovedListRequest(_message.Message):
    __slots__ = ("city_id", "kind")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    kind: str
    def __init__(self, city_id: _Optional[str] = ..., kind: _Optional[str] = ...) -> None: ...
