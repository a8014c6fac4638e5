"""The records behind a scorecard's figures: an activity with its speakers, publications and
report; an improvement fact with the curator's verdict; a poll with its voters and results."""

from __future__ import annotations

from lmp.registry.v1 import registry_pb2
from lmp.voting.v1 import voting_pb2
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from lmp_console import terms
from lmp_console.services import Services, services
from lmp_console.session import require_city
from lmp_console.templating import render


def _city(request: Request) -> tuple[Services, str]:
    svc = services(request)
    city_id = terms.checked_city(request.path_params["city"])
    require_city(svc.user, city_id)
    return svc, city_id


def _same_city(found_city: str, city_id: str) -> None:
    """A record of another city under this city's URL is not this city's record."""
    if found_city != city_id:
        raise HTTPException(404, "В этом городе нет такой записи.")


async def activity(request: Request) -> Response:
    svc, city_id = _city(request)
    found = await svc.registry.GetActivity(
        registry_pb2.GetActivityRequest(activity_id=request.path_params["activity_id"]),
        metadata=svc.metadata,
        timeout=svc.timeout,
    )
    _same_city(found.city_id, city_id)
    return render(
        request,
        "evidence/activity.html",
        {
            "activity": found,
            "kind": terms.ACTIVITY_KINDS.get(found.kind, found.kind),
            "participants": [terms.PARTICIPANTS.get(p, p) for p in found.participant_categories],
            "month": found.held_on[:7],
        },
    )


async def fact(request: Request) -> Response:
    svc, city_id = _city(request)
    found = await svc.registry.GetImprovementFact(
        registry_pb2.GetImprovementFactRequest(fact_id=request.path_params["fact_id"]),
        metadata=svc.metadata,
        timeout=svc.timeout,
    )
    _same_city(found.city_id, city_id)
    return render(
        request,
        "evidence/fact.html",
        {"fact": found, "verdict": terms.FACT_VERDICTS.get(found.verdict, found.verdict)},
    )


async def poll(request: Request) -> Response:
    svc, city_id = _city(request)
    found = await svc.voting.GetPoll(
        voting_pb2.GetPollRequest(poll_id=request.path_params["poll_id"]),
        metadata=svc.metadata,
        timeout=svc.timeout,
    )
    _same_city(found.city_id, city_id)
    ballots = found.ballots_counted
    if found.status != "closed":
        live = await svc.voting.GetLiveResults(
            voting_pb2.GetLiveResultsRequest(poll_id=found.poll_id),
            metadata=svc.metadata,
            timeout=svc.timeout,
        )
        ballots = live.ballots
        results = list(live.results)
    else:
        results = list(found.results)
    chart = {
        "type": "bar",
        "data": {
            "labels": [r.label or r.ref_id for r in results],
            "datasets": [{"label": "Голоса", "data": [r.votes for r in results]}],
        },
        "options": {"indexAxis": "y", "plugins": {"legend": {"display": False}}},
    }
    return render(
        request,
        "evidence/poll.html",
        {
            "poll": found,
            "kind": terms.POLL_KINDS.get(found.kind, found.kind),
            "method": terms.POLL_METHODS.get(found.method, found.method),
            "status": terms.POLL_STATUSES.get(found.status, found.status),
            "ballots": ballots,
            # voting's turnout is a percentage with two places ("0.03": 0,03 %)
            "turnout": f"{found.turnout.replace('.', ',')} %" if found.turnout else "",
            "results": results,
            "chart": chart,
        },
    )


routes: list[BaseRoute] = [
    Route("/cities/{city}/activities/{activity_id}", activity, methods=["GET"], name="activity"),
    Route("/cities/{city}/facts/{fact_id}", fact, methods=["GET"], name="fact"),
    Route("/cities/{city}/polls/{poll_id}", poll, methods=["GET"], name="poll"),
]
