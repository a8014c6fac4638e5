"""The federation's library of approved passports, a practice's passport with its version
history and diffs, and the lineage of a practice across cities (registry's public API).

The registry's words (statuses, lifecycle steps, classifier rows and columns, passport sections)
are shown in the programme's Russian terms, the seed's; a value the console does not know yet is
shown as the service sent it, never dropped.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lmp.registry.v1 import registry_pb2 as pb
from starlette.responses import RedirectResponse
from starlette.routing import Route

from lmp_console.services import services
from lmp_console.session import require_user
from lmp_console.templating import render

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

STATUSES: Mapping[str, str] = {
    "submitted": "подана",
    "primary_review": "на первичной экспертизе",
    "approved_for_vote": "допущена к голосованию",
    "approved_for_passport": "одобрена для паспорта",
    "needs_revision": "на доработке",
    "rejected": "отклонена",
    "ranked": "в рейтинге голосования",
    "passport_approved": "паспорт утверждён",
    "prioritized": "определён приоритет",
    "planned": "запланирована",
    "implementing": "реализуется",
    "evaluated_continue": "оценена: продолжать",
    "evaluated_change_resources": "оценена: сменить источники ресурсов",
    "evaluated_stop": "оценена: прекратить",
}
LIFECYCLE: Mapping[int, str] = {
    1: "Проблема",
    2: "Варианты решения",
    3: "Инициатива/идея",
    4: "Декларация инициативы",
    5: "Поддержка инициативы, подбор союзников",
    6: "Преодоление барьеров/ограничений",
    7: "Поиск ресурсов или оптимизация расходов",
    8: "Воплощение идеи, решение проблемы",
    9: "Эксплуатация, проверка на жизнеспособность",
    10: "Внесение изменений в существующую систему",
    11: "Утверждение как общепринятого",
    12: "Тиражирование",
}
FUNCTIONS: Mapping[str, str] = {
    "infrastructure": "Создание качественной инфраструктуры",
    "health": "Сохранение и укрепление здоровья жителей",
    "safety": "Обеспечение безопасности населения",
    "employment": "Повышение уровня занятости и доходов населения",
    "education": "Развитие образования",
    "culture": "Развитие культуры, массового спорта, отдыха и работы с молодёжью",
    "social": "Социальная защита населения",
    "ecology": "Обеспечение благоприятной экологической обстановки",
    "regional_requirements": "Выполнение требований и поручений РОИВ",
}
METHODS: Mapping[str, str] = {
    "own_resources": "Эффективность использования собственных ресурсов ОМСУ",
    "internal_mechanisms": "Качество внутренних механизмов ОМСУ",
    "external_interaction": "Качество взаимодействия с внешней средой",
    "external_resources": "Привлечение внешних ресурсов",
}
SUB_METHODS: Mapping[str, str] = {
    "finance_management": "управление финансами",
    "property_management": "управление имуществом",
    "municipal_enterprises_management": "управление муниципальными предприятиями",
    "own_revenue_growth": "рост собственных доходов",
    "staff_qualification": "квалификация персонала",
    "automated_management_systems": "автоматизированные системы управления",
    "shorter_approval_times": "сокращение сроков согласований и разрешений",
    "business_conditions": "комфортные условия для бизнеса",
    "authority_openness": "открытость власти",
    "co_financing_programmes": "программы софинансирования",
    "donors": "привлечение жертвователей",
    "public_private_partnership": "создание МЧП",
    "residents_funds": "средства жителей в муниципальных инициативах",
}
KINDS: Mapping[str, str] = {
    "own": "собственная практика",
    "external": "внешняя практика",
    "initiative": "инициатива",
}
SECTIONS: Mapping[str, str] = {
    "what": "Что?",
    "why": "Зачем?",
    "how": "Как?",
    "with_what": "Чем?",
    "cost": "За сколько?",
    "result": "Что получилось?",
    "effects": "Эффект",
    "sustainability": "Устойчивость модели и механизмов",
    "scalability": "Масштабируемость",
}
EFFECTS: Mapping[str, str] = {
    "social": "социальный",
    "economic": "экономический",
    "political": "политический",
}
CELLS: tuple[str, ...] = tuple(f"{f}:{m}" for f in FUNCTIONS for m in METHODS)
WORD = re.compile(r"\w+")
LIBRARY_PAGE_SIZE = 20


def label(terms: Mapping[str, str], value: str) -> str:
    return terms.get(value, value)


def cell_label(function: str, method: str) -> str:
    return f"{label(FUNCTIONS, function)} × {label(METHODS, method)}"


def words(text: str) -> list[str]:
    """The words of a query as the registry's search index keeps them (casefolded)."""
    return sorted(set(WORD.findall(text.casefold())))


