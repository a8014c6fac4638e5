from __future__ import annotations

from uuid import UUID

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from lmp_kit.auth import ALL_CITIES, READ_ALL_EVENTS_SCOPE, READ_EVENTS_SCOPE, Principal
from lmp_kit.domain import CityAggregate
from lmp_kit.errors import PermissionDeniedError
from lmp_kit.eventlog import log_access, read_envelopes, topics_of


class Lamp(Aggregate):
    city_id: str = "sarov"

    @event("Switched")
    def switch(self) -> None:
        pass

    @event("Repaired")
    def repair(self) -> None:
        pass


def lamps_log(tmp_path):
    app: Application[UUID] = Application(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")}
    )
    lamp = Lamp()  # 1: Created
    for _ in range(5):
        lamp.switch()  # 2-6
    lamp.repair()  # 7
    lamp.switch()  # 8
    lamp.repair()  # 9
    app.save(lamp)
    return app


def test_the_topics_of_an_event_type_are_those_of_the_loaded_event_classes():
    assert topics_of(frozenset({"Lamp.Repaired"})) == [f"{__name__}:Lamp.Repaired"]
    assert topics_of(frozenset({"Nothing.Happened"})) == []


def test_a_filtered_read_passes_the_other_types_up_to_the_head_in_one_call(tmp_path):
    app = lamps_log(tmp_path)

    envelopes, examined, head = read_envelopes(
        "lamps", app, after=0, limit=5, event_types=frozenset({"Lamp.Repaired"})
    )

    assert [(e.notification_id, e.event_type) for e in envelopes] == [
        (7, "Lamp.Repaired"),
        (9, "Lamp.Repaired"),
    ]
    assert (examined, head) == (9, 9)


def test_a_filtered_read_that_fills_its_limit_continues_after_the_last_event_returned(tmp_path):
    app = lamps_log(tmp_path)

    envelopes, examined, _ = read_envelopes(
        "lamps", app, after=1, limit=2, event_types=frozenset({"Lamp.Switched"})
    )
    rest, end, _ = read_envelopes(
        "lamps", app, after=examined, limit=10, event_types=frozenset({"Lamp.Switched"})
    )

    assert [e.notification_id for e in envelopes] == [2, 3]
    assert examined == 3
    assert [e.notification_id for e in rest] == [4, 5, 6, 8]
    assert end == 9


def test_a_read_of_a_type_no_class_has_examines_everything_and_returns_nothing(tmp_path):
    app = lamps_log(tmp_path)

    assert read_envelopes("lamps", app, 0, 5, frozenset({"Nothing.Happened"})) == ([], 9, 9)


def test_an_unfiltered_read_examines_at_most_limit_notifications(tmp_path):
    app = lamps_log(tmp_path)

    envelopes, examined, head = read_envelopes("lamps", app, after=0, limit=4)

    assert [e.notification_id for e in envelopes] == [1, 2, 3, 4]
    assert (examined, head) == (4, 9)


class Bulb(CityAggregate):
    @event("Installed")
    def __init__(self, *, city_id: str) -> None:
        self.city_id = city_id

    @event("Switched")
    def switch(self) -> None:
        pass


class Ballot(CityAggregate):
    @event("Cast")
    def __init__(self, *, city_id: str, choices: dict[str, int], nonce: str, receipt: str) -> None:
        del nonce
        self.city_id = city_id
        self.choices = choices
        self.receipt = receipt


def two_cities_log(tmp_path):
    """1-4 sarov, 5-12 kazan, 13 sarov, 14 a kazan ballot, 15 a sarov ballot."""
    app: Application[UUID] = Application(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "c.db")}
    )
    sarov, kazan = Bulb(city_id="sarov"), Bulb(city_id="kazan")
    for _ in range(3):
        sarov.switch()
    app.save(sarov)
    for _ in range(7):
        kazan.switch()
    app.save(kazan)
    sarov.switch()
    app.save(sarov)
    for city in ("kazan", "sarov"):
        app.save(Ballot(city_id=city, choices={"a": 1}, nonce="n" * 32, receipt="r" * 64))
    return app


