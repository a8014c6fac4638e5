"""The notification use cases. Subscriptions and deliveries live in MongoDB, next to the read
models they are matched against in the consumer's transaction. The service has no event
store, so no relay and no EventLog either: nothing consumes its events, it records none."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from lmp_kit.auth import Principal
from lmp_kit.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)
from lmp_kit.idempotency import Retry, fingerprint
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from notifications.domain.subscriptions import Subscription, SubscriptionRequest, subscribe
from notifications.projections import DELIVERIES, INBOX, SUBSCRIPTIONS
from notifications.targets import ForbiddenTargetError, WebhookTargets
from notifications.views import city_filter

Document = dict[str, Any]
READ_MAX = 500
# A subscription created under a client's request key (safe retries) holds the key and the
# request's fingerprint; the key is unique within its city.
REQUEST_KEY = "request_key"
REQUEST_FINGERPRINT = "request_fingerprint"
REQUEST_KEY_INDEX = "city_request_key"


def utc_now() -> datetime:
    return datetime.now(UTC)


class Notifications:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        clock: Callable[[], datetime] = utc_now,
        targets: WebhookTargets | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.targets = targets or WebhookTargets()
        self.keys_indexed = False

    async def create_subscription(
        self, caller: Principal, request: SubscriptionRequest, retry: Retry | None = None
    ) -> Subscription:
        subscription = subscribe(caller, request, self.clock())
        if subscription.webhook_url:
            try:
                await self.targets.check_url(subscription.webhook_url)
            except ForbiddenTargetError as error:
                msg = f"webhook_url {subscription.webhook_url!r} is refused: {error}"
                raise InvalidArgumentError(msg) from None
        document = subscription.document()
        if retry is not None and retry.request_id:
            earlier = await self._created_under(retry)
            if earlier is not None:
                return earlier
            document[REQUEST_KEY] = retry.request_id
            document[REQUEST_FINGERPRINT] = fingerprint(retry.request)
        try:
            await self.db[SUBSCRIPTIONS].insert_one(document)
        except DuplicateKeyError:
            if retry is not None and retry.request_id:
                earlier = await self._created_under(retry)  # a request under the key won
                if earlier is not None:
                    return earlier
            audience = subscription.person_id or f"role {subscription.role}"
            msg = (
                f"{audience} is already subscribed to {subscription.kind!r} in "
                f"{subscription.city_id!r} (subscription {subscription.subscription_id})"
            )
            raise AlreadyExistsError(msg) from None
        return subscription

    async def _created_under(self, retry: Retry) -> Subscription | None:
        """The subscription an earlier request under the key created, if it was the same
        request; another request under the key is ALREADY_EXISTS naming it."""
        collection = self.db[SUBSCRIPTIONS]
        if not self.keys_indexed:
            await collection.create_index(
                [("city_id", 1), (REQUEST_KEY, 1)],
                name=REQUEST_KEY_INDEX,
                unique=True,
                partialFilterExpression={REQUEST_KEY: {"$type": "string"}},
            )
            self.keys_indexed = True
        found = await collection.find_one({"city_id": retry.city_id, REQUEST_KEY: retry.request_id})
        if found is None:
            return None
        if found.get(REQUEST_FINGERPRINT) != fingerprint(retry.request):
            msg = (
                f"request_id {retry.request_id!r} was used for another request, which created "
                f"subscription {found['_id']}; choose a new key for a new request"
            )
            raise AlreadyExistsError(msg)
        return Subscription.of(found)

    async def delete_subscription(self, caller: Principal, subscription_id: str) -> None:
        subscription = await self.subscription(subscription_id)
        subscription.check_may_delete(caller)
        await self.db[SUBSCRIPTIONS].delete_one({"_id": subscription.subscription_id})

    async def subscription(self, subscription_id: str) -> Subscription:
        found = await self.db[SUBSCRIPTIONS].find_one({"_id": subscription_id.strip()})
        if found is None:
            msg = f"no subscription {subscription_id!r}"
            raise NotFoundError(msg)
        return Subscription.of(found)

    async def mark_read(
        self, caller: Principal, recipient: str, notification_ids: list[str]
    ) -> int:
        """Mark the recipient's entries read, only those of the caller's cities: an id of
        another inbox or city is not marked (and not told apart from an id of none)."""
        if not notification_ids or len(notification_ids) > READ_MAX:
            msg = f"name 1 to {READ_MAX} notification ids to mark read"
            raise InvalidArgumentError(msg)
        result = await self.db[INBOX].update_many(
            {
                "recipient": recipient,
                "_id": {"$in": notification_ids},
                "read": False,
                **city_filter(caller),
            },
            {"$set": {"read": True, "read_at": self.clock()}},
        )
        return result.modified_count

    async def redeliver(self, by: str, delivery_id: str) -> Document:
        found = await self.db[DELIVERIES].find_one({"_id": delivery_id.strip()})
        if found is None:
            msg = f"no delivery {delivery_id!r}"
            raise NotFoundError(msg)
        if found["status"] != "dead":
            msg = f"delivery {delivery_id} is {found['status']}, not a dead letter"
            raise FailedPreconditionError(msg)
        now = self.clock()
        await self.db[DELIVERIES].update_one(
            {"_id": found["_id"], "status": "dead"},
            {
                "$set": {"status": "pending", "attempts": 0, "next_attempt_at": now},
                "$push": {"redelivered": {"at": now, "by": by}},
            },
        )
        return await self.db[DELIVERIES].find_one({"_id": found["_id"]}) or found
