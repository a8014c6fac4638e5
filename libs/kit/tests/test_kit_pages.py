from __future__ import annotations

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lmp_kit.errors import InvalidArgumentError
from lmp_kit.pages import MAX_POSITION, Pages

LEADERBOARD = Pages("kpi.GetLeaderboard")
LIBRARY = Pages("registry.SearchLibrary", default_size=20, max_size=100)


@given(st.integers(0, MAX_POSITION))
def test_a_number_comes_back_from_its_token(position):
    assert LEADERBOARD.number(LEADERBOARD.token(position)) == position


# Keys are the sort keys of a list (ids, dates, a title's first words): 50 characters of any
# kind fit in a token (at most 6 bytes each in the JSON, as an escaped control character).
@given(st.text(max_size=50))
def test_a_key_comes_back_from_its_token(key):
    assert LIBRARY.key(LIBRARY.token(key)) == key


def test_no_token_is_the_first_page():
    assert LEADERBOARD.number("") is None
    assert LEADERBOARD.offset("") == 0
    assert LIBRARY.key("") is None


@pytest.mark.parametrize(
    "token",
    [
        "²³",
        "9" * 5000,
        "50",
        "-1",
        "AAAA",
        "==",
        "\x00",
        Pages("kpi.Other").token(10),
        LEADERBOARD.token(-1),
        LEADERBOARD.token(MAX_POSITION + 1),
        LEADERBOARD.token("a key"),
        LEADERBOARD.token(True),  # noqa: FBT003  # what a forged token may hold
        LEADERBOARD.token(1.5),  # type: ignore[arg-type]  # what a forged token may hold
    ],
)
def test_a_token_this_list_did_not_give_out_is_invalid_and_names_page_token(token):
    with pytest.raises(InvalidArgumentError) as raised:
        LEADERBOARD.number(token)

    assert raised.value.status == grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.message.startswith("page_token ")
    assert len(raised.value.message) < 300


def test_a_number_token_is_no_key_token():
    with pytest.raises(InvalidArgumentError):
        LEADERBOARD.key(LEADERBOARD.token(10))


@given(st.text())
def test_any_text_is_a_position_or_invalid_argument(token):
    try:
        LEADERBOARD.number(token)
        LIBRARY.key(token)
    except InvalidArgumentError:
        pass


@pytest.mark.parametrize(("requested", "size"), [(0, 20), (1, 1), (100, 100)])
def test_a_page_size_is_the_one_asked_for_or_the_default(requested, size):
    assert LIBRARY.size(requested) == size


@pytest.mark.parametrize("requested", [-1, 101, 2**31 - 1, -(2**31)])
def test_a_page_size_out_of_range_is_invalid_and_names_page_size(requested):
    with pytest.raises(InvalidArgumentError) as raised:
        LIBRARY.size(requested)

    assert raised.value.message == f"page_size must be 0 (the default, 20) to 100, not {requested}"


def test_a_page_cut_from_one_item_more_than_its_size_carries_the_next_token():
    pages = Pages("test.Cut")

    more, token = pages.cut([1, 2, 3], 2, lambda n: n * 10)
    last, none = pages.cut([1, 2], 2, lambda n: n * 10)

    assert (more, pages.number(token)) == ([1, 2], 20)
    assert (last, none) == ([1, 2], "")
    assert pages.cut([], 2, lambda n: n) == ([], "")
