from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest
from lmp.notifications.v1 import notifications_pb2 as pb
from lmp_kit.access import AccessPolicy, Filtered, missing_rules
from lmp_kit.auth import Principal
from lmp_kit.errors import DomainError
from notifications.access import RULES, SERVICE_NAME
from notifications.domain.subscriptions import Subscription

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
# The rules that need no record's city (those are tested on MongoDB, in the integration tests).
POLICY = AccessPolicy(SERVICE_NAME, RULES)


def caller(subject="anna", *roles, cities=("sarov",)):
    return Principal(subject, frozenset(roles or ("resident",)), frozenset(cities), frozenset())


async def refusal(method, request, who):
    with pytest.raises(DomainError) as refused:
        await POLICY.admit(method, request, who)
    return refused.value.status, refused.value.message


def test_every_rpc_of_the_notifications_service_has_a_rule():
    methods = pb.DESCRIPTOR.services_by_name["NotificationsService"].methods_by_name

    assert SERVICE_NAME == "lmp.notifications.v1.NotificationsService"
    assert missing_rules(POLICY, methods) == []


def test_the_inbox_rpcs_serve_only_the_callers_own_inbox_of_its_cities():
    for method in ("ListInbox", "MarkRead", "GetUnreadCount", "StreamNotifications"):
        [source] = RULES[method].cities
        assert isinstance(source, Filtered)
        assert "own inbox" in source.what
        assert "portal" in source.what  # a portal reads for the residents it serves


async def test_nobody_subscribes_to_another_citys_events():
    request = pb.CreateSubscriptionRequest(city_id="sarov", kind="poll_opened", person_id="anna")

    assert await refusal("CreateSubscription", request, caller(cities=("seversk",))) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "your token is not for city 'sarov'",
    )
    await POLICY.admit("CreateSubscription", request, caller())


async def test_lists_of_subscriptions_and_dead_letters_are_of_a_city_of_the_token():
    for method, request in [
        ("ListSubscriptions", pb.ListSubscriptionsRequest(city_id="sarov")),
        ("ListDeadLetters", pb.ListDeadLettersRequest(city_id="sarov")),
    ]:
        status, _ = await refusal(method, request, caller("p", "portal", cities=("seversk",)))
        assert status == grpc.StatusCode.PERMISSION_DENIED
        status, message = await refusal(method, type(request)(), caller("p", "portal"))
        assert (status, message) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "city_id is required: the city this call is for",
        )


@pytest.mark.parametrize("role", ["administration", "programme_office", "portal", "working_group"])
async def test_those_who_look_after_deliveries_list_dead_letters(role):
    await POLICY.admit(
        "ListDeadLetters", pb.ListDeadLettersRequest(city_id="sarov"), caller(role, role)
    )


@pytest.mark.parametrize("role", ["resident", "expert", "curator", "enterprise"])
async def test_others_do_not_see_or_redeliver_dead_letters(role):
    for method, request in [
        ("ListDeadLetters", pb.ListDeadLettersRequest(city_id="sarov")),
        ("RedeliverDeadLetter", pb.RedeliverDeadLetterRequest(delivery_id="d" * 32)),
    ]:
        status, message = await refusal(method, request, caller(role, role))
        assert status == grpc.StatusCode.PERMISSION_DENIED
        assert message == (
            f"{method} needs one of the roles administration, portal, programme_office, "
            f"working_group; your token has {role}"
        )


def subscription(created_by="portal-1", recipient="anna"):
    return Subscription(
        subscription_id="s-1",
        city_id="sarov",
        kind="poll_opened",
        person_id=recipient,
        role="",
        channels=("inbox",),
        email="",
        webhook_url="",
        recipient=recipient,
        created_by=created_by,
        created_at=NOW,
    )


def test_a_subscription_is_deleted_by_its_subscriber_or_the_citys_moderators():
    made = subscription()
    for who in (
        caller("anna"),
        caller("portal-1", "portal"),
        caller("a", "administration"),
        caller("office", "programme_office"),
    ):
        made.check_may_delete(who)

    with pytest.raises(DomainError) as refused:
        made.check_may_delete(caller("portal-2", "portal"))

    assert refused.value.status == grpc.StatusCode.PERMISSION_DENIED
    assert refused.value.message == (
        "portal-2 may not delete subscription s-1: only its subscriber or the city's "
        "administration or programme office may"
    )
