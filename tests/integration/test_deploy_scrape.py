"""A real Prometheus (Debian's) scrapes the embedded stack with the deploy/ rules loaded."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import grpc
import pytest
from lmp.registry.v1 import registry_pb2, registry_pb2_grpc
from lmp_devstack import free_port
from lmp_kit.auth import issuer_of
from lmp_kit.settings import SERVICES, Settings

from lmp_cli.stack import embedded_stack

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "rules"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "lmp-overview.json"
SCRAPE_TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if found is None or shutil.which("promtool") is None:
        if os.environ.get("CI"):
            pytest.fail("prometheus/promtool missing on CI: .ci/run installs Debian's prometheus")
        pytest.skip("prometheus is not installed (apt-get install prometheus)")
    return found


def stack_env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("LMP_")
        and key not in ("POSTGRES_DSN", "KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI")
    }
    env["LMP_DATA_DIR"] = str(tmp_path / "data")
    env["LMP_EMBEDDED_KAFKA_PORT"] = str(free_port())
    env["LMP_EMBEDDED_MONGODB_PORT"] = str(free_port())
    env["LMP_RECONCILE_INTERVAL_S"] = "1"
    for name in SERVICES:
        env[f"LMP_{name.upper()}_GRPC_PORT"] = str(free_port())
        env[f"LMP_{name.upper()}_METRICS_PORT"] = str(free_port())
    return env


def prometheus_config(env: dict[str, str], rules: Path) -> str:
    # JSON is YAML: the same shape as deploy/prometheus/prometheus.yml, on this stack's ports.
    static = [
        {
            "targets": [f"127.0.0.1:{env[f'LMP_{name.upper()}_METRICS_PORT']}"],
            "labels": {"service": name, "component": "all"},
        }
        for name in SERVICES
    ]
    return json.dumps(
        {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(rules / "*.yml")],
            "scrape_configs": [{"job_name": "lmp", "static_configs": static}],
        }
    )


class PrometheusApi:
    def __init__(self, address: str) -> None:
        self.address = address

    def get(self, path: str, **params: str) -> dict[str, object]:
        url = f"http://{self.address}{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=5) as response:  # our own server
            body: dict[str, object] = json.loads(response.read())
        return body

    def query(self, expr: str) -> list[dict[str, object]]:
        body = self.get("/api/v1/query", query=expr)
        assert body["status"] == "success", body
        data = body["data"]
        assert isinstance(data, dict)
        result: list[dict[str, object]] = data["result"]
        return result

    def services_with(self, expr: str) -> set[str]:
        return {
            str(sample["metric"]["service"])  # type: ignore[index]
            for sample in self.query(expr)
        }

    def wait_until(self, expr: str, services: set[str]) -> set[str]:
        deadline = time.monotonic() + SCRAPE_TIMEOUT_S
        found: set[str] = set()
        while time.monotonic() < deadline:
            try:
                found = self.services_with(expr)
            except OSError:
                found = set()
            if services <= found:
                return found
            time.sleep(0.5)
        return found


@pytest.fixture(scope="module")
def scraped_stack(tmp_path_factory, prometheus_binary):
    tmp_path = tmp_path_factory.mktemp("scrape")
    env = stack_env(tmp_path)
    with embedded_stack(tmp_path / "data", env) as stack:
        rules = tmp_path / "rules"
        shutil.copytree(RULES, rules)
        config = tmp_path / "prometheus.yml"
        config.write_text(prometheus_config(stack.env, rules), encoding="utf-8")
        address = f"127.0.0.1:{free_port()}"
        with (tmp_path / "prometheus.log").open("wb") as log:
            prometheus = subprocess.Popen(
                [
                    prometheus_binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address={address}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            yield stack, PrometheusApi(address)
        finally:
            prometheus.terminate()
            try:
                prometheus.wait(timeout=20)
            except subprocess.TimeoutExpired:
                prometheus.kill()
                prometheus.wait()


def register_a_problem(env: dict[str, str]) -> None:
    settings = Settings.from_env("registry", env)
    token = issuer_of(settings).issue("scrape-test", roles=["working_group"], cities=["sarov"])
    with grpc.insecure_channel(settings.endpoint.grpc_target) as channel:
        registry_pb2_grpc.RegistryServiceStub(channel).RegisterProblem(
            registry_pb2.RegisterProblemRequest(city_id="sarov", title="Unlit yards"),
            metadata=(("authorization", f"Bearer {token}"),),
            timeout=10,
        )


def test_prometheus_scrapes_every_service_of_the_embedded_stack(scraped_stack):
    stack, prometheus = scraped_stack
    every = set(SERVICES)
    assert prometheus.wait_until('up{job="lmp"} == 1', every) == every
    targets = prometheus.get("/api/v1/targets", state="active")["data"]
    assert isinstance(targets, dict)
    assert sorted(t["labels"]["service"] for t in targets["activeTargets"]) == sorted(SERVICES)
    assert {t["health"] for t in targets["activeTargets"]} == {"up"}

    register_a_problem(stack.env)

    # Every service runs a relay; the recording rules of deploy/ turn it into per-service series.
    assert prometheus.wait_until("service:lmp_relay_lag_events:max", every) == every
    assert prometheus.wait_until("lmp_relay_position", every) == every
    assert prometheus.wait_until(
        'lmp_grpc_requests_total{method=~".*RegisterProblem", code="OK"} > 0', {"registry"}
    ) >= {"registry"}
    assert prometheus.wait_until(
        'lmp_events_recorded_total{event_type="Problem.Registered"} > 0', {"registry"}
    ) >= {"registry"}
    assert prometheus.wait_until("service:lmp_grpc_request_duration_seconds:p99_5m", {"registry"})
    # The KPI service consumed the registry's event: the event flow is visible end to end.
    assert prometheus.wait_until(
        'lmp_consumer_applied_total{upstream="registry"} > 0', {"kpi"}
    ) >= {"kpi"}
    assert prometheus.wait_until('lmp_consumer_position{upstream="registry"} >= 1', {"kpi"}) >= {
        "kpi"
    }


def test_every_dashboard_query_is_valid_promql_for_the_real_prometheus(scraped_stack):
    _, prometheus = scraped_stack
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    expressions = [
        target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])
    ]
    assert len(expressions) >= 15
    for expr in expressions:
        concrete = expr.replace("$service", ".*").replace("$city", ".*")
        body = prometheus.get("/api/v1/query", query=concrete)
        assert body["status"] == "success", (expr, body)
