import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OptionRef(_message.Message):
    __slots__ = ("ref_kind", "ref_id", "label")
    REF_KIND_FIELD_NUMBER: _ClassVar[int]
    REF_ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    ref_kind: str
    ref_id: str
    label: str
    def __init__(self, ref_kind: _Optional[str] = ..., ref_id: _Optional[str] = ..., label: _Optional[str] = ...) -> None: ...

class Option(_message.Message):
    __slots__ = ("option_id", "ref_kind", "ref_id", "label")
    OPTION_ID_FIELD_NUMBER: _ClassVar[int]
    REF_KIND_FIELD_NUMBER: _ClassVar[int]
    REF_ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    option_id: str
    ref_kind: str
    ref_id: str
    label: str
    def __init__(self, option_id: _Optional[str] = ..., ref_kind: _Optional[str] = ..., ref_id: _Optional[str] = ..., label: _Optional[str] = ...) -> None: ...

class CreatePollRequest(_message.Message):
    __slots__ = ("city_id", "kind", "title", "description", "method", "options", "eligible_roles", "quorum", "electorate", "revote_allowed", "opens_at", "closes_at", "subject_practice_id", "request_id")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    ELIGIBLE_ROLES_FIELD_NUMBER: _ClassVar[int]
    QUORUM_FIELD_NUMBER: _ClassVar[int]
    ELECTORATE_FIELD_NUMBER: _ClassVar[int]
    REVOTE_ALLOWED_FIELD_NUMBER: _ClassVar[int]
    OPENS_AT_FIELD_NUMBER: _ClassVar[int]
    CLOSES_AT_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    kind: str
    title: str
    description: str
    method: str
    options: _containers.RepeatedCompositeFieldContainer[OptionRef]
    eligible_roles: _containers.RepeatedScalarFieldContainer[str]
    quorum: int
    electorate: int
    revote_allowed: bool
    opens_at: _timestamp_pb2.Timestamp
    closes_at: _timestamp_pb2.Timestamp
    subject_practice_id: str
    request_id: str
    def __init__(self, city_id: _Optional[str] = ..., kind: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., method: _Optional[str] = ..., options: _Optional[_Iterable[_Union[OptionRef, _Mapping]]] = ..., eligible_roles: _Optional[_Iterable[str]] = ..., quorum: _Optional[int] = ..., electorate: _Optional[int] = ..., revote_allowed: _Optional[bool] = ..., opens_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., closes_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., subject_practice_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class Result(_message.Message):
    __slots__ = ("option_id", "ref_kind", "ref_id", "label", "rank", "score", "votes", "tied")
    OPTION_ID_FIELD_NUMBER: _ClassVar[int]
    REF_KIND_FIELD_NUMBER: _ClassVar[int]
    REF_ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    VOTES_FIELD_NUMBER: _ClassVar[int]
    TIED_FIELD_NUMBER: _ClassVar[int]
    option_id: str
    ref_kind: str
    ref_id: str
    label: str
    rank: int
    score: str
    votes: int
    tied: bool
    def __init__(self, option_id: _Optional[str] = ..., ref_kind: _Optional[str] = ..., ref_id: _Optional[str] = ..., label: _Optional[str] = ..., rank: _Optional[int] = ..., score: _Optional[str] = ..., votes: _Optional[int] = ..., tied: _Optional[bool] = ...) -> None: ...

class Poll(_message.Message):
    __slots__ = ("poll_id", "city_id", "kind", "title", "description", "method", "options", "eligible_roles", "quorum", "electorate", "revote_allowed", "opens_at", "closes_at", "subject_practice_id", "status", "closed_at", "results", "ballots_counted", "turnout", "digest", "quorum_met", "lot", "version")
    POLL_ID_FIELD_NUMBER: _ClassVar[int]
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    ELIGIBLE_ROLES_FIELD_NUMBER: _ClassVar[int]
    QUORUM_FIELD_NUMBER: _ClassVar[int]
    ELECTORATE_FIELD_NUMBER: _ClassVar[int]
    REVOTE_ALLOWED_FIELD_NUMBER: _ClassVar[int]
    OPENS_AT_FIELD_NUMBER: _ClassVar[int]
    CLOSES_AT_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    BALLOTS_COUNTED_FIELD_NUMBER: _ClassVar[int]
    TURNOUT_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    QUORUM_MET_FIELD_NUMBER: _ClassVar[int]
    LOT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    poll_id: str
    city_id: str
    kind: str
    title: str
    description: str
    method: str
    options: _containers.RepeatedCompositeFieldContainer[Option]
    eligible_roles: _containers.RepeatedScalarFieldContainer[str]
    quorum: int
    electorate: int
    revote_allowed: bool
    opens_at: _timestamp_pb2.Timestamp
    closes_at: _timestamp_pb2.Timestamp
    subject_practice_id: str
    status: str
    closed_at: _timestamp_pb2.Timestamp
    results: _containers.RepeatedCompositeFieldContainer[Result]
    ballots_counted: int
    turnout: str
    digest: str
    quorum_met: bool
    lot: _containers.RepeatedScalarFieldContainer[str]
    version: int
    def __init__(self, poll_id: _Optional[str] = ..., city_id: _Optional[str] = ..., kind: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., method: _Optional[str] = ..., options: _Optional[_Iterable[_Union[Option, _Mapping]]] = ..., eligible_roles: _Optional[_Iterable[str]] = ..., quorum: _Optional[int] = ..., electorate: _Optional[int] = ..., revote_allowed: _Optional[bool] = ..., opens_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., closes_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., subject_practice_id: _Optional[str] = ..., status: _Optional[str] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., results: _Optional[_Iterable[_Union[Result, _Mapping]]] = ..., ballots_counted: _Optional[int] = ..., turnout: _Optional[str] = ..., digest: _Optional[str] = ..., quorum_met: _Optional[bool] = ..., lot: _Optional[_Iterable[str]] = ..., version: _Optional[int] = ...) -> None: ...

class ListPollsRequest(_message.Message):
    __slots__ = ("city_id", "kind", "status", "page_size", "page_token")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    kind: str
    status: str
    page_size: int
    page_token: str
    def __init__(self, city_id: _Optional[str] = ..., kind: _Optional[str] = ..., status: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class PollEntry(_message.Message):
    __slots__ = ("poll_id", "city_id", "kind", "title", "method", "status", "opens_at", "closes_at", "closed_at", "ballots_counted")
    POLL_ID_FIELD_NUMBER: _ClassVar[int]
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OPENS_AT_FIELD_NUMBER: _ClassVar[int]
    CLOSES_AT_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    BALLOTS_COUNTED_FIELD_NUMBER: _ClassVar[int]
    poll_id: str
    city_id: str
    kind: str
    title: str
    method: str
    status: str
    opens_at: _timestamp_pb2.Timestamp
    closes_at: _timestamp_pb2.Timestamp
    closed_at: _timestamp_pb2.Timestamp
    ballots_counted: int
    def __init__(self, poll_id: _Optional[str] = ..., city_id: _Optional[str] = ..., kind: _Optional[str] = ..., title: _Optional[str] = ..., method: _Optional[str] = ..., status: _Optional[str] = ..., opens_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., closes_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ballots_counted: _Optional[int] = ...) -> None: ...

class ListPollsResponse(_message.Message):
    __slots__ = ("polls", "next_page_token")
    POLLS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    polls: _containers.RepeatedCompositeFieldContainer[PollEntry]
    next_page_token: str
    def __init__(self, polls: _Optional[_Iterable[_Union[PollEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetPollRequest(_message.Message):
    __slots__ = ("poll_id",)
    POLL_ID_FIELD_NUMBER: _ClassVar[int]
    poll_id: str
    def __init__(self, poll_id: _Optional[str] = ...) -> None: ...

class OpenPollRequest(_message.Message):
    __slots__ = ("poll_id",)
    POLL_ID_FIELD_NUMBER: _ClassVar[int]
    poll_id: str
    def __init__(self, poll_id: _Optional[str] = ...) -> None: ...

class ClosePollRequest(_message.Message):
    __slots__ = ("poll_id",)
    POLL_ID_FIELD_NUMBER: _ClassVar[int]
    poll_id: str
    def __init__(self, poll_id: _Optional[str] = ...) -> None: ...

class Choice(_message.Message):
    __slots__ = ("option_id", "value")
    OPTION_ID_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    option_id: str
    value: int
    def __init__(self, option_id: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...

class CastBallotRequest(_message.Message):
    __slots__ = ("poll_id", "voter_id", "voter_role", "choices")
    POLL_ID_FIELD_NUMBER: _ClassVar[int]
    VOTER_ID_FIELD_NUMBER: _ClassVar[int]
    VOTER_ROLE_FIELD_NUMBER: _ClassVar[int]
    CHOICES_FIELD_NUMBER: _ClassVar[int]
    poll_id: str
    voter_id: str
    voter_role: str
    choices: _containers.RepeatedCompositeFieldContainer[Choice]
    def __init__(self, poll_id: _Optional[str] = ..., voter_id: _Optional[str] = ..., voter_role: _Optional[str] = ..., choices: _Optional[_Iterable[_Union[Choice, _Mapping]]] = ...) -> None: ...

class CastBallotResponse(_message.Message):
    __slots__ = ("poll_id", "receipt", "ballot_version")
    POLL_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    BALLOT_VERSION_FIELD_NUMBER: _ClassVar[int]
    poll_id: str
    receipt: str
    ballot_version: int
    def __init__(self, poll_id: _Optional[str] = ..., receipt: _Optional[str] = ..., ballot_version: _Optional[int] = ...) -> None: ...

class GetLiveResultsRequest(_message.Message):
    __slots__ = ("poll_id",)
    POLL_ID_FIELD_NUMBER: _ClassVar[int]
    poll_id: str
    def __init__(self, poll_id: _Optional[str] = ...) -> None: ...

class LiveResults(_message.Message):
    __slots__ = ("poll_id", "results", "ballots", "updated_at")
    POLL_ID_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    BALLOTS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    poll_id: str
    results: _containers.RepeatedCompositeFieldContainer[Result]
    ballots: int
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, poll_id: _Optional[str] = ..., results: _Optional[_Iterable[_Union[Result, _Mapping]]] = ..., ballots: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetMyReceiptRequest(_message.Message):
    __slots__ = ("poll_id", "voter_id")
    POLL_ID_FIELD_NUMBER: _ClassVar[int]
    VOTER_ID_FIELD_NUMBER: _ClassVar[int]
    poll_id: str
    voter_id: str
    def __init__(self, poll_id: _Optional[str] = ..., voter_id: _Optional[str] = ...) -> None: ...

class VerifyReceiptRequest(_message.Message):
    __slots__ = ("poll_id", "receipt")
    POLL_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    poll_id: str
    receipt: str
    def __init__(self, poll_id: _Optional[str] = ..., receipt: _Optional[str] = ...) -> None: ...

class VerifyReceiptResponse(_message.Message):
    __slots__ = ("digest", "leaf_index", "tree_size", "proof")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    LEAF_INDEX_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PROOF_FIELD_NUMBER: _ClassVar[int]
    digest: str
    leaf_index: int
    tree_size: int
    proof: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, digest: _Optional[str] = ..., leaf_index: _Optional[int] = ..., tree_size: _Optional[int] = ..., proof: _Optional[_Iterable[str]] = ...) -> None: ...
