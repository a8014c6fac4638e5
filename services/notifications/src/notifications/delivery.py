"""Delivery workers: send pending email and webhook deliveries, retry with backoff, give up.

A worker claims a due delivery by pushing its next attempt one lease ahead, sends it, and then
records the outcome. A worker that dies between sending and recording leaves the delivery to be
claimed again after the lease: the receiver sees the same Idempotency-Key (webhooks) or
Message-ID (email) and can drop the repeat.

No delivery stops a worker: whatever one delivery raises is recorded on it (and counted in
`lmp_worker_failures_total`), and the loop goes on with the next. A delivery that can never be
sent (its address cannot be carried by a header or a URL, or its webhook host is an address
webhooks may not reach: see targets.py) is a dead letter at once; anything else is retried
with backoff until the attempts run out.
"""

from __future__ import annotations

import asyncio
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
from lmp_kit.logs import current_traceparent
from lmp_kit.metrics import WORKER_FAILURES
from lmp_kit.stopping import sleep_unless
from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from notifications import metrics
from notifications.config import DeliverySettings
from notifications.domain.messages import (
    backoff_delay,
    has_control_characters,
    signature,
    single_line,
)
from notifications.domain.subscriptions import Subscription, webhook_url_problem
from notifications.projections import DELIVERIES, SUBSCRIPTIONS
from notifications.targets import ForbiddenTargetError, WebhookTargets

log = logging.getLogger(__name__)

Document = dict[str, Any]
Clock = Callable[[], datetime]
ERROR_MAX = 500
REPLY_LOGGED = 200


class DeliveryFailedError(Exception):
    """This attempt failed; a later one may succeed (the receiver was down, slow, or odd)."""


class UndeliverableError(Exception):
    """No attempt can ever succeed: the channel cannot carry what the delivery names."""


def worker_name(channel: str) -> str:
    return f"delivery-{channel}"


def traceparent_of(delivery: Document) -> str:
    """The trace of the event that made the delivery; one derived from its id for older ones."""
    stored = str(delivery.get("traceparent") or "")
    if stored:
        return stored
    digest = str(delivery.get("_id", "")).ljust(32, "0")[:32]
    return f"00-{digest}-{digest[:16]}-01"


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
    """Posts a delivery to its webhook, through a resolver that refuses forbidden addresses.

    The subscriber sees only the status of a reply; what the receiver wrote goes to the log.
    """

    def __init__(self, timeout_s: float, targets: WebhookTargets | None = None) -> None:
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.timeout_s = timeout_s
        self.targets = targets or WebhookTargets(resolve_timeout_s=timeout_s)
        self.session: aiohttp.ClientSession | None = None

    async def send(self, delivery: Document, subscription: Subscription) -> None:
        self.check_target(delivery["target"])
        if self.session is None:
            connector = aiohttp.TCPConnector(resolver=self.targets.resolver(), use_dns_cache=False)
            self.session = aiohttp.ClientSession(timeout=self.timeout, connector=connector)
        body = webhook_body(delivery)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "lmp-notifications/1",
            "X-LMP-Timestamp": timestamp,
            "X-LMP-Signature": signature(subscription.webhook_secret, timestamp, body),
            "X-LMP-Event-Kind": single_line(delivery["kind"]),
            "Idempotency-Key": delivery["_id"],
        }
        try:
            async with self.session.post(
                delivery["target"], data=body, headers=headers, allow_redirects=False
            ) as response:
                await check_reply(delivery, response)
        except ForbiddenTargetError as error:
            raise UndeliverableError(str(error)) from None
        except TimeoutError:
            msg = f"no answer within {self.timeout_s:g} s"
            raise DeliveryFailedError(msg) from None
        except aiohttp.InvalidURL as error:
            msg = f"webhook_url {delivery['target']!r} cannot be posted to: {error}"
            raise UndeliverableError(msg) from None
        except aiohttp.ClientConnectorError as error:
            msg = f"{type(error).__name__}: {error}"
            raise DeliveryFailedError(msg) from None
        except aiohttp.ClientError as error:
            log.info("webhook delivery %s: %r", delivery["_id"], error)
            msg = f"{type(error).__name__}: the receiver's reply could not be read as HTTP"
            raise DeliveryFailedError(msg) from None
        except ValueError as error:  # aiohttp refuses a header or URL it cannot send
            msg = f"the request cannot be sent: {error}"
            raise UndeliverableError(msg) from None

    def check_target(self, url: str) -> None:
        """Refuse what can never be posted; an address written in the URL is checked here, as
        the HTTP client connects to it without asking the resolver."""
        problem = webhook_url_problem(url)
        if problem:
            msg = f"webhook_url {url!r} cannot be posted to: {problem}"
            raise UndeliverableError(msg)
        try:
            self.targets.check_literal(url)
        except ForbiddenTargetError as error:
            raise UndeliverableError(str(error)) from None

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()


