from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from lmp.notifications.v1 import notifications_pb2 as pb
from lmp.notifications.v1 import notifications_pb2_grpc as pb_grpc
from lmp_kit.auth import principal
from lmp_kit.changes import HUB, ChangeHub
from lmp_kit.grpc_server import Registration
from lmp_kit.idempotency import Retry
from lmp_kit.rpc import Context, timestamp
from pymongo.asynchronous.database import AsyncDatabase

from notifications import views
from notifications.access import SERVICE_NAME, policy
from notifications.application import Notifications
from notifications.domain.kinds import KINDS
from notifications.domain.subscriptions import Subscription, SubscriptionRequest
from notifications.projections import INBOX
from notifications.targets import WebhookTargets

Document = dict[str, Any]
STREAM_BATCH = 100


class NotificationsServicer(pb_grpc.NotificationsServiceServicer):
    def __init__(
        self,
        db: AsyncDatabase[Document],
        hub: ChangeHub = HUB,
        targets: WebhookTargets | None = None,
    ) -> None:
        self.db = db
        self.commands = Notifications(db, targets=targets)
        self.hub = hub

    async def ListEventKinds(  # noqa: N802  # gRPC method name
        self, request: pb.ListEventKindsRequest, context: Context
    ) -> pb.ListEventKindsResponse:
        del request, context
        principal()
        return pb.ListEventKindsResponse(
            kinds=[
                pb.EventKind(kind=k.kind, title=k.title, roles=sorted(k.roles))
                for k in KINDS.values()
            ]
        )

    async def CreateSubscription(  # noqa: N802  # gRPC method name
        self, request: pb.CreateSubscriptionRequest, context: Context
    ) -> pb.CreateSubscriptionResponse:
        del context
        subscription = await self.commands.create_subscription(
            principal(),
            SubscriptionRequest(
                city_id=request.city_id,
                kind=request.kind,
                person_id=request.person_id,
                role=request.role,
                channels=tuple(request.channels),
                email=request.email,
                webhook_url=request.webhook_url,
            ),
            Retry.of(request.city_id, request),
        )
        return pb.CreateSubscriptionResponse(
            subscription=subscription_message(subscription),
            webhook_secret=subscription.webhook_secret,
        )

    async def ListSubscriptions(  # noqa: N802  # gRPC method name
        self, request: pb.ListSubscriptionsRequest, context: Context
    ) -> pb.ListSubscriptionsResponse:
        del context
        found, token = await views.subscriptions(
            self.db,
            principal(),
            request.city_id,
            views.SUBSCRIPTION_PAGES.size(request.page_size),
            request.page_token,
        )
        return pb.ListSubscriptionsResponse(
            subscriptions=[subscription_message(s) for s in found], next_page_token=token
        )

    async def DeleteSubscription(  # noqa: N802  # gRPC method name
        self, request: pb.DeleteSubscriptionRequest, context: Context
    ) -> pb.DeleteSubscriptionResponse:
        del context
        await self.commands.delete_subscription(principal(), request.subscription_id)
        return pb.DeleteSubscriptionResponse()

    async def ListInbox(  # noqa: N802  # gRPC method name
        self, request: pb.ListInboxRequest, context: Context
    ) -> pb.ListInboxResponse:
        del context
        caller = principal()
        recipient = views.recipient_of(caller, request.person_id)
        page = await views.inbox(
            self.db,
            caller,
            recipient,
            unread_only=request.unread_only,
            size=views.INBOX_PAGES.size(request.page_size),
            token=request.page_token,
        )
        return pb.ListInboxResponse(
            notifications=[notification_message(d) for d in page.items],
            next_page_token=page.next_page_token,
            unread_count=await views.unread_count(self.db, caller, recipient),
        )

    async def MarkRead(  # noqa: N802  # gRPC method name
        self, request: pb.MarkReadRequest, context: Context
    ) -> pb.MarkReadResponse:
        del context
        caller = principal()
        recipient = views.recipient_of(caller, request.person_id)
        marked = await self.commands.mark_read(caller, recipient, list(request.notification_ids))
        return pb.MarkReadResponse(
            marked=marked, unread_count=await views.unread_count(self.db, caller, recipient)
        )

    async def GetUnreadCount(  # noqa: N802  # gRPC method name
        self, request: pb.GetUnreadCountRequest, context: Context
    ) -> pb.GetUnreadCountResponse:
        del context
        caller = principal()
        recipient = views.recipient_of(caller, request.person_id)
        return pb.GetUnreadCountResponse(
            unread_count=await views.unread_count(self.db, caller, recipient)
        )

    async def StreamNotifications(  # noqa: N802  # gRPC method name
        self, request: pb.StreamNotificationsRequest, context: Context
    ) -> AsyncIterator[pb.Notification]:
        del context
        caller = principal()
        recipient = views.recipient_of(caller, request.person_id)
        after = max(0, request.after)
        inbox = self.db[INBOX]
        async with self.hub.watch([inbox], key=recipient, key_field="recipient") as watch:
            while not watch.closed:
                watch.arm()
                batch = await views.feed_after(self.db, caller, recipient, after, STREAM_BATCH)
                for doc in batch:
                    after = int(doc["position"])
                    yield notification_message(doc)
                if len(batch) < STREAM_BATCH:
                    await watch.wait()

    async def ListDeadLetters(  # noqa: N802  # gRPC method name
        self, request: pb.ListDeadLettersRequest, context: Context
    ) -> pb.ListDeadLettersResponse:
        del context
        page = await views.dead_letters(
            self.db,
            request.city_id,
            views.DEAD_LETTER_PAGES.size(request.page_size),
            request.page_token,
        )
        return pb.ListDeadLettersResponse(
            deliveries=[delivery_message(d) for d in page.items],
            next_page_token=page.next_page_token,
        )

    async def RedeliverDeadLetter(  # noqa: N802  # gRPC method name
        self, request: pb.RedeliverDeadLetterRequest, context: Context
    ) -> pb.RedeliverDeadLetterResponse:
        del context
        delivery = await self.commands.redeliver(principal().subject, request.delivery_id)
        return pb.RedeliverDeadLetterResponse(delivery=delivery_message(delivery))


