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
