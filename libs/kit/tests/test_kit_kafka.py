"""A consumer's watch says Kafka stalled only for events Kafka had time to deliver."""

from __future__ import annotations

from lmp_kit.kafka import FastPathWatch


def test_a_new_client_is_not_blamed_for_what_the_old_one_left_behind():
    watch = FastPathWatch()
    watch.reset()

    watch.observed(100)
    watch.missed([90, 95, 100])

    assert not watch.stalled


def test_events_recorded_after_the_first_round_that_the_log_still_supplies_are_a_stall():
    watch = FastPathWatch()
    watch.observed(100)

    watch.observed(120)
    watch.missed([101, 119])

    assert watch.stalled
    assert watch.missed_events == 2  # the two ids above the first head


def test_a_reset_forgets_the_stall_and_judges_the_next_client_afresh():
    watch = FastPathWatch()
    watch.observed(100)
    watch.missed([150])
    assert watch.stalled

    watch.reset()

    assert not watch.stalled
    watch.missed([200])  # before the new client's first round: not yet judged
    assert not watch.stalled
