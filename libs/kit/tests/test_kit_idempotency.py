"""Request keys: the same request again gives the original result; another request under the
same key is ALREADY_EXISTS naming what the key created; a key and its result are one save."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError
from lmp.common.v1 import events_pb2
from lmp_kit.domain import ServiceApplication
from lmp_kit.errors import AlreadyExistsError, InvalidArgumentError
from lmp_kit.idempotency import RequestKey, RequestKeys, Retry, check_request_id, fingerprint


def app() -> ServiceApplication:
    return ServiceApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def request(after: int) -> events_pb2.ReadEventsRequest:
    return events_pb2.ReadEventsRequest(after=after, limit=10)


def test_the_same_request_under_a_key_finds_what_it_created() -> None:
    keys = RequestKeys("test", app())
    result = uuid4()
    assert keys.earlier_result("tver", "k-1", request(1)) is None
    keys.app.save(*keys.claim("tver", "k-1", request(1), "problem", result))
    assert keys.earlier_result("tver", "k-1", request(1)) == str(result)
    # keys are per city
    assert keys.earlier_result("kazan", "k-1", request(1)) is None


def test_another_request_under_a_used_key_names_what_the_key_created() -> None:
    keys = RequestKeys("test", app())
    result = uuid4()
    keys.app.save(*keys.claim("tver", "k-1", request(1), "problem", result))
    with pytest.raises(AlreadyExistsError, match=f"created problem {result}"):
        keys.earlier_result("tver", "k-1", request(2))


def test_two_saves_under_one_key_cannot_both_land() -> None:
    keys = RequestKeys("test", app())
    keys.app.save(*keys.claim("tver", "k-1", request(1), "problem", uuid4()))
    with pytest.raises(IntegrityError):
        keys.app.save(*keys.claim("tver", "k-1", request(1), "problem", uuid4()))


def test_no_key_asks_for_nothing() -> None:
    keys = RequestKeys("test", app())
    assert keys.earlier_result("tver", "", request(1)) is None
    assert keys.claim("tver", "", request(1), "problem", uuid4()) == []


def test_a_key_is_a_short_token_and_the_fingerprint_ignores_it() -> None:
    assert check_request_id("") == ""
    assert check_request_id("9b2c1e4a-portal:42") == "9b2c1e4a-portal:42"
    for bad in ("has space", "x" * 101, "ключ", "-lead"):
        with pytest.raises(InvalidArgumentError, match="not a request key"):
            check_request_id(bad)
    assert fingerprint(request(1)) == fingerprint(request(1))
    assert fingerprint(request(1)) != fingerprint(request(2))


def test_create_once_creates_once_per_key_and_returns_the_original_after() -> None:
    keys = RequestKeys("test", app())
    created: list[str] = []

    def create(claim: Callable[[UUID], list[RequestKey]]) -> str:
        result = uuid4()
        keys.app.save(*claim(result))
        created.append(str(result))
        return str(result)

    retry = Retry("tver", "k-1", request(1))
    first = keys.create_once(retry, "problem", str, create)
    again = keys.create_once(retry, "problem", str, create)
    assert first == again
    assert created == [first]
    with pytest.raises(AlreadyExistsError, match=first):
        keys.create_once(Retry("tver", "k-1", request(2)), "problem", str, create)
    # no key: every call creates
    keys.create_once(Retry("tver", "", request(1)), "problem", str, create)
    assert len(created) == 2  # the first and the keyless one
