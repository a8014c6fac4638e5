from __future__ import annotations

import grpc
import pytest
from expertise.projections import person_ids
from expertise.views import PENDING_REVIEW_PAGES, SESSION_PAGES, Page, page_of
from lmp_contracts.registry import Person, PracticePeopleSet
from lmp_kit.errors import InvalidArgumentError
from pydantic import ValidationError


def test_a_page_defaults_to_50_from_the_start_and_a_token_is_the_next_offset():
    assert page_of(SESSION_PAGES, 0, "") == Page(SESSION_PAGES, offset=0, size=50)
    assert page_of(SESSION_PAGES, 10, "") == Page(SESSION_PAGES, offset=0, size=10)
    second = page_of(SESSION_PAGES, 10, "").next_token(10)
    assert page_of(SESSION_PAGES, 10, second) == Page(SESSION_PAGES, offset=10, size=10)
    assert Page(SESSION_PAGES, offset=20, size=10).next_token(9) == ""


@pytest.mark.parametrize(
    ("size", "token"),
    [
        (-1, ""),
        (501, ""),
        (10, "abc"),
        (10, "-5"),
        (10, "20"),
        (10, "²³"),
        (10, "9" * 5000),
        (10, PENDING_REVIEW_PAGES.token(10)),
    ],
)
def test_a_page_size_out_of_range_or_a_foreign_token_is_invalid(size, token):
    with pytest.raises(InvalidArgumentError) as raised:
        page_of(SESSION_PAGES, size, token)

    assert raised.value.status == grpc.StatusCode.INVALID_ARGUMENT


def test_people_of_a_registry_event_are_reduced_to_their_person_ids():
    people = [Person(person_id="anna", name="Anna"), Person(person_id="", name="no id")]

    assert person_ids(people) == ["anna"]
    assert person_ids([]) == []


def test_people_without_a_person_id_or_junk_are_refused_by_the_contract():
    # They used to be skipped one by one; the contract now refuses such a payload whole.
    for junk in ({"name": "no id"}, "junk"):
        with pytest.raises(ValidationError):
            PracticePeopleSet.model_validate({"authors": [junk], "participants": []})
