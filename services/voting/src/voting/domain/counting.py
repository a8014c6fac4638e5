"""Counting methods as pure functions over integer counters.

A ballot becomes a *delta*: integer increments of named counters (``points.<option>``,
``votes.<option>``, ``pairwise.<a>.<b>``, ``ballots``). A tally is the sum of the deltas of the
counted ballots, so the live projection adds one delta per ballot (and subtracts the replaced
one on a re-vote) and a recount folds the same deltas: both give the same integers, and the
ranking is a pure function of those integers. Everything is an integer, so there is no
floating point to make two computations differ.

Ties are broken by the poll's *lot*: the options ordered by SHA-256 of ``<poll id>:<option id>``.
The lot is fixed when the poll is created, before any ballot, and anyone can recompute it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from lmp_kit.errors import InvalidArgumentError

MIN_SCORE = 0
MAX_SCORE = 5

Choices = Mapping[str, int]
Counters = dict[str, int]


class Method(StrEnum):
    SINGLE_CHOICE = "single_choice"
    APPROVAL = "approval"
    SCORE = "score"
    BORDA = "borda"
    SCHULZE = "schulze"

    @property
    def ranked(self) -> bool:
        return self in (Method.BORDA, Method.SCHULZE)


def parse_method(name: str) -> Method:
    try:
        return Method(name)
    except ValueError:
        known = ", ".join(m.value for m in Method)
        msg = f"method must be one of {known}, not {name!r}"
        raise InvalidArgumentError(msg) from None


@dataclass(frozen=True)
class Placement:
    option_id: str
    rank: int
    score: int
    votes: int
    tied: bool


def lot_of(poll_id: str, option_ids: Iterable[str]) -> list[str]:
    return sorted(option_ids, key=lambda o: hashlib.sha256(f"{poll_id}:{o}".encode()).hexdigest())


def choices_of(pairs: Iterable[tuple[str, int]]) -> dict[str, int]:
    choices: dict[str, int] = {}
    for option_id, value in pairs:
        if option_id in choices:
            msg = f"option {option_id!r} appears more than once in the ballot"
            raise InvalidArgumentError(msg)
        choices[option_id] = value
    return choices


def check_choices(method: Method, option_ids: Sequence[str], choices: Choices) -> dict[str, int]:
    """A valid ballot in canonical form, or InvalidArgumentError saying what is wrong."""
    unknown = sorted(set(choices) - set(option_ids))
    if unknown:
        msg = f"unknown option {unknown[0]!r}; this poll's options are {', '.join(option_ids)}"
        raise InvalidArgumentError(msg)
    checks = {
        Method.SINGLE_CHOICE: _check_single,
        Method.APPROVAL: _check_approval,
        Method.SCORE: _check_score,
        Method.BORDA: _check_ranking,
        Method.SCHULZE: _check_ranking,
    }
    return checks[method](option_ids, choices)


def _check_single(_option_ids: Sequence[str], choices: Choices) -> dict[str, int]:
    if len(choices) != 1:
        msg = f"a single-choice ballot names exactly one option (got {len(choices)})"
        raise InvalidArgumentError(msg)
    return dict.fromkeys(choices, 1)


def _check_approval(_option_ids: Sequence[str], choices: Choices) -> dict[str, int]:
    wrong = {o: v for o, v in choices.items() if v not in (0, 1)}
    if wrong:
        option, value = min(wrong.items())
        msg = f"an approval is 1 (approve) or 0 (not), not {value} for option {option!r}"
        raise InvalidArgumentError(msg)
    approved = {o: 1 for o, v in choices.items() if v == 1}
    if not approved:
        msg = "an approval ballot approves at least one option"
        raise InvalidArgumentError(msg)
    return approved


def _check_score(option_ids: Sequence[str], choices: Choices) -> dict[str, int]:
    wrong = {o: v for o, v in choices.items() if not MIN_SCORE <= v <= MAX_SCORE}
    if wrong:
        option, value = min(wrong.items())
        msg = (
            f"score {value} for option {option!r} is out of range: "
            f"scores are {MIN_SCORE} to {MAX_SCORE}"
        )
        raise InvalidArgumentError(msg)
    missing = [o for o in option_ids if o not in choices]
    if missing:
        msg = f"a score ballot scores every option; missing {', '.join(missing)}"
        raise InvalidArgumentError(msg)
    return dict(choices)


def _check_ranking(option_ids: Sequence[str], choices: Choices) -> dict[str, int]:
    missing = [o for o in option_ids if o not in choices]
    if missing:
        msg = f"a ranking ranks every option; missing {', '.join(missing)}"
        raise InvalidArgumentError(msg)
    ranks = sorted(choices.values())
    expected = list(range(1, len(option_ids) + 1))
    if ranks != expected:
        rule = f"ranks are 1 to {len(option_ids)}, each once"
        duplicates = sorted({r for r in ranks if ranks.count(r) > 1})
        if duplicates:
            msg = f"rank {duplicates[0]} is given to more than one option; {rule}"
        else:
            gaps = [r for r in expected if r not in ranks]
            msg = f"the ranking has a gap at rank {gaps[0]}; {rule}"
        raise InvalidArgumentError(msg)
    return dict(choices)


def delta(method: Method, option_ids: Sequence[str], choices: Choices) -> Counters:
    """The counter increments of one valid (canonical) ballot."""
    increments: Counters = {"ballots": 1}
    for option, value in choices.items():
        points, vote = _contribution(method, len(option_ids), value)
        if points:
            increments[f"points.{option}"] = points
        if vote:
            increments[f"votes.{option}"] = 1
    if method is Method.SCHULZE:
        for a, rank_a in choices.items():
            for b, rank_b in choices.items():
                if rank_a < rank_b:
                    increments[f"pairwise.{a}.{b}"] = 1
    return increments


def _contribution(method: Method, options: int, value: int) -> tuple[int, bool]:
    """Points and whether it is a vote (a choice, an approval, a score above 0, a first rank)."""
    if method in (Method.SINGLE_CHOICE, Method.APPROVAL):
        return 1, True
    if method is Method.SCORE:
        return value, value > 0
    return options - value, value == 1


def combine(*parts: Mapping[str, int], sign: int = 1) -> Counters:
    total: Counters = {}
    for part in parts:
        for key, value in part.items():
            total[key] = total.get(key, 0) + sign * value
    return {k: v for k, v in total.items() if v}


def difference(new: Mapping[str, int], old: Mapping[str, int]) -> Counters:
    return combine(new, combine(old, sign=-1))


def tally(method: Method, option_ids: Sequence[str], ballots: Iterable[Choices]) -> Counters:
    total: Counters = {}
    for choices in ballots:
        for key, value in delta(method, option_ids, choices).items():
            total[key] = total.get(key, 0) + value
    return {k: v for k, v in total.items() if v}


def levels(
    method: Method, option_ids: Sequence[str], counters: Mapping[str, int]
) -> dict[str, int]:
    """Each option's place before tie-breaking: equal levels are tied, lower is better."""
    if method is Method.SCHULZE:
        return schulze_levels(option_ids, counters)
    return {o: -counters.get(f"points.{o}", 0) for o in option_ids}


