"""Stages 5-7: the secondary review and priorities, implementation plans, activities and
improvement facts, progress reports, the residents' evaluation and the head's decisions."""
# ruff: noqa: RUF001  # Russian texts are Cyrillic on purpose

from __future__ import annotations

from collections.abc import Sequence

from lmp.expertise.v1 import expertise_pb2 as exp
from lmp.registry.v1 import registry_pb2 as reg
from lmp.voting.v1 import voting_pb2 as vot

from lmp_cli.demo.clients import TIMEOUT_S, Portals, await_status, eventually, now_stamp
from lmp_cli.demo.council import hold_session, open_review
from lmp_cli.demo.output import Printer
from lmp_cli.demo.polls import Ballots, run_poll, split_ballot, vote_order
from lmp_cli.demo.programme import (
    COUNCIL,
    EVALUATION_CHOICES,
    PHOTO,
    RESULT_INDICATOR,
    SECOND_DECISIONS,
    SECONDARY_SCORES,
    CityRun,
    Dates,
)
from lmp_cli.demo.selection import advance_stage

# The working group's scores (effectiveness, resource intensity, time, fit), in vote order.
WORKING_GROUP_ASSESSMENTS = ((5, 4, 4, 5), (4, 3, 4, 4))


def secondary_review(api: Portals, run: CityRun, today: str) -> None:
    """Stage 5: the working group assesses the vote's practices on the four criteria, the
    council's experts score them too, and the council fixes their priorities with expected
    results, deadlines, resources and regulation proposals."""
    cid = run.city.city_id
    chair = api.expert()
    ordered = vote_order(run)
    reviews = [open_review(api, cid, practice_id, "secondary") for practice_id in ordered]
    for number, review in enumerate(reviews):
        effectiveness, resources, time_to_implement, fit = WORKING_GROUP_ASSESSMENTS[
            min(number, len(WORKING_GROUP_ASSESSMENTS) - 1)
        ]
        api.expertise.AssessPractice(
            exp.AssessPracticeRequest(
                review_id=review.review_id,
                scores=exp.CriterionScores(
                    effectiveness=effectiveness,
                    resource_intensity=resources,
                    time_to_implement=time_to_implement,
                    fit_to_city_needs=fit,
                ),
                rationale="Оценка рабочей группы: эффективность, ресурсоемкость, сроки, "
                "соответствие городским потребностям",
            ),
            metadata=api.working_group(cid),
            timeout=TIMEOUT_S,
        )
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
        await_status(
            api,
            cid,
            practice_id,
            "prioritized",
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
        stage_6_records(api, cid, practice_id, today)


def stage_6_records(api: Portals, cid: str, practice_id: str, today: str) -> None:
    """Stage 6 as the seed has it: the plan fixed by a normative act of the administration,
    the residents taking part listed, the procedure for involving them set."""
    wg, head = api.working_group(cid), api.administration(cid)
    api.registry.FixPlanByAct(
        reg.FixPlanByActRequest(
            practice_id=practice_id,
            number=f"{cid}-{practice_id[:4]}-п",
            date=today,
            title="Об утверждении плана реализации практики",
        ),
        metadata=head,
        timeout=TIMEOUT_S,
    )
    api.registry.SetResidentParticipants(
        reg.SetResidentParticipantsRequest(
            practice_id=practice_id,
            residents=[
                reg.Person(person_id=f"{cid}-resident-{n}", name=f"Житель {n + 1}")
                for n in range(3)
            ],
        ),
        metadata=wg,
        timeout=TIMEOUT_S,
    )
    api.registry.SetInvolvementProcedure(
        reg.SetInvolvementProcedureRequest(
            practice_id=practice_id,
            text="Жители участвуют через общественный совет и субботники по графику",
        ),
        metadata=wg,
        timeout=TIMEOUT_S,
    )


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
            # The enterprise and the administration together: K5's joint action.
            participant_categories=["administration", "enterprise", "residents"],
            branding_used=True,
        ),
        metadata=wg,
        timeout=TIMEOUT_S,
    )
    publish_everything(api, cid, activity.activity_id, ["announcement", "press_release", "report"])
    published = {activity.activity_id, charity_event_standard(api, cid, today, speakers)}
    # The council's sitting became the city's activity (a reaction): publish what it lacks.
    dashboard = eventually(
        lambda: api.registry.GetCityDashboard(
            reg.GetCityDashboardRequest(city_id=cid, month=month), metadata=wg, timeout=TIMEOUT_S
        ),
        lambda found: any(gap.title.startswith("Заседание") for gap in found.activity_gaps),
        f"the council sitting of {cid} in the registry",
    )
    for gap in dashboard.activity_gaps:
        # the activities published above may still show gaps in a read model behind their events
        if gap.activity_id not in published:
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


def charity_event_standard(
    api: Portals, cid: str, today: str, speakers: Sequence[reg.Person]
) -> str:
    """Stage 6: a charity event held and reported (with the same speakers as the session, so
    K4 is judged as before), and its technology adopted as the city's standard."""
    wg = api.working_group(cid)
    event = api.registry.RegisterActivity(
        reg.RegisterActivityRequest(
            city_id=cid,
            kind="charity_event",
            title="Благотворительная акция «Чистый двор»",
            held_on=today,
            speakers=list(speakers),
            participant_categories=["administration", "enterprise", "residents"],
            branding_used=True,
        ),
        metadata=wg,
        timeout=TIMEOUT_S,
    )
    publish_everything(api, cid, event.activity_id, ["announcement", "press_release", "report"])
    api.registry.AdoptCharityEventStandard(
        reg.AdoptCharityEventStandardRequest(
            city_id=cid,
            title="Стандарт проведения благотворительных акций",
            text="Сбор заявок жителей, волонтёры предприятия, отчёт с фотографиями",
            act_number=f"{cid}-стандарт-1",
            act_date=today,
            piloted_activity_ids=[event.activity_id],
        ),
        metadata=wg,
        timeout=TIMEOUT_S,
    )
    return str(event.activity_id)


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


def planning_and_implementation(
    api: Portals, printer: Printer, runs: Sequence[CityRun], residents: int, dates: Dates
) -> None:
    """Stages 5-7."""
    printer.stage("stage 5: secondary review on four criteria, priorities, approved plans")
    for run in runs:
        secondary_review(api, run, dates.today)
        implementation_plans(api, run, dates.today)
        advance_stage(api, run.city.city_id, 6)
        for review in run.priorities:
            printer.city(
                run.city.name,
                f"priority {review.decision.priority_rank}: "
                f"{review.practice_title:<44} working group {review.assessment.weighted}, "
                f"experts {review.decision.aggregate_score}",
            )
    printer.stage("stages 6-7: activities, improvement facts, external resources")
    for run in runs:
        activities_and_facts(api, run, dates.today, dates.month)
        printer.city(run.city.name, f"activity with {run.city.speakers} speakers")
    printer.stage("stages 6-7: progress reports, residents' evaluation, decisions")
    for run in runs:
        evaluate_practices(api, printer, run, dates.month, residents)
        advance_stage(api, run.city.city_id, 7)
        for plan in run.plans:
            printer.city(run.city.name, f"{plan.status:<28} {plan.decisions[-1].reason}")
