from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event
from lmp_kit.domain import CityAggregate, check_city_id
from lmp_kit.envelope import EVENT_ID_NAMESPACE
from lmp_kit.errors import FailedPreconditionError, InvalidArgumentError

from kpi.domain.checks import check_month

OPEN = "open"
AWAITING_CURATOR = "awaiting_curator"
CLOSED = "closed"
CONCLUSION_MAX = 10_000
REASON_MAX = 2_000


def month_end(month: str) -> datetime:
    year, number = int(month[:4]), int(month[5:7])
    if number == 12:  # noqa: PLR2004  # December
        return datetime(year + 1, 1, 1, tzinfo=UTC)
    return datetime(year, number + 1, 1, tzinfo=UTC)


def month_start(month: str) -> datetime:
    return datetime(int(month[:4]), int(month[5:7]), 1, tzinfo=UTC)


def status_of(month: str, *, closed: bool, now: datetime, reporting_closed: bool = False) -> str:
    """Open until the month ends or the programme office closes its reporting early."""
    if closed:
        return CLOSED
    return OPEN if now < month_end(month) and not reporting_closed else AWAITING_CURATOR


def check_score(score: str) -> Decimal:
    try:
        value = Decimal(score.strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(1):
        msg = f"score must be a decimal number in [0, 1] (e.g. '0.85'), not {score!r}"
        raise InvalidArgumentError(msg)
    return value


def check_text(name: str, text: str, maximum: int) -> str:
    stripped = text.strip()
    if not stripped or len(stripped) > maximum:
        msg = f"{name} must be 1 to {maximum} characters (got {len(stripped)})"
        raise InvalidArgumentError(msg)
    return stripped


class KpiPeriod(CityAggregate):
    @staticmethod
    def create_id(city_id: str, month: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"lmp:kpi:period:{city_id}:{month}")

    @classmethod
    def open(cls, city_id: str, month: str) -> KpiPeriod:
        check_city_id(city_id)
        return cls(city_id=city_id, month=check_month(month))

    @event("Opened")
    def __init__(self, city_id: str, month: str) -> None:
        self.city_id = city_id
        self.month = month
        self.closed = False
        self.evaluation: dict[str, Any] | None = None
        self.evaluation_version = 0
        self.scorecard: dict[str, Any] | None = None
        self.signed_by = ""
        self.amendments: list[dict[str, str]] = []
        self.reporting_closed_by = ""

    def status(self, now: datetime) -> str:
        return status_of(
            self.month, closed=self.closed, now=now, reporting_closed=bool(self.reporting_closed_by)
        )

    def close_reporting(self, by: str, reason: str, now: datetime) -> None:
        """The programme office ends the month's reporting before the month ends."""
        checked_reason = check_text("reason", reason, REASON_MAX)
        if now < month_start(self.month):
            msg = f"{self.month} has not begun; only the current month's reporting closes early"
            raise FailedPreconditionError(msg)
        status = self.status(now)
        if status == CLOSED:
            msg = f"{self.city_id} {self.month} is already closed (signed by {self.signed_by})"
            raise FailedPreconditionError(msg)
        if status == AWAITING_CURATOR:
            closed_by = self.reporting_closed_by or "the end of the month"
            msg = (
                f"the reporting of {self.city_id} {self.month} is already closed "
                f"(by {closed_by}); the month awaits the curator"
            )
            raise FailedPreconditionError(msg)
        self._reporting_closed(month=self.month, closed_by=by, reason=checked_reason)

    @event("ReportingClosed")
    def _reporting_closed(self, month: str, closed_by: str, reason: str) -> None:
        del month, reason
        self.reporting_closed_by = closed_by

    def check_awaiting_curator(self, now: datetime, action: str) -> None:
        status = self.status(now)
        if status == OPEN:
            msg = (
                f"{self.city_id} {self.month} is still open; {action} is possible after the "
                f"month ends ({month_end(self.month).isoformat()}) or once the programme office "
                "closes its reporting early (CloseReporting)"
            )
            raise FailedPreconditionError(msg)
        if status == CLOSED:
            msg = (
                f"{self.city_id} {self.month} is closed (signed by {self.signed_by}); "
                "only an amendment with a reason reopens it"
            )
            raise FailedPreconditionError(msg)

    def evaluate(  # noqa: PLR0913  # the parts of a curator's evaluation, each named
        self,
        curator: str,
        *,
        score: str,
        branding_used: bool,
        methodology_followed: bool,
        conclusion: str,
        now: datetime,
    ) -> None:
        checked_score = check_score(score)
        checked_conclusion = check_text("conclusion", conclusion, CONCLUSION_MAX)
        self.check_awaiting_curator(now, "the curator's evaluation")
        self._evaluated(
            month=self.month,
            curator=curator,
            score=str(checked_score),
            branding_used=branding_used,
            methodology_followed=methodology_followed,
            conclusion=checked_conclusion,
        )

    @event("Evaluated")
    def _evaluated(  # noqa: PLR0913  # the attributes of KpiPeriod.Evaluated, each named
        self,
        *,
        month: str,
        curator: str,
        score: str,
        branding_used: bool,
        methodology_followed: bool,
        conclusion: str,
    ) -> None:
        del month
        self.evaluation_version = self.version + 1
        self.evaluation = {
            "event_id": str(uuid5(EVENT_ID_NAMESPACE, f"{self.id}:{self.evaluation_version}")),
            "curator": curator,
            "score": score,
            "branding_used": branding_used,
            "methodology_followed": methodology_followed,
            "conclusion": conclusion,
        }

    def sign(
        self, curator: str, scorecard: dict[str, Any], evaluated_at_version: int, now: datetime
    ) -> None:
        self.check_awaiting_curator(now, "signing")
        if self.evaluation is None:
            msg = (
                f"{self.city_id} {self.month} has no evaluation yet: submit the score, "
                "K6/K7 judgements and a conclusion first"
            )
            raise FailedPreconditionError(msg)
        if evaluated_at_version != self.evaluation_version:
            msg = f"the evaluation of {self.city_id} {self.month} changed meanwhile; sign again"
            raise FailedPreconditionError(msg)
        self._signed(month=self.month, curator=curator, scorecard=scorecard)

    class Signed(CityAggregate.Event):
        """Version 2's scorecard carries the voting indicator's base by project direction
        (`by_direction` on every indicator, empty but for voting's)."""

        month: str
        curator: str
        scorecard: dict[str, Any]
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            for indicator in state["scorecard"].get("indicators", []):
                indicator.setdefault("by_direction", [])

    @event(Signed)
    def _signed(self, month: str, curator: str, scorecard: dict[str, Any]) -> None:
        del month
        self.closed = True
        self.signed_by = curator
        self.scorecard = scorecard

    def amend(self, requested_by: str, reason: str) -> None:
        checked_reason = check_text("reason", reason, REASON_MAX)
        if not self.closed:
            msg = f"{self.city_id} {self.month} is not closed; there is nothing to amend"
            raise FailedPreconditionError(msg)
        self._amended(month=self.month, requested_by=requested_by, reason=checked_reason)

    @event("Amended")
    def _amended(self, month: str, requested_by: str, reason: str) -> None:
        del month
        self.closed = False
        self.signed_by = ""
        self.scorecard = None
        self.amendments.append({"requested_by": requested_by, "reason": reason})
