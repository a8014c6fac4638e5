"""The rebuild's digest says "equal" only for equal documents, field order aside: checked
against pymongo's canonical extended JSON with sorted keys (what it replaced) on random
documents. Collections of them, stored in any order, on a real server:
tests/integration/test_rebuild_digest.py."""

from __future__ import annotations

from datetime import UTC, datetime

from bson import json_util
from bson.int64 import Int64
from bson.json_util import CANONICAL_JSON_OPTIONS
from hypothesis import given
from hypothesis import strategies as st
from lmp_kit.rebuild import canonical

# What BSON can hold: no lone surrogates (UTF-8), keys without NUL, "." or "$".
letters = st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00.$")
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**31), 2**31 - 1),
    st.integers(-(2**63), 2**63 - 1).map(Int64),
    st.floats(allow_nan=False),
    st.text(letters, max_size=8),
    st.datetimes(
        min_value=datetime(1970, 1, 1),  # noqa: DTZ001  # hypothesis wants naive bounds
        max_value=datetime(2100, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)),
)
keys = st.text(letters, min_size=1, max_size=4)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)
documents = st.dictionaries(keys, values, max_size=5)


def reference(document):
    return json_util.dumps(document, sort_keys=True, json_options=CANONICAL_JSON_OPTIONS)


def reordered(value, rng):
    """The same value with the keys of every embedded document in another order."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: reordered(v, rng) for k, v in items}
    if isinstance(value, list):
        return [reordered(v, rng) for v in value]
    return value


@given(documents, st.randoms())
def test_a_document_in_another_field_order_is_the_same(document, rng):
    assert canonical(reordered(document, rng)) == canonical(document)


@given(documents, documents)
def test_two_documents_are_the_same_exactly_when_the_reference_says_so(first, second):
    assert (canonical(first) == canonical(second)) == (reference(first) == reference(second))


def test_types_and_array_order_tell_documents_apart():
    assert canonical({"n": 1}) != canonical({"n": Int64(1)})
    assert canonical({"n": 1}) != canonical({"n": 1.0})
    assert canonical({"n": 1}) != canonical({"n": "1"})
    assert canonical({"a": [1, 2]}) != canonical({"a": [2, 1]})
    assert canonical({"a": {"b": 1, "c": 2}}) == canonical({"a": {"c": 2, "b": 1}})
