from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest
from lmp_kit.auth import Principal
from lmp_kit.errors import DomainError
from notifications.domain.kinds import KINDS
from notifications.domain.subscriptions import SubscriptionRequest, subscribe

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def caller(subject="anna", *roles, cities=("sarov",)):
    return Principal(subject, frozenset(roles or ("resident",)), frozenset(cities), frozenset())


def request(**overrides):
    values = {
        "city_id": "sarov",
        "kind": "poll_opened",
        "person_id": "anna",
        "channels": ("inbox",),
    }
    return SubscriptionRequest(**(values | overrides))


def refused(principal, req):
    with pytest.raises(DomainError) as raised:
        subscribe(principal, req, NOW)
    return raised.value.status, raised.value.message


def test_a_person_subscribes_themselves_to_a_kind_in_their_city():
    made = subscribe(caller(), request(channels=("email", "inbox"), email="anna@example.org"), NOW)

    assert made.recipient == "anna"
    assert made.channels == ("inbox", "email")
    assert made.webhook_secret == ""


def test_the_same_subscription_always_gets_the_same_id():
    first = subscribe(caller(), request(), NOW)
    again = subscribe(caller(), request(channels=("email",), email="a@b.org"), NOW)

    assert first.subscription_id == again.subscription_id


def test_a_webhook_subscription_gets_a_fresh_signing_secret():
    req = request(channels=("webhook",), webhook_url="https://portal.example.org/hooks/lmp")

    first = subscribe(caller(), req, NOW)

    assert len(first.webhook_secret) == 64
    assert subscribe(caller(), req, NOW).webhook_secret != first.webhook_secret


def test_an_unknown_event_kind_is_an_invalid_argument():
    status, message = refused(caller(), request(kind="weather_changed"))

    assert status == grpc.StatusCode.INVALID_ARGUMENT
    assert message.startswith("unknown event kind 'weather_changed'; known kinds: ")


@pytest.mark.parametrize(
    ("channels", "reason"),
    [
        ((), "name at least one channel: inbox, email, webhook"),
        (("sms",), "unknown channel 'sms'; channels: inbox, email, webhook"),
        (("inbox", "inbox"), "each channel may be named only once"),
    ],
)
def test_channels_must_be_known_and_named_once(channels, reason):
    assert refused(caller(), request(channels=channels)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        reason,
    )


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ftp://portal.example.org/hook",
        "portal.example.org/hook",
        "https://",
        "https://user:secret@portal.example.org/hook",
        "https://portal.example.org/hook#part",
        "https://portal.example.org:99999/hook",
        "https://portal.example.org/a hook",
        "http://[::1/hook",
        "https://portal.example.org/hook\x00",
        "https://portal.example.org/\x1b[31mhook",
        "https://portal.example.org/\u202ekooh",
        "https://portal.example.org/hook\r\nX-Injected: 1",
    ],
)
def test_an_invalid_webhook_url_is_an_invalid_argument(url):
    status, message = refused(caller(), request(channels=("webhook",), webhook_url=url))

    assert status == grpc.StatusCode.INVALID_ARGUMENT
    assert "webhook_url" in message or "'webhook' channel" in message


@pytest.mark.parametrize(
    "address",
    ["an\x00na@example.org", "anna@example.org\r\nBcc: all@example.org", "an\u202ena@example.org"],
)
def test_an_address_with_control_characters_is_an_invalid_argument_naming_the_field(address):
    status, message = refused(caller(), request(channels=("email",), email=address))

    assert status == grpc.StatusCode.INVALID_ARGUMENT
    assert message.startswith("email: ")


def test_an_email_channel_needs_an_address_and_an_address_needs_the_channel():
    assert refused(caller(), request(channels=("email",), email="not-an-address"))[0] == (
        grpc.StatusCode.INVALID_ARGUMENT
    )
    assert refused(caller(), request(email="anna@example.org"))[1] == (
        "an email address is given but the 'email' channel is not chosen"
    )


def test_exactly_one_of_person_and_role_is_named():
    both = request(role="resident")
    neither = request(person_id="")

    for req in (both, neither):
        assert refused(caller(), req) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "name exactly one of person_id (a person's subscription) and role (a role's)",
        )


def test_a_role_subscription_names_a_role_the_kind_concerns():
    status, message = refused(
        caller("anna", "curator"), request(person_id="", role="curator", kind="review_assigned")
    )

    assert status == grpc.StatusCode.INVALID_ARGUMENT
    assert (
        message == "role 'curator' cannot subscribe to 'review_assigned'; roles it concerns: expert"
    )


def test_a_person_cannot_subscribe_someone_else_but_a_portal_can():
    assert refused(caller("boris"), request())[0] == grpc.StatusCode.PERMISSION_DENIED

    made = subscribe(caller("portal-1", "portal"), request(), NOW)

    assert made.recipient == "anna"
    assert made.created_by == "portal-1"


def test_a_role_subscription_needs_the_role_and_fills_the_subscribers_inbox():
    req = request(person_id="", role="expert", kind="review_assigned")

    assert refused(caller("anna", "resident"), req)[0] == grpc.StatusCode.PERMISSION_DENIED
    assert subscribe(caller("eva", "expert"), req, NOW).recipient == "eva"


def test_every_kind_concerns_at_least_one_known_role():
    from lmp_kit.auth import ROLES  # noqa: PLC0415  # only this test needs the list

    for kind in KINDS.values():
        assert kind.roles
        assert kind.roles <= ROLES
