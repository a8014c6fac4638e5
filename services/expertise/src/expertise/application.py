from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from lmp_kit.commands import retrying
from lmp_kit.domain import ServiceApplication
from lmp_kit.errors import AlreadyExistsError, FailedPreconditionError, NotFoundError
from lmp_kit.idempotency import Claim, Retry

from expertise.domain import (
    LIST_OF_VERDICT,
    ApprovedList,
    Council,
    CouncilSession,
    Plan,
    PracticeFacts,
    Review,
)
from expertise.domain.lists import check_list_kind

T = TypeVar("T")


NO_COUNCIL = "no Expert Council has been formed yet: FormCouncil first"


class CouncilNotFoundError(NotFoundError):
    """Reading the council before it was formed: there is nothing to read."""

    def __init__(self) -> None:
        super().__init__(NO_COUNCIL)


class CouncilNotFormedError(FailedPreconditionError):
    """A command that needs the council, before it was formed."""

    def __init__(self) -> None:
        super().__init__(NO_COUNCIL)


class ReviewNotFoundError(NotFoundError):
    def __init__(self, review_id: UUID) -> None:
        super().__init__(f"review {review_id} does not exist")


class SessionNotFoundError(NotFoundError):
    def __init__(self, session_id: UUID) -> None:
        super().__init__(f"council session {session_id} does not exist")


class ExpertiseApplication(ServiceApplication):
    def form_council(self, quorum: int = 0) -> Council:
        council = Council.form(quorum)
        try:
            self.save(council)
        except IntegrityError:
            msg = "the expert council is already formed"
            raise AlreadyExistsError(msg) from None
        return council

    def get_council(self) -> Council:
        try:
            return self.council()
        except CouncilNotFormedError:
            raise CouncilNotFoundError from None

    def council(self) -> Council:
        """The council a command needs: FAILED_PRECONDITION while none was formed."""
        try:
            council: Council = self.repository.get(Council.create_id())
        except AggregateNotFoundError:
            raise CouncilNotFormedError from None
        return council

    def admit_member(self, person_id: str, name: str, cities: Sequence[str]) -> Council:
        return self._change_council(lambda c: c.admit(person_id, name, list(cities)))

    def change_member_cities(self, person_id: str, cities: Sequence[str]) -> Council:
        return self._change_council(lambda c: c.change_cities(person_id, list(cities)))

    def remove_member(self, person_id: str, reason: str) -> Council:
        return self._change_council(lambda c: c.remove(person_id, reason))

    def appoint_chair(self, person_id: str) -> Council:
        return self._change_council(lambda c: c.appoint_chair(person_id))

    def set_quorum(self, quorum: int) -> Council:
        return self._change_council(lambda c: c.set_quorum(quorum))

    def set_criterion_weights(self, weights: dict[str, int]) -> Council:
        return self._change_council(lambda c: c.set_weights(weights))

    def _change_council(self, change: Callable[[Council], None]) -> Council:
        def attempt() -> Council:
            council = self.council()
            change(council)
            self.save(council)
            return council

        return retrying(attempt)

    def open_review(
        self,
        practice: PracticeFacts,
        round: str,  # noqa: A002  # the domain's word
        retry: Retry | None = None,
    ) -> Review:
        def create(claim: Claim) -> Review:
            review = Review.open(practice, round, self.council())
            try:
                self.save(review, *claim(review.id))
            except IntegrityError:
                msg = f"practice {practice.practice_id} already has a {round} review: {review.id}"
                raise AlreadyExistsError(msg) from None
            return review

        return self.request_keys.create_once(retry, "review", self.get_review, create)

    def get_review(self, review_id: UUID) -> Review:
        try:
            review: object = self.repository.get(review_id)
        except AggregateNotFoundError:
            raise ReviewNotFoundError(review_id) from None
        if not isinstance(review, Review):  # another aggregate's id (the council's, a session's)
            raise ReviewNotFoundError(review_id)
        return review

    def score(self, review_id: UUID, person_id: str, scores: dict[str, int]) -> Review:
        def attempt() -> Review:
            review = self.get_review(review_id)
            review.score(person_id, scores, self.council())
            self.save(review)
            return review

        return retrying(attempt)

    def assess(
        self, review_id: UUID, person_id: str, scores: dict[str, int], rationale: str
    ) -> Review:
        def attempt() -> Review:
            review = self.get_review(review_id)
            review.assess(person_id, scores, rationale)
            self.save(review)
            return review

        return retrying(attempt)

    def conclude_review(  # noqa: PLR0913  # the decision's parts, each named
        self,
        review_id: UUID,
        *,
        by: str,
        session_id: UUID,
        verdict: str,
        rationale: str,
        plan: Plan | None = None,
    ) -> Review:
        def attempt() -> Review:
            review = self.get_review(review_id)
            review.conclude(
                by=by,
                verdict=verdict,
                rationale=rationale,
                session=self.get_session(session_id),
                council=self.council(),
                plan=plan,
            )
            kind = LIST_OF_VERDICT.get(verdict)
            if kind is None:
                self.save(review)
                return review
            approved = self._list(review.city_id, kind)
            approved.enter(review.practice_id, str(review.id), review.plan["priority_rank"])
            self.save(review, approved)
            return review

        return retrying(attempt)

    def schedule_session(
        self,
        city_id: str,
        scheduled_on: str,
        agenda: Sequence[str],
        retry: Retry | None = None,
    ) -> CouncilSession:
        def create(claim: Claim) -> CouncilSession:
            self.council()
            session = CouncilSession.schedule(city_id, scheduled_on, list(agenda))
            try:
                self.save(session, *claim(session.id))
            except IntegrityError:
                msg = (
                    f"a council session for {city_id!r} is already scheduled on {scheduled_on}: "
                    f"{session.id}"
                )
                raise AlreadyExistsError(msg) from None
            return session

        return self.request_keys.create_once(retry, "council session", self.get_session, create)

    def get_session(self, session_id: UUID) -> CouncilSession:
        try:
            session: object = self.repository.get(session_id)
        except AggregateNotFoundError:
            raise SessionNotFoundError(session_id) from None
        if not isinstance(session, CouncilSession):  # another aggregate's id
            raise SessionNotFoundError(session_id)
        return session

    def hold_session(
        self, session_id: UUID, held_on: str, attendees: Sequence[str], minutes: str
    ) -> CouncilSession:
        def attempt() -> CouncilSession:
            session = self.get_session(session_id)
            session.hold(held_on, list(attendees), minutes, self.council())
            self.save(session)
            return session

        return retrying(attempt)

    def get_list(self, city_id: str, kind: str) -> ApprovedList:
        return self._list(city_id, kind)

    def close_list(self, city_id: str, kind: str, by: str) -> ApprovedList:
        def attempt() -> ApprovedList:
            self.council().check_chair(by, "closes an approved list")
            approved = self._list(city_id, kind)
            approved.close()
            self.save(approved)
            return approved

        return retrying(attempt)

    def _list(self, city_id: str, kind: str) -> ApprovedList:
        try:
            found: ApprovedList = self.repository.get(
                ApprovedList.create_id(city_id, check_list_kind(kind))
            )
        except AggregateNotFoundError:
            return ApprovedList.start(city_id, kind)
        return found
