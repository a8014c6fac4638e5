import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ProblemStats(_message.Message):
    __slots__ = ("city_id", "month", "problems_registered", "updated_at")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_REGISTERED_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    month: str
    problems_registered: int
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, city_id: _Optional[str] = ..., month: _Optional[str] = ..., problems_registered: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetProblemStatsRequest(_message.Message):
    __slots__ = ("city_id", "month")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    month: str
    def __init__(self, city_id: _Optional[str] = ..., month: _Optional[str] = ...) -> None: ...

class ListProblemStatsRequest(_message.Message):
    __slots__ = ("city_id",)
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    def __init__(self, city_id: _Optional[str] = ...) -> None: ...

class ListProblemStatsResponse(_message.Message):
    __slots__ = ("months",)
    MONTHS_FIELD_NUMBER: _ClassVar[int]
    months: _containers.RepeatedCompositeFieldContainer[ProblemStats]
    def __init__(self, months: _Optional[_Iterable[_Union[ProblemStats, _Mapping]]] = ...) -> None: ...

class Indicator(_message.Message):
    __slots__ = ("name", "weight", "achieved", "target", "attainment", "points", "evidence", "note", "by_direction")
    NAME_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    ACHIEVED_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    ATTAINMENT_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    BY_DIRECTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    weight: int
    achieved: int
    target: int
    attainment: str
    points: str
    evidence: _containers.RepeatedScalarFieldContainer[str]
    note: str
    by_direction: _containers.RepeatedCompositeFieldContainer[DirectionVoters]
    def __init__(self, name: _Optional[str] = ..., weight: _Optional[int] = ..., achieved: _Optional[int] = ..., target: _Optional[int] = ..., attainment: _Optional[str] = ..., points: _Optional[str] = ..., evidence: _Optional[_Iterable[str]] = ..., note: _Optional[str] = ..., by_direction: _Optional[_Iterable[_Union[DirectionVoters, _Mapping]]] = ...) -> None: ...

class DirectionVoters(_message.Message):
    __slots__ = ("direction", "voters")
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    VOTERS_FIELD_NUMBER: _ClassVar[int]
    direction: str
    voters: int
    def __init__(self, direction: _Optional[str] = ..., voters: _Optional[int] = ...) -> None: ...

class KnockOut(_message.Message):
    __slots__ = ("code", "title", "outcome", "reason", "evidence")
    CODE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    code: str
    title: str
    outcome: str
    reason: str
    evidence: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, code: _Optional[str] = ..., title: _Optional[str] = ..., outcome: _Optional[str] = ..., reason: _Optional[str] = ..., evidence: _Optional[_Iterable[str]] = ...) -> None: ...