def subscription_message(subscription: Subscription) -> pb.Subscription:
    return pb.Subscription(
        subscription_id=subscription.subscription_id,
        city_id=subscription.city_id,
        kind=subscription.kind,
        person_id=subscription.person_id,
        role=subscription.role,
        channels=list(subscription.channels),
        email=subscription.email,
        webhook_url=subscription.webhook_url,
        recipient=subscription.recipient,
        created_by=subscription.created_by,
        created_at=timestamp(subscription.created_at),
    )


def notification_message(doc: Document) -> pb.Notification:
    return pb.Notification(
        notification_id=doc["_id"],
        position=int(doc["position"]),
        recipient=doc["recipient"],
        city_id=doc["city_id"],
        kind=doc["kind"],
        subject=doc["subject"],
        body=doc["body"],
        source_event_id=doc["event_id"],
        data_json=json.dumps(doc["data"], sort_keys=True, ensure_ascii=False, default=str),
        occurred_at=timestamp(doc["occurred_at"]),
        read=bool(doc["read"]),
        subscription_id=doc["subscription_id"],
    )


def delivery_message(doc: Document) -> pb.Delivery:
    return pb.Delivery(
        delivery_id=doc["_id"],
        subscription_id=doc["subscription_id"],
        city_id=doc["city_id"],
        channel=doc["channel"],
        kind=doc["kind"],
        status=doc["status"],
        attempts=int(doc["attempts"]),
        last_error=doc.get("last_error", ""),
        created_at=timestamp(doc["created_at"]),
        next_attempt_at=timestamp(doc["next_attempt_at"]),
        target=doc["target"],
    )


def registrations(
    db: AsyncDatabase[Document], targets: WebhookTargets | None = None
) -> list[Registration]:
    return [
        Registration(
            add=pb_grpc.add_NotificationsServiceServicer_to_server,
            servicer=NotificationsServicer(db, targets=targets),
            service_name=SERVICE_NAME,
            access=policy(db),
        )
    ]