async def check_reply(delivery: Document, response: aiohttp.ClientResponse) -> None:
    """A reply outside 2xx fails the attempt; the subscriber learns its status, the operator's
    log a bounded excerpt of what the receiver wrote (which may be anybody's data)."""
    if 200 <= response.status < 300:  # noqa: PLR2004  # the 2xx family
        return
    excerpt = (await response.content.read(REPLY_LOGGED)).decode(errors="replace")
    log.info(
        "webhook delivery %s: HTTP %d, the receiver wrote %r",
        delivery["_id"],
        response.status,
        excerpt,
        extra={"city": delivery.get("city_id", "")},
    )
    msg = f"HTTP {response.status}"
    raise DeliveryFailedError(msg)


class EmailSender:
    def __init__(self, settings: DeliverySettings) -> None:
        self.settings = settings

    async def send(self, delivery: Document, subscription: Subscription) -> None:
        del subscription
        try:
            message = self.message(delivery)
        except ValueError as error:
            msg = f"email to {delivery['target']!r} cannot be written: {error}"
            raise UndeliverableError(msg) from None
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

    def message(self, delivery: Document) -> EmailMessage:
        """The mail; texts of one line are made safe for a header, addresses are not altered
        (a changed address would reach somebody else), so one a header cannot carry fails."""
        message = EmailMessage()
        message["From"] = self.settings.smtp_sender
        if has_control_characters(delivery["target"]):
            msg = f"the address contains control characters: {delivery['target']!r}"
            raise ValueError(msg)
        message["To"] = delivery["target"]
        message["Subject"] = single_line(delivery["subject"])
        message["Message-ID"] = f"<{delivery['_id']}@notifications.lmp>"
        message["X-LMP-Event-Kind"] = single_line(delivery["kind"])
        message.set_content(delivery["body"], charset="utf-8")
        return message


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
        self.loops: list[asyncio.Task[None]] = []

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
        trace = current_traceparent.set(traceparent_of(delivery))
        try:
            await self._attempt(delivery)
        finally:
            current_traceparent.reset(trace)
        return True

    async def _attempt(self, delivery: Document) -> None:
        found = await self.db[SUBSCRIPTIONS].find_one({"_id": delivery["subscription_id"]})
        if found is None:
            await self._finish(delivery, "cancelled", "the subscription was deleted")
            return
        try:
            await self.senders[delivery["channel"]].send(delivery, Subscription.of(found))
        except DeliveryFailedError as error:
            await self._failed(delivery, str(error))
        except UndeliverableError as error:
            self._record_failure(delivery, error)
            await self._finish(delivery, "dead", f"undeliverable: {error}"[:ERROR_MAX])
        except PyMongoError:
            raise
        except Exception as error:  # noqa: BLE001  # whatever one delivery raises is its own
            self._record_failure(delivery, error)
            await self._failed(delivery, f"{type(error).__name__}: {error}")
        else:
            await self._finish(delivery, "delivered", "")

    def _record_failure(self, delivery: Document, error: Exception) -> None:
        WORKER_FAILURES.labels(worker=worker_name(delivery["channel"])).inc()
        log.warning(
            "%s delivery %s failed: %s",
            delivery["channel"],
            delivery["_id"],
            error,
            exc_info=not isinstance(error, UndeliverableError),
            extra={"city": delivery.get("city_id", "")},
        )

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
        attempts = int(delivery.get("attempts", 0)) + 1
        error = error[:ERROR_MAX]
        if attempts >= self.settings.max_attempts:
            log.warning(
                "%s delivery %s gave up after %d attempts: %s",
                delivery["channel"],
                delivery["_id"],
                attempts,
                error,
                extra={"city": delivery.get("city_id", "")},
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

    def is_alive(self) -> bool:
        """True while every delivery loop runs; False before `run` and once any loop ended."""
        return bool(self.loops) and not any(loop.done() for loop in self.loops)

    async def run(self, stopping: asyncio.Event) -> None:
        await self.db[DELIVERIES].create_index([("status", 1), ("next_attempt_at", 1)])
        self.loops = [
            asyncio.create_task(self._loop(stopping)) for _ in range(self.settings.concurrency)
        ]
        try:
            await asyncio.gather(*self.loops)
        finally:
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
            except Exception:  # a fault in recording one delivery stops no loop
                WORKER_FAILURES.labels(worker="delivery").inc()
                log.exception("a delivery could not be recorded; its lease hands it on later")
                busy = False
            if not busy:
                await sleep_unless(stopping, self.settings.poll_interval_s)


async def refresh_metrics_forever(
    db: AsyncDatabase[Document], stopping: asyncio.Event, interval_s: float
) -> None:
    while not stopping.is_set():
        try:
            await metrics.refresh(db, DELIVERIES, utc_now())
        except PyMongoError as error:
            log.warning("cannot refresh delivery metrics: %s", error)
        except Exception:  # one bad document stops no gauge for good
            WORKER_FAILURES.labels(worker="delivery-metrics").inc()
            log.exception("cannot refresh delivery metrics")
        await sleep_unless(stopping, interval_s)
