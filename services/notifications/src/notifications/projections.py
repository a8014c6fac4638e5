"""Upstream events -> the facts notifications need, and notices fanned out to deliveries.

Everything runs inside the consumer's MongoDB transaction (tracking + effect). A delivery's id
is a hash of (event id, subscription id, channel) and is only ever inserted, so an event that
arrives again — by Kafka, by catch-up, or by a rebuild — creates nothing twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC
from typing import Any

from lmp_contracts import expertise, kpi, registry, voting
from lmp_kit.envelope import Envelope
from pymongo import DeleteOne, ReturnDocument, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from notifications.domain.messages import MISSING, ROUNDS, VERDICTS, Notice, delivery_id
from notifications.domain.subscriptions import Subscription
from notifications.metrics import DELIVERIES as DELIVERED

Db = AsyncDatabase[dict[str, Any]]
Session = AsyncClientSession | None
Handler = Callable[[Envelope, Db, AsyncClientSession], Awaitable[Notice | None]]
Write = UpdateOne | DeleteOne
# An event that only records a fact, read by later notices: its collection and its write.
Fact = Callable[[Envelope], tuple[str, Write]]

SUBSCRIPTIONS = "subscriptions"
DELIVERIES = "deliveries"
INBOX = "inbox"
FEEDS = "feeds"
CITIES = "cities"
PRACTICES = "practices"
POLLS = "polls"
ACTIVITIES = "activities"
MEMBERS = "council_members"
REVIEWS = "reviews"
FEDERATION = "*"


async def fan_out(
    db: Db, notice: Notice, session: Session, *, subscribed_before: bool = True
) -> list[str]:
    """One delivery per matching subscription and channel; returns the channels of new ones.

    Replay-safe: only subscriptions that existed when the event happened match (a subscriber
    hears of what happens after subscribing, also when the event reaches this service late or
    again in a catch-up or a rebuild), and a delivery's times are the event's, not the clock's,
    so the same events make the same deliveries whenever they are applied. A reminder is no
    event but the schedule's decision now (`subscribed_before=False`): it goes to the
    subscriptions there are."""
    created: list[str] = []
    subject, body = notice.render()
    matching: dict[str, Any] = {"city_id": notice.city_id, "kind": notice.kind}
    if subscribed_before:
        matching["created_at"] = {"$lte": notice.occurred_at}
    cursor = db[SUBSCRIPTIONS].find(matching, session=session)
    async for doc in cursor:
        subscription = Subscription.of(doc)
        if (
            subscription.person_id
            and notice.addressees
            and (subscription.person_id not in notice.addressees)
        ):
            continue
        for channel in subscription.channels:
            new = await _deliver(
                db, notice, subscription, channel, text=(subject, body), session=session
            )
            created.extend([channel] if new else [])
    return created


async def _deliver(  # noqa: PLR0913  # one delivery's parts, each named
    db: Db,
    notice: Notice,
    subscription: Subscription,
    channel: str,
    *,
    text: tuple[str, str],
    session: Session,
) -> bool:
    # Due at once: the event's moment has passed. Its pending age counts from the event.
    now = notice.occurred_at
    did = delivery_id(notice.event_id, subscription.subscription_id, channel)
    target = {"email": subscription.email, "webhook": subscription.webhook_url}.get(
        channel, subscription.recipient
    )
    document = {
        "event_id": notice.event_id,
        "subscription_id": subscription.subscription_id,
        "channel": channel,
        "city_id": notice.city_id,
        "kind": notice.kind,
        "recipient": subscription.recipient,
        "target": target,
        "subject": text[0],
        "body": text[1],
        "data": notice.data,
        "occurred_at": notice.occurred_at,
        "created_at": now,
        "status": "delivered" if channel == "inbox" else "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
        "traceparent": notice.traceparent,
    }
    result = await db[DELIVERIES].update_one(
        {"_id": did}, {"$setOnInsert": document}, upsert=True, session=session
    )
    if result.upserted_id is None:
        return False
    if channel == "inbox":
        feed = await db[FEEDS].find_one_and_update(
            {"_id": subscription.recipient},
            {"$inc": {"position": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        if feed is None:
            msg = f"the feed counter of {subscription.recipient} was not created"
            raise RuntimeError(msg)
        await db[INBOX].insert_one(
            {
                "_id": did,
                "position": int(feed["position"]),
                "recipient": subscription.recipient,
                "subscription_id": subscription.subscription_id,
                "city_id": notice.city_id,
                "kind": notice.kind,
                "subject": text[0],
                "body": text[1],
                "event_id": notice.event_id,
                "data": notice.data,
                "occurred_at": notice.occurred_at,
                "read": False,
            },
            session=session,
        )
    return True


class NoticeProjection:
    """One upstream's events: keep the facts, and fan out the notices they make.

    `facts`: events that only record a fact (a city's name, a practice's title, a poll's
    labels, the council's members); `handlers`: events that may make a notice."""

    def __init__(
        self, handlers: Mapping[str, Handler], facts: Mapping[str, Fact] | None = None
    ) -> None:
        self.handlers = dict(handlers)
        self.facts = dict(facts or {})
        self.event_types = frozenset({*self.handlers, *self.facts})

    collections: tuple[str, ...] = (CITIES, PRACTICES, POLLS, ACTIVITIES, MEMBERS, REVIEWS)

    async def apply(self, envelope: Envelope, db: Db, session: AsyncClientSession) -> None:
        await self.apply_batch([envelope], db, session)

    async def apply_batch(
        self, envelopes: Sequence[Envelope], db: Db, session: AsyncClientSession
    ) -> None:
        """Facts are written a run at a time, one bulk write per collection; an event that may
        make a notice is applied alone, in order, after the facts before it are written. Its
        notice reads facts that earlier events of the same batch wrote (the city's name, the
        practice's title, the poll's labels, the members to assign), and each delivery's
        upsert result says whether the delivery is new, which its inbox entry and feed position
        follow: neither can be folded into one write."""
        facts: dict[str, list[Write]] = {}
        for envelope in envelopes:
            fact = self.facts.get(envelope.event_type)
            if fact is not None:
                collection, write = fact(envelope)
                facts.setdefault(collection, []).append(write)
                continue
            await record(db, facts, session)
            notice = await self.handlers[envelope.event_type](envelope, db, session)
            if notice is not None:
                created = await fan_out(db, notice, session)
                # Counted inside the transaction: a retried transaction may count an inbox twice.
                for _ in (c for c in created if c == "inbox"):
                    DELIVERED.labels(channel="inbox", outcome="delivered").inc()
        await record(db, facts, session)


async def record(db: Db, facts: dict[str, list[Write]], session: AsyncClientSession) -> None:
    """The facts gathered so far, one ordered bulk write per collection; then none is left."""
    for collection, writes in facts.items():
        await db[collection].bulk_write(writes, ordered=True, session=session)
    facts.clear()


def notice(
    envelope: Envelope, kind: str, data: dict[str, Any], addressees: tuple[str, ...] = ()
) -> Notice:
    return Notice(
        event_id=str(envelope.event_id),
        city_id=envelope.city_id,
        kind=kind,
        occurred_at=envelope.occurred_at,
        data=data,
        addressees=addressees,
        traceparent=envelope.traceparent,
    )


async def city_name(db: Db, city_id: str, session: AsyncClientSession) -> str:
    found = await db[CITIES].find_one({"_id": city_id}, session=session)
    return str(found["name"]) if found else city_id


def _set(key: str, values: dict[str, Any]) -> UpdateOne:
    return UpdateOne({"_id": key}, {"$set": values}, upsert=True)


async def _upsert(
    db: Db, collection: str, key: str, values: dict[str, Any], session: AsyncClientSession
) -> None:
    await db[collection].update_one({"_id": key}, {"$set": values}, upsert=True, session=session)


# registry


def city_registered(e: Envelope) -> tuple[str, Write]:
    return CITIES, _set(e.city_id, {"name": e.parse(registry.CityRegistered).name})


def practice_registered(e: Envelope) -> tuple[str, Write]:
    practice = e.parse(registry.PracticeRegistered)
    values = {"city_id": e.city_id, "title": practice.title, "kind": practice.kind}
    return PRACTICES, _set(str(e.aggregate_id), values)


async def _practice_title(db: Db, practice_id: str, session: AsyncClientSession) -> str:
    found = await db[PRACTICES].find_one({"_id": practice_id}, session=session)
    return str(found["title"]) if found else practice_id


async def practice_status_changed(
    e: Envelope, db: Db, session: AsyncClientSession
) -> Notice | None:
    if e.parse(registry.PracticeStatusChanged).status != "approved_for_vote":
        return None
    practice_id = str(e.aggregate_id)
    data = {
        "practice_id": practice_id,
        "practice_title": await _practice_title(db, practice_id, session),
        "city_name": await city_name(db, e.city_id, session),
    }
    return notice(e, "practice_approved_for_vote", data)


async def passport_approved(e: Envelope, db: Db, session: AsyncClientSession) -> Notice | None:
    practice_id = str(e.aggregate_id)
    version = e.parse(registry.PracticePassportApproved).version
    await _upsert(
        db,
        PRACTICES,
        practice_id,
        {"city_id": e.city_id, "passport_approved": True, "passport_version": version},
        session,
    )
    data = {
        "practice_id": practice_id,
        "practice_title": await _practice_title(db, practice_id, session),
        "version": version,
        "city_name": await city_name(db, e.city_id, session),
    }
    return notice(e, "passport_approved", data)


async def activity_registered(e: Envelope, db: Db, session: AsyncClientSession) -> Notice | None:
    activity_id = str(e.aggregate_id)
    activity = e.parse(registry.ActivityRegistered)
    speakers = sorted({s.person_id for s in activity.speakers if s.person_id})
    values = {
        "city_id": e.city_id,
        "title": activity.title,
        "kind": activity.kind,
        "held_on": activity.held_on.isoformat(),
        "speakers": speakers,
        **{f"has_{part}": False for part in MISSING},
    }
    await db[ACTIVITIES].update_one(
        {"_id": activity_id}, {"$setOnInsert": values}, upsert=True, session=session
    )
    data = {
        "activity_id": activity_id,
        "title": values["title"],
        "held_on": values["held_on"],
        "city_name": await city_name(db, e.city_id, session),
    }
    return notice(e, "activity_registered", data)


def activity_part(part: str) -> Fact:
    def fact(e: Envelope) -> tuple[str, Write]:
        return ACTIVITIES, _set(str(e.aggregate_id), {f"has_{part}": True, "city_id": e.city_id})

    return fact


# voting


def poll_created(e: Envelope) -> tuple[str, Write]:
    poll = e.parse(voting.PollCreated)
    values = {
        "city_id": e.city_id,
        "kind": poll.kind,
        "title": poll.title,
        "labels": {o.option_id: o.label for o in poll.options},
    }
    return POLLS, _set(str(e.aggregate_id), values)


async def _poll(db: Db, poll_id: str, session: AsyncClientSession) -> dict[str, Any]:
    return await db[POLLS].find_one({"_id": poll_id}, session=session) or {}


async def poll_opened(e: Envelope, db: Db, session: AsyncClientSession) -> Notice | None:
    poll_id = str(e.aggregate_id)
    opens_at = e.parse(voting.PollOpened).opens_at.isoformat()
    await _upsert(
        db,
        POLLS,
        poll_id,
        {"city_id": e.city_id, "opens_at": opens_at, "opened_month": opens_at[:7]},
        session,
    )
    poll = await _poll(db, poll_id, session)
    data = {
        "poll_id": poll_id,
        "poll_title": poll.get("title", poll_id),
        "poll_kind": poll.get("kind", ""),
        "opens_at": opens_at[:16].replace("T", " "),
        "city_name": await city_name(db, e.city_id, session),
    }
    return notice(e, "poll_opened", data)


async def poll_closed(e: Envelope, db: Db, session: AsyncClientSession) -> Notice | None:
    poll_id = str(e.aggregate_id)
    closed_month = e.occurred_at.astimezone(UTC).strftime("%Y-%m")
    closed = e.parse(voting.PollClosed)
    kind = closed.kind
    await _upsert(
        db,
        POLLS,
        poll_id,
        {"city_id": e.city_id, "closed_month": closed_month, "kind": kind},
        session,
    )
    poll = await _poll(db, poll_id, session)
    leaders = [r for r in closed.results if r.rank == 1]
    leader = poll.get("labels", {}).get(leaders[0].option_id) if len(leaders) == 1 else None
    data = {
        "poll_id": poll_id,
        "poll_title": poll.get("title", poll_id),
        "poll_kind": kind,
        "distinct_voters": closed.distinct_voters,
        "turnout": closed.turnout,
        "leader": leader or "",
        "city_name": await city_name(db, e.city_id, session),
    }
    return notice(e, "poll_closed", data)


# kpi

SCORECARD_ACTIONS = {
    "KpiPeriod.Evaluated": "куратор выставил оценку",
    "KpiPeriod.Signed": "куратор подписал и закрыл месяц",
    "KpiPeriod.Amended": "месяц открыт для исправлений",
    "KpiPeriod.ReportingClosed": "отчётный период закрыт досрочно, месяц ждёт оценки куратора",
}


SCORECARD_EVENTS: Mapping[
    str,
    type[
        kpi.KpiPeriodEvaluated
        | kpi.KpiPeriodSigned
        | kpi.KpiPeriodAmended
        | kpi.KpiPeriodReportingClosed
    ],
] = {
    c.event_type: c
    for c in (
        kpi.KpiPeriodEvaluated,
        kpi.KpiPeriodSigned,
        kpi.KpiPeriodAmended,
        kpi.KpiPeriodReportingClosed,
    )
}


async def scorecard_changed(e: Envelope, db: Db, session: AsyncClientSession) -> Notice | None:
    period = e.parse(SCORECARD_EVENTS[e.event_type])
    match period:
        case kpi.KpiPeriodEvaluated() | kpi.KpiPeriodSigned():
            curator, reason = period.curator, ""
        case _:
            curator, reason = "", period.reason
    data = {
        "month": period.month,
        "action": SCORECARD_ACTIONS[e.event_type],
        "curator": curator,
        "reason": reason,
        "city_name": await city_name(db, e.city_id, session),
    }
    return notice(e, "scorecard_changed", data)


# expertise


def member_admitted(e: Envelope) -> tuple[str, Write]:
    member = e.parse(expertise.CouncilMemberAdmitted)
    return MEMBERS, _set(member.person_id, {"name": member.name, "cities": list(member.cities)})


def member_cities_changed(e: Envelope) -> tuple[str, Write]:
    member = e.parse(expertise.CouncilMemberCitiesChanged)
    return MEMBERS, _set(member.person_id, {"cities": list(member.cities)})


def member_removed(e: Envelope) -> tuple[str, Write]:
    return MEMBERS, DeleteOne({"_id": e.parse(expertise.CouncilMemberRemoved).person_id})


async def review_opened(e: Envelope, db: Db, session: AsyncClientSession) -> Notice | None:
    review_id = str(e.aggregate_id)
    opened = e.parse(expertise.ReviewOpened)
    title = opened.practice_title
    practice_id = opened.practice_id
    round_ = opened.round
    await _upsert(
        db,
        REVIEWS,
        review_id,
        {"city_id": e.city_id, "practice_id": practice_id, "practice_title": title},
        session,
    )
    interested = set(opened.interested)
    reviewers = [
        doc["_id"]
        async for doc in db[MEMBERS].find(
            {"cities": {"$in": [e.city_id, FEDERATION]}}, session=session
        )
        if doc["_id"] not in interested
    ]
    if not reviewers:
        return None
    data = {
        "review_id": review_id,
        "practice_id": practice_id,
        "practice_title": title,
        "round": ROUNDS.get(round_, round_),
        "reviewers": sorted(reviewers),
        "city_name": await city_name(db, e.city_id, session),
    }
    return notice(e, "review_assigned", data, addressees=tuple(sorted(reviewers)))


async def review_concluded(e: Envelope, db: Db, session: AsyncClientSession) -> Notice | None:
    review = await db[REVIEWS].find_one({"_id": str(e.aggregate_id)}, session=session) or {}
    concluded = e.parse(expertise.ReviewConcluded)
    practice_id = concluded.practice_id
    round_ = concluded.round
    verdict = concluded.verdict
    data = {
        "review_id": str(e.aggregate_id),
        "practice_id": practice_id,
        "practice_title": review.get("practice_title")
        or await _practice_title(db, practice_id, session),
        "round": ROUNDS.get(round_, round_),
        "verdict": VERDICTS.get(verdict, verdict),
        "rationale": concluded.rationale,
        "city_name": await city_name(db, e.city_id, session),
    }
    return notice(e, "review_concluded", data)


REGISTRY = NoticeProjection(
    {
        "Practice.StatusChanged": practice_status_changed,
        "Practice.PassportApproved": passport_approved,
        "Activity.Registered": activity_registered,
    },
    facts={
        "City.Registered": city_registered,
        "Practice.Registered": practice_registered,
        "Activity.AnnouncementPublished": activity_part("announcement"),
        "Activity.PressReleasePublished": activity_part("press_release"),
        "Activity.ReportFiled": activity_part("report"),
    },
)
VOTING = NoticeProjection(
    {"Poll.Opened": poll_opened, "Poll.Closed": poll_closed}, facts={"Poll.Created": poll_created}
)
KPI = NoticeProjection(dict.fromkeys(SCORECARD_ACTIONS, scorecard_changed))
EXPERTISE = NoticeProjection(
    {"Review.Opened": review_opened, "Review.Concluded": review_concluded},
    facts={
        "Council.MemberAdmitted": member_admitted,
        "Council.MemberCitiesChanged": member_cities_changed,
        "Council.MemberRemoved": member_removed,
    },
)
