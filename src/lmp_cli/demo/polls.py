"""Residents' votes: a poll created, opened, voted in by simulated residents and closed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lmp.voting.v1 import voting_pb2 as vot

from lmp_cli.demo.clients import TIMEOUT_S, Portals
from lmp_cli.demo.output import Printer
from lmp_cli.demo.programme import CityRun


def residents_of(city: str, count: int) -> list[str]:
    return [f"{city}-resident-{n:05d}" for n in range(count)]


@dataclass(frozen=True)
class Ballots:
    """Who votes how: `choices(n)` is the ballot of the n-th simulated resident."""

    residents: int
    choices: Callable[[int], list[vot.Choice]]


def run_poll(
    api: Portals, printer: Printer, city: str, request: vot.CreatePollRequest, ballots: Ballots
) -> vot.Poll:
    organizer = api.working_group(city)
    poll = api.voting.CreatePoll(request, metadata=organizer, timeout=TIMEOUT_S)
    api.voting.OpenPoll(
        vot.OpenPollRequest(poll_id=poll.poll_id), metadata=organizer, timeout=TIMEOUT_S
    )
    portal = api.portal(city)
    voters = list(enumerate(residents_of(city, ballots.residents)))
    ballot = ballots.choices

    def cast(voter: tuple[int, str]) -> str:
        number, voter_id = voter
        return str(
            api.voting.CastBallot(
                vot.CastBallotRequest(
                    poll_id=poll.poll_id,
                    voter_id=voter_id,
                    voter_role="resident",
                    choices=ballot(number),
                ),
                metadata=portal,
                timeout=TIMEOUT_S,
            ).receipt
        )

    printer.progress(f"{city}: {request.kind} ballots", voters, cast)
    return api.voting.ClosePoll(
        vot.ClosePollRequest(poll_id=poll.poll_id), metadata=organizer, timeout=TIMEOUT_S
    )


def rating_ballot(number: int) -> list[vot.Choice]:
    """Borda over two options: two residents in three put the first option first."""
    first, second = ("o1", "o2") if number % 3 else ("o2", "o1")
    return [vot.Choice(option_id=first, value=1), vot.Choice(option_id=second, value=2)]


def split_ballot(number: int) -> list[vot.Choice]:
    """Single choice over three options (problems; continue / change / stop): half, a third
    and a sixth of the residents."""
    option = ("o1", "o1", "o1", "o2", "o2", "o3")[number % 6]
    return [vot.Choice(option_id=option, value=1)]


def vote_order(run: CityRun) -> list[str]:
    """The practices of the rating vote, best first."""
    assert run.rating is not None  # noqa: S101  # the vote ran before
    return [r.ref_id for r in sorted(run.rating.results, key=lambda r: (r.rank, r.option_id))]
