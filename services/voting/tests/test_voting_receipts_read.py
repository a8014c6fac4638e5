"""Which receipt of a ballot the published digest covers: the version the count read."""

from __future__ import annotations

import pytest
from voting.views import counted_receipt

BALLOT = {
    "receipt": "r2",
    "version": 2,
    "versions": {"1": {"nid": 5, "receipt": "r1"}, "2": {"nid": 12, "receipt": "r2"}},
}


@pytest.mark.parametrize(
    ("counted_up_to", "receipt"),
    [
        (12, "r2"),  # the count read the re-vote
        (10, "r1"),  # the re-vote came after the count: the first ballot counted
        (4, ""),  # the ballot came after the count
        (0, "r2"),  # a poll closed before the fence: the latest version
    ],
)
def test_the_receipt_is_the_version_the_count_read(counted_up_to, receipt):
    assert counted_receipt(BALLOT, counted_up_to) == receipt


def test_a_ballot_projected_before_versions_were_kept_counts_with_its_receipt():
    assert counted_receipt({"receipt": "r9", "version": 1}, 30) == "r9"
