"""ListProblems and ListActivities over gRPC: a city's collections from the registry's read
models, paged with opaque tokens, filtered, and never holding another city's records."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import grpc
import pytest
from lmp.registry.v1 import registry_pb2 as reg

from .conftest import Slice, stamp

T = TypeVar("T")
WAIT_S = 60.0


def until(read: Callable[[], T], done: Callable[[T], bool]) -> T:
    """The registry's read models follow its events: wait, bounded, for them to hold it."""
    deadline = time.monotonic() + WAIT_S
    while True:
        found = read()
        if done(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def pages(call: Callable[[reg.PageRequest], T], size: int) -> list[T]:
    """Every page of a list, following next_page_token."""
    answers: list[T] = []
    token = ""
    while True:
        answer = call(reg.PageRequest(page_size=size, page_token=token))
        answers.append(answer)
        token = answer.next_page_token  # type: ignore[attr-defined]  # every list response
        if not token:
            return answers


@pytest.fixture
def lists(stack: Slice) -> Slice:
    stack.register_city("sarov")
    stack.register_city("seversk")
    return stack


def test_a_citys_problems_are_listed_newest_first_page_by_page_and_filtered(lists):
    stack, api = lists, lists.registry()
    group = stack.metadata("working_group", cities=("sarov",))
    titles = ["Broken courtyard lights", "Snow on the roads", "No bus at night", "Dark park"]
    ids = [
        api.RegisterProblem(
            reg.RegisterProblemRequest(city_id="sarov", title=title), metadata=group, timeout=10
        ).problem.problem_id
        for title in titles
    ]
    api.RegisterProblem(
        reg.RegisterProblemRequest(city_id="seversk", title="Seversk's own problem"),
        metadata=stack.metadata("working_group", cities=("seversk",)),
        timeout=10,
    )
    api.SetProblemPriority(
        reg.SetProblemPriorityRequest(problem_id=ids[1], priority="high"),
        metadata=group,
        timeout=10,
    )
    api.MarkProblemSolved(
        reg.MarkProblemSolvedRequest(problem_id=ids[2]), metadata=group, timeout=10
    )
    portal = stack.metadata("portal", cities=("sarov",))

    def listed(**filters: object) -> list[str]:
        def page(request):
            return api.ListProblems(
                reg.ListProblemsRequest(city_id="sarov", page=request, **filters),  # type: ignore[arg-type]  # the filters named
                metadata=portal,
                timeout=10,
            )

        return [p.problem_id for answer in pages(page, 3) for p in answer.problems]

    everything = until(listed, lambda found: len(found) == len(titles))
    prioritized = until(lambda: listed(priority="high"), lambda found: len(found) == 1)
    unsolved = until(lambda: listed(unsolved_only=True), lambda found: len(found) == 3)

    assert everything == ids[::-1]  # newest first, over two pages of 3, no city but sarov
    assert prioritized == [ids[1]]
    assert ids[2] not in unsolved
    assert listed(text="dark PARK") == [ids[3]]
    (first,) = api.ListProblems(
        reg.ListProblemsRequest(city_id="sarov", page=reg.PageRequest(page_size=1)),
        metadata=portal,
        timeout=10,
    ).problems
    assert (first.title, first.priority, first.solved) == (titles[3], "", False)


def test_a_citys_activities_are_listed_latest_held_first_with_what_they_still_lack(lists):
    stack, api = lists, lists.registry()
    group = stack.metadata("working_group", cities=("sarov",))

    def register(title, held_on, kind="working_meeting", city="sarov"):
        return api.RegisterActivity(
            reg.RegisterActivityRequest(
                city_id=city,
                kind=kind,
                title=title,
                held_on=held_on,
                participant_categories=["administration", "residents"],
            ),
            metadata=stack.metadata("working_group", cities=(city,)),
            timeout=10,
        ).activity_id

    november = [register("Residents' council", "2026-11-05"), register("Yard day", "2026-11-20")]
    december = register("Strategic session", "2026-12-02", kind="strategic_session")
    register("Seversk meeting", "2026-11-10", city="seversk")
    api.PublishAnnouncement(
        reg.PublishRequest(
            activity_id=december, text="Come", published_at=stamp(datetime.now(UTC))
        ),
        metadata=group,
        timeout=10,
    )
    portal = stack.metadata("portal", cities=("sarov",))

    def listed(**filters: object) -> list[reg.ActivityEntry]:
        def page(request):
            return api.ListActivities(
                reg.ListActivitiesRequest(city_id="sarov", page=request, **filters),  # type: ignore[arg-type]  # the filters named
                metadata=portal,
                timeout=10,
            )

        return [a for answer in pages(page, 2) for a in answer.activities]

    everything = until(listed, lambda found: len(found) == 3 and any(a.announced for a in found))

    assert [a.activity_id for a in everything] == [december, november[1], november[0]]
    latest = everything[0]
    assert (latest.kind, latest.held_on, latest.announced, latest.press_released) == (
        "strategic_session",
        "2026-12-02",
        True,
        False,
    )
    assert list(latest.participant_categories) == ["administration", "residents"]
    assert [a.activity_id for a in listed(month="2026-11")] == november[::-1]
    assert [a.activity_id for a in listed(kind="strategic_session")] == [december]


def test_lists_refuse_another_citys_token_a_missing_city_bad_filters_and_foreign_tokens(lists):
    stack, api = lists, lists.registry()
    seversk = stack.metadata("portal", cities=("seversk",))
    sarov = stack.metadata("portal", cities=("sarov",))

    def refusal(call):
        with pytest.raises(grpc.RpcError) as refused:
            call()
        return refused.value.code()

    assert (
        refusal(
            lambda: api.ListProblems(
                reg.ListProblemsRequest(city_id="sarov"), metadata=seversk, timeout=10
            )
        )
        == grpc.StatusCode.PERMISSION_DENIED
    )
    assert (
        refusal(lambda: api.ListActivities(reg.ListActivitiesRequest(), metadata=sarov, timeout=10))
        == grpc.StatusCode.INVALID_ARGUMENT
    )
    bad = [
        reg.ListProblemsRequest(city_id="sarov", priority="urgent"),
        reg.ListProblemsRequest(
            city_id="sarov",
            page=reg.PageRequest(page_token="²³"),  # noqa: S106  # not a password
        ),
    ]
    for request in bad:
        assert (
            refusal(lambda r=request: api.ListProblems(r, metadata=sarov, timeout=10))
            == grpc.StatusCode.INVALID_ARGUMENT
        )
    # a token of another list is not one this list gave out
    api.RegisterProblem(
        reg.RegisterProblemRequest(city_id="sarov", title="One problem"),
        metadata=stack.metadata("working_group", cities=("sarov",)),
        timeout=10,
    )
    api.RegisterProblem(
        reg.RegisterProblemRequest(city_id="sarov", title="Another problem"),
        metadata=stack.metadata("working_group", cities=("sarov",)),
        timeout=10,
    )
    token = until(
        lambda: (
            api.ListProblems(
                reg.ListProblemsRequest(city_id="sarov", page=reg.PageRequest(page_size=1)),
                metadata=sarov,
                timeout=10,
            ).next_page_token
        ),
        bool,
    )
    assert token
    assert (
        refusal(
            lambda: api.ListActivities(
                reg.ListActivitiesRequest(city_id="sarov", page=reg.PageRequest(page_token=token)),
                metadata=sarov,
                timeout=10,
            )
        )
        == grpc.StatusCode.INVALID_ARGUMENT
    )
    assert (
        refusal(
            lambda: api.ListActivities(
                reg.ListActivitiesRequest(city_id="sarov", month="November"),
                metadata=sarov,
                timeout=10,
            )
        )
        == grpc.StatusCode.INVALID_ARGUMENT
    )
