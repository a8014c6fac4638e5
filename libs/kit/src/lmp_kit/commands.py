"""One answer to a concurrency conflict, in every service.

A command loads an aggregate, decides and saves its new events at the next version. When another
command or a reaction saved that version first, the event store refuses the save with
`IntegrityError` and nothing is recorded. The command then runs again on the new state, a bounded
number of times with jittered back-off; when it keeps losing, the caller gets ABORTED
(`ConcurrentChangeError`), which the README promises: send the command again.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from eventsourcing.persistence import IntegrityError

from lmp_kit.errors import ConcurrentChangeError
from lmp_kit.groupcommit import command_turns

T = TypeVar("T")
ATTEMPTS = 5
BACKOFF_BASE_S = 0.005
CONFLICT_MESSAGE = (
    "the record changed at the same moment {attempts} times (other commands or reactions); "
    "nothing was recorded by this call: send the command again"
)


def backoff_s(attempt: int) -> float:
    """Full jitter: uniform in [0, base * 2^attempt]."""
    return random.uniform(0, BACKOFF_BASE_S * 2**attempt)  # noqa: S311  # jitter, not secrecy


def retrying(attempt: Callable[[], T], attempts: int = ATTEMPTS) -> T:
    """Run `attempt` (in a worker thread) until it does not lose a version race."""
    for number in range(1, attempts + 1):
        try:
            with command_turns():
                return attempt()
        except IntegrityError:
            if number == attempts:
                break
            time.sleep(backoff_s(number))
    raise ConcurrentChangeError(CONFLICT_MESSAGE.format(attempts=attempts))


async def run_command(
    function: Callable[..., T],
    *args: Any,  # noqa: ANN401  # the use case's arguments
    **kwargs: Any,  # noqa: ANN401  # the use case's arguments
) -> T:
    """Run a use case off the event loop; one that lost the race for an aggregate's next
    version runs again on the new state, and after `ATTEMPTS` the answer is ABORTED."""
    for number in range(1, ATTEMPTS + 1):
        try:
            return await asyncio.to_thread(_in_turn, function, *args, **kwargs)
        except IntegrityError:
            if number == ATTEMPTS:
                break
            await asyncio.sleep(backoff_s(number))
    raise ConcurrentChangeError(CONFLICT_MESSAGE.format(attempts=ATTEMPTS))


def _in_turn(
    function: Callable[..., T],
    *args: Any,  # noqa: ANN401  # the use case's arguments
    **kwargs: Any,  # noqa: ANN401  # the use case's arguments
) -> T:
    with command_turns():
        return function(*args, **kwargs)
