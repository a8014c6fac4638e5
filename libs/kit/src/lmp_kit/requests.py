"""What every request message is checked for before its handler sees it, whatever the RPC.

A client's mistake is INVALID_ARGUMENT naming the field, never INTERNAL deep in a handler:
timestamps outside what `google.protobuf.Timestamp` can hold (year 1 to 9999, nanos 0 to
999,999,999), enum numbers the schema does not define, text that carries control characters
or bidirectional overrides, and text or lists longer than any programme record needs. Free
text fields (descriptions, reasons, minutes...) may hold line breaks and tabs; every other text
field is one line. The rules and the limits: docs/decisions/0009-robustness.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from lmp_kit.errors import InvalidArgumentError

# Request fields whose text is free prose: line breaks and tabs are part of it.
MULTI_LINE_FIELDS = frozenset(
    {
        "agenda",
        "conclusion",
        "deadlines",
        "description",
        "economic",
        "evidence",
        "expected_results",
        "minutes",
        "note",
        "political",
        "priority_directions",
        "rationale",
        "reason",
        "regulation_proposals",
        "resource_sources",
        "selection_criteria",
        "social",
        "summary",
        "text",
    }
)
SINGLE_LINE_MAX_CHARS = 2_000
MULTI_LINE_MAX_CHARS = 50_000
BYTES_MAX = 1_000_000
REPEATED_MAX_ITEMS = 10_000
# A refusal names a map entry by its key, cut to this much: the message travels in a header.
KEY_SHOWN_CHARS = 40

# C0 and C1 controls, DEL, and the bidirectional embeddings, overrides and isolates
# (U+202A-U+202E, U+2066-U+2069: "Trojan Source" text that reads differently than it runs).
_DIRECTION = "\u202a-\u202e\u2066-\u2069"
_NOT_IN_ONE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_DIRECTION}]")
_NOT_IN_PROSE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_DIRECTION}]")

TIMESTAMP_MIN_SECONDS = -62_135_596_800  # 0001-01-01T00:00:00Z
TIMESTAMP_MAX_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z
DURATION_MAX_SECONDS = 315_576_000_000  # 10,000 years, as the well-known type defines it
NANOS_MAX = 999_999_999

Check = Callable[[Any, str], None]
_checks: dict[FieldDescriptor, Check | None] = {}


def check_request(message: Message) -> None:
    """Raise InvalidArgumentError naming the first field that no request may carry."""
    _check_message(message, "")


def _check_message(message: Message, prefix: str) -> None:
    for field, value in message.ListFields():
        try:
            check = _checks[field]
        except KeyError:
            check = _checks[field] = _compile(field)
        if check is not None:
            check(value, prefix + field.name)


def _compile(field: FieldDescriptor) -> Check | None:
    message_type = field.message_type
    if message_type is not None and message_type.GetOptions().map_entry:
        return _map_check(field)
    single = _single_check(field)
    if single is None:
        return _too_many if _is_repeated(field) else None
    if not _is_repeated(field):
        return single

    def each(values: Any, path: str) -> None:  # noqa: ANN401  # a repeated container
        _too_many(values, path)
        for index, value in enumerate(values):
            single(value, f"{path}[{index}]")

    return each


def _is_repeated(field: FieldDescriptor) -> bool:
    return bool(field.is_repeated)


def _single_check(field: FieldDescriptor) -> Check | None:  # noqa: PLR0911  # one per kind
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return _prose if field.name in MULTI_LINE_FIELDS else _one_line
    if kind == FieldDescriptor.TYPE_BYTES:
        return _bytes
    if kind == FieldDescriptor.TYPE_ENUM:
        return _enum_check(field)
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return _finite
    if kind == FieldDescriptor.TYPE_MESSAGE and field.message_type is not None:
        name = field.message_type.full_name
        if name == "google.protobuf.Timestamp":
            return _timestamp
        if name == "google.protobuf.Duration":
            return _duration
        return _nested
    return None


def _map_check(field: FieldDescriptor) -> Check:
    entry = field.message_type
    assert entry is not None  # noqa: S101  # a map field always has its entry type
    check_key = _single_check(entry.fields_by_name["key"])
    check_value = _single_check(entry.fields_by_name["value"])

    def entries(mapping: Any, path: str) -> None:  # noqa: ANN401  # a map container
        _too_many(mapping, path)
        for key in mapping:
            shown = (
                key
                if not isinstance(key, str) or len(key) <= KEY_SHOWN_CHARS
                else key[:KEY_SHOWN_CHARS] + "…"
            )
            where = f"{path}[{shown!r}]"
            if check_key is not None:
                check_key(key, where)
            if check_value is not None:
                check_value(mapping[key], where)

    return entries


def _refuse(path: str, problem: str) -> None:
    msg = f"{path}: {problem}"
    raise InvalidArgumentError(msg)


def _too_many(values: Any, path: str) -> None:  # noqa: ANN401  # any container
    if len(values) > REPEATED_MAX_ITEMS:
        _refuse(path, f"holds {len(values):,} items; at most {REPEATED_MAX_ITEMS:,} are accepted")


def _text(value: str, path: str, pattern: re.Pattern[str], limit: int, kind: str) -> None:
    if len(value) > limit:
        _refuse(path, f"is {len(value):,} characters long; {kind} holds at most {limit:,}")
    found = pattern.search(value)
    if found is not None:
        char = found.group()
        allowed = (
            "line breaks and tabs are allowed, other control characters are not"
            if kind == "free text"
            else "it is one line of text: no line breaks, tabs or other control characters"
        )
        _refuse(
            path,
            f"contains the character U+{ord(char):04X} at position {found.start()}; {allowed}, "
            "nor bidirectional overrides",
        )


def _one_line(value: str, path: str) -> None:
    _text(value, path, _NOT_IN_ONE_LINE, SINGLE_LINE_MAX_CHARS, "a one-line field")


def _prose(value: str, path: str) -> None:
    _text(value, path, _NOT_IN_PROSE, MULTI_LINE_MAX_CHARS, "free text")


def _bytes(value: bytes, path: str) -> None:
    if len(value) > BYTES_MAX:
        _refuse(path, f"is {len(value):,} bytes long; at most {BYTES_MAX:,} are accepted")


def _finite(value: float, path: str) -> None:
    if value != value or value in (float("inf"), float("-inf")):  # noqa: PLR0124  # NaN test
        _refuse(path, f"must be a finite number, not {value}")


def _enum_check(field: FieldDescriptor) -> Check:
    enum = field.enum_type
    assert enum is not None  # noqa: S101  # an enum field always has its enum type
    known = ", ".join(v.name for v in enum.values)

    def member(value: int, path: str) -> None:
        if value not in enum.values_by_number:
            _refuse(path, f"{value} is not a value of {enum.name}; use one of {known}")

    return member


def _timestamp(value: Any, path: str) -> None:  # noqa: ANN401  # a Timestamp message
    if not TIMESTAMP_MIN_SECONDS <= value.seconds <= TIMESTAMP_MAX_SECONDS:
        _refuse(path, "is outside the years 1 to 9999 that a timestamp can hold")
    if not 0 <= value.nanos <= NANOS_MAX:
        _refuse(path, f"nanos must be 0 to {NANOS_MAX:,}, not {value.nanos:,}")


def _duration(value: Any, path: str) -> None:  # noqa: ANN401  # a Duration message
    if abs(value.seconds) > DURATION_MAX_SECONDS or abs(value.nanos) > NANOS_MAX:
        _refuse(path, "is outside the ±10,000 years that a duration can hold")
    if value.seconds * value.nanos < 0:
        _refuse(path, "seconds and nanos must have the same sign")


def _nested(value: Message, path: str) -> None:
    _check_message(value, path + ".")
