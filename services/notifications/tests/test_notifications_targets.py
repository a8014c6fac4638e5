"""Webhook targets: every spelling of an inside address is refused, public addresses are not.

The forms are resolved by the system's `getaddrinfo`, the resolver the HTTP client uses, so a
spelling it reads as loopback is checked as loopback. Public names are not resolved here (the
test machine has no DNS); public addresses written out stand for them.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

import pytest
from lmp_kit.settings import SettingsError
from notifications.config import DeliverySettings
from notifications.delivery import UndeliverableError, WebhookSender
from notifications.targets import ForbiddenTargetError, WebhookTargets, forbidden_kind

FORBIDDEN = {
    "http://127.0.0.1:9105/metrics": "loopback",
    "http://127.0.0.1:27017/": "loopback",
    "http://127.0.0.1:9092/": "loopback",
    "http://localhost/hook": "loopback",
    "http://LOCALHOST:8080/hook": "loopback",
    "http://[::1]/hook": "loopback",
    "http://0.0.0.0/hook": "unspecified",
    "http://0/hook": "unspecified",
    "http://[::]/hook": "unspecified",
    "http://2130706433/hook": "loopback",
    "http://127.1/hook": "loopback",
    "http://0177.0.0.1/hook": "loopback",
    "http://0x7f.1/hook": "loopback",
    "http://0x7f000001/hook": "loopback",
    "http://169.254.169.254/latest/meta-data/": "link-local",
    "http://[fe80::1%25eth0]/hook": "link-local",
    "http://[::ffff:127.0.0.1]/hook": "loopback",
    "http://[::ffff:7f00:1]/hook": "loopback",
    "http://[::ffff:169.254.169.254]/hook": "link-local",
    "http://[64:ff9b::7f00:1]/hook": "loopback",
    "http://[64:ff9b::a9fe:a9fe]/hook": "link-local",
    "http://[2002:7f00:1::]/hook": "loopback",
    "http://[::127.0.0.1]/hook": "loopback",
    "http://10.1.2.3/hook": "private",
    "http://172.16.0.1/hook": "private",
    "http://192.168.1.1/hook": "private",
    "http://100.64.0.1/hook": "private",
    "http://[fc00::1]/hook": "private",
    "http://[fd12:3456::1]/hook": "private",
    "http://224.0.0.1/hook": "multicast",
    "http://[ff02::1]/hook": "multicast",
    "http://240.0.0.1/hook": "reserved",
    "http://255.255.255.255/hook": "reserved",
}
PUBLIC = [
    "https://93.184.216.34/hooks/lmp",
    "http://8.8.8.8:8080/hook",
    "https://[2606:2800:220:1:248:1893:25c8:1946]/hook",
    "https://[::ffff:93.184.216.34]/hook",
    "https://[64:ff9b::5db8:d822]/hook",
]
ALWAYS_FORBIDDEN = ("unspecified", "link-local", "multicast", "reserved")


@pytest.mark.parametrize(("url", "kind"), FORBIDDEN.items())
async def test_an_inside_address_in_any_spelling_is_refused(url: str, kind: str) -> None:
    with pytest.raises(ForbiddenTargetError) as raised:
        await WebhookTargets().check_url(url)

    assert f"{kind} address" in str(raised.value)
    assert "LMP_WEBHOOK_ALLOW_PRIVATE" in str(raised.value)


@pytest.mark.parametrize("url", PUBLIC)
async def test_a_public_address_is_allowed(url: str) -> None:
    await WebhookTargets().check_url(url)


@pytest.mark.parametrize(("url", "kind"), FORBIDDEN.items())
async def test_the_operator_setting_allows_loopback_and_private_targets_only(
    url: str, kind: str
) -> None:
    targets = WebhookTargets(allow_private=True)
    if kind in ALWAYS_FORBIDDEN:
        with pytest.raises(ForbiddenTargetError, match=kind):
            await targets.check_url(url)
    else:
        await targets.check_url(url)


async def test_a_name_that_does_not_resolve_now_is_left_to_the_delivery() -> None:
    await WebhookTargets(resolve_timeout_s=2).check_url("https://receiver.invalid/hook")


@pytest.mark.parametrize(
    "network",
    ["127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"],
)
def test_every_address_of_an_inside_network_is_forbidden(network: str) -> None:
    hosts = ipaddress.ip_network(network)
    for address in (hosts[0], hosts[1], hosts[hosts.num_addresses // 2], hosts[-1]):
        assert forbidden_kind(address, allow_private=False)
        mapped = ipaddress.IPv6Address(f"::ffff:{address}")
        assert forbidden_kind(mapped, allow_private=False)


async def test_the_http_clients_resolver_refuses_a_name_that_points_inside() -> None:
    resolver = WebhookTargets().resolver()
    with pytest.raises(ForbiddenTargetError, match="localhost resolves to"):
        await resolver.resolve("localhost", 80, 0)  # type: ignore[arg-type]  # 0: any family
    allowed = await WebhookTargets(allow_private=True).resolver().resolve("localhost", 80)
    assert {result["host"] for result in allowed} <= {"127.0.0.1", "::1"}


async def test_a_delivery_to_a_forbidden_literal_is_undeliverable_without_a_connection() -> None:
    sender = WebhookSender(1.0)
    delivery = {
        "_id": "d-1",
        "event_id": "e-1",
        "subscription_id": "s-1",
        "city_id": "sarov",
        "kind": "poll_opened",
        "occurred_at": datetime(2026, 11, 27, tzinfo=UTC),
        "subject": "s",
        "body": "b",
        "data": {},
        "target": "http://[::ffff:169.254.169.254]/latest/meta-data/",
    }
    with pytest.raises(UndeliverableError, match="link-local"):
        await sender.send(delivery, None)  # type: ignore[arg-type]  # refused before it is read
    assert sender.session is None


@pytest.mark.parametrize(("raw", "allowed"), [("true", True), ("1", True), ("false", False)])
def test_the_operator_setting_is_read_from_the_environment(raw: str, *, allowed: bool) -> None:
    settings = DeliverySettings.from_env({"LMP_WEBHOOK_ALLOW_PRIVATE": raw})

    assert settings.webhook_targets.allow_private is allowed
    assert DeliverySettings.from_env({}).webhook_allow_private is False


def test_a_setting_that_is_not_a_flag_is_refused() -> None:
    with pytest.raises(SettingsError, match="LMP_WEBHOOK_ALLOW_PRIVATE"):
        DeliverySettings.from_env({"LMP_WEBHOOK_ALLOW_PRIVATE": "maybe"})
