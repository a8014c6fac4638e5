from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import NAMESPACE_URL, uuid5

from lmp_kit.auth import Principal
from lmp_kit.domain import check_city_id
from lmp_kit.errors import InvalidArgumentError, PermissionDeniedError

from notifications.domain.kinds import CHANNELS, KINDS, EventKind
from notifications.domain.messages import has_control_characters

ACTING_FOR_OTHERS = ("portal", "programme_office")
# Who sees and may delete every subscription of their city, not only their own.
MODERATORS = ("administration", "programme_office")
EMAIL = re.compile(
    r"^[^@\s<>,;\"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$"
)
PERSON_ID_LENGTH = range(1, 201)
URL_MAX = 2_000


@dataclass(frozen=True)
class SubscriptionRequest:
    city_id: str
    kind: str
    person_id: str = ""
    role: str = ""
    channels: tuple[str, ...] = ()
    email: str = ""
    webhook_url: str = ""


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    city_id: str
    kind: str
    person_id: str
    role: str
    channels: tuple[str, ...]
    email: str
    webhook_url: str
    recipient: str
    created_by: str
    created_at: datetime
    webhook_secret: str = field(default="", repr=False)

    def document(self) -> dict[str, Any]:
        return {
            "_id": self.subscription_id,
            "city_id": self.city_id,
            "kind": self.kind,
            "person_id": self.person_id,
            "role": self.role,
            "channels": list(self.channels),
            "email": self.email,
            "webhook_url": self.webhook_url,
            "recipient": self.recipient,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "webhook_secret": self.webhook_secret,
        }

    def check_may_delete(self, caller: Principal) -> None:
        """A subscription is its subscriber's own (who made it, whose inbox it fills); the
        city's moderators may delete any."""
        if caller.subject in (self.created_by, self.recipient):
            return
        if not caller.roles.intersection(MODERATORS):
            msg = (
                f"{caller.subject} may not delete subscription {self.subscription_id}: only "
                "its subscriber or the city's administration or programme office may"
            )
            raise PermissionDeniedError(msg)

    @classmethod
    def of(cls, doc: dict[str, Any]) -> Subscription:
        return cls(
            subscription_id=doc["_id"],
            city_id=doc["city_id"],
            kind=doc["kind"],
            person_id=doc["person_id"],
            role=doc["role"],
            channels=tuple(doc["channels"]),
            email=doc["email"],
            webhook_url=doc["webhook_url"],
            recipient=doc["recipient"],
            created_by=doc["created_by"],
            created_at=doc["created_at"],
            webhook_secret=doc.get("webhook_secret", ""),
        )


def subscribe(caller: Principal, request: SubscriptionRequest, now: datetime) -> Subscription:
    city_id = check_city_id(request.city_id)
    kind = check_kind(request.kind)
    person_id, role = check_audience(request.person_id, request.role, kind)
    channels = check_channels(request.channels)
    email = check_email(request.email, required="email" in channels)
    webhook_url = check_webhook_url(request.webhook_url, required="webhook" in channels)
    # the city is the access policy's (the guard admits only callers of it)
    if person_id:
        check_may_act_for(caller, person_id)
    else:
        check_may_speak_for_role(caller, role)
    recipient = person_id or caller.subject
    audience = f"person:{person_id}" if person_id else f"role:{role}"
    subscription_id = uuid5(
        NAMESPACE_URL,
        f"lmp:notifications:subscription:{recipient}:{city_id}:{kind.kind}:{audience}",
    )
    return Subscription(
        subscription_id=str(subscription_id),
        city_id=city_id,
        kind=kind.kind,
        person_id=person_id,
        role=role,
        channels=channels,
        email=email,
        webhook_url=webhook_url,
        recipient=recipient,
        created_by=caller.subject,
        created_at=now,
        webhook_secret=secrets.token_hex(32) if "webhook" in channels else "",
    )


