from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event
from lmp_kit.domain import CityAggregate

RECEIPT_LABEL = "lmp-ballot-v1"
BALLOT_NAMESPACE = uuid5(NAMESPACE_URL, "lmp:voting:ballot")


def pseudonym_of(city_key: bytes, resident_id: str) -> str:
    return hmac.new(city_key, resident_id.encode(), hashlib.sha256).hexdigest()


def receipt_of(
    poll_id: UUID, ballot_id: UUID, version: int, nonce: str, choices: Mapping[str, int]
) -> str:
    canonical = json.dumps(
        [
            RECEIPT_LABEL,
            str(poll_id),
            str(ballot_id),
            version,
            nonce,
            dict(sorted(choices.items())),
        ],
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def month_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


class Ballot(CityAggregate):
    poll_id: UUID
    pseudonym: str
    choices: dict[str, int]
    receipt: str

    @staticmethod
    def create_id(poll_id: UUID, pseudonym: str) -> UUID:
        return uuid5(BALLOT_NAMESPACE, f"{poll_id}:{pseudonym}")

    @classmethod
    def cast(  # noqa: PLR0913  # the parts of a ballot, each named
        cls,
        *,
        city_id: str,
        poll_id: UUID,
        pseudonym: str,
        choices: dict[str, int],
        nonce: str,
        now: datetime,
    ) -> Ballot:
        ballot_id = cls.create_id(poll_id, pseudonym)
        return cls(
            city_id=city_id,
            poll_id=poll_id,
            pseudonym=pseudonym,
            month=month_of(now),
            choices=choices,
            nonce=nonce,
            receipt=receipt_of(poll_id, ballot_id, 1, nonce, choices),
        )

    @event("Cast")
    def __init__(  # noqa: PLR0913  # the attributes of Ballot.Cast, each named
        self,
        *,
        city_id: str,
        poll_id: UUID,
        pseudonym: str,
        month: str,
        choices: dict[str, int],
        nonce: str,
        receipt: str,
    ) -> None:
        del month, nonce
        self.city_id = city_id
        self.poll_id = poll_id
        self.pseudonym = pseudonym
        self.choices = choices
        self.receipt = receipt

    def recast(self, choices: dict[str, int], nonce: str, now: datetime) -> None:
        receipt = receipt_of(self.poll_id, self.id, self.version + 1, nonce, choices)
        self._recast(
            poll_id=self.poll_id,
            pseudonym=self.pseudonym,
            month=month_of(now),
            choices=choices,
            previous=self.choices,
            nonce=nonce,
            receipt=receipt,
        )

    @event("Recast")
    def _recast(  # noqa: PLR0913  # the attributes of Ballot.Recast, each named
        self,
        *,
        poll_id: UUID,
        pseudonym: str,
        month: str,
        choices: dict[str, int],
        previous: dict[str, int],
        nonce: str,
        receipt: str,
    ) -> None:
        del poll_id, pseudonym, month, previous, nonce
        self.choices = choices
        self.receipt = receipt
