"""Stages 1-4: cities, working groups, problems and practices; the primary review; the rating
and city-problem votes; passports; one city adopting another's practice."""
# ruff: noqa: RUF001  # Russian texts are Cyrillic on purpose

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from lmp.expertise.v1 import expertise_pb2 as exp
from lmp.registry.v1 import registry_pb2 as reg
from lmp.voting.v1 import voting_pb2 as vot

from lmp_cli.demo.clients import TIMEOUT_S, Portals, await_status, eventually
from lmp_cli.demo.council import form_council, hold_session, open_review
from lmp_cli.demo.output import Printer
from lmp_cli.demo.polls import Ballots, rating_ballot, run_poll, split_ballot
from lmp_cli.demo.programme import CELL, PASSPORT_TEXT, CityRun, Dates


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
            tasks=[
                "Собрать перечни проблем, инициатив и собственных практик",
                "Подготовить экспертизу и отбор практик",
            ],
        ),
        metadata=head,
        timeout=TIMEOUT_S,
    )
    for plan, item in (
        ("expertise_preparation", "Экспертиза внешних практик и инициатив: рабочая группа"),
        ("strategic_session", "Подготовительный семинар и стратегическая сессия"),
        ("selection", "Заседание Экспертного совета и рейтинговое голосование"),
    ):
        api.registry.RecordStagePlan(
            reg.RecordStagePlanRequest(
                city_id=cid, plan=plan, items=[item], document="", approved_on=today
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


def advance_stage(api: Portals, city: str, stage: int) -> None:
    """The stage's results reach the registry's read models through events: until they all
    have, the gate refuses (FAILED_PRECONDITION) and the call is repeated."""
    eventually(
        lambda: api.registry.AdvanceStage(
            reg.AdvanceStageRequest(city_id=city, to_stage=stage),
            metadata=api.administration(city),
            timeout=TIMEOUT_S,
        ),
        lambda found: found.stage == stage,
        f"{city} to reach programme stage {stage}",
    )


def primary_review(api: Portals, run: CityRun, today: str, scheduled_on: str) -> None:
    cid = run.city.city_id
    wg = api.working_group(cid)
    chair = api.expert()
    practices = run.own + run.for_vote

    def approved_list(kind: str) -> exp.ApprovedList:
        return api.expertise.GetApprovedList(
            exp.GetApprovedListRequest(city_id=cid, kind=kind), metadata=wg, timeout=TIMEOUT_S
        )

    reviews = [
        eventually(
            partial(open_review, api, cid, p, "primary"), bool, f"expertise to know practice {p}"
        )
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
        await_status(
            api, cid, practice_id, verdict, f"the registry to record {verdict} for {practice_id}"
        )


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
            await_status(
                api,
                run.city.city_id,
                practice_id,
                "ranked",
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
                # the adopting city's own problem: a practice always solves one
                problem_ids=[adopter.problems[0]],
            ),
            metadata=wg,
            timeout=TIMEOUT_S,
        ),
        lambda _p: True,
        "the adoption of the source practice",
    )
    return str(adopted.practice_id)


def selection_and_passports(
    api: Portals, printer: Printer, runs: Sequence[CityRun], residents: int, dates: Dates
) -> str:
    """Stages 1-4; returns the id of the practice Seversk adopts from Sarov."""
    printer.stage("stage 1: cities, working groups, problems, practices, initiatives")
    for run in runs:
        stage_1(api, run, dates.today)
        printer.city(
            run.city.name,
            f"population {run.city.population:>7,}  voter target {run.city.voter_target:>5,}  "
            f"{len(run.problems)} problems, {len(run.own)} own practices, "
            "1 external practice, 1 initiative",
        )
    printer.stage("stages 2-3: primary review by the Expert Council, approved lists")
    form_council(api)
    for run in runs:
        advance_stage(api, run.city.city_id, 2)
        primary_review(api, run, dates.today, dates.yesterday)
        advance_stage(api, run.city.city_id, 3)
        printer.city(
            run.city.name,
            f"{len(run.own)} approved for passport, {len(run.for_vote)} approved for the vote",
        )
    printer.stage(f"stages 2-3: rating vote and city-problem vote, {residents} residents each")
    for run in runs:
        votes(api, printer, run, residents)
        advance_stage(api, run.city.city_id, 4)
    printer.stage("stage 4: passports of the own practices and of the vote's practices")
    passports(api, printer, runs)
    for run in runs:
        advance_stage(api, run.city.city_id, 5)
    adopted = adopt(api, runs[0], runs[1])
    printer.line(f"  {runs[1].city.name} adopts a practice of {runs[0].city.name}: {adopted}")
    return adopted
