"""`lmp demo`: a federation of three atom cities runs one programme cycle through the public gRPC
APIs only, as external portals would, and the scorecards and the leaderboard are printed."""
# ruff: noqa: RUF001  # Russian texts are Cyrillic on purpose

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, TextIO, TypeVar

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from lmp.expertise.v1 import expertise_pb2 as exp
from lmp.expertise.v1 import expertise_pb2_grpc
from lmp.kpi.v1 import kpi_pb2, kpi_pb2_grpc
from lmp.registry.v1 import registry_pb2 as reg
from lmp.registry.v1 import registry_pb2_grpc
from lmp.voting.v1 import voting_pb2 as vot
from lmp.voting.v1 import voting_pb2_grpc
from lmp_kit.auth import ALL_CITIES
from lmp_kit.runtime import issuer_of
from lmp_kit.settings import SERVICES, Settings

from lmp_cli.local import jwt_secret_file
from lmp_cli.stack import Restarts, StopSignals, embedded_stack, is_serving

T = TypeVar("T")
Metadata = tuple[tuple[str, str], ...]
TIMEOUT_S = 30.0
READ_MODEL_TIMEOUT_S = 120.0
COUNCIL = ("chair", "expert-ivanova", "expert-petrov", "expert-sidorova")
PHOTO = reg.Photo(uri="https://photos.example/lmp-demo/1.jpg", sha256="0" * 64)
CELL = reg.Cell(function="infrastructure", method="external_interaction")
# The secondary review's scores (stage 5): effectiveness, resource intensity, time to implement,
# fit to city needs, 1-5; one row per expert, one table per practice in the vote's order.
SECONDARY_SCORES = (
    ((5, 4, 4, 5), (4, 3, 4, 4), (4, 4, 3, 4)),
    ((4, 3, 3, 4), (3, 3, 4, 3), (4, 3, 3, 3)),
)
CRITERION_WEIGHTS = exp.CriterionWeights(
    effectiveness=40, resource_intensity=20, time_to_implement=20, fit_to_city_needs=20
)
# The curator's score of each city (in the order of cities.json): the expert indicator.
CURATOR_SCORES = ("0.90", "0.85", "0.70")
# What the head of administration decides on the second practice of each city (stage 7).
SECOND_DECISIONS = ("continue", "change_resources", "stop")
EVALUATION_CHOICES = ("Продолжить", "Изменить источники ресурсов", "Прекратить")
RESULT_INDICATOR = "Жалобы жителей"
PASSPORT_TEXT = {
    "what": "Что сделано: механизм, процедура, метод управленческого решения.",
    "why": "Зачем: решение актуальной городской проблемы жителей.",
    "how": "Как: рабочая группа, открытое обсуждение, поэтапная реализация.",
    "with_what": "Чем: муниципальные ресурсы и партнёрство с Предприятием.",
    "sustainability": "Устойчивость: регламент администрации и ежегодный бюджет.",
    "scalability": "Тиражируемость: подходит любому атомграду.",
}


