import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EventEnvelope(_message.Message):
    __slots__ = ("event_id", "event_type", "schema_version", "service", "city_id", "aggregate_id", "aggregate_version", "notification_id", "occurred_at", "traceparent", "payload_json")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_ID_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    TRACEPARENT_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    event_type: str
    schema_version: int
    service: str
    city_id: str
    aggregate_id: str
    aggregate_version: int
    notification_id: int
    occurred_at: _timestamp_pb2.Timestamp
    traceparent: str
    payload_json: str
    def __init__(self, event_id: _Optional[str] = ..., event_type: _Optional[str] = ..., schema_version: _Optional[int] = ..., service: _Optional[str] = ..., city_id: _Optional[str] = ..., aggregate_id: _Optional[str] = ..., aggregate_version: _Optional[int] = ..., notification_id: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., traceparent: _Optional[str] = ..., payload_json: _Optional[str] = ...) -> None: ...

class ReadEventsRequest(_message.Message):
    __slots__ = ("after", "limit", "event_types")
    AFTER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    after: int
    limit: int
    event_types: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, after: _Optional[int] = ..., limit: _Optional[int] = ..., event_types: _Optional[_Iterable[str]] = ...) -> None: ...

class ReadEventsResponse(_message.Message):
    __slots__ = ("events", "next_after", "max_notification_id")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_AFTER_FIELD_NUMBER: _ClassVar[int]
    MAX_NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[EventEnvelope]
    next_after: int
    max_notification_id: int
    def __init__(self, events: _Optional[_Iterable[_Union[EventEnvelope, _Mapping]]] = ..., next_after: _Optional[int] = ..., max_notification_id: _Optional[int] = ...) -> None: ...
