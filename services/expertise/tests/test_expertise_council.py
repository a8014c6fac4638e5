from __future__ import annotations

import grpc
import pytest
from expertise.application import (
    CouncilNotFormedError,
    CouncilNotFoundError,
    ExpertiseApplication,
)
from lmp_kit.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)

MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


@pytest.fixture
def app():
    application = ExpertiseApplication(env=MEMORY)
    yield application
    application.close()


def event_types(app):
    return [n.topic.rpartition(":")[2] for n in app.recorder.select_notifications(None, 100)]


def test_membership_changes_are_recorded_as_events(app):
    app.form_council()
    app.admit_member("expert-1", " Anna Ivanova ", ["sarov", "seversk"])
    app.admit_member("expert-2", "Boris Petrov", ["sarov"])
    app.appoint_chair("expert-1")
    app.change_member_cities("expert-2", ["seversk", "sarov", "seversk"])
    council = app.remove_member("expert-2", "left the community")

    assert event_types(app) == [
        "Council.Formed",
        "Council.MemberAdmitted",
        "Council.MemberAdmitted",
        "Council.ChairAppointed",
        "Council.MemberCitiesChanged",
        "Council.MemberRemoved",
    ]
    assert council.members == {
        "expert-1": {
            "person_id": "expert-1",
            "name": "Anna Ivanova",
            "cities": ["sarov", "seversk"],
        }
    }
    assert council.chair_id == "expert-1"
    assert app.get_council().city_id == "*"


def test_the_council_is_one_for_the_federation_and_forming_it_twice_is_already_exists(app):
    app.form_council()

    with pytest.raises(AlreadyExistsError) as raised:
        app.form_council()

    assert raised.value.status == grpc.StatusCode.ALREADY_EXISTS
    assert app.recorder.max_notification_id() == 1


def test_reading_a_council_that_was_never_formed_is_not_found(app):
    with pytest.raises(CouncilNotFoundError) as raised:
        app.get_council()

    assert raised.value.status == grpc.StatusCode.NOT_FOUND
    assert raised.value.message == "no Expert Council has been formed yet: FormCouncil first"


def test_changing_a_council_that_was_never_formed_is_a_failed_precondition(app):
    with pytest.raises(CouncilNotFormedError) as raised:
        app.admit_member("expert-1", "Anna", ["sarov"])

    assert raised.value.status == grpc.StatusCode.FAILED_PRECONDITION
    assert app.recorder.max_notification_id() is None


def test_admitting_a_member_twice_is_already_exists_and_records_nothing(app):
    app.form_council()
    app.admit_member("expert-1", "Anna", ["sarov"])

    with pytest.raises(AlreadyExistsError):
        app.admit_member("expert-1", "Anna again", ["seversk"])

    assert app.recorder.max_notification_id() == 2


@pytest.mark.parametrize(
    ("name", "cities", "message"),
    [
        ("", ["sarov"], "name must be 1 to 200 characters (got 0)"),
        ("Anna", [], "a council member needs at least one city"),
        ("Anna", ["Sarov"], "is not a city slug"),
    ],
)
def test_a_member_without_a_name_or_valid_cities_is_invalid(app, name, cities, message):
    app.form_council()

    with pytest.raises(InvalidArgumentError) as raised:
        app.admit_member("expert-1", name, cities)

    assert message in raised.value.message
    assert app.recorder.max_notification_id() == 1


def test_the_chair_must_be_a_member_and_cannot_be_removed_while_chairing(app):
    app.form_council()
    app.admit_member("expert-1", "Anna", ["sarov"])
    with pytest.raises(NotFoundError):
        app.appoint_chair("stranger")
    app.appoint_chair("expert-1")

    with pytest.raises(FailedPreconditionError) as raised:
        app.remove_member("expert-1", "retired")

    assert "appoint another chair" in raised.value.message
    assert app.get_council().is_member("expert-1")


def test_quorum_defaults_to_a_majority_of_members_and_can_be_configured(app):
    app.form_council()
    for number in range(4):
        app.admit_member(f"expert-{number}", f"Expert {number}", ["sarov"])
    assert app.get_council().quorum_required() == 3

    app.set_quorum(2)

    assert app.get_council().quorum_required() == 2
    with pytest.raises(InvalidArgumentError):
        app.set_quorum(-1)


def test_criterion_weights_are_configurable_and_unknown_or_all_zero_weights_are_invalid(app):
    app.form_council()

    council = app.set_criterion_weights({"effectiveness": 3, "fit_to_city_needs": 2})

    assert council.weights == {
        "effectiveness": 3,
        "resource_intensity": 0,
        "time_to_implement": 0,
        "fit_to_city_needs": 2,
    }
    with pytest.raises(InvalidArgumentError, match="unknown criteria"):
        app.set_criterion_weights({"beauty": 1})
    with pytest.raises(InvalidArgumentError, match="at least one criterion"):
        app.set_criterion_weights({"effectiveness": 0})
    with pytest.raises(InvalidArgumentError, match="must be 0 to 100"):
        app.set_criterion_weights({"effectiveness": 101})
