"""`lmp status` against real servers (issue 19 item 1): each service's health, its event log's
head, the relay's position, and every consumer's and reaction's position, lag in events and
seconds and the path that applied its last events; the exit code tells a script whether the
deployment is serving and caught up."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from lmp_cli.main import main

from .conftest import Slice

WAIT_S = 60.0


def status(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, Any]:
    code = main(["status", *arguments])
    return code, capsys.readouterr().out


@pytest.fixture
def running(stack: Slice, monkeypatch: pytest.MonkeyPatch) -> Slice:
    """Registry and kpi running; the lmp command reads the same settings."""
    for key, value in stack.env.items():
        monkeypatch.setenv(key, value)
    stack.register_city("sarov")
    stack.register(5)
    return stack


def test_status_shows_heads_positions_and_lag_of_every_follower(running, capsys):
    stack = running
    deadline = time.monotonic() + WAIT_S
    while True:
        code, out = status(capsys, "--json")
        answers = {s["service"]: s for s in json.loads(out)}
        registry, kpi = answers["registry"], answers["kpi"]
        consumers = {f["upstream"]: f for f in kpi["followers"] if f["kind"] == "consumer"}
        caught_up = (
            registry["relay_position"] == registry["head"]
            and consumers.get("registry", {}).get("lag_events") == 0
        )
        if caught_up or time.monotonic() > deadline:
            break
        time.sleep(0.5)

    assert registry["health"] == "SERVING"
    assert registry["head"] == stack.head("registry") > 0
    assert registry["relay_position"] == registry["head"]
    assert registry["relay_lag_events"] == 0
    ours = consumers["registry"]
    assert ours["position"] == registry["head"]
    assert (ours["lag_events"], ours["lag_seconds"]) == (0, 0.0)
    assert ours["last_path"] in ("kafka", "catch-up")
    assert ours["rebuilding"] is False
    # registry follows itself (its lists) and reacts to expertise and voting
    assert {f["upstream"] for f in registry["followers"] if f["kind"] == "consumer"} == {"registry"}
    assert {f["upstream"] for f in registry["followers"] if f["kind"] == "reaction"} >= {
        "expertise",
        "voting",
    }
    # voting, expertise and notifications are not running here: unreachable, exit code 1
    assert answers["voting"]["health"].startswith("unreachable")
    assert answers["voting"]["metrics_error"]
    assert code == 1

    _, text = status(capsys)
    assert "registry" in text
    assert "consumer registry" in " ".join(text.split())


def test_a_follower_behind_shows_its_lag_in_events_and_seconds(slice_factory, monkeypatch, capsys):
    """The registry runs without its relay (nothing reaches Kafka) and kpi reconciles with the
    log only every two minutes: after kpi's first rounds, what the registry records waits, and
    status shows that lag in events and as the age of the oldest event kpi has not examined."""
    stack = slice_factory()
    stack.start("registry", ("api", "consumers"))
    stack.env["LMP_RECONCILE_INTERVAL_S"] = "120"
    stack.start("kpi")
    for key, value in stack.env.items():
        monkeypatch.setenv(key, value)
    time.sleep(4.0)  # kpi's rounds at start and at its partitions' assignment are done
    stack.register_city("sarov")
    stack.register(4)
    time.sleep(1.0)

    code, out = status(capsys, "--json")
    answers = {s["service"]: s for s in json.loads(out)}
    wanted = ("consumer", "registry")
    behind = next(f for f in answers["kpi"]["followers"] if (f["kind"], f["upstream"]) == wanted)
    head = answers["registry"]["head"]
    assert head == stack.head("registry") >= 5
    assert behind["lag_events"] == head - behind["position"] >= 5
    assert behind["lag_seconds"] >= 1.0
    assert answers["registry"]["relay_position"] is None  # no relay running
    assert code == 1  # behind, and three services are not running