def section_text(section: pb.PassportSection | pb.SectionVersion) -> str:
    """The text a person reads of a section, also what a result search looks into."""
    content = section.content
    parts = [content.text]
    if content.HasField("cost"):
        parts.append(f"{content.cost.amount} {content.cost.currency}")
    for indicator in content.indicators:
        parts.extend(
            (indicator.name, indicator.unit, indicator.baseline, indicator.target, indicator.actual)
        )
    if content.HasField("effects"):
        parts.extend((content.effects.social, content.effects.economic, content.effects.political))
    return " ".join(part for part in parts if part)


class BadQueryError(ValueError):
    """A query parameter a person can correct; the page says which and how."""


def search_request(q: str, cell: str, result: str, page_token: str) -> pb.SearchLibraryRequest:
    if cell and cell not in CELLS:
        msg = "Ячейка классификатора не найдена: выберите её из списка «Ячейка классификатора»."
        raise BadQueryError(msg)
    text = " ".join(part for part in (q.strip(), result.strip()) if part)
    return pb.SearchLibraryRequest(
        text=text,
        cell=cell,
        page=pb.PageRequest(page_size=LIBRARY_PAGE_SIZE, page_token=page_token),
    )


@dataclass(frozen=True)
class Found:
    entry: pb.LibraryEntry
    result: pb.PassportSection | None


def result_section(passport: pb.Passport) -> pb.PassportSection | None:
    for section in passport.sections:
        if section.section == "result" and not section.empty:
            return section
    return None


def matches_result(found: Found, wanted: Iterable[str]) -> bool:
    wanted = set(wanted)
    if not wanted:
        return True
    if found.result is None:
        return False
    return wanted <= set(words(section_text(found.result)))


async def library_page(request: Request) -> Response:
    require_user(request)
    q = request.query_params.get("q", "")
    cell = request.query_params.get("cell", "")
    result = request.query_params.get("result", "")
    page_token = request.query_params.get("page", "")
    context: dict[str, object] = {
        "q": q,
        "cell": cell,
        "result": result,
        "cells": [(f, m) for f in FUNCTIONS for m in METHODS],
        "terms": TERMS,
        "found": [],
        "next_page": "",
        "error": "",
        "searched": bool(q or cell or result),
    }
    try:
        query = search_request(q, cell, result, page_token)
    except BadQueryError as error:
        context["error"] = str(error)
        return render(request, "library/search.html", context, status_code=400)
    svc = services(request)
    answer = await svc.registry.SearchLibrary(query, metadata=svc.metadata, timeout=svc.timeout)
    published = [entry for entry in answer.entries if entry.published]
    passports = await asyncio.gather(
        *(
            svc.registry.GetPassport(
                pb.GetPassportRequest(practice_id=entry.practice_id),
                metadata=svc.metadata,
                timeout=svc.timeout,
            )
            for entry in published
        )
    )
    found = [
        Found(entry, result_section(passport))
        for entry, passport in zip(published, passports, strict=True)
    ]
    context["found"] = [f for f in found if matches_result(f, words(result))]
    context["next_page"] = answer.next_page_token
    return render(request, "library/search.html", context)


async def practice_of(request: Request) -> tuple[pb.Practice, str]:
    """The practice the URL names, as the caller may see it (the registry answers NOT_FOUND
    for another city's unpublished practice, like one that does not exist)."""
    city = request.path_params["city"]
    practice_id = request.path_params["practice_id"]
    svc = services(request)
    practice = await svc.registry.GetPractice(
        pb.GetPracticeRequest(practice_id=practice_id), metadata=svc.metadata, timeout=svc.timeout
    )
    return practice, city


def wrong_city(request: Request, practice: pb.Practice) -> Response | None:
    """A practice asked for under another city's address: the page lives at its own city's."""
    if practice.city_id == request.path_params["city"]:
        return None
    path = request.url.path.replace(
        f"/cities/{request.path_params['city']}/", f"/cities/{practice.city_id}/", 1
    )
    query = request.url.query
    return RedirectResponse(path + (f"?{query}" if query else ""), status_code=307)