def caller(*roles, cities=("sarov",), scopes=(READ_EVENTS_SCOPE,)):
    return Principal("someone", frozenset(roles), frozenset(cities), frozenset(scopes))


def test_a_service_token_reads_every_city_with_ballot_receipts(tmp_path):
    app = two_cities_log(tmp_path)
    access = log_access(caller("service", cities=(ALL_CITIES,)))

    envelopes, examined, head = read_envelopes("bulbs", app, 0, 100, access=access)

    assert len(envelopes) == head == examined == 15
    assert envelopes[-1].payload == {"choices": {"a": 1}, "nonce": "n" * 32, "receipt": "r" * 64}


def test_a_portal_reads_only_its_city_and_pages_past_the_others(tmp_path):
    app = two_cities_log(tmp_path)
    access = log_access(caller("portal"))

    first, examined, head = read_envelopes("bulbs", app, 0, 3, access=access)
    second, then, _ = read_envelopes("bulbs", app, examined, 3, access=access)
    last, end, _ = read_envelopes("bulbs", app, then, 3, access=access)

    assert [e.notification_id for e in first] == [1, 2, 3]
    assert [e.notification_id for e in second] == [4, 13, 15]
    assert (last, end, head) == ([], 15, 15)
    assert {e.city_id for e in first + second} == {"sarov"}


def test_a_portal_with_a_type_filter_still_sees_only_its_city(tmp_path):
    app = two_cities_log(tmp_path)
    access = log_access(caller("portal", cities=("kazan",)))

    envelopes, examined, _ = read_envelopes(
        "bulbs", app, 0, 100, frozenset({"Ballot.Cast"}), access=access
    )

    assert [(e.notification_id, e.city_id) for e in envelopes] == [(14, "kazan")]
    assert examined == 15


def test_a_page_of_a_sparse_city_stops_after_examining_its_bound(tmp_path, monkeypatch):
    monkeypatch.setattr("lmp_kit.eventlog.MAX_EXAMINED", 4)
    app = two_cities_log(tmp_path)
    access = log_access(caller("curator", cities=("nowhere",)))

    envelopes, examined, head = read_envelopes("bulbs", app, 4, 2, access=access)

    assert (envelopes, examined, head) == ([], 8, 15)


def test_ballots_served_to_anyone_but_a_service_carry_no_receipt_and_no_nonce(tmp_path):
    app = two_cities_log(tmp_path)
    operator = caller("programme_office", cities=(ALL_CITIES,), scopes=(READ_ALL_EVENTS_SCOPE,))

    for access in (log_access(caller("portal")), log_access(operator)):
        envelopes, _, _ = read_envelopes("bulbs", app, 13, 100, access=access)
        assert all(e.payload == {"choices": {"a": 1}} for e in envelopes)
    assert len(read_envelopes("bulbs", app, 13, 100, access=log_access(operator))[0]) == 2


@pytest.mark.parametrize(
    ("who", "refusal"),
    [
        (caller("resident"), "needs one of the roles curator, portal, programme_office"),
        (caller(), "needs one of the roles"),
        (caller("mayor"), "needs one of the roles"),
        (caller("portal", scopes=()), "lacks the scope 'events:read'"),
        (caller("portal", cities=()), "names no city"),
        (caller("programme_office", cities=(ALL_CITIES,)), "needs the scope 'events:read:all'"),
        (caller("service", cities=("sarov",)), "needs one of the roles"),
        (caller("resident", cities=("sarov",), scopes=(READ_ALL_EVENTS_SCOPE,)), "lacks the"),
    ],
)
def test_who_may_not_read_the_event_log(who, refusal):
    with pytest.raises(PermissionDeniedError, match=refusal):
        log_access(who)