@dataclass(frozen=True)
class CityData:
    city_id: str
    name: str
    region: str
    kind: str
    population: int
    speakers: int

    @property
    def voter_target(self) -> int:
        """1 % of the census population (decision 0008)."""
        return max(1, self.population // 100)


@dataclass(frozen=True)
class Federation:
    source: str
    source_url: str
    cities: tuple[CityData, ...]


def load_federation() -> Federation:
    text = resources.files("lmp_cli").joinpath("data/cities.json").read_text(encoding="utf-8")
    data = json.loads(text)
    return Federation(
        source=data["source"],
        source_url=data["source_url"],
        cities=tuple(CityData(**city) for city in data["cities"]),
    )


# -- output ------------------------------------------------------------------------------------


@dataclass
class Printer:
    out: TextIO = field(default_factory=lambda: sys.stdout)

    def line(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def stage(self, text: str) -> None:
        self.line(f"\n== {text}")

    def progress(self, label: str, items: Sequence[T], work: Callable[[T], Any]) -> list[Any]:
        """Run `work` over the items on a few threads, drawing a text progress bar (on a
        terminal; elsewhere, as in a log file, one line when done)."""
        total = len(items)
        results: list[Any] = [None] * total
        done = 0
        started = time.monotonic()
        live = self.out.isatty()
        with ThreadPoolExecutor(max_workers=8) as pool:
            futures = {pool.submit(work, item): n for n, item in enumerate(items)}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                done += 1
                if live and (done == total or done % max(1, total // 40) == 0):
                    self.out.write(f"\r{self._bar(label, done, total)}")
                    self.out.flush()
        took = f" in {time.monotonic() - started:.1f} s"
        self.out.write(f"\r{self._bar(label, done, total)}{took}\n")
        self.out.flush()
        return results

    @staticmethod
    def _bar(label: str, done: int, total: int) -> str:
        width = 30
        filled = width * done // max(1, total)
        bar = "#" * filled + "." * (width - filled)
        return f"  {label:<38} [{bar}] {done}/{total}"


# -- the public APIs ----------------------------------------------------------------------------


class Portals:
    """Stubs of the services and tokens for each actor, as external portals hold them."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self.issuer = issuer_of(Settings.from_env("registry", self.env))
        self._stack = ExitStack()
        channels = {
            name: self._stack.enter_context(grpc.insecure_channel(self.target(name)))
            for name in SERVICES
        }
        self.registry = registry_pb2_grpc.RegistryServiceStub(channels["registry"])
        self.expertise = expertise_pb2_grpc.ExpertiseServiceStub(channels["expertise"])
        self.voting = voting_pb2_grpc.VotingServiceStub(channels["voting"])
        self.kpi = kpi_pb2_grpc.KpiServiceStub(channels["kpi"])

    def target(self, service: str) -> str:
        return Settings.from_env(service, self.env).endpoint.grpc_target

    def close(self) -> None:
        self._stack.close()

    def as_(self, subject: str, *roles: str, cities: Iterable[str]) -> Metadata:
        bearer = self.issuer.issue(subject, roles=roles, cities=cities)
        return (("authorization", f"Bearer {bearer}"),)

    def office(self) -> Metadata:
        return self.as_("demo-office", "programme_office", cities=[ALL_CITIES])

    def expert(self, person_id: str = "chair") -> Metadata:
        return self.as_(person_id, "expert", cities=[ALL_CITIES])

    def working_group(self, city: str) -> Metadata:
        return self.as_(f"wg-{city}", "working_group", cities=[city])

    def administration(self, city: str) -> Metadata:
        return self.as_(f"head-{city}", "administration", cities=[city])

    def curator(self, city: str) -> Metadata:
        return self.as_(f"curator-{city}", "curator", cities=[city])

    def portal(self, city: str) -> Metadata:
        return self.as_(f"portal-{city}", "portal", cities=[city])


def eventually(call: Callable[[], T], done: Callable[[T], bool], what: str) -> T:
    """Poll a read model (or a service that learns through events) until `done`."""
    deadline = time.monotonic() + READ_MODEL_TIMEOUT_S
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = call()
        except grpc.RpcError as error:
            if error.code() not in (
                grpc.StatusCode.FAILED_PRECONDITION,
                grpc.StatusCode.NOT_FOUND,
                grpc.StatusCode.UNAVAILABLE,
            ):
                raise
            last = error
        else:
            if done(value):
                return value
        time.sleep(0.3)
    msg = f"timed out waiting for {what}" + (f" (last error: {last})" if last else "")
    raise TimeoutError(msg)


def tolerate_existing(call: Callable[[], T]) -> T | None:
    """Federation-wide set-up (the council) may already exist on a running stack."""
    try:
        return call()
    except grpc.RpcError as error:
        if error.code() == grpc.StatusCode.ALREADY_EXISTS:
            return None
        raise


def now_stamp() -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime.now(UTC))
    return stamp


# -- the scenario -----------------------------------------------------------------------------


@dataclass
class CityRun:
    city: CityData
    position: int
    problems: list[str] = field(default_factory=list)
    own: list[str] = field(default_factory=list)
    for_vote: list[str] = field(default_factory=list)
    rating: vot.Poll | None = None
    problem_vote: vot.Poll | None = None
    priorities: list[exp.Review] = field(default_factory=list)
    plans: list[reg.ImplementationPlan] = field(default_factory=list)
    evaluation_poll: vot.Poll | None = None
    curator_score: str = ""


@dataclass
class DemoResult:
    month: str
    runs: list[CityRun]
    scorecards: dict[str, kpi_pb2.Scorecard]
    leaderboard: kpi_pb2.GetLeaderboardResponse
    report: Path | None
    adopted_practice_id: str = ""


def stage_1(api: Portals, run: CityRun, today: str) -> None:
    city = run.city
    cid = city.city_id
    api.registry.RegisterCity(
        reg.RegisterCityRequest(
            city_id=cid,
            name=city.name,
            region=city.region,
            kind=city.kind,
            population=city.population,
            voter_target=city.voter_target,
        ),
        metadata=api.office(),
        timeout=TIMEOUT_S,
    )
    head = api.administration(cid)
    api.registry.ApproveWorkingGroup(
        reg.ApproveWorkingGroupRequest(
            city_id=cid,
            members=[
                reg.WorkingGroupMember(person_id=f"{cid}-lead", name="Руководитель", role="chair"),
                reg.WorkingGroupMember(
                    person_id=f"{cid}-gsr", name="Член ГСР", role="gsr_community_member"
                ),
                reg.WorkingGroupMember(
                    person_id=f"{cid}-ngo", name="Представитель НКО", role="member"
                ),
            ],
            order_number=f"{cid.upper()}-12-р",
            order_date=today,
        ),
        metadata=head,
        timeout=TIMEOUT_S,
    )
    api.registry.FixStrategy(
        reg.FixStrategyRequest(
            city_id=cid,
            priority_directions=["Комфортная городская среда", "Открытость власти"],
            selection_criteria=["Эффект для жителей", "Тиражируемость"],
        ),
        metadata=head,
        timeout=TIMEOUT_S,
    )
    requirement = api.registry.AddRegionalRequirement(
        reg.AddRegionalRequirementRequest(
            city_id=cid, title="Поддержка СОНКО", description="Требование РОИВ"
        ),
        metadata=head,
        timeout=TIMEOUT_S,
    ).requirement_id
    wg = api.working_group(cid)
    for title in ("Неосвещённые дворы", "Очереди на приём", "Вывоз снега"):
        problem = api.registry.RegisterProblem(
            reg.RegisterProblemRequest(
                city_id=cid, title=title, description=f"{city.name}: {title}"
            ),
            metadata=wg,
            timeout=TIMEOUT_S,
        ).problem
        run.problems.append(problem.problem_id)
    author = [reg.Person(person_id=f"{cid}-author", name="Автор практики")]
    own_titles = ("Светлые дворы", "Открытый бюджет", "Карта уборки снега")
    for number, title in enumerate(own_titles):
        practice = api.registry.RegisterPractice(
            reg.RegisterPracticeRequest(
                city_id=cid,
                kind="own",
                title=f"{title} ({city.name})",
                summary="Реализовано в 2025 году",
                authors=author,
                problem_ids=[run.problems[number]],
                cells=[CELL],
            ),
            metadata=wg,
            timeout=TIMEOUT_S,
        )
        run.own.append(practice.practice_id)
    external = api.registry.RegisterPractice(
        reg.RegisterPracticeRequest(
            city_id=cid,
            kind="external",
            title=f"Электронная очередь ({city.name})",
            summary="Внешняя практика",
            problem_ids=[run.problems[1]],
            requirement_ids=[requirement],
            cells=[CELL],
        ),
        metadata=wg,
        timeout=TIMEOUT_S,
    )
    initiative = api.registry.RegisterPractice(
        reg.RegisterPracticeRequest(
            city_id=cid,
            kind="initiative",
            title=f"Народный бюджет двора ({city.name})",
            summary="Инициатива жителей",
            authors=[reg.Person(person_id=f"{cid}-resident", name="Инициативная группа")],
            participants=[reg.Person(person_id=f"{cid}-ngo", name="НКО")],
            problem_ids=[run.problems[0]],
            cells=[CELL],
        ),
        metadata=wg,
        timeout=TIMEOUT_S,
    )
    run.for_vote = [external.practice_id, initiative.practice_id]


def form_council(api: Portals) -> None:
    office = api.office()
    tolerate_existing(
        lambda: api.expertise.FormCouncil(
            exp.FormCouncilRequest(), metadata=office, timeout=TIMEOUT_S
        )
    )

    def admit(person_id: str) -> exp.Council:
        member = exp.Member(person_id=person_id, name=person_id, cities=[ALL_CITIES])
        return api.expertise.AdmitMember(
            exp.AdmitMemberRequest(member=member), metadata=office, timeout=TIMEOUT_S
        )

    for member in COUNCIL:
        tolerate_existing(partial(admit, member))
    api.expertise.AppointChair(
        exp.AppointChairRequest(person_id="chair"), metadata=office, timeout=TIMEOUT_S
    )
    api.expertise.SetCriterionWeights(
        exp.SetCriterionWeightsRequest(weights=CRITERION_WEIGHTS),
        metadata=office,
        timeout=TIMEOUT_S,
    )


def hold_session(
    api: Portals, schedule: exp.ScheduleSessionRequest, held_on: str, minutes: str
) -> exp.CouncilSession:
    """The chair schedules a council session and holds it with the whole council."""
    session = api.expertise.ScheduleSession(schedule, metadata=api.expert(), timeout=TIMEOUT_S)
    return api.expertise.HoldSession(
        exp.HoldSessionRequest(
            session_id=session.session_id,
            held_on=held_on,
            attendees=list(COUNCIL),
            minutes=minutes,
        ),
        metadata=api.expert(),
        timeout=TIMEOUT_S,
    )


def primary_review(api: Portals, run: CityRun, today: str, scheduled_on: str) -> None:
    cid = run.city.city_id
    wg = api.working_group(cid)
    chair = api.expert()
    practices = run.own + run.for_vote

    def open_review(practice_id: str) -> exp.Review:
        return api.expertise.OpenReview(
            exp.OpenReviewRequest(practice_id=practice_id, round="primary"),
            metadata=wg,
            timeout=TIMEOUT_S,
        )

    def approved_list(kind: str) -> exp.ApprovedList:
        return api.expertise.GetApprovedList(
            exp.GetApprovedListRequest(city_id=cid, kind=kind), metadata=wg, timeout=TIMEOUT_S
        )

    reviews = [
        eventually(partial(open_review, p), bool, f"expertise to know practice {p}")
        for p in practices
    ]
    session = hold_session(
        api,
        exp.ScheduleSessionRequest(city_id=cid, scheduled_on=scheduled_on, agenda=practices),
        today,
        "Первичная экспертиза: списки для голосования и паспортизации",
    )
    verdicts = ["approved_for_passport"] * len(run.own) + ["approved_for_vote"] * len(run.for_vote)
    for review, verdict in zip(reviews, verdicts, strict=True):
        api.expertise.ConcludeReview(
            exp.ConcludeReviewRequest(
                review_id=review.review_id,
                session_id=session.session_id,
                verdict=verdict,
                rationale="Решение заседания Экспертного совета",
            ),
            metadata=chair,
            timeout=TIMEOUT_S,
        )
    for kind, expected in (("for_vote", run.for_vote), ("for_passport", run.own)):
        api.expertise.CloseApprovedList(
            exp.CloseApprovedListRequest(city_id=cid, kind=kind), metadata=chair, timeout=TIMEOUT_S
        )
        want = sorted(expected)
        eventually(
            partial(approved_list, kind),
            lambda found: sorted(x.practice_id for x in found.entries) == want,  # noqa: B023  # used at once
            f"the approved list {kind} of {cid}",
        )
    for practice_id, verdict in zip(practices, verdicts, strict=True):
        eventually(
            partial(practice_of, api, cid, practice_id),
            lambda found: found.status == verdict,  # noqa: B023  # used at once
            f"the registry to record {verdict} for {practice_id}",
        )


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


def votes(api: Portals, printer: Printer, run: CityRun, residents: int) -> None:
    cid = run.city.city_id
    run.rating = run_poll(
        api,
        printer,
        cid,
        vot.CreatePollRequest(
            city_id=cid,
            kind="practice_rating",
            title=f"{run.city.name}: рейтинговое голосование",
            method="borda",
            options=[vot.OptionRef(ref_kind="practice", ref_id=p) for p in run.for_vote],
            electorate=run.city.population,
        ),
        Ballots(residents, rating_ballot),
    )
    run.problem_vote = run_poll(
        api,
        printer,
        cid,
        vot.CreatePollRequest(
            city_id=cid,
            kind="city_problem",
            title=f"{run.city.name}: какую проблему решать первой?",
            method="single_choice",
            options=[vot.OptionRef(ref_kind="problem", ref_id=p) for p in run.problems],
            electorate=run.city.population,
        ),
        Ballots(residents, split_ballot),
    )


def section_content(section: str, title: str) -> reg.SectionContent:
    if section == "cost":
        return reg.SectionContent(cost=reg.Cost(amount="2500000", currency="RUB"))
    if section == "result":
        return reg.SectionContent(
            indicators=[
                reg.Indicator(
                    name="Жалобы жителей", unit="шт./мес.", baseline="40", target="10", actual="12"
                )
            ]
        )
    if section == "effects":
        return reg.SectionContent(
            effects=reg.Effects(
                social="Больше доверия жителей", economic="Экономия бюджета", political=""
            )
        )
    return reg.SectionContent(text=f"{title}. {PASSPORT_TEXT[section]}")


def practice_of(api: Portals, city: str, practice_id: str) -> reg.Practice:
    return api.registry.GetPractice(
        reg.GetPracticeRequest(practice_id=practice_id),
        metadata=api.working_group(city),
        timeout=TIMEOUT_S,
    )


def vote_order(run: CityRun) -> list[str]:
    """The practices of the rating vote, best first."""
    assert run.rating is not None  # noqa: S101  # the vote ran before
    return [r.ref_id for r in sorted(run.rating.results, key=lambda r: (r.rank, r.option_id))]


def passports(api: Portals, printer: Printer, runs: Sequence[CityRun]) -> None:
    """Passports of the own practices (for the library) and of the vote's practices (to carry
    out); the latter are approved once the registry has their rank from the vote."""
    sections = (*PASSPORT_TEXT, "cost", "result", "effects")
    work = [
        (run.city.city_id, p, s) for run in runs for p in run.own + run.for_vote for s in sections
    ]

    def edit(item: tuple[str, str, str]) -> None:
        city, practice_id, section = item
        api.registry.EditPassportSection(
            reg.EditPassportSectionRequest(
                practice_id=practice_id, section=section, content=section_content(section, city)
            ),
            metadata=api.working_group(city),
            timeout=TIMEOUT_S,
        )

    # Sections of one practice are edited in order (one aggregate), practices side by side.
    by_practice = [[w for w in work if w[1] == p] for p in dict.fromkeys(w[1] for w in work)]

    def edit_all(edits: list[tuple[str, str, str]]) -> None:
        for item in edits:
            edit(item)

    printer.progress("passport sections", by_practice, edit_all)
    for run in runs:
        for practice_id in run.for_vote:
            eventually(
                partial(practice_of, api, run.city.city_id, practice_id),
                lambda found: found.status == "ranked",
                f"the registry to rank {practice_id} from the vote",
            )
        # Stage 4: the working group approves the passports the Council approved it to write.
        for practice_id in run.own + run.for_vote:
            api.registry.ApprovePassport(
                reg.ApprovePassportRequest(practice_id=practice_id),
                metadata=api.working_group(run.city.city_id),
                timeout=TIMEOUT_S,
            )


def adopt(api: Portals, source: CityRun, adopter: CityRun) -> str:
    wg = api.working_group(adopter.city.city_id)
    source_id = source.own[0]
    eventually(
        lambda: api.registry.SearchLibrary(
            reg.SearchLibraryRequest(city_id=source.city.city_id), metadata=wg, timeout=TIMEOUT_S
        ),
        lambda found: any(e.practice_id == source_id and e.published for e in found.entries),
        "the library to publish the source practice",
    )
    adopted = eventually(
        lambda: api.registry.AdoptPractice(
            reg.AdoptPracticeRequest(
                source_practice_id=source_id,
                city_id=adopter.city.city_id,
                title=f"Светлые дворы по опыту города {source.city.name}",
            ),
            metadata=wg,
            timeout=TIMEOUT_S,
        ),
        lambda _p: True,
        "the adoption of the source practice",
    )
    return str(adopted.practice_id)


def activities_and_facts(api: Portals, run: CityRun, today: str, month: str) -> None:
    cid = run.city.city_id
    wg = api.working_group(cid)
    speakers = [
        reg.Person(person_id=f"{cid}-speaker-{n}", name=f"Спикер {n + 1}")
        for n in range(run.city.speakers)
    ]
    activity = api.registry.RegisterActivity(
        reg.RegisterActivityRequest(
            city_id=cid,
            kind="strategic_session",
            title="Стратегическая сессия: приоритетные направления",
            held_on=today,
            speakers=speakers,
            joint_action=True,
            branding_used=True,
        ),
        metadata=wg,
        timeout=TIMEOUT_S,
    )
    publish_everything(api, cid, activity.activity_id, ["announcement", "press_release", "report"])
    # The council's sitting became the city's activity (a reaction): publish what it lacks.
    dashboard = eventually(
        lambda: api.registry.GetCityDashboard(
            reg.GetCityDashboardRequest(city_id=cid, month=month), metadata=wg, timeout=TIMEOUT_S
        ),
        lambda found: any(gap.title.startswith("Заседание") for gap in found.activity_gaps),
        f"the council sitting of {cid} in the registry",
    )
    for gap in dashboard.activity_gaps:
        publish_everything(api, cid, gap.activity_id, list(gap.missing))
    fact = api.registry.RecordImprovementFact(
        reg.RecordImprovementFactRequest(
            city_id=cid,
            month=month,
            title="Срок выдачи разрешений сокращён с 30 до 5 дней",
            description="Регламент изменён по итогам стратегической сессии",
            evidence=[f"https://{cid}.example/order-12"],
        ),
        metadata=wg,
        timeout=TIMEOUT_S,
    )
    api.registry.JudgeImprovementFact(
        reg.JudgeImprovementFactRequest(fact_id=fact.fact_id, recognized=True),
        metadata=api.curator(cid),
        timeout=TIMEOUT_S,
    )
    api.registry.RecordExternalResourceCase(
        reg.RecordExternalResourceCaseRequest(
            city_id=cid,
            month=month,
            title="Освещение дворов по программе софинансирования",
            source_kind="co_financing_programme",
            amount="1500000",
            currency="RUB",
            partner="Региональная программа",
            problem_id=run.problems[0],
        ),
        metadata=wg,
        timeout=TIMEOUT_S,
    )


def publish_everything(api: Portals, city: str, activity_id: str, missing: Sequence[str]) -> None:
    wg = api.working_group(city)
    publish = reg.PublishRequest(activity_id=activity_id, text="Текст", published_at=now_stamp())
    if "announcement" in missing:
        api.registry.PublishAnnouncement(publish, metadata=wg, timeout=TIMEOUT_S)
    if "press_release" in missing:
        api.registry.PublishPressRelease(publish, metadata=wg, timeout=TIMEOUT_S)
    if "report" in missing:
        api.registry.FileActivityReport(
            reg.FileActivityReportRequest(
                activity_id=activity_id,
                attendees=[
                    reg.Person(person_id=f"{city}-attendee-{n}", name="Участник") for n in range(3)
                ],
                photos=[PHOTO],
            ),
            metadata=wg,
            timeout=TIMEOUT_S,
        )


def secondary_review(api: Portals, run: CityRun, today: str) -> None:
    """Stage 5: the council scores the vote's practices on the four criteria, fixes their
    priorities with expected results, deadlines, resources and regulation proposals."""
    cid = run.city.city_id
    wg = api.working_group(cid)
    chair = api.expert()
    ordered = vote_order(run)
    reviews = [
        api.expertise.OpenReview(
            exp.OpenReviewRequest(practice_id=practice_id, round="secondary"),
            metadata=wg,
            timeout=TIMEOUT_S,
        )
        for practice_id in ordered
    ]
    for number, review in enumerate(reviews):
        table = SECONDARY_SCORES[min(number, len(SECONDARY_SCORES) - 1)]
        for expert, scores in zip(COUNCIL[1:], table, strict=True):
            effectiveness, resources, time_to_implement, fit = scores
            api.expertise.ScorePractice(
                exp.ScorePracticeRequest(
                    review_id=review.review_id,
                    scores=exp.CriterionScores(
                        effectiveness=effectiveness,
                        resource_intensity=resources,
                        time_to_implement=time_to_implement,
                        fit_to_city_needs=fit,
                    ),
                ),
                metadata=api.expert(expert),
                timeout=TIMEOUT_S,
            )
    # One session per city and day: the primary session was scheduled the day before.
    session = hold_session(
        api,
        exp.ScheduleSessionRequest(city_id=cid, scheduled_on=today, agenda=ordered),
        today,
        "Вторичная экспертиза: приоритеты реализации и план",
    )
    for rank, review in enumerate(reviews, start=1):
        run.priorities.append(
            api.expertise.ConcludeReview(
                exp.ConcludeReviewRequest(
                    review_id=review.review_id,
                    session_id=session.session_id,
                    verdict="prioritized",
                    rationale="Прошла голосование; оценка по четырём критериям",
                    priority_rank=rank,
                    expected_results="Жалоб жителей не больше 10 в месяц",
                    deadlines="Запуск в течение квартала",
                    resource_sources="Бюджет города и софинансирование",
                    regulation_proposals="Изменить порядок благоустройства дворов",
                ),
                metadata=chair,
                timeout=TIMEOUT_S,
            )
        )


def implementation_plans(api: Portals, run: CityRun, today: str) -> None:
    """Stage 5, the head of administration approves each prioritized practice's plan; stage 6,
    the practice is implemented and its first milestone done."""
    cid = run.city.city_id
    wg, head = api.working_group(cid), api.administration(cid)
    for review in run.priorities:
        practice_id = review.practice_id
        eventually(
            partial(practice_of, api, cid, practice_id),
            lambda found: found.status == "prioritized",
            f"the registry to record the priority of {practice_id}",
        )
        owner = reg.Person(person_id=f"{cid}-lead", name="Руководитель")
        launch = f"{int(today[:4]) + 1}-03-01"
        api.registry.SetImplementationPlan(
            reg.SetImplementationPlanRequest(
                practice_id=practice_id,
                milestones=[
                    reg.Milestone(title="Рабочая группа проекта", owner=owner, due_date=today),
                    reg.Milestone(title="Запуск", owner=owner, due_date=launch),
                ],
                resource_sources=[
                    reg.ResourceSource(kind="own_budget", amount="1000000", currency="RUB"),
                    reg.ResourceSource(
                        kind="co_financing_programme", amount="500000", currency="RUB"
                    ),
                ],
                regulation_proposals=["Изменить порядок благоустройства дворов"],
            ),
            metadata=head,
            timeout=TIMEOUT_S,
        )
        api.registry.ChangeStatus(
            reg.ChangeStatusRequest(practice_id=practice_id, status="implementing"),
            metadata=wg,
            timeout=TIMEOUT_S,
        )
        api.registry.UpdateMilestone(
            reg.UpdateMilestoneRequest(practice_id=practice_id, number=1, status="done"),
            metadata=wg,
            timeout=TIMEOUT_S,
        )


def evaluate_practices(
    api: Portals, printer: Printer, run: CityRun, month: str, residents: int
) -> None:
    """Stage 6-7: the monthly progress report (planned vs actual), the residents' proposals
    (continue / change / stop) on the first practice, and the head's decision on each."""
    cid = run.city.city_id
    wg, head = api.working_group(cid), api.administration(cid)
    first, *others = [review.practice_id for review in run.priorities]
    for number, practice_id in enumerate([first, *others]):
        api.registry.FileProgressReport(
            reg.FileProgressReportRequest(
                practice_id=practice_id,
                month=month,
                indicators=[
                    reg.IndicatorProgress(
                        indicator=RESULT_INDICATOR, planned="30", actual=str(28 + 4 * number)
                    )
                ],
                note="Первый месяц реализации",
            ),
            metadata=wg,
            timeout=TIMEOUT_S,
        )
    run.evaluation_poll = run_poll(
        api,
        printer,
        cid,
        vot.CreatePollRequest(
            city_id=cid,
            kind="practice_evaluation",
            title=f"{run.city.name}: продолжать ли практику?",
            method="single_choice",
            options=[vot.OptionRef(ref_kind="choice", label=c) for c in EVALUATION_CHOICES],
            electorate=run.city.population,
            subject_practice_id=first,
        ),
        Ballots(residents, split_ballot),
    )
    decisions = [("continue", "Жители и план: продолжать")]
    decisions += [
        (SECOND_DECISIONS[run.position % len(SECOND_DECISIONS)], "Итоги месяца: факт против плана")
        for _ in others
    ]
    for practice_id, (decision, reason) in zip([first, *others], decisions, strict=True):
        sources = (
            [reg.ResourceSource(kind="donors", amount="300000", currency="RUB")]
            if decision == "change_resources"
            else []
        )
        run.plans.append(
            api.registry.DecideOnPractice(
                reg.DecideOnPracticeRequest(
                    practice_id=practice_id,
                    decision=decision,
                    reason=reason,
                    resource_sources=sources,
                ),
                metadata=head,
                timeout=TIMEOUT_S,
            )
        )


def close_month(api: Portals, run: CityRun, month: str) -> kpi_pb2.Scorecard:
    """The programme office ends the month's reporting (the demo's month is the current one);
    the city's curator evaluates (expert score, K6, K7, conclusion) and signs."""
    cid = run.city.city_id
    api.kpi.CloseReporting(
        kpi_pb2.CloseReportingRequest(
            city_id=cid, month=month, reason="Демонстрация: цикл программы за один запуск"
        ),
        metadata=api.office(),
        timeout=TIMEOUT_S,
    )
    run.curator_score = CURATOR_SCORES[run.position % len(CURATOR_SCORES)]
    curator = api.curator(cid)
    api.kpi.EvaluateMonth(
        kpi_pb2.EvaluateMonthRequest(
            city_id=cid,
            month=month,
            score=run.curator_score,
            branding_used=True,
            methodology_followed=True,
            conclusion=f"{run.city.name}: методология соблюдается, атрибутика ГСР использована.",
        ),
        metadata=curator,
        timeout=TIMEOUT_S,
    )
    return api.kpi.SignMonth(
        kpi_pb2.SignMonthRequest(city_id=cid, month=month), metadata=curator, timeout=TIMEOUT_S
    )


def settled(card: kpi_pb2.Scorecard, residents: int) -> bool:
    """Every fact the demo produced has reached the scorecard."""
    achieved = {i.name: i.achieved for i in card.indicators}
    outcomes = {k.code: k.outcome for k in card.knockouts}
    return (
        achieved.get("packaged") == 3  # noqa: PLR2004  # three own passports
        and achieved.get("voting") == residents
        and achieved.get("improvement") == 1
        and achieved.get("external_resources") == 1
        and outcomes.get("K2") == "passed"
        and outcomes.get("K8") == "passed"
        and outcomes.get("K5") == "passed"
    )


@dataclass(frozen=True)
class Dates:
    today: str
    yesterday: str
    month: str

    @classmethod
    def now(cls) -> Dates:
        now = datetime.now(UTC)
        return cls(
            today=now.strftime("%Y-%m-%d"),
            yesterday=(now - timedelta(days=1)).strftime("%Y-%m-%d"),
            month=now.strftime("%Y-%m"),
        )


def selection_and_passports(
    api: Portals, printer: Printer, runs: Sequence[CityRun], residents: int, dates: Dates
) -> str:
    """Stages 1-4; returns the id of the practice Seversk adopts from Sarov."""
    printer.stage("stage 1: cities, working groups, problems, practices, initiatives")
    for run in runs:
        stage_1(api, run, dates.today)
        printer.line(
            f"  {run.city.name:<14} population {run.city.population:>7,}  "
            f"voter target {run.city.voter_target:>5,}  "
            f"{len(run.problems)} problems, {len(run.own)} own practices, "
            "1 external practice, 1 initiative"
        )
    printer.stage("stages 2-3: primary review by the Expert Council, approved lists")
    form_council(api)
    for run in runs:
        primary_review(api, run, dates.today, dates.yesterday)
        printer.line(
            f"  {run.city.name:<14} {len(run.own)} approved for passport, "
            f"{len(run.for_vote)} approved for the vote"
        )
    printer.stage(f"stages 2-3: rating vote and city-problem vote, {residents} residents each")
    for run in runs:
        votes(api, printer, run, residents)
    printer.stage("stage 4: passports of the own practices and of the vote's practices")
    passports(api, printer, runs)
    adopted = adopt(api, runs[0], runs[1])
    printer.line(f"  {runs[1].city.name} adopts a practice of {runs[0].city.name}: {adopted}")
    return adopted


def planning_and_implementation(
    api: Portals, printer: Printer, runs: Sequence[CityRun], residents: int, dates: Dates
) -> None:
    """Stages 5-7."""
    printer.stage("stage 5: secondary review on four criteria, priorities, approved plans")
    for run in runs:
        secondary_review(api, run, dates.today)
        implementation_plans(api, run, dates.today)
        for review in run.priorities:
            printer.line(
                f"  {run.city.name:<14} priority {review.decision.priority_rank}: "
                f"{review.practice_title:<44} score {review.decision.aggregate_score}"
            )
    printer.stage("stages 6-7: activities, improvement facts, external resources")
    for run in runs:
        activities_and_facts(api, run, dates.today, dates.month)
        printer.line(f"  {run.city.name:<14} activity with {run.city.speakers} speakers")
    printer.stage("stages 6-7: progress reports, residents' evaluation, decisions")
    for run in runs:
        evaluate_practices(api, printer, run, dates.month, residents)
        for plan in run.plans:
            printer.line(f"  {run.city.name:<14} {plan.status:<28} {plan.decisions[-1].reason}")


def close_the_month(
    api: Portals, printer: Printer, runs: Sequence[CityRun], residents: int, month: str
) -> tuple[dict[str, kpi_pb2.Scorecard], kpi_pb2.GetLeaderboardResponse]:
    printer.stage("the KPI read models take in the month")

    def scorecard(city_id: str) -> kpi_pb2.Scorecard:
        return api.kpi.GetScorecard(
            kpi_pb2.GetScorecardRequest(city_id=city_id, month=month),
            metadata=api.working_group(city_id),
            timeout=TIMEOUT_S,
        )

    for run in runs:
        eventually(
            partial(scorecard, run.city.city_id),
            lambda card: settled(card, residents),
            f"the scorecard of {run.city.city_id}",
        )
    printer.stage("the curators evaluate and close the month")
    scorecards = {}
    for run in runs:
        scorecards[run.city.city_id] = close_month(api, run, month)
        printer.line(f"  {run.city.name:<14} curator's score {run.curator_score}, signed")
    board = eventually(
        lambda: api.kpi.GetLeaderboard(
            kpi_pb2.GetLeaderboardRequest(month=month), metadata=api.office(), timeout=TIMEOUT_S
        ),
        lambda found: all(e.scorecard.status == "closed" for e in found.entries),
        "the leaderboard of the closed month",
    )
    return scorecards, board


def scenario(
    env: Mapping[str, str], *, residents: int, printer: Printer, data_dir: Path | None = None
) -> DemoResult:
    federation = load_federation()
    dates = Dates.now()
    month = dates.month
    api = Portals(env)
    try:
        runs = [CityRun(city, n) for n, city in enumerate(federation.cities)]
        printer.line(f"month {month}; populations: {federation.source} ({federation.source_url})")
        adopted = selection_and_passports(api, printer, runs, residents, dates)
        planning_and_implementation(api, printer, runs, residents, dates)
        scorecards, board = close_the_month(api, printer, runs, residents, month)
        report = None
        if data_dir is not None:
            export = api.kpi.ExportMonth(
                kpi_pb2.ExportMonthRequest(month=month, format="html"),
                metadata=api.office(),
                timeout=TIMEOUT_S,
            )
            data_dir.mkdir(parents=True, exist_ok=True)
            report = data_dir / (export.filename or f"lmp-{month}.html")
            report.write_bytes(export.content)
        return DemoResult(month, runs, scorecards, board, report, adopted)
    finally:
        api.close()


# -- printing -----------------------------------------------------------------------------------


def print_results(printer: Printer, result: DemoResult, env: Mapping[str, str]) -> None:
    printer.stage("ranked vote results")
    for run in result.runs:
        for poll in (run.rating, run.problem_vote, run.evaluation_poll):
            if poll is None:
                continue
            printer.line(f"  {poll.title} ({poll.ballots_counted} ballots, {poll.method})")
            for entry in poll.results:
                printer.line(
                    f"    {entry.rank}. {entry.label:<44} score {entry.score:>6}  "
                    f"votes {entry.votes}{'  (tied)' if entry.tied else ''}"
                )
    for run in result.runs:
        print_scorecard(printer, run.city.name, result.scorecards[run.city.city_id])
    printer.stage(f"federation leaderboard {result.month}")
    for place in result.leaderboard.entries:
        card = place.scorecard
        failed = (
            f"  knock-outs: {', '.join(card.failed_knockouts)}" if card.failed_knockouts else ""
        )
        printer.line(f"  {place.rank}. {card.city_id:<14} {card.total:>6}  {card.verdict}{failed}")
    print_next_steps(printer, result, env)


def print_scorecard(printer: Printer, name: str, card: kpi_pb2.Scorecard) -> None:
    printer.stage(f"scorecard {name} {card.month}: {card.status}, policy {card.policy_version}")
    for indicator in card.indicators:
        printer.line(
            f"  {indicator.name:<20} {indicator.points:>6} / {indicator.weight:<3} "
            f"({indicator.achieved} of {indicator.target}) {indicator.note}"
        )
    for knockout in card.knockouts:
        evidence = f" [evidence: {', '.join(knockout.evidence[:3])}]" if knockout.evidence else ""
        reason = f": {knockout.reason}" if knockout.reason else ""
        printer.line(f"  {knockout.code} {knockout.outcome:<8} {knockout.title}{reason}{evidence}")
    printer.line(f"  total {card.total}, verdict {card.verdict}")


def print_next_steps(printer: Printer, result: DemoResult, env: Mapping[str, str]) -> None:
    printer.stage("where to look next")
    for service in SERVICES:
        endpoint = Settings.from_env(service, env).endpoint
        printer.line(f"  {service:<14} metrics http://127.0.0.1:{endpoint.metrics_port}/metrics")
    kpi = Settings.from_env("kpi", env).endpoint.grpc_target
    registry = Settings.from_env("registry", env).endpoint.grpc_target
    printer.line("  with the stack up (./lmp demo --keep-running, or ./lmp up then ./lmp demo):")
    printer.line("  TOKEN=$(./lmp token --role programme_office --all-cities)")
    printer.line(f'  grpcurl -plaintext -H "authorization: Bearer $TOKEN" {kpi} list')
    printer.line(
        f'  grpcurl -plaintext -H "authorization: Bearer $TOKEN" '
        f'-d \'{{"month": "{result.month}"}}\' {kpi} lmp.kpi.v1.KpiService/GetLeaderboard'
    )
    printer.line(
        f'  grpcurl -plaintext -H "authorization: Bearer $TOKEN" '
        f'-d \'{{"city_id": "sarov"}}\' {registry} lmp.registry.v1.RegistryService/GetCity'
    )
    if result.report is not None:
        printer.line(f"  printable report: {result.report}")


# -- the command --------------------------------------------------------------------------------


def demo_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("LMP_DATA_DIR", str(data_dir))
    if not env.get("LMP_JWT_SECRET") and not env.get("LMP_JWT_SECRET_FILE"):
        env["LMP_JWT_SECRET_FILE"] = str(jwt_secret_file(data_dir))
    return env


def stack_running(env: Mapping[str, str]) -> bool:
    return all(is_serving(Settings.from_env(s, env).endpoint.grpc_target) for s in SERVICES)


@contextmanager
def stack_for(
    env: dict[str, str], data_dir: Path, printer: Printer, *, keep: StopSignals | None
) -> Iterator[dict[str, str]]:
    """A running stack when all five services answer, else the embedded one; with `keep`,
    the embedded one stays up (restarting a service that exits) until a stop signal."""
    if stack_running(env):
        printer.line("using the running stack")
        yield env
        return
    printer.line("starting the embedded stack ...")
    started = time.monotonic()
    with ExitStack() as stack:
        running = stack.enter_context(embedded_stack(data_dir, env))
        printer.line(
            f"all {len(running.services)} services healthy in {time.monotonic() - started:.1f} s"
        )
        yield running.env
        if keep is not None:
            printer.line("--keep-running: the stack stays up; press Ctrl-C to stop it")
            keep.wait(Restarts(running.services, say=printer.line))
            printer.line("stopping ...")


def run(residents: int, data_dir: Path, *, keep_running: bool, out: TextIO | None = None) -> int:
    with StopSignals() as signals:
        return _run(residents, data_dir, keep=signals if keep_running else None, out=out)


def _run(residents: int, data_dir: Path, *, keep: StopSignals | None, out: TextIO | None) -> int:
    printer = Printer(out or sys.stdout)
    started = time.monotonic()
    env = demo_env(data_dir)
    with stack_for(env, data_dir, printer, keep=keep) as live_env:
        try:
            result = scenario(live_env, residents=residents, printer=printer, data_dir=data_dir)
        except grpc.RpcError as error:
            hint = (
                " (the demo already ran on this stack: use a fresh --data-dir)"
                if error.code() == grpc.StatusCode.ALREADY_EXISTS
                else ""
            )
            print(f"demo failed: {error.code().name}: {error.details()}{hint}", file=sys.stderr)
            return 1
        print_results(printer, result, live_env)
        printer.line(f"\nfrom start to the printed scorecards: {time.monotonic() - started:.1f} s")
    return 0