class Amendment(_message.Message):
    __slots__ = ("event_id", "requested_by", "reason", "amended_at")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    AMENDED_AT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    requested_by: str
    reason: str
    amended_at: _timestamp_pb2.Timestamp
    def __init__(self, event_id: _Optional[str] = ..., requested_by: _Optional[str] = ..., reason: _Optional[str] = ..., amended_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Scorecard(_message.Message):
    __slots__ = ("city_id", "month", "status", "policy_version", "total", "verdict", "indicators", "knockouts", "failed_knockouts", "conclusion", "curator", "signed_by", "amendments")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    INDICATORS_FIELD_NUMBER: _ClassVar[int]
    KNOCKOUTS_FIELD_NUMBER: _ClassVar[int]
    FAILED_KNOCKOUTS_FIELD_NUMBER: _ClassVar[int]
    CONCLUSION_FIELD_NUMBER: _ClassVar[int]
    CURATOR_FIELD_NUMBER: _ClassVar[int]
    SIGNED_BY_FIELD_NUMBER: _ClassVar[int]
    AMENDMENTS_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    month: str
    status: str
    policy_version: str
    total: str
    verdict: str
    indicators: _containers.RepeatedCompositeFieldContainer[Indicator]
    knockouts: _containers.RepeatedCompositeFieldContainer[KnockOut]
    failed_knockouts: _containers.RepeatedScalarFieldContainer[str]
    conclusion: str
    curator: str
    signed_by: str
    amendments: _containers.RepeatedCompositeFieldContainer[Amendment]
    def __init__(self, city_id: _Optional[str] = ..., month: _Optional[str] = ..., status: _Optional[str] = ..., policy_version: _Optional[str] = ..., total: _Optional[str] = ..., verdict: _Optional[str] = ..., indicators: _Optional[_Iterable[_Union[Indicator, _Mapping]]] = ..., knockouts: _Optional[_Iterable[_Union[KnockOut, _Mapping]]] = ..., failed_knockouts: _Optional[_Iterable[str]] = ..., conclusion: _Optional[str] = ..., curator: _Optional[str] = ..., signed_by: _Optional[str] = ..., amendments: _Optional[_Iterable[_Union[Amendment, _Mapping]]] = ...) -> None: ...

class GetScorecardRequest(_message.Message):
    __slots__ = ("city_id", "month")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    month: str
    def __init__(self, city_id: _Optional[str] = ..., month: _Optional[str] = ...) -> None: ...

class EvaluateMonthRequest(_message.Message):
    __slots__ = ("city_id", "month", "score", "branding_used", "methodology_followed", "conclusion")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    BRANDING_USED_FIELD_NUMBER: _ClassVar[int]
    METHODOLOGY_FOLLOWED_FIELD_NUMBER: _ClassVar[int]
    CONCLUSION_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    month: str
    score: str
    branding_used: bool
    methodology_followed: bool
    conclusion: str
    def __init__(self, city_id: _Optional[str] = ..., month: _Optional[str] = ..., score: _Optional[str] = ..., branding_used: _Optional[bool] = ..., methodology_followed: _Optional[bool] = ..., conclusion: _Optional[str] = ...) -> None: ...

class SignMonthRequest(_message.Message):
    __slots__ = ("city_id", "month")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    month: str
    def __init__(self, city_id: _Optional[str] = ..., month: _Optional[str] = ...) -> None: ...

class CloseReportingRequest(_message.Message):
    __slots__ = ("city_id", "month", "reason")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    month: str
    reason: str
    def __init__(self, city_id: _Optional[str] = ..., month: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class AmendMonthRequest(_message.Message):
    __slots__ = ("city_id", "month", "reason")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    month: str
    reason: str
    def __init__(self, city_id: _Optional[str] = ..., month: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class GetLeaderboardRequest(_message.Message):
    __slots__ = ("month", "page_size", "page_token")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    month: str
    page_size: int
    page_token: str
    def __init__(self, month: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class LeaderboardEntry(_message.Message):
    __slots__ = ("rank", "scorecard")
    RANK_FIELD_NUMBER: _ClassVar[int]
    SCORECARD_FIELD_NUMBER: _ClassVar[int]
    rank: int
    scorecard: Scorecard
    def __init__(self, rank: _Optional[int] = ..., scorecard: _Optional[_Union[Scorecard, _Mapping]] = ...) -> None: ...

class GetLeaderboardResponse(_message.Message):
    __slots__ = ("month", "entries", "next_page_token")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    month: str
    entries: _containers.RepeatedCompositeFieldContainer[LeaderboardEntry]
    next_page_token: str
    def __init__(self, month: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[LeaderboardEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetIndicatorHistoryRequest(_message.Message):
    __slots__ = ("city_id", "indicator", "from_month", "to_month")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    INDICATOR_FIELD_NUMBER: _ClassVar[int]
    FROM_MONTH_FIELD_NUMBER: _ClassVar[int]
    TO_MONTH_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    indicator: str
    from_month: str
    to_month: str
    def __init__(self, city_id: _Optional[str] = ..., indicator: _Optional[str] = ..., from_month: _Optional[str] = ..., to_month: _Optional[str] = ...) -> None: ...

class IndicatorPoint(_message.Message):
    __slots__ = ("month", "status", "attainment", "points", "total", "verdict", "policy_version", "evidence")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ATTAINMENT_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    month: str
    status: str
    attainment: str
    points: str
    total: str
    verdict: str
    policy_version: str
    evidence: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, month: _Optional[str] = ..., status: _Optional[str] = ..., attainment: _Optional[str] = ..., points: _Optional[str] = ..., total: _Optional[str] = ..., verdict: _Optional[str] = ..., policy_version: _Optional[str] = ..., evidence: _Optional[_Iterable[str]] = ...) -> None: ...

class GetIndicatorHistoryResponse(_message.Message):
    __slots__ = ("city_id", "indicator", "points")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    INDICATOR_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    indicator: str
    points: _containers.RepeatedCompositeFieldContainer[IndicatorPoint]
    def __init__(self, city_id: _Optional[str] = ..., indicator: _Optional[str] = ..., points: _Optional[_Iterable[_Union[IndicatorPoint, _Mapping]]] = ...) -> None: ...

class WatchScorecardsRequest(_message.Message):
    __slots__ = ("city_id", "month")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    month: str
    def __init__(self, city_id: _Optional[str] = ..., month: _Optional[str] = ...) -> None: ...

class ScoringPolicy(_message.Message):
    __slots__ = ("version", "year", "weights", "packaged_target", "improvement_target", "external_resources_target", "minimum_packaged", "minimum_speakers")
    class WeightsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    VERSION_FIELD_NUMBER: _ClassVar[int]
    YEAR_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    PACKAGED_TARGET_FIELD_NUMBER: _ClassVar[int]
    IMPROVEMENT_TARGET_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_RESOURCES_TARGET_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_PACKAGED_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_SPEAKERS_FIELD_NUMBER: _ClassVar[int]
    version: str
    year: int
    weights: _containers.ScalarMap[str, int]
    packaged_target: int
    improvement_target: int
    external_resources_target: int
    minimum_packaged: int
    minimum_speakers: int
    def __init__(self, version: _Optional[str] = ..., year: _Optional[int] = ..., weights: _Optional[_Mapping[str, int]] = ..., packaged_target: _Optional[int] = ..., improvement_target: _Optional[int] = ..., external_resources_target: _Optional[int] = ..., minimum_packaged: _Optional[int] = ..., minimum_speakers: _Optional[int] = ...) -> None: ...

class ListPoliciesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPoliciesResponse(_message.Message):
    __slots__ = ("policies",)
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    policies: _containers.RepeatedCompositeFieldContainer[ScoringPolicy]
    def __init__(self, policies: _Optional[_Iterable[_Union[ScoringPolicy, _Mapping]]] = ...) -> None: ...

class ExportMonthRequest(_message.Message):
    __slots__ = ("month", "format")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    month: str
    format: str
    def __init__(self, month: _Optional[str] = ..., format: _Optional[str] = ...) -> None: ...

class ExportMonthResponse(_message.Message):
    __slots__ = ("content_type", "filename", "content")
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    content_type: str
    filename: str
    content: bytes
    def __init__(self, content_type: _Optional[str] = ..., filename: _Optional[str] = ..., content: _Optional[bytes] = ...) -> None: ...
