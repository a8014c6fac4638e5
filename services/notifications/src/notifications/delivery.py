"""Delivery workers: send pending email and webhook deliveries, retry with backoff, give up.

A worker claims a due delivery by pushing its next attempt one lease ahead, sends it, and then
records the outcome. A worker that dies between sending and recording leaves the delivery to be
claimed again after the lease: the receiver sees the same Idempotency-Key (webhooks) or
Message-ID (email) and can drop the repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol

import aiohttp
import aiosmtplib
from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from notifications import metrics
from notifications.config import DeliverySettings
from notifications.domain.messages import backoff_delay, signature
from notifications.domain.subscriptions import Subscription
from notifications.projections import DELIVERIES, SUBSCRIPTIONS

log = logging.getLogger(__name__)

Document = dict[str, Any]
Clock = Callable[[], datetime]
ERROR_MAX = 500


class DeliveryFailedError(Exception):
    pass


class Sender(Protocol):
    async def send(self, delivery: Document, subscription: Subscription) -> None: ...


def webhook_body(delivery: Document) -> bytes:
    payload = {
        "delivery_id": delivery["_id"],
        "event_id": delivery["event_id"],
        "subscription_id": delivery["subscription_id"],
        "city_id": delivery["city_id"],
        "kind": delivery["kind"],
        "occurred_at": delivery["occurred_at"].astimezone(UTC).isoformat(),
        "subject": delivery["subject"],
        "body": delivery["body"],
        "data": delivery["data"],
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()


class WebhookSender:
    def __init__(self, timeout_s: float) -> None:
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.timeout_s = timeout_s
        self.session: aiohttp.ClientSession | None = None

    async def send(self, delivery: Document, subscription: Subscription) -> None:
        if self.session is None:
            self.session = aiohttp.ClientSession(timeout=self.timeout)
        body = webhook_body(delivery)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "lmp-notifications/1",
            "X-LMP-Timestamp": timestamp,
            "X-LMP-Signature": signature(subscription.webhook_secret, timestamp, body),
            "X-LMP-Event-Kind": delivery["kind"],
            "Idempotency-Key": delivery["_id"],
        }
        try:
            async with self.session.post(
                delivery["target"], data=body, headers=headers, allow_redirects=False
            ) as response:
                if not 200 <= response.status < 300:  # noqa: PLR2004  # the 2xx family
                    text = (await response.text(errors="replace"))[:200]
                    msg = f"HTTP {response.status} {response.reason or ''}: {text}".strip()
                    raise DeliveryFailedError(msg)
        except TimeoutError:
            msg = f"no answer within {self.timeout_s:g} s"
            raise DeliveryFailedError(msg) from None
        except aiohttp.ClientError as error:
            msg = f"{type(error).__name__}: {error}"
            raise DeliveryFailedError(msg) from None

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()


class EmailSender:
    def __init__(self, settings: DeliverySettings) -> None:
        self.settings = settings

    async def send(self, delivery: Document, subscription: Subscription) -> None:
        del subscription
        message = EmailMessage()
        message["From"] = self.settings.smtp_sender
        message["To"] = delivery["target"]
        message["Subject"] = delivery["subject"]
        message["Message-ID"] = f"<{delivery['_id']}@notifications.lmp>"
        message["X-LMP-Event-Kind"] = delivery["kind"]
        message.set_content(delivery["body"], charset="utf-8")
        try:
            await aiosmtplib.send(
                message,
                hostname=self.settings.smtp_host,
                port=self.settings.smtp_port,
                timeout=self.settings.smtp_timeout_s,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            msg = f"SMTP {self.settings.smtp_host}:{self.settings.smtp_port}: {error}"
            raise DeliveryFailedError(msg) from None


def utc_now() -> datetime:
    return datetime.now(UTC)


class DeliveryWorker:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        senders: dict[str, Sender],
        settings: DeliverySettings,
        clock: Clock = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.senders = senders
        self.settings = settings
        self.clock = clock
        self.rng = rng or random.SystemRandom()
        self.wake = asyncio.Event()

    async def claim(self) -> Document | None:
        now = self.clock()
        return await self.db[DELIVERIES].find_one_and_update(
            {
                "status": "pending",
                "channel": {"$in": sorted(self.senders)},
                "next_attempt_at": {"$lte": now},
            },
            {"$set": {"next_attempt_at": now + timedelta(seconds=self.settings.lease_s)}},
            sort=[("next_attempt_at", 1)],
            return_document=ReturnDocument.AFTER,
        )

    async def deliver_one(self) -> bool:
        """Send one due delivery and record the outcome; False when none is due."""
        delivery = await self.claim()
        if delivery is None:
            return False
        found = await self.db[SUBSCRIPTIONS].find_one({"_id": delivery["subscription_id"]})
        if found is None:
            await self._finish(delivery, "cancelled", "the subscription was deleted")
            return True
        try:
            await self.senders[delivery["channel"]].send(delivery, Subscription.of(found))
        except DeliveryFailedError as error:
            await self._failed(delivery, str(error))
        else:
            await self._finish(delivery, "delivered", "")
        return True

    async def _finish(self, delivery: Document, status: str, error: str) -> None:
        await self.db[DELIVERIES].update_one(
            {"_id": delivery["_id"], "status": "pending"},
            {
                "$set": {"status": status, "finished_at": self.clock(), "last_error": error},
                "$inc": {"attempts": 0 if status == "cancelled" else 1},
            },
        )
        metrics.DELIVERIES.labels(channel=delivery["channel"], outcome=status).inc()

    async def _failed(self, delivery: Document, error: str) -> None:
        attempts = int(delivery["attempts"]) + 1
        error = error[:ERROR_MAX]
        if attempts >= self.settings.max_attempts:
            log.warning(
                "%s delivery %s gave up after %d attempts: %s",
                delivery["channel"],
                delivery["_id"],
                attempts,
                error,
                extra={"city": delivery["city_id"]},
            )
            await self._finish(delivery, "dead", error)
            return
        delay = backoff_delay(
            attempts, self.settings.backoff_base_s, self.settings.backoff_cap_s, self.rng
        )
        await self.db[DELIVERIES].update_one(
            {"_id": delivery["_id"], "status": "pending"},
            {
                "$set": {
                    "next_attempt_at": self.clock() + timedelta(seconds=delay),
                    "last_error": error,
                },
                "$inc": {"attempts": 1},
            },
        )
        metrics.DELIVERIES.labels(channel=delivery["channel"], outcome="retried").inc()

    async def drain(self) -> int:
        """Deliver everything due now (tests and one-shot runs)."""
        count = 0
        while await self.deliver_one():
            count += 1
        return count

    async def run(self, stopping: asyncio.Event) -> None:
        await self.db[DELIVERIES].create_index([("status", 1), ("next_attempt_at", 1)])
        loops = [
            asyncio.create_task(self._loop(stopping)) for _ in range(self.settings.concurrency)
        ]
        await asyncio.gather(*loops)
        for sender in self.senders.values():
            close = getattr(sender, "close", None)
            if close is not None:
                await close()

    async def _loop(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                busy = await self.deliver_one()
            except PyMongoError as error:
                log.warning("cannot reach the deliveries in MongoDB: %s", error)
                busy = False
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), self.settings.poll_interval_s)


async def refresh_metrics_forever(
    db: AsyncDatabase[Document], stopping: asyncio.Event, interval_s: float
) -> None:
    while not stopping.is_set():
        try:
            await metrics.refresh(db, DELIVERIES, utc_now())
        except PyMongoError as error:
            log.warning("cannot refresh delivery metrics: %s", error)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), interval_s)
