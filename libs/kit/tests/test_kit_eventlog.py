from __future__ import annotations

from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from lmp_kit.eventlog import read_envelopes, topics_of


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
