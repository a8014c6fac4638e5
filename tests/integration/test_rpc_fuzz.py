"""Every RPC of every service, fuzzed: generated from the protobuf descriptors, so a new RPC is
covered by default.

Requests are built from each method's input descriptor (empty and nested messages, 1 MB
strings, control characters, extreme numbers, NaN, out-of-range timestamps, unknown enum
values, odd page tokens) or are not messages at all (random, truncated, deeply nested and
invalid UTF-8 encodings), sent with tokens of several roles so that most pass the guard.
A client's mistake is never INTERNAL or UNKNOWN (docs/architecture.md, "gRPC"), and a refused
request records nothing: the service's event-log head stays where it was.

The services run as `lmp serve` processes with the API only: no relay, consumers or
workers, so nothing but the fuzzed calls can move an event log, and the head check is exact.

Profiles (`LMP_FUZZ_PROFILE`): `ci` (the default) draws a fixed number of examples per RPC
from a seed of its own (the RPC's name: every run the same, each RPC different), within a few
minutes on two cores; `deep` draws ten times as many from a random seed, shrinks what fails
and prints how to reproduce it.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import pkgutil
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import grpc
import lmp
import pytest
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import (
    Descriptor,
    FieldDescriptor,
    MethodDescriptor,
    ServiceDescriptor,
)
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from lmp.common.v1 import events_pb2
from lmp.expertise.v1 import expertise_pb2, expertise_pb2_grpc
from lmp.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from lmp.registry.v1 import registry_pb2, registry_pb2_grpc
from lmp_contracts import PUBLISHED
from lmp_kit.auth import ALL_CITIES, READ_EVENTS_SCOPE, issuer_of
from lmp_kit.settings import SERVICES, Settings
from pymongo import MongoClient

from lmp_cli.stack import ServiceProcess, isolated_env

EXAMPLES_PER_RPC = 100
STREAM_EXAMPLES_PER_RPC = 25
settings.register_profile(
    "ci",
    max_examples=EXAMPLES_PER_RPC,
    database=None,
    deadline=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=list(HealthCheck),
)
settings.register_profile(
    "deep",
    max_examples=10 * EXAMPLES_PER_RPC,
    deadline=None,
    print_blob=True,
    suppress_health_check=list(HealthCheck),
)
PROFILE = os.environ.get("LMP_FUZZ_PROFILE", "ci")

EVENT_LOG = "lmp.common.v1.EventLog"
HEALTH = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
REFLECTION = reflection_pb2.DESCRIPTOR.services_by_name["ServerReflection"].full_name
NEVER = frozenset({grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN})
CALL_TIMEOUT_S = 20.0
# A live stream sends its first message at once or keeps waiting: either is fine.
STREAM_TIMEOUT_S = 0.3
CITIES = ("sarov", "seversk")
MEGABYTE = 1_000_000


def _load_generated_modules() -> None:
    """Import every generated `_pb2` module of the project: their services and messages are
    then in the default descriptor pool."""
    for module in pkgutil.walk_packages(lmp.__path__, f"{lmp.__name__}."):
        if module.name.endswith("_pb2"):
            importlib.import_module(module.name)


def _project_services() -> list[ServiceDescriptor]:
    _load_generated_modules()
    pool = descriptor_pool.Default()
    found: list[ServiceDescriptor] = []
    for module in pkgutil.walk_packages(lmp.__path__, f"{lmp.__name__}."):
        if module.name.endswith("_pb2"):
            file = pool.FindFileByName(importlib.import_module(module.name).DESCRIPTOR.name)
            found.extend(file.services_by_name.values())
    return found


def _servers_of(service: ServiceDescriptor) -> tuple[str, ...]:
    """Which service processes serve it: its own package's; health all five; the event log
    those with an event store (notifications has none)."""
    if service.full_name == HEALTH:
        return SERVICES
    if service.full_name == EVENT_LOG:
        return tuple(s for s in SERVICES if s in PUBLISHED)
    package = service.full_name.split(".")
    return tuple(s for s in SERVICES if package[:2] == ["lmp", s])


@dataclass(frozen=True)
class Rpc:
    server: str
    method: MethodDescriptor

    @property
    def path(self) -> str:
        return f"/{self.method.containing_service.full_name}/{self.method.name}"

    @property
    def label(self) -> str:
        return f"{self.server}:{self.method.containing_service.name}/{self.method.name}"


def _rpcs() -> list[Rpc]:
    health = health_pb2.DESCRIPTOR.services_by_name["Health"]
    services = [*_project_services(), health]
    return [
        Rpc(server, method)
        for service in services
        for server in _servers_of(service)
        for method in service.methods
    ]


RPCS = _rpcs()
EXAMPLES: Counter[str] = Counter()
# ids of records that exist (the fleet's seed), by the name of the fields that hold them
KNOWN_IDS: dict[str, list[str]] = {}
STATUSES: dict[str, Counter[str]] = {}
DETAILS: dict[str, Counter[str]] = {}


# --- request strategies, from the descriptors -------------------------------------------
#
# Each field is drawn plausible (what a portal sends: known cities, months, enum members,
# small numbers, sane times) or hostile (the edges below). A request is all plausible, all
# hostile, or plausible but for one hostile field: the last kind gets past the guard's checks
# of the other fields and reaches the handler with the odd value.

CONTROL = ["\x00", "\x1b[31m", "\r\n", "a\r\nBcc: x@example.org", "\u202e", "\x7f", "\t\v\f"]
ODD_TOKENS = ["²³", "9" * 40, "-1", "1e9", " 1", "٣", "0x10", "Ⅻ", "AAAA", "=="]
PLAIN = ["", *CITIES, ALL_CITIES, "2026-05", "csv", "email"]
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
INTEGER_RANGES = {
    FieldDescriptor.TYPE_INT32: INT32,
    FieldDescriptor.TYPE_SINT32: INT32,
    FieldDescriptor.TYPE_SFIXED32: INT32,
    FieldDescriptor.TYPE_INT64: INT64,
    FieldDescriptor.TYPE_SINT64: INT64,
    FieldDescriptor.TYPE_SFIXED64: INT64,
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}
SPECIAL_FLOATS = [math.nan, math.inf, -math.inf, -0.0, 1e308, -1e308, 5e-324, 1e20, -1.0]
TIMESTAMP = "google.protobuf.Timestamp"
# seconds: ±2^62, the year 10000 and just before the year 1 (out of Timestamp's range)
ODD_SECONDS = [2**62, -(2**62), 253_402_300_800, -62_135_596_801, *INT64]
ODD_NANOS = [-1, 10**9, *INT32]
MAX_DEPTH = 3
NOW = int(time.time())
DAY = 86_400
words = st.text("abcdefghijklmnopqrstuvwxyz0123456789 -_", max_size=16)
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=24)
Values = st.SearchStrategy[Any]


def _this_month(offset: int = 0) -> str:
    today = time.gmtime(NOW)
    months = today.tm_year * 12 + today.tm_mon - 1 + offset
    return f"{months // 12:04d}-{months % 12 + 1:02d}"


def _dates(days: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(NOW + days * DAY))


# What a portal would send in a text field, by the field's name (the first name that fits).
PLAUSIBLE_BY_NAME: tuple[tuple[Callable[[str], bool], list[str]], ...] = (
    (lambda name: "month" in name, [_this_month(), _this_month(-1), "2025-12"]),
    (lambda name: "cit" in name, [*CITIES, ALL_CITIES]),
    (lambda name: name in ("person_id", "recipient", "voter_id"), ["wg-sarov", "resident-1"]),
    (lambda name: name.endswith(("_on", "date")), [_dates(0), _dates(7), _dates(-7)]),
    (lambda name: "email" in name, ["someone@example.org"]),
    (lambda name: name.endswith(("url", "uri")), ["https://example.org/hook"]),
    (lambda name: "token" in name, [""]),
    (lambda name: name.endswith(("_id", "_ids")), []),
    (lambda name: name == "format", ["csv", "html"]),
    (lambda name: "role" in name, ["resident", "working_group", "expert"]),
    (lambda name: "channel" in name, ["inbox", "email", "webhook"]),
)


def _huge(unit: str) -> str:
    return unit * (MEGABYTE // len(unit.encode()))


def _strings(field: FieldDescriptor, *, hostile: bool) -> st.SearchStrategy[str]:
    known = KNOWN_IDS.get(field.name) or KNOWN_IDS.get(field.name.removesuffix("s"))
    if known and not hostile:
        return st.one_of(st.sampled_from(known), st.sampled_from(known), st.uuids().map(str))
    if not hostile:
        for fits, values in PLAUSIBLE_BY_NAME:
            if fits(field.name):
                return st.sampled_from(values) if values else st.uuids().map(str)
        return st.one_of(st.sampled_from(PLAIN), st.uuids().map(str), words)
    odd = ODD_TOKENS if "token" in field.name else []
    return st.one_of(
        st.sampled_from([*odd, *ODD_TOKENS, *CONTROL]),
        st.sampled_from([5000, 100_000]).map(lambda n: "9" * n),
        st.sampled_from(["x", "я"]).map(_huge),
        st.sampled_from(CONTROL).map(lambda c: f"title{c}end"),
        any_text,
    )


def _integers(kind: int, *, hostile: bool) -> st.SearchStrategy[int]:
    low, high = INTEGER_RANGES[kind]
    if not hostile:
        return st.integers(0, 100)
    edges = [low, high, -1, 5000, 10**6, 10**12]
    return st.one_of(
        st.sampled_from([e for e in edges if low <= e <= high]), st.integers(low, high)
    )


def _message_type(field: FieldDescriptor) -> Descriptor:
    assert field.message_type is not None, field.full_name
    return field.message_type


def _enums(field: FieldDescriptor, *, hostile: bool) -> st.SearchStrategy[int]:
    assert field.enum_type is not None, field.full_name
    known = [value.number for value in field.enum_type.values]
    return st.sampled_from([-1, 99, *INT32] if hostile else known)


def _scalar(field: FieldDescriptor, *, hostile: bool) -> Values:  # noqa: PLR0911  # per kind
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return _strings(field, hostile=hostile)
    if kind == FieldDescriptor.TYPE_BYTES:
        return st.just(MEGABYTE).map(bytes) if hostile else st.binary(max_size=64)
    if kind == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if kind == FieldDescriptor.TYPE_ENUM:
        return _enums(field, hostile=hostile)
    if kind in INTEGER_RANGES:
        return _integers(kind, hostile=hostile)
    width: Literal[32, 64] = 32 if kind == FieldDescriptor.TYPE_FLOAT else 64
    if not hostile:
        return st.floats(0, 10, width=width)
    return st.one_of(st.sampled_from(SPECIAL_FLOATS), st.floats(width=width))


def _timestamps(*, hostile: bool) -> st.SearchStrategy[dict[str, int]]:
    if not hostile:
        return st.fixed_dictionaries(
            {"seconds": st.integers(NOW - 60 * DAY, NOW + 60 * DAY), "nanos": st.just(0)}
        )
    return st.one_of(
        st.fixed_dictionaries({"seconds": st.sampled_from(ODD_SECONDS)}),
        st.fixed_dictionaries({"seconds": st.just(NOW), "nanos": st.sampled_from(ODD_NANOS)}),
        st.fixed_dictionaries({"seconds": st.integers(*INT64), "nanos": st.integers(*INT32)}),
    )


def _value(field: FieldDescriptor, depth: int, *, hostile: bool) -> Values:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return message_values(_message_type(field), depth + 1, hostile=hostile)
    return _scalar(field, hostile=hostile)


def _is_map(field: FieldDescriptor) -> bool:
    return (
        field.type == FieldDescriptor.TYPE_MESSAGE and _message_type(field).GetOptions().map_entry
    )


def _field(field: FieldDescriptor, depth: int, *, hostile: bool) -> Values:
    if _is_map(field):
        entry = _message_type(field)
        return st.dictionaries(
            _scalar(entry.fields_by_name["key"], hostile=hostile),
            _value(entry.fields_by_name["value"], depth, hostile=hostile),
            max_size=3,
        )
    if field.is_repeated:
        return st.lists(_value(field, depth, hostile=hostile), max_size=3)
    return _value(field, depth, hostile=hostile)


def message_values(
    descriptor: Descriptor, depth: int = 0, *, hostile: bool
) -> st.SearchStrategy[dict[str, Any]]:
    """A message as a dict of its fields: a plausible one with every field (as a form sends
    them), a hostile one with each field left out or drawn. Deeper than MAX_DEPTH, messages
    are empty."""
    if descriptor.full_name == TIMESTAMP:
        return _timestamps(hostile=hostile)
    if depth > MAX_DEPTH:
        return st.just({})
    fields = {f.name: _field(f, depth, hostile=hostile) for f in descriptor.fields}
    if hostile:
        return st.fixed_dictionaries({}, optional=fields)
    # a oneof's members exclude each other: one of them, or none
    single = {name: each for name, each in fields.items() if not _in_oneof(descriptor, name)}
    chosen = st.fixed_dictionaries(single, optional=_oneof_members(descriptor, fields))
    return chosen.map(lambda values: _one_per_oneof(descriptor, values))


def _in_oneof(descriptor: Descriptor, name: str) -> bool:
    return descriptor.fields_by_name[name].containing_oneof is not None


def _oneof_members(descriptor: Descriptor, fields: dict[str, Values]) -> dict[str, Values]:
    return {name: each for name, each in fields.items() if _in_oneof(descriptor, name)}


def _one_per_oneof(descriptor: Descriptor, values: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    taken: set[str] = set()
    for name, value in values.items():
        oneof = descriptor.fields_by_name[name].containing_oneof
        if oneof is not None:
            if oneof.name in taken:
                continue
            taken.add(oneof.name)
        kept[name] = value
    return kept


def one_hostile_field(descriptor: Descriptor) -> st.SearchStrategy[dict[str, Any]]:
    """A plausible message but for one field, which is hostile."""
    plausible = message_values(descriptor, hostile=False)
    if not descriptor.fields:
        return plausible

    @st.composite
    def draw(data: st.DrawFn) -> dict[str, Any]:
        values = data(plausible)
        field = data(st.sampled_from(list(descriptor.fields)))
        values[field.name] = data(_field(field, 0, hostile=True))
        return values

    return draw()


def _fill(message: Message, values: dict[str, Any]) -> None:
    for name, value in values.items():
        field = cast("FieldDescriptor", message.DESCRIPTOR.fields_by_name[name])
        target = getattr(message, name)
        if _is_map(field):
            for key, item in value.items():
                if isinstance(item, dict):
                    _fill(target[key], item)
                else:
                    target[key] = item
        elif field.is_repeated:
            for item in value:
                if isinstance(item, dict):
                    _fill(target.add(), item)
                else:
                    target.append(item)
        elif isinstance(value, dict):
            _fill(target, value)
            target.SetInParent()
        else:
            setattr(message, name, value)


def build(descriptor: Descriptor, values: dict[str, Any]) -> bytes:
    message = GetMessageClass(descriptor)()
    _fill(message, values)
    return message.SerializeToString()


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        byte, number = number & 0x7F, number >> 7
        out.append(byte | (0x80 if number else 0))
        if not number:
            return bytes(out)


def _key(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def _nested_groups(depth: int) -> bytes:
    """An unknown field holding groups nested `depth` deep: a parser must recurse to skip it."""
    number = 536_870_911  # the largest field number: unknown to every message
    return _key(number, 3) * depth + _key(number, 4) * depth


def _nested_messages(descriptor: Descriptor, depth: int) -> bytes:
    """Length-delimited field 1 inside field 1, `depth` deep: the message's own first message
    field at the top, whatever it decodes as below."""
    fields = [f for f in descriptor.fields if f.type == FieldDescriptor.TYPE_MESSAGE]
    number = fields[0].number if fields else 1
    body = b""
    for level in range(depth):
        tag = number if level == depth - 1 else 1
        body = _key(tag, 2) + _varint(len(body)) + body
    return body


def _bad_utf8(descriptor: Descriptor) -> bytes:
    strings = [f for f in descriptor.fields if f.type == FieldDescriptor.TYPE_STRING]
    number = strings[0].number if strings else 1
    return _key(number, 2) + _varint(3) + b"\xff\xfe\xc3"


def bodies(descriptor: Descriptor) -> st.SearchStrategy[bytes]:
    """The request body: four times in five a message drawn from the descriptor, otherwise
    bytes that are not one (empty, random, truncated, nested past any parser's limit, invalid
    UTF-8)."""
    messages = st.one_of(
        message_values(descriptor, hostile=False),
        one_hostile_field(descriptor),
        one_hostile_field(descriptor),
        message_values(descriptor, hostile=True),
    ).map(lambda values: build(descriptor, values))
    truncated = messages.filter(lambda body: len(body) > 1).flatmap(
        lambda body: st.integers(1, len(body) - 1).map(lambda cut: body[:cut])
    )
    garbage = st.one_of(
        st.just(b""),
        st.binary(min_size=1, max_size=256),
        truncated,
        st.sampled_from([200, 10_000]).map(_nested_groups),
        st.sampled_from([120, 5_000]).map(lambda depth: _nested_messages(descriptor, depth)),
        st.just(_bad_utf8(descriptor)),
    )
    return st.one_of(messages, messages, messages, messages, garbage)


# --- the running services -----------------------------------------------------------------


@dataclass
class Fleet:
    """The five services, a channel to each, and tokens of the roles a caller may have."""

    env: dict[str, str]
    channels: dict[str, grpc.Channel]
    tokens: dict[str, str]
    mongo: MongoClient[dict[str, Any]]

    def head(self, server: str) -> int:
        """How much the server has recorded: its event log's head, or for notifications (no
        event store) the documents its subscriptions and deliveries hold in MongoDB."""
        if server not in PUBLISHED:
            db = self.mongo[Settings.from_env(server, self.env).mongodb_database]
            return sum(db[name].estimated_document_count() for name in db.list_collection_names())
        read = self.channels[server].unary_unary(
            "/lmp.common.v1.EventLog/ReadEvents",
            request_serializer=events_pb2.ReadEventsRequest.SerializeToString,
            response_deserializer=events_pb2.ReadEventsResponse.FromString,
        )
        request = events_pb2.ReadEventsRequest(after=0, limit=1)
        metadata = (("authorization", f"Bearer {self.tokens['service']}"),)
        return int(read(request, metadata=metadata, timeout=CALL_TIMEOUT_S).max_notification_id)


ROLES = (
    "working_group",
    "programme_office",
    "service",
    "resident",
    "expert",
    "curator",
    "portal",
    "garbage",
)


def _tokens(env: dict[str, str]) -> dict[str, str]:
    issuer = issuer_of(Settings.from_env("registry", env))
    ttl = 3 * 3600

    def token(subject: str, *roles: str, cities: tuple[str, ...] = CITIES, **more: Any) -> str:
        return issuer.issue(subject, roles=roles, cities=cities, ttl_seconds=ttl, **more)

    return {
        "working_group": token("wg-sarov", "working_group"),
        "programme_office": token("office", "programme_office", cities=(ALL_CITIES,)),
        "service": token(
            "service:fuzz", "service", cities=(ALL_CITIES,), scopes=(READ_EVENTS_SCOPE,)
        ),
        "resident": token("resident-1", "resident", cities=("sarov",)),
        "expert": token("expert-1", "expert"),
        "curator": token("curator-1", "curator", cities=(ALL_CITIES,)),
        "portal": token("portal-1", "portal", "administration"),
        "garbage": "not.a.jwt",
    }


@pytest.fixture(scope="module")
def fleet(
    tmp_path_factory: pytest.TempPathFactory, mongodb_uri: str, request: pytest.FixtureRequest
) -> Iterator[Fleet]:
    root = tmp_path_factory.mktemp("fuzz")
    env = isolated_env(
        root / "data",
        prefix="f",
        # no relay or consumers run: nobody talks to Kafka
        settings={"MONGODB_URI": mongodb_uri, "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"},
    )
    processes = [ServiceProcess(s, env, Path(root / "logs"), components=("api",)) for s in SERVICES]
    try:
        for process in processes:
            process.start(wait=False)
        for process in processes:
            process.wait_healthy()
        channels = {p.service: grpc.insecure_channel(p.target) for p in processes}
        made = Fleet(env, channels, _tokens(env), MongoClient(mongodb_uri))
        _seed(made)
        yield made
        for channel in channels.values():
            channel.close()
        made.mongo.close()
    finally:
        for process in processes:
            process.stop()
        _report(request.config)


def _seed(fleet: Fleet) -> None:
    """Two cities and a record of each kind the services make on their own (a problem, a
    practice, an activity, the council, a subscription): their ids are among the values drawn
    for fields of that name, so some requests name records that exist."""
    office = (("authorization", f"Bearer {fleet.tokens['programme_office']}"),)
    group = (("authorization", f"Bearer {fleet.tokens['working_group']}"),)
    registry = registry_pb2_grpc.RegistryServiceStub(fleet.channels["registry"])
    for city in CITIES:
        registry.RegisterCity(
            registry_pb2.RegisterCityRequest(
                city_id=city,
                name=city.title(),
                region="Region",
                kind="zato",
                population=90_000,
                voter_target=100,
            ),
            metadata=office,
            timeout=CALL_TIMEOUT_S,
        )
    problem = registry.RegisterProblem(
        registry_pb2.RegisterProblemRequest(city_id="sarov", title="Dark yards"),
        metadata=group,
        timeout=CALL_TIMEOUT_S,
    ).problem.problem_id
    practice = registry.RegisterPractice(
        registry_pb2.RegisterPracticeRequest(
            city_id="sarov",
            kind="own",
            title="Street lights by request",
            summary="Done in 2025",
            authors=[registry_pb2.Person(person_id="wg-sarov", name="Working group")],
            problem_ids=[problem],
            cells=[registry_pb2.Cell(function="infrastructure", method="external_interaction")],
        ),
        metadata=group,
        timeout=CALL_TIMEOUT_S,
    ).practice_id
    activity = registry.RegisterActivity(
        registry_pb2.RegisterActivityRequest(
            city_id="sarov", kind="strategic_session", title="Strategy", held_on=_dates(0)
        ),
        metadata=group,
        timeout=CALL_TIMEOUT_S,
    ).activity_id
    expertise = expertise_pb2_grpc.ExpertiseServiceStub(fleet.channels["expertise"])
    expertise.FormCouncil(expertise_pb2.FormCouncilRequest(), metadata=office, timeout=30)
    expertise.AdmitMember(
        expertise_pb2.AdmitMemberRequest(
            member=expertise_pb2.Member(person_id="expert-1", name="Expert", cities=[*CITIES])
        ),
        metadata=office,
        timeout=CALL_TIMEOUT_S,
    )
    notifications = notifications_pb2_grpc.NotificationsServiceStub(fleet.channels["notifications"])
    kinds = notifications.ListEventKinds(
        notifications_pb2.ListEventKindsRequest(), metadata=office, timeout=CALL_TIMEOUT_S
    ).kinds
    subscription = notifications.CreateSubscription(
        notifications_pb2.CreateSubscriptionRequest(
            city_id="sarov", kind=kinds[0].kind, person_id="wg-sarov", channels=["inbox"]
        ),
        metadata=office,
        timeout=CALL_TIMEOUT_S,
    ).subscription.subscription_id
    KNOWN_IDS.update(
        {
            "problem_id": [problem],
            "practice_id": [practice],
            "activity_id": [activity],
            "ref_id": [problem, practice, activity],
            "subscription_id": [subscription],
            "person_id": ["wg-sarov", "expert-1"],
        }
    )


def _report(config: pytest.Config) -> None:
    covered = sum(1 for rpc in RPCS if EXAMPLES[rpc.label])
    counts = sorted({EXAMPLES[rpc.label] for rpc in RPCS if EXAMPLES[rpc.label]})
    per_rpc = "-".join(str(c) for c in (counts[0], counts[-1])) if counts else "0"
    statuses: Counter[str] = Counter()
    for each in STATUSES.values():
        statuses.update(each)
    line = (
        f"RPCs covered: {covered} of {len(RPCS)} (examples per RPC: {per_rpc}, "
        f"profile {PROFILE}; statuses: {', '.join(f'{k} {v}' for k, v in statuses.most_common())})"
    )
    capture = config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print(f"\n{line}")  # noqa: T201  # the figure the issue asks for, shown without -s
        if config.option.verbose > 0:
            for rpc in RPCS:
                seen = STATUSES.get(rpc.label, Counter())
                print(f"  {rpc.label}: {dict(seen.most_common())}")  # noqa: T201  # with -v
                if config.option.verbose > 1:
                    for detail, count in DETAILS.get(rpc.label, Counter()).most_common(4):
                        print(f"      {count} x {detail}")  # noqa: T201  # with -vv


# --- calling ---------------------------------------------------------------------------------


Outcome = tuple[grpc.StatusCode, str]
IDENTITY = None  # as a serializer: the body goes as it is, bytes


def _refusal(error: grpc.RpcError) -> Outcome:
    call: Any = error  # a grpc.Call as well
    return call.code(), str(call.details() or "")


def _call(channel: grpc.Channel, rpc: Rpc, body: bytes, token: str) -> Outcome:
    """Send the body as it is (identity serializers): the status and its details, or a
    stream's first."""
    metadata = (("authorization", f"Bearer {token}"),)
    if rpc.method.server_streaming:
        call: Any = channel.unary_stream(rpc.path, IDENTITY, IDENTITY)(
            body, metadata=metadata, timeout=STREAM_TIMEOUT_S
        )
        try:
            next(call)
        except StopIteration:
            pass
        except grpc.RpcError as error:
            return _refusal(error)
        finally:
            call.cancel()
        return grpc.StatusCode.OK, ""
    try:
        channel.unary_unary(rpc.path, IDENTITY, IDENTITY)(
            body, metadata=metadata, timeout=CALL_TIMEOUT_S
        )
    except grpc.RpcError as error:
        return _refusal(error)
    return grpc.StatusCode.OK, ""