async def practice_page(request: Request) -> Response:
    user = require_user(request)
    practice, _city = await practice_of(request)
    if (moved := wrong_city(request, practice)) is not None:
        return moved
    svc = services(request)
    passport = await svc.registry.GetPassport(
        pb.GetPassportRequest(practice_id=practice.practice_id),
        metadata=svc.metadata,
        timeout=svc.timeout,
    )
    # A city's problems are its own: another city reads the practice in the library, not them.
    problems = (
        await asyncio.gather(
            *(
                svc.registry.GetProblem(
                    pb.GetProblemRequest(problem_id=problem_id),
                    metadata=svc.metadata,
                    timeout=svc.timeout,
                )
                for problem_id in practice.problem_ids
            )
        )
        if user.may_see(practice.city_id)
        else []
    )
    return render(
        request,
        "library/practice.html",
        {"practice": practice, "passport": passport, "problems": problems, "terms": TERMS},
    )


def section_name(request: Request) -> str:
    section = str(request.path_params["section"])
    if section not in SECTIONS:
        valid = ", ".join(SECTIONS)
        msg = f"Раздел паспорта «{section}» не существует; разделы: {valid}."
        raise BadQueryError(msg)
    return section


def bad_query_page(request: Request, error: BadQueryError, practice: pb.Practice) -> Response:
    return render(
        request,
        "library/bad_query.html",
        {"error": str(error), "practice": practice, "terms": TERMS},
        status_code=400,
    )


async def history_page(request: Request) -> Response:
    require_user(request)
    practice, _city = await practice_of(request)
    if (moved := wrong_city(request, practice)) is not None:
        return moved
    try:
        section = section_name(request)
    except BadQueryError as error:
        return bad_query_page(request, error, practice)
    svc = services(request)
    history = await svc.registry.GetSectionHistory(
        pb.GetSectionHistoryRequest(practice_id=practice.practice_id, section=section),
        metadata=svc.metadata,
        timeout=svc.timeout,
    )
    versions = list(history.versions)
    return render(
        request,
        "library/history.html",
        {"practice": practice, "section": section, "versions": versions, "terms": TERMS},
    )


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "remove", "same", "hunk"
    text: str


@dataclass
class Diff:
    lines: list[DiffLine] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(line.kind == "add" for line in self.lines)

    @property
    def removed(self) -> int:
        return sum(line.kind == "remove" for line in self.lines)


def parse_diff(unified: str) -> Diff:
    """The registry's unified diff as lines a page marks up with <ins> and <del>; the file
    headers (--- / +++) only name the versions, which the page states in words."""
    diff = Diff()
    for line in unified.splitlines():
        if line.startswith(("--- ", "+++ ")):
            continue
        if line.startswith("@@"):
            diff.lines.append(DiffLine("hunk", line))
        elif line.startswith("+"):
            diff.lines.append(DiffLine("add", line[1:]))
        elif line.startswith("-"):
            diff.lines.append(DiffLine("remove", line[1:]))
        else:
            diff.lines.append(DiffLine("same", line.removeprefix(" ")))
    return diff


def version_parameter(request: Request, name: str, label_ru: str) -> int:
    raw = request.query_params.get(name, "")
    if not raw.isdigit():
        msg = f"Параметр {name} («{label_ru}») должен быть номером версии: 0, 1, 2 …"
        raise BadQueryError(msg)
    return int(raw)


async def diff_page(request: Request) -> Response:
    require_user(request)
    practice, _city = await practice_of(request)
    if (moved := wrong_city(request, practice)) is not None:
        return moved
    try:
        section = section_name(request)
        old = version_parameter(request, "from", "с версии")
        new = version_parameter(request, "to", "по версию")
    except BadQueryError as error:
        return bad_query_page(request, error, practice)
    svc = services(request)
    answer = await svc.registry.DiffSection(
        pb.DiffSectionRequest(
            practice_id=practice.practice_id, section=section, from_version=old, to_version=new
        ),
        metadata=svc.metadata,
        timeout=svc.timeout,
    )
    return render(
        request,
        "library/diff.html",
        {
            "practice": practice,
            "section": section,
            "from_version": old,
            "to_version": new,
            "diff": parse_diff(answer.diff),
            "terms": TERMS,
        },
    )


@dataclass
class LineageTree:
    node: pb.LineageNode
    children: list[LineageTree] = field(default_factory=list)


