from __future__ import annotations

import grpc
import pytest
from expertise.projections import person_ids
from expertise.views import Page, page_of
from lmp_kit.errors import InvalidArgumentError


def test_a_page_defaults_to_50_from_the_start_and_a_token_is_the_next_offset():
    assert page_of(0, "") == Page(offset=0, size=50)
    assert page_of(10, "20") == Page(offset=20, size=10)
    assert Page(offset=20, size=10).next_token(10) == "30"
    assert Page(offset=20, size=10).next_token(9) == ""


@pytest.mark.parametrize(("size", "token"), [(-1, ""), (501, ""), (10, "abc"), (10, "-5")])
def test_a_page_size_out_of_range_or_a_foreign_token_is_invalid(size, token):
    with pytest.raises(InvalidArgumentError) as raised:
        page_of(size, token)

    assert raised.value.status == grpc.StatusCode.INVALID_ARGUMENT


def test_people_of_a_registry_event_are_reduced_to_their_person_ids():
    people = [{"person_id": "anna", "name": "Anna"}, {"name": "no id"}, "junk"]

    assert person_ids(people) == ["anna"]
    assert person_ids(None) == []
