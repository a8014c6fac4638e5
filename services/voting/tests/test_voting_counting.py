"""Counting agrees with pref_voting (Holliday & Pacuit, PyPI `pref-voting`), an independent,
well-known implementation of voting methods, on random ballot profiles with frequent ties."""

from __future__ import annotations

import random

import grpc
import pytest
from lmp_kit.errors import InvalidArgumentError
from pref_voting.grade_methods import approval, score_voting  # type: ignore[import-untyped]
from pref_voting.grade_profiles import GradeProfile  # type: ignore[import-untyped]
from pref_voting.margin_based_methods import beat_path  # type: ignore[import-untyped]
from pref_voting.profiles import Profile  # type: ignore[import-untyped]
from pref_voting.scoring_methods import borda, plurality  # type: ignore[import-untyped]
from voting.domain.counting import (
    Method,
    check_choices,
    combine,
    delta,
    difference,
    lot_of,
    rank,
    schulze_beats,
    tally,
    winners,
)

PROFILES = 300


def seeded(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311  # reproducible profiles, not cryptography


def random_rankings(rng: random.Random) -> tuple[list[str], list[list[int]]]:
    candidates = rng.randint(2, 5)
    voters = rng.randint(1, 12)
    rankings = [rng.sample(range(candidates), candidates) for _ in range(voters)]
    return [f"o{c}" for c in range(candidates)], rankings


def as_rank_choices(options: list[str], ranking: list[int]) -> dict[str, int]:
    return {options[c]: position + 1 for position, c in enumerate(ranking)}


def names(options: list[str], indices) -> set[str]:
    return {options[i] for i in indices}


@pytest.mark.parametrize("seed", range(3))
def test_single_choice_winners_and_counts_agree_with_pref_voting_plurality(seed):
    rng = seeded(seed)
    for _ in range(PROFILES):
        options, rankings = random_rankings(rng)
        ballots = [{options[r[0]]: 1} for r in rankings]
        counters = tally(Method.SINGLE_CHOICE, options, ballots)
        profile = Profile(rankings)

        assert winners(Method.SINGLE_CHOICE, options, counters) == names(
            options, plurality(profile)
        )
        expected = profile.plurality_scores()
        for placement in rank(Method.SINGLE_CHOICE, options, counters, options):
            assert placement.score == expected[options.index(placement.option_id)]


@pytest.mark.parametrize("seed", range(3))
def test_borda_winners_and_scores_agree_with_pref_voting_borda(seed):
    rng = seeded(seed)
    for _ in range(PROFILES):
        options, rankings = random_rankings(rng)
        ballots = [as_rank_choices(options, r) for r in rankings]
        counters = tally(Method.BORDA, options, ballots)
        profile = Profile(rankings)

        assert winners(Method.BORDA, options, counters) == names(options, borda(profile))
        expected = profile.borda_scores()
        for placement in rank(Method.BORDA, options, counters, options):
            assert placement.score == expected[options.index(placement.option_id)]


@pytest.mark.parametrize("seed", range(3))
def test_schulze_winners_agree_with_pref_voting_beat_path(seed):
    rng = seeded(seed)
    for _ in range(PROFILES):
        options, rankings = random_rankings(rng)
        ballots = [as_rank_choices(options, r) for r in rankings]
        counters = tally(Method.SCHULZE, options, ballots)

        assert winners(Method.SCHULZE, options, counters) == names(
            options, beat_path(Profile(rankings))
        )


@pytest.mark.parametrize("seed", range(3))
def test_schulze_ranking_follows_the_beat_path_order(seed):
    rng = seeded(seed)
    for _ in range(PROFILES):
        options, rankings = random_rankings(rng)
        counters = tally(Method.SCHULZE, options, [as_rank_choices(options, r) for r in rankings])
        beats = schulze_beats(options, counters)
        order = [p.option_id for p in rank(Method.SCHULZE, options, counters, options)]

        for a in options:
            for b in beats[a]:
                assert order.index(a) < order.index(b)


def random_grades(rng: random.Random, grades: list[int]):
    candidates = rng.randint(2, 5)
    voters = rng.randint(1, 12)
    maps = [{c: rng.choice(grades) for c in range(candidates)} for _ in range(voters)]
    return [f"o{c}" for c in range(candidates)], maps


@pytest.mark.parametrize("seed", range(3))
def test_approval_winners_and_counts_agree_with_pref_voting_approval(seed):
    rng = seeded(seed)
    for _ in range(PROFILES):
        options, maps = random_grades(rng, [0, 1])
        maps = [m for m in maps if any(m.values())] or [{0: 1}]
        ballots = [{options[c]: 1 for c, g in m.items() if g} for m in maps]
        counters = tally(Method.APPROVAL, options, ballots)
        profile = GradeProfile(maps, [0, 1], candidates=list(range(len(options))))

        assert winners(Method.APPROVAL, options, counters) == names(options, approval(profile))
        for placement in rank(Method.APPROVAL, options, counters, options):
            index = options.index(placement.option_id)
            expected = profile.sum(index) if profile.has_grade(index) else 0
            assert placement.score == expected


@pytest.mark.parametrize("seed", range(3))
def test_score_voting_winners_and_sums_agree_with_pref_voting_score_voting(seed):
    rng = seeded(seed)
    for _ in range(PROFILES):
        options, maps = random_grades(rng, [0, 1, 2, 3, 4, 5])
        ballots = [{options[c]: g for c, g in m.items()} for m in maps]
        counters = tally(Method.SCORE, options, ballots)
        profile = GradeProfile(maps, [0, 1, 2, 3, 4, 5], candidates=list(range(len(options))))

        assert winners(Method.SCORE, options, counters) == names(
            options, score_voting(profile, ungraded_score=0)
        )
        for placement in rank(Method.SCORE, options, counters, options):
            assert placement.score == profile.sum(options.index(placement.option_id))


def test_ties_are_broken_by_the_polls_lot_and_marked_as_ties():
    options = ["o1", "o2", "o3"]
    counters = tally(Method.SINGLE_CHOICE, options, [{"o1": 1}, {"o2": 1}, {"o3": 1}, {"o3": 1}])
    lot = lot_of("poll-a", options)

    placements = rank(Method.SINGLE_CHOICE, options, counters, lot)

    assert placements[0].option_id == "o3"
    assert not placements[0].tied
    tied = [p.option_id for p in placements[1:]]
    assert tied == [o for o in lot if o in ("o1", "o2")]
    assert all(p.tied for p in placements[1:])
    assert [p.rank for p in placements] == [1, 2, 3]


def test_the_lot_is_the_sha256_order_of_poll_and_option_and_differs_between_polls():
    options = [f"o{i}" for i in range(1, 9)]

    assert lot_of("poll-a", options) == lot_of("poll-a", reversed(options))
    assert lot_of("poll-a", options) != lot_of("poll-b", options)


def test_a_revote_replaces_the_previous_ballot_in_the_incremental_tally():
    options = ["o1", "o2", "o3"]
    first = {"o1": 1, "o2": 2, "o3": 3}
    second = {"o3": 1, "o1": 2, "o2": 3}
    other = {"o2": 1, "o3": 2, "o1": 3}
    live = combine(delta(Method.SCHULZE, options, first), delta(Method.SCHULZE, options, other))

    live = combine(
        live,
        difference(delta(Method.SCHULZE, options, second), delta(Method.SCHULZE, options, first)),
    )

    assert live == tally(Method.SCHULZE, options, [second, other])


@pytest.mark.parametrize(
    ("method", "choices", "message"),
    [
        (
            Method.SINGLE_CHOICE,
            {"o9": 1},
            "unknown option 'o9'; this poll's options are o1, o2, o3",
        ),
        (
            Method.SINGLE_CHOICE,
            {"o1": 1, "o2": 1},
            "a single-choice ballot names exactly one option (got 2)",
        ),
        (Method.SINGLE_CHOICE, {}, "a single-choice ballot names exactly one option (got 0)"),
        (Method.APPROVAL, {"o1": 0}, "an approval ballot approves at least one option"),
        (
            Method.APPROVAL,
            {"o1": 2},
            "an approval is 1 (approve) or 0 (not), not 2 for option 'o1'",
        ),
        (
            Method.SCORE,
            {"o1": 6, "o2": 0, "o3": 0},
            "score 6 for option 'o1' is out of range: scores are 0 to 5",
        ),
        (
            Method.SCORE,
            {"o1": -1, "o2": 0, "o3": 0},
            "score -1 for option 'o1' is out of range: scores are 0 to 5",
        ),
        (Method.SCORE, {"o1": 5}, "a score ballot scores every option; missing o2, o3"),
        (
            Method.BORDA,
            {"o1": 1, "o2": 1, "o3": 2},
            "rank 1 is given to more than one option; ranks are 1 to 3, each once",
        ),
        (
            Method.BORDA,
            {"o1": 1, "o2": 2, "o3": 4},
            "the ranking has a gap at rank 3; ranks are 1 to 3, each once",
        ),
        (Method.SCHULZE, {"o1": 1, "o2": 2}, "a ranking ranks every option; missing o3"),
    ],
)
def test_invalid_ballots_are_refused_with_a_readable_message(method, choices, message):
    with pytest.raises(InvalidArgumentError) as refused:
        check_choices(method, ["o1", "o2", "o3"], choices)

    assert refused.value.message == message
    assert refused.value.status == grpc.StatusCode.INVALID_ARGUMENT


def test_an_approval_ballot_keeps_only_the_approved_options():
    assert check_choices(Method.APPROVAL, ["o1", "o2", "o3"], {"o1": 1, "o2": 0}) == {"o1": 1}