def _fuzz(rpc: Rpc) -> Callable[[Fleet], None]:
    examples = STREAM_EXAMPLES_PER_RPC if rpc.method.server_streaming else EXAMPLES_PER_RPC
    profile = settings.get_profile(PROFILE)
    budget = examples if PROFILE == "ci" else profile.max_examples

    @seed(zlib.crc32(rpc.label.encode()) if PROFILE == "ci" else None)
    @settings(profile, max_examples=budget)
    @given(body=bodies(rpc.method.input_type), role=st.sampled_from(ROLES))
    def run(fleet: Fleet, body: bytes, role: str) -> None:
        channel = fleet.channels[rpc.server]
        before = fleet.head(rpc.server)
        code, details = _call(channel, rpc, body, fleet.tokens[role])
        EXAMPLES[rpc.label] += 1
        STATUSES.setdefault(rpc.label, Counter())[code.name] += 1
        DETAILS.setdefault(rpc.label, Counter())[f"{code.name}: {details[:90]}"] += 1
        shown = body[:200] + (b"..." if len(body) > 200 else b"")  # enough to recognise it
        if code in NEVER:
            pytest.fail(f"{rpc.label} answered {code.name} ({details}) to {role}: {shown!r}")
        if code != grpc.StatusCode.OK:
            after = fleet.head(rpc.server)
            assert after == before, (
                f"{rpc.label} refused with {code.name} but its log moved {before} -> {after}"
            )

    return run


@pytest.mark.parametrize("rpc", RPCS, ids=[rpc.label for rpc in RPCS])
def test_no_request_gets_internal_or_unknown_or_moves_the_log_when_refused(fleet, rpc):
    _fuzz(rpc)(fleet)


def test_the_fuzzed_rpcs_are_every_rpc_each_service_serves(fleet):
    """Server reflection lists what each process serves; the descriptors gave the same."""
    for server, channel in fleet.channels.items():
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        answers = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
            metadata=(("authorization", f"Bearer {fleet.tokens['service']}"),),
            timeout=CALL_TIMEOUT_S,
        )
        served = {s.name for answer in answers for s in answer.list_services_response.service}
        fuzzed = {rpc.method.containing_service.full_name for rpc in RPCS if rpc.server == server}
        assert served - {REFLECTION} == fuzzed, server
