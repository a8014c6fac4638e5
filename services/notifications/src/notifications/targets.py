"""Where a webhook may be posted: public addresses only, unless the operator allows private ones.

A host is resolved the way the HTTP client resolves it (`getaddrinfo`, which also reads the
old numeric spellings such as `2130706433`, `127.1` or `0x7f.1`), and every address it gives
is checked; one forbidden address refuses the host. The check runs when a subscription is made
and again inside the HTTP client's own resolver at every delivery, so the connection goes to
an address that was just checked: a name that later points inside the network is caught at the
moment it would be used.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
ALLOW_PRIVATE_VARIABLE = "LMP_WEBHOOK_ALLOW_PRIVATE"
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class ForbiddenTargetError(Exception):
    """The webhook's host is, or resolves to, an address webhooks may not reach."""


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries to the IPv4 network (mapped, NAT64, 6to4, ...)."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in network for network in NAT64) or (
        address in IPV4_COMPATIBLE and int(address) > 1
    ):
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return None


def forbidden_kind(address: Address, *, allow_private: bool) -> str:  # noqa: PLR0911  # one answer per kind of address
    """What kind of address webhooks may not reach `address` is, or "" when they may."""
    inner = embedded_ipv4(address)
    if inner is not None:
        kind = forbidden_kind(inner, allow_private=allow_private)
        return f"{inner} in IPv6 form, {kind}" if kind else ""
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_link_local:
        return "a link-local address (where cloud metadata lives)"
    if address.is_loopback:
        return "" if allow_private else "a loopback address"
    if address.is_reserved:
        return "a reserved address"
    if allow_private:
        return ""
    if address.is_private or not address.is_global:
        return "a private address"
    return ""


def parsed_address(text: str) -> Address:
    return ipaddress.ip_address(text.partition("%")[0])


def literal_address(host: str) -> Address | None:
    """The host as an address when it is written as one in the canonical way, else None."""
    try:
        return parsed_address(host.strip("[]"))
    except ValueError:
        return None


def host_problem(host: str, addresses: list[str], *, allow_private: bool) -> str:
    """Why a webhook may not go to `host`, which resolved to `addresses`; "" when it may."""
    for text in addresses:
        kind = forbidden_kind(parsed_address(text), allow_private=allow_private)
        if kind and literal_address(host) == parsed_address(text):
            return f"{host} is {kind}"
        if kind:
            return f"{host} resolves to {text}, {kind}"
    return ""


@dataclass(frozen=True)
class WebhookTargets:
    """The operator's rule for webhook targets; private and loopback ones only when allowed."""

    allow_private: bool = False
    resolve_timeout_s: float = 5.0

    def refusal(self, problem: str) -> str:
        if self.allow_private:
            return f"{problem}; webhooks may not reach it"
        return (
            f"{problem}; webhooks go to public addresses only "
            f"(an on-premise receiver needs the operator's {ALLOW_PRIVATE_VARIABLE}=true)"
        )

    async def check_url(self, url: str) -> None:
        """Refuse a URL whose host is, or now resolves to, a forbidden address; a name that
        does not resolve now is left to the check at delivery."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return
        if literal_address(host) is not None:
            self.check_literal(url)
            return
        try:
            async with asyncio.timeout(self.resolve_timeout_s):
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, port, type=socket.SOCK_STREAM
                )
        except (OSError, TimeoutError, UnicodeError, ValueError):
            return
        addresses = [str(info[4][0]) for info in infos]
        reason = host_problem(host, addresses, allow_private=self.allow_private)
        if reason:
            raise ForbiddenTargetError(self.refusal(reason))

    def check_literal(self, url: str) -> None:
        """Refuse a URL whose host is an address written out that webhooks may not reach."""
        host = urlsplit(url).hostname or ""
        if literal_address(host) is not None:
            problem = host_problem(host, [host], allow_private=self.allow_private)
            if problem:
                raise ForbiddenTargetError(self.refusal(problem))

    def resolver(self) -> CheckedResolver:
        return CheckedResolver(self)


class CheckedResolver(AbstractResolver):
    """The HTTP client's resolver: it answers only with addresses the rule allows, and the
    client connects to exactly those, so nothing changes between the check and the use."""

    def __init__(self, targets: WebhookTargets) -> None:
        self.targets = targets
        self.inner = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self.inner.resolve(host, port, family)
        reason = host_problem(
            host, [result["host"] for result in found], allow_private=self.targets.allow_private
        )
        if reason:
            raise ForbiddenTargetError(self.targets.refusal(reason))
        return found

    async def close(self) -> None:
        await self.inner.close()
