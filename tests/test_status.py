"""`lmp status` reading a follower whose position is past its upstream's head (that log was
restored to an earlier point): flagged, unhealthy, and told what to do."""

from __future__ import annotations

from datetime import UTC, datetime

from lmp_cli.status import Follower, ServiceStatus, followers_of, healthy, render


class Heads:
    """The upstream heads a status round read (in place of the gRPC reads of `Logs`)."""

    def __init__(self, heads: dict[str, int]) -> None:
        self.heads = heads

    def head(self, service: str) -> int | None:
        return self.heads.get(service)

    def age_after(self, service: str, position: int, now: datetime) -> float | None:
        del service, position, now
        return 12.0


def status(followers: list[Follower]) -> ServiceStatus:
    return ServiceStatus(
        service="kpi", target="127.0.0.1:50054", health="SERVING", followers=followers
    )


def test_a_follower_past_its_upstreams_head_is_flagged_and_unhealthy():
    samples = {
        "lmp_consumer_position": {
            (("upstream", "registry"),): 900.0,
            (("upstream", "voting"),): 40.0,
        }
    }
    found = followers_of(samples, Heads({"registry": 700, "voting": 50}), datetime.now(UTC))  # type: ignore[arg-type]

    by_upstream = {f.upstream: f for f in found}
    assert by_upstream["registry"].ahead_of_log
    assert by_upstream["registry"].lag_events == 0
    assert not by_upstream["voting"].ahead_of_log
    assert by_upstream["voting"].lag_events == 10
    assert not healthy([status(found)], max_lag=1000)
    text = render([status(found)])
    assert "AHEAD OF registry's log (head 700)" in text
    assert "lmp rebuild" in text
    assert healthy([status([by_upstream["voting"]])], max_lag=1000)
