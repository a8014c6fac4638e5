"""The library's and the practice pages' logic without services: the search request, the
result filter, the diff's lines and the lineage's trees and graph."""

import json

import pytest
from lmp.registry.v1 import registry_pb2 as pb
from lmp_console.pages.library import (
    CELLS,
    FUNCTIONS,
    METHODS,
    STATUSES,
    BadQueryError,
    Found,
    lineage_graph,
    lineage_trees,
    matches_result,
    parse_diff,
    search_request,
    words,
)


def test_the_terms_cover_the_registrys_values():
    assert len(CELLS) == len(FUNCTIONS) * len(METHODS) == 36
    assert set(STATUSES) == {
        "submitted",
        "primary_review",
        "approved_for_vote",
        "approved_for_passport",
        "needs_revision",
        "rejected",
        "ranked",
        "passport_approved",
        "prioritized",
        "planned",
        "implementing",
        "evaluated_continue",
        "evaluated_change_resources",
        "evaluated_stop",
    }


def test_text_and_result_words_both_go_to_the_registrys_search():
    request = search_request(
        " дворы ",
        "infrastructure:external_resources",
        "дворов",
        page_token="p2",  # noqa: S106  # a page token
    )
    assert request.text == "дворы дворов"
    assert request.cell == "infrastructure:external_resources"
    assert request.page.page_token == "p2"  # noqa: S105  # a page token


def test_an_unknown_cell_is_refused_with_where_to_choose_one():
    with pytest.raises(BadQueryError, match="Ячейка классификатора"):
        search_request("", "infrastructure:magic", "", "")


def test_the_result_filter_looks_into_the_result_section_only():
    result = pb.PassportSection(
        section="result",
        content=pb.SectionContent(
            indicators=[pb.Indicator(name="Освещённые дворы", unit="дворов", target="20")]
        ),
    )
    entry = pb.LibraryEntry(title="Светлые дворы")
    assert matches_result(Found(entry, result), words("Дворов 20"))
    assert not matches_result(Found(entry, result), words("километров"))
    assert not matches_result(Found(entry, None), words("дворов"))
    assert matches_result(Found(entry, None), words(""))


def test_a_unified_diff_becomes_added_removed_and_kept_lines():
    diff = parse_diff(
        "--- what v1\n+++ what v2\n@@ -1,2 +1,2 @@\n"
        " Освещённые дворы\n-Старая строка\n+Новая строка"
    )
    assert [(line.kind, line.text) for line in diff.lines] == [
        ("hunk", "@@ -1,2 +1,2 @@"),
        ("same", "Освещённые дворы"),
        ("remove", "Старая строка"),
        ("add", "Новая строка"),
    ]
    assert (diff.added, diff.removed) == (1, 1)
    assert parse_diff("").lines == []


def node(practice_id, city, source="", depth=0):
    return pb.LineageNode(
        practice_id=practice_id,
        city_id=city,
        title=f"t-{practice_id}",
        source_practice_id=source,
        depth=depth,
    )


def test_the_lineage_nests_copies_under_their_sources():
    nodes = [
        node("a", "sarov"),
        node("b", "seversk", "a", 1),
        node("c", "ozersk", "b", 2),
        node("d", "kazan", "a", 1),
    ]
    (root,) = lineage_trees(nodes)
    assert root.node.practice_id == "a"
    assert [child.node.practice_id for child in root.children] == ["b", "d"]
    assert [grand.node.practice_id for grand in root.children[0].children] == ["c"]


def test_a_copy_whose_source_is_hidden_starts_its_own_tree():
    trees = lineage_trees([node("b", "seversk", "hidden", 1), node("c", "ozersk", "b", 2)])
    assert [t.node.practice_id for t in trees] == ["b"]


def test_the_graph_has_a_node_per_practice_and_an_edge_per_adoption():
    elements = json.loads(lineage_graph([node("a", "sarov"), node("b", "seversk", "a", 1)], "b"))
    nodes = [e["data"] for e in elements if "source" not in e["data"]]
    edges = [e["data"] for e in elements if "source" in e["data"]]
    assert [(n["id"], n["current"], n["href"]) for n in nodes] == [
        ("a", False, "/cities/sarov/practices/a"),
        ("b", True, "/cities/seversk/practices/b"),
    ]
    assert [(e["source"], e["target"]) for e in edges] == [("a", "b")]
