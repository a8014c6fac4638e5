"""The city dashboard: what each programme stage still lacks, the month's activities missing
an announcement, press release or report, and the city's practices by lifecycle step and status
(registry's GetCityDashboard and ListPractices).

The registry says what is missing in English sentences that name the RPC to call; the page
shows them in Russian (the patterns below), and a sentence it does not know as it came.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from lmp.registry.v1 import registry_pb2 as pb
from starlette.routing import Route

from lmp_console.pages.library import LIFECYCLE, STATUSES, TERMS
from lmp_console.services import every_page, services
from lmp_console.session import require_city, require_user
from lmp_console.templating import chart_json, render

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

STAGES: Mapping[int, str] = {
    1: "Подготовка",
    2: "Экспертиза практик и инициатив",
    3: "Отбор практик и инициатив. Голосование",
    4: "Составление паспорта (описание) практики",
    5: "Планирование. Определение приоритетов",
    6: "Реализация",
    7: "Оценка результатов",
}
MISSING_PARTS: Mapping[str, str] = {
    "announcement": "анонс",
    "press_release": "пресс-релиз",
    "report": "отчёт (список участников и фото)",
}
ACTIVITY_KINDS: Mapping[str, str] = {
    "working_meeting": "встреча рабочей группы",
    "strategic_session": "стратегическая сессия",
    "council_sitting": "заседание Экспертного совета",
    "charity_event": "благотворительное мероприятие",
    "other": "другое мероприятие",
}
# The chart's labels: short enough for a phone's width (the table beside it has the full names).
STEP_SHORT: Mapping[int, str] = {
    1: "Проблема",
    2: "Варианты решения",
    3: "Идея",
    4: "Декларация",
    5: "Поддержка",
    6: "Барьеры",
    7: "Ресурсы",
    8: "Воплощение",
    9: "Эксплуатация",
    10: "Изменения системы",
    11: "Утверждение",
    12: "Тиражирование",
}
N = r"(\d+)"
# The registry's sentences (registry/domain/stages.py and messages.py) and what they say in
# the programme's terms; the RPC a sentence names stays, it is what the working group calls.
SENTENCES: tuple[tuple[str, str], ...] = (
    (
        r"the working group approved by order \(ApproveWorkingGroup\)",
        "рабочая группа, утверждённая распоряжением (ApproveWorkingGroup)",
    ),
    (
        r"a working group member of the GSR community \(role '(\w+)'\)",
        "член рабочей группы из сообщества ГСР (роль «{0}»)",
    ),
    (
        r"the working group's tasks approved by order \(ApproveWorkingGroup tasks\)",
        "задачи рабочей группы, утверждённые распоряжением (ApproveWorkingGroup tasks)",
    ),
    (
        r"the list of regional requirements \(AddRegionalRequirement\)",
        "перечень требований РОИВ (AddRegionalRequirement)",
    ),
    (
        r"the list of current city problems \(RegisterProblem\)",
        "перечень актуальных городских проблем (RegisterProblem)",
    ),
    (
        r"the list of initiatives with their authors \(RegisterPractice\)",
        "перечень городских инициатив с авторами и участниками (RegisterPractice)",
    ),
    (
        r"the list of own realized practices with their authors \(RegisterPractice\)",
        "перечень собственных реализованных практик с авторами (RegisterPractice)",
    ),
    (
        r"the expertise-preparation plan \(RecordStagePlan expertise_preparation\)",
        "план подготовки экспертизы (RecordStagePlan expertise_preparation)",
    ),
    (
        r"the strategic session's plan \(RecordStagePlan strategic_session\)",
        "план стратегической сессии (RecordStagePlan strategic_session)",
    ),
    (
        r"the priority directions and selection criteria of the strategic session \(FixStrategy\)",
        "приоритетные направления и критерии отбора стратегической сессии (FixStrategy)",
    ),
    (
        r"the plan of the selection \(RecordStagePlan selection\)",
        "план отбора практик и инициатив (RecordStagePlan selection)",
    ),
    (
        (
            rf"at least {N} own practices put on the Expert Council's list "
            rf"\(ChangeStatus primary_review; {N} so far\)"
        ),
        (
            "не менее {0} собственных практик в списке для Экспертного совета "
            "(ChangeStatus primary_review; сейчас {1})"
        ),
    ),
    (
        (
            r"external practices or initiatives put on the Expert Council's list "
            r"\(ChangeStatus primary_review\)"
        ),
        (
            "внешние практики или инициативы в списке для Экспертного совета "
            "(ChangeStatus primary_review)"
        ),
    ),
    (
        (
            rf"the classifier assessment of every practice on the list \({N} without a cell: "
            r"ClassifyPractice\)"
        ),
        "оценка каждой практики списка по классификатору ({0} без ячейки: ClassifyPractice)",
    ),
    (
        (
            r"the list for the vote approved by the Expert Council \(a review concluded "
            r"approved_for_vote\)"
        ),
        (
            "список для голосования, утверждённый Экспертным советом "
            "(экспертиза с решением approved_for_vote)"
        ),
    ),
    (
        (
            rf"at least {N} own practices approved by the Expert Council for a passport "
            rf"\({N} so far\)"
        ),
        (
            "не менее {0} собственных практик, одобренных Экспертным советом для паспортизации "
            "(сейчас {1})"
        ),
    ),
    (
        r"the ranked list of the rating vote \(a practice_rating poll closed\)",
        (
            "ранжированный список по итогам рейтингового голосования "
            "(закрытое голосование practice_rating)"
        ),
    ),
    (
        rf"approved passports of at least {N} own practices \({N} so far: ApprovePassport\)",
        "утверждённые паспорта не менее {0} собственных практик (сейчас {1}: ApprovePassport)",
    ),
    (
        (
            r"an approved passport of an external practice or initiative to implement "
            r"\(ApprovePassport\)"
        ),
        "утверждённый паспорт внешней практики или инициативы для реализации (ApprovePassport)",
    ),
    (
        r"the Expert Council's priorities \(a secondary review concluded with a priority rank\)",
        "приоритеты Экспертного совета (вторичная экспертиза с рангом приоритета)",
    ),
    (
        (
            r"an implementation plan approved by the head of the administration "
            r"\(SetImplementationPlan\)"
        ),
        "план реализации, утверждённый главой администрации (SetImplementationPlan)",
    ),
    (
        rf"every implementation plan fixed by a normative act \(FixPlanByAct\): {N} of {N}",
        "каждый план реализации закреплён нормативным актом (FixPlanByAct): {0} из {1}",
    ),
    (
        r"a monthly report of current against planned indicators \(FileProgressReport\)",
        "ежемесячный отчёт о текущих и плановых показателях (FileProgressReport)",
    ),
    (
        (
            rf"the list of resident participants of every plan \(SetResidentParticipants\): "
            rf"{N} of {N}"
        ),
        "список жителей — участников каждого плана (SetResidentParticipants): {0} из {1}",
    ),
    (
        (
            rf"the procedure for involving residents of every plan \(SetInvolvementProcedure\): "
            rf"{N} of {N}"
        ),
        "порядок вовлечения жителей в каждом плане (SetInvolvementProcedure): {0} из {1}",
    ),
    (
        (
            r"the charity-event technology adopted as the city's standard "
            r"\(AdoptCharityEventStandard\)"
        ),
        (
            "технология благотворительных мероприятий принята стандартом города "
            "(AdoptCharityEventStandard)"
        ),
    ),
    (
        r"publish its announcement \(PublishAnnouncement\)",
        "опубликовать анонс (PublishAnnouncement)",
    ),
    (
        r"publish its press release \(PublishPressRelease\)",
        "опубликовать пресс-релиз (PublishPressRelease)",
    ),
    (
        r"file its report, the attendee list and photos \(FileActivityReport\)",
        "сдать отчёт: список участников и фото (FileActivityReport)",
    ),
    (
        (
            r"recorded from the Expert Council's held session with its date only: the working "
            r"group completes it, or the month fails K2 and K8"
        ),
        (
            "записано по проведённому заседанию Экспертного совета только с датой: рабочая группа "
            "дополняет его, иначе месяц не проходит K2 и K8"
        ),
    ),
)
PATTERNS = tuple((re.compile(pattern), russian) for pattern, russian in SENTENCES)
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
PRACTICE_PAGE_SIZE = 200
MAX_PRACTICE_PAGES = 50


@dataclass(frozen=True)
class Sentence:
    text: str
    lang: str


def in_russian(text: str) -> Sentence:
    for pattern, russian in PATTERNS:
        if found := pattern.fullmatch(text):
            return Sentence(russian.format(*found.groups()), "ru")
    return Sentence(text, "en")


def current_month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


@dataclass(frozen=True)
class StepRow:
    step: int
    name: str
    practices: int


def lifecycle_rows(practices: Iterable[pb.PracticeEntry]) -> list[StepRow]:
    counts = Counter(p.lifecycle_step for p in practices)
    return [StepRow(step, name, counts.get(step, 0)) for step, name in LIFECYCLE.items()]


def lifecycle_chart(rows: Iterable[StepRow]) -> str:
    listed = list(rows)
    return chart_json(
        {
            "type": "bar",
            "data": {
                "labels": [f"{row.step}. {STEP_SHORT.get(row.step, row.name)}" for row in listed],
                "datasets": [{"label": "Практики", "data": [row.practices for row in listed]}],
            },
            "options": {
                "indexAxis": "y",
                "plugins": {"legend": {"display": False}},
                "scales": {"x": {"beginAtZero": True, "ticks": {"precision": 0}}},
            },
        }
    )


@dataclass(frozen=True)
class StatusRow:
    status: str
    name: str
    practices: int


def status_rows(board: pb.CityDashboard) -> list[StatusRow]:
    """The registry's counts by status, in the programme's order of statuses."""
    counts = {s.status: s.practices for s in board.statuses}
    order = [*STATUSES, *sorted(set(counts) - set(STATUSES))]
    return [StatusRow(s, TERMS.status(s), counts[s]) for s in order if s in counts]


async def city_practices(request: Request, city: str) -> list[pb.PracticeEntry]:
    svc = services(request)

    async def page(token: str) -> tuple[list[pb.PracticeEntry], str]:
        answer = await svc.registry.ListPractices(
            pb.ListPracticesRequest(
                city_id=city, page=pb.PageRequest(page_size=PRACTICE_PAGE_SIZE, page_token=token)
            ),
            metadata=svc.metadata,
            timeout=svc.timeout,
        )
        return list(answer.practices), answer.next_page_token

    return await every_page(page, MAX_PRACTICE_PAGES)


async def dashboard_page(request: Request) -> Response:
    user = require_user(request)
    city = request.path_params["city"]
    require_city(user, city)
    month = request.query_params.get("month", "") or current_month()
    if not MONTH.fullmatch(month):
        return render(
            request,
            "city/bad_month.html",
            {"city": city, "month": month},
            status_code=400,
        )
    svc = services(request)
    board = await svc.registry.GetCityDashboard(
        pb.GetCityDashboardRequest(city_id=city, month=month),
        metadata=svc.metadata,
        timeout=svc.timeout,
    )
    name = city
    if board.stage:
        registered = await svc.registry.GetCity(
            pb.GetCityRequest(city_id=city), metadata=svc.metadata, timeout=svc.timeout
        )
        name = registered.name or city
    practices = await city_practices(request, city)
    steps = lifecycle_rows(practices)
    return render(
        request,
        "city/dashboard.html",
        {
            "city": city,
            "city_name": name,
            "month": month,
            "board": board,
            "stages": STAGES,
            "stage_gaps": [
                (gap, [in_russian(text) for text in gap.missing]) for gap in board.stage_gaps
            ],
            "activity_gaps": [
                (gap, [in_russian(text) for text in gap.to_do]) for gap in board.activity_gaps
            ],
            "missing_parts": MISSING_PARTS,
            "activity_kinds": ACTIVITY_KINDS,
            "steps": steps,
            "steps_chart": lifecycle_chart(steps),
            "statuses": status_rows(board),
            "practices": sorted(practices, key=lambda p: (p.lifecycle_step, p.title)),
            "terms": TERMS,
        },
    )


routes: list[BaseRoute] = [
    Route("/cities/{city}", dashboard_page, methods=["GET"]),
]