def rank(
    method: Method, option_ids: Sequence[str], counters: Mapping[str, int], lot: Sequence[str]
) -> list[Placement]:
    """The ranked list: by level (score, or Schulze layer), ties broken by the lot."""
    level = levels(method, option_ids, counters)
    if method is Method.SCHULZE:
        scores = schulze_wins(option_ids, counters)
    else:
        scores = {o: counters.get(f"points.{o}", 0) for o in option_ids}
    position = {o: i for i, o in enumerate(lot)}
    ordered = sorted(option_ids, key=lambda o: (level[o], position[o]))
    sharing = [level[o] for o in option_ids]
    return [
        Placement(
            option_id=o,
            rank=i + 1,
            score=scores[o],
            votes=counters.get(f"votes.{o}", 0),
            tied=sharing.count(level[o]) > 1,
        )
        for i, o in enumerate(ordered)
    ]


def winners(method: Method, option_ids: Sequence[str], counters: Mapping[str, int]) -> set[str]:
    """The options that share the first place before the lot breaks the tie."""
    level = levels(method, option_ids, counters)
    best = min(level.values())
    return {o for o, v in level.items() if v == best}


def schulze_strengths(
    option_ids: Iterable[str], counters: Mapping[str, int]
) -> dict[str, dict[str, int]]:
    """Strongest path strengths (winning votes; Floyd-Warshall widest paths)."""
    options = sorted(option_ids)
    d = {a: {b: counters.get(f"pairwise.{a}.{b}", 0) for b in options} for a in options}
    p = {a: {b: d[a][b] if a != b and d[a][b] > d[b][a] else 0 for b in options} for a in options}
    for k in options:
        for i in options:
            if i == k:
                continue
            for j in options:
                if j in (i, k):
                    continue
                p[i][j] = max(p[i][j], min(p[i][k], p[k][j]))
    return p


def schulze_beats(option_ids: Sequence[str], counters: Mapping[str, int]) -> dict[str, set[str]]:
    p = schulze_strengths(option_ids, counters)
    return {a: {b for b in option_ids if b != a and p[a][b] > p[b][a]} for a in option_ids}


def schulze_wins(option_ids: Sequence[str], counters: Mapping[str, int]) -> dict[str, int]:
    return {a: len(beaten) for a, beaten in schulze_beats(option_ids, counters).items()}


def schulze_levels(option_ids: Sequence[str], counters: Mapping[str, int]) -> dict[str, int]:
    """Layers of the Schulze order: 0 for the unbeaten (the winners), then the unbeaten among
    the rest, and so on. The relation is a strict partial order, so the layers are well defined."""
    beats = schulze_beats(option_ids, counters)
    remaining = set(option_ids)
    levels: dict[str, int] = {}
    level = 0
    while remaining:
        unbeaten = {o for o in remaining if not any(o in beats[x] for x in remaining)}
        for option in unbeaten:
            levels[option] = level
        remaining -= unbeaten
        level += 1
    return levels