def lineage_trees(nodes: Iterable[pb.LineageNode]) -> list[LineageTree]:
    """The registry's depth-first node list as nested trees (a node whose source is not among
    the nodes, as the caller may not see it, starts a tree of its own)."""
    made: dict[str, LineageTree] = {}
    roots: list[LineageTree] = []
    listed = list(nodes)
    for node in listed:
        made[node.practice_id] = LineageTree(node)
    for node in listed:
        parent = made.get(node.source_practice_id)
        if parent is None or node.source_practice_id == node.practice_id:
            roots.append(made[node.practice_id])
        else:
            parent.children.append(made[node.practice_id])
    return roots


def lineage_graph(nodes: Iterable[pb.LineageNode], current: str) -> str:
    """The elements of the cytoscape.js graph: a node per practice, an edge per adoption."""
    listed = list(nodes)
    known = {node.practice_id for node in listed}
    elements: list[dict[str, object]] = [
        {
            "data": {
                "id": node.practice_id,
                "label": f"{node.city_id}: {node.title}",
                "href": f"/cities/{node.city_id}/practices/{node.practice_id}",
                "current": node.practice_id == current,
            }
        }
        for node in listed
    ]
    elements.extend(
        {
            "data": {
                "id": f"{node.source_practice_id}->{node.practice_id}",
                "source": node.source_practice_id,
                "target": node.practice_id,
            }
        }
        for node in listed
        if node.source_practice_id in known and node.source_practice_id != node.practice_id
    )
    return json.dumps(elements, ensure_ascii=False)


async def lineage_page(request: Request) -> Response:
    require_user(request)
    practice, _city = await practice_of(request)
    if (moved := wrong_city(request, practice)) is not None:
        return moved
    svc = services(request)
    answer = await svc.registry.GetLineage(
        pb.GetLineageRequest(practice_id=practice.practice_id),
        metadata=svc.metadata,
        timeout=svc.timeout,
    )
    nodes = list(answer.nodes)
    return render(
        request,
        "library/lineage.html",
        {
            "practice": practice,
            "nodes": nodes,
            "trees": lineage_trees(nodes),
            "graph_json": lineage_graph(nodes, practice.practice_id),
            "cities": sorted({node.city_id for node in nodes}),
            "terms": TERMS,
        },
    )


@dataclass(frozen=True)
class Terms:
    """What the templates call the registry's values (the Russian terms of the seed)."""

    statuses: Mapping[str, str] = field(default_factory=lambda: STATUSES)
    lifecycle: Mapping[int, str] = field(default_factory=lambda: LIFECYCLE)
    functions: Mapping[str, str] = field(default_factory=lambda: FUNCTIONS)
    methods: Mapping[str, str] = field(default_factory=lambda: METHODS)
    sub_methods: Mapping[str, str] = field(default_factory=lambda: SUB_METHODS)
    kinds: Mapping[str, str] = field(default_factory=lambda: KINDS)
    sections: Mapping[str, str] = field(default_factory=lambda: SECTIONS)
    effects: Mapping[str, str] = field(default_factory=lambda: EFFECTS)

    def status(self, value: str) -> str:
        return label(self.statuses, value)

    def step(self, value: int) -> str:
        return self.lifecycle.get(value, str(value))

    def function(self, value: str) -> str:
        return label(self.functions, value)

    def method(self, value: str) -> str:
        return label(self.methods, value)

    def sub_method(self, value: str) -> str:
        return label(self.sub_methods, value)

    def kind(self, value: str) -> str:
        return label(self.kinds, value)

    def section(self, value: str) -> str:
        return label(self.sections, value)

    def effect(self, value: str) -> str:
        return label(self.effects, value)

    def cell(self, function: str, method: str) -> str:
        return cell_label(function, method)


TERMS = Terms()


routes: list[BaseRoute] = [
    Route("/library", library_page, methods=["GET"]),
    Route("/cities/{city}/practices/{practice_id}", practice_page, methods=["GET"]),
    Route(
        "/cities/{city}/practices/{practice_id}/sections/{section}/history",
        history_page,
        methods=["GET"],
    ),
    Route(
        "/cities/{city}/practices/{practice_id}/sections/{section}/diff",
        diff_page,
        methods=["GET"],
    ),
    Route("/cities/{city}/practices/{practice_id}/lineage", lineage_page, methods=["GET"]),
]