def check_kind(kind: str) -> EventKind:
    found = KINDS.get(kind)
    if found is None:
        msg = f"unknown event kind {kind!r}; known kinds: {', '.join(sorted(KINDS))}"
        raise InvalidArgumentError(msg)
    return found


def check_audience(person_id: str, role: str, kind: EventKind) -> tuple[str, str]:
    person_id, role = person_id.strip(), role.strip()
    if bool(person_id) == bool(role):
        msg = "name exactly one of person_id (a person's subscription) and role (a role's)"
        raise InvalidArgumentError(msg)
    if person_id and len(person_id) not in PERSON_ID_LENGTH:
        msg = f"person_id must be 1 to {PERSON_ID_LENGTH.stop - 1} characters"
        raise InvalidArgumentError(msg)
    if role and role not in kind.roles:
        msg = (
            f"role {role!r} cannot subscribe to {kind.kind!r}; "
            f"roles it concerns: {', '.join(sorted(kind.roles))}"
        )
        raise InvalidArgumentError(msg)
    return person_id, role


def check_channels(channels: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    if not channels:
        msg = f"name at least one channel: {', '.join(CHANNELS)}"
        raise InvalidArgumentError(msg)
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown:
        msg = f"unknown channel {unknown[0]!r}; channels: {', '.join(CHANNELS)}"
        raise InvalidArgumentError(msg)
    if len(set(channels)) != len(channels):
        msg = "each channel may be named only once"
        raise InvalidArgumentError(msg)
    return tuple(c for c in CHANNELS if c in channels)


def check_email(email: str, *, required: bool) -> str:
    email = email.strip()
    if not required:
        if email:
            msg = "an email address is given but the 'email' channel is not chosen"
            raise InvalidArgumentError(msg)
        return ""
    if has_control_characters(email) or not EMAIL.fullmatch(email):
        msg = f"email: the 'email' channel needs a valid address (name@example.org), not {email!r}"
        raise InvalidArgumentError(msg)
    return email


def check_webhook_url(url: str, *, required: bool) -> str:
    url = url.strip()
    if not required:
        if url:
            msg = "a webhook_url is given but the 'webhook' channel is not chosen"
            raise InvalidArgumentError(msg)
        return ""
    problem = webhook_url_problem(url)
    if problem:
        msg = f"webhook_url {url!r} is not valid: {problem}"
        raise InvalidArgumentError(msg)
    return url


def webhook_url_problem(url: str) -> str:  # noqa: PLR0911  # one answer per way a URL goes wrong
    """Why a webhook URL cannot be posted to, or "" when it can (also for URLs stored before)."""
    if not url:
        return "the 'webhook' channel needs an http(s) URL"
    if has_control_characters(url):
        return "it contains control characters"
    if len(url) > URL_MAX or any(c.isspace() for c in url):
        return f"use an http(s) URL of at most {URL_MAX} characters, without spaces"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        return str(error)
    if parts.scheme not in ("http", "https"):
        return "the scheme must be http or https"
    if not parts.hostname:
        return "it names no host"
    if parts.username or parts.password:
        return "credentials do not belong in the URL; the signature authenticates us"
    if parts.fragment:
        return "a fragment is never sent to the server"
    if port == 0:
        return "port 0 is not a port"
    return ""


def check_may_act_for(caller: Principal, person_id: str) -> None:
    if person_id != caller.subject and not caller.roles.intersection(ACTING_FOR_OTHERS):
        msg = (
            f"{caller.subject} may subscribe only themselves; a portal or the programme office "
            f"may subscribe {person_id!r}"
        )
        raise PermissionDeniedError(msg)


def check_may_speak_for_role(caller: Principal, role: str) -> None:
    if role not in caller.roles and not caller.roles.intersection(ACTING_FOR_OTHERS):
        msg = f"{caller.subject} does not hold the role {role!r} to subscribe for it"
        raise PermissionDeniedError(msg)
